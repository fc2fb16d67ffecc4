//! OpenID Connect id_token authentication, like kube-apiserver's `--oidc-*` flags.

use crate::auth::User;

/// An issuer whose id_tokens the server accepts.
pub(crate) struct TrustedIssuer {}

impl TrustedIssuer {
    pub(crate) async fn authenticate(&self, _token: &str) -> Option<User> {
        None
    }
}
