//! Test helper that runs the `oidc-provider` Node fixture as a real OpenID provider.
