//! Decoding and understanding Kubernetes Secrets for `kubectl view-secret`.
