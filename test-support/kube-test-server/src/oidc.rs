//! OpenID Connect id_token authentication, like kube-apiserver's `--oidc-*`
//! flags: the issuer's keys come from its discovery document (over HTTPS with
//! the given CA), the signature (RS256 or ES256), `iss`, `aud` and `exp` are
//! checked, and the user name and groups are read from the configured claims.

use std::str::FromStr as _;
use std::sync::Mutex;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{
    CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
    CoreProviderMetadata,
};
use openidconnect::{ClientId, IssuerUrl, Nonce};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::{self, PemObject as _};
use serde_json::Value;

use crate::auth::User;
use crate::error::ServerError;

/// An OpenID provider whose id_tokens the server accepts as bearer tokens, the
/// settings of kube-apiserver's `--oidc-issuer-url`, `--oidc-client-id`,
/// `--oidc-ca-file`, `--oidc-username-claim`, `--oidc-username-prefix`,
/// `--oidc-groups-claim` and `--oidc-groups-prefix`.
#[derive(Clone, Debug)]
pub struct OidcAuthenticator {
    /// The issuer (`iss`), also where discovery is fetched from.
    pub issuer_url: String,
    /// The audience (`aud`) the tokens must carry.
    pub client_id: String,
    /// The CA (PEM) that signed the issuer's certificate; None: the system roots.
    pub ca_pem: Option<String>,
    /// The claim holding the user name (`sub` by default; `email` is common).
    pub username_claim: String,
    /// Prefix for user names. None is the apiserver's default: `{issuer}#`
    /// unless the claim is `email`; `Some("-")` means no prefix.
    pub username_prefix: Option<String>,
    /// The claim holding the groups (a string or a list of strings), if any.
    pub groups_claim: Option<String>,
    /// Prefix for group names.
    pub groups_prefix: Option<String>,
}

impl OidcAuthenticator {
    /// Tokens from `issuer_url` for `client_id`, user name from `sub`.
    pub fn new(issuer_url: impl Into<String>, client_id: impl Into<String>) -> Self {
        OidcAuthenticator {
            issuer_url: issuer_url.into(),
            client_id: client_id.into(),
            ca_pem: None,
            username_claim: "sub".into(),
            username_prefix: None,
            groups_claim: None,
            groups_prefix: None,
        }
    }

    /// Sets the CA (PEM) to trust for discovery and JWKS.
    pub fn ca_pem(mut self, pem: impl Into<String>) -> Self {
        self.ca_pem = Some(pem.into());
        self
    }

    /// Sets the user name claim.
    pub fn username_claim(mut self, claim: impl Into<String>) -> Self {
        self.username_claim = claim.into();
        self
    }

    /// Sets the user name prefix (`-` for none).
    pub fn username_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.username_prefix = Some(prefix.into());
        self
    }

    /// Sets the groups claim.
    pub fn groups_claim(mut self, claim: impl Into<String>) -> Self {
        self.groups_claim = Some(claim.into());
        self
    }

    /// Sets the groups prefix.
    pub fn groups_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.groups_prefix = Some(prefix.into());
        self
    }
}

/// An issuer whose id_tokens the server accepts, with its cached keys.
pub(crate) struct TrustedIssuer {
    config: OidcAuthenticator,
    http: reqwest::Client,
    keys: Mutex<Option<CoreJsonWebKeySet>>,
}

fn payload(token: &str) -> Option<Value> {
    let mut parts = token.split('.');
    let (_, body, _) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).ok()?).ok()
}

impl TrustedIssuer {
    pub(crate) fn new(config: OidcAuthenticator) -> Result<Self, ServerError> {
        let mut builder = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10));
        if let Some(pem) = &config.ca_pem {
            // reqwest skips what is not a certificate without a word: parse
            // here so that a wrong `ca_pem` fails now, not at the first token.
            let bad_ca = |source| ServerError::OidcCa {
                issuer: config.issuer_url.clone(),
                source,
            };
            let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
                .collect::<Result<Vec<_>, _>>()
                .map_err(bad_ca)?;
            if certs.is_empty() {
                return Err(bad_ca(pem::Error::NoItemsFound));
            }
            builder = builder.tls_built_in_root_certs(false);
            for cert in certs {
                let cert = reqwest::Certificate::from_der(&cert).map_err(|source| {
                    ServerError::OidcClient {
                        issuer: config.issuer_url.clone(),
                        source,
                    }
                })?;
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder.build().map_err(|source| ServerError::OidcClient {
            issuer: config.issuer_url.clone(),
            source,
        })?;
        Ok(TrustedIssuer {
            config,
            http,
            keys: Mutex::new(None),
        })
    }

    async fn fetch_keys(&self) -> Option<CoreJsonWebKeySet> {
        let issuer = IssuerUrl::new(self.config.issuer_url.clone()).ok()?;
        match CoreProviderMetadata::discover_async(issuer, &self.http).await {
            Ok(metadata) => {
                let keys = metadata.jwks().clone();
                *self.keys.lock().unwrap_or_else(|e| e.into_inner()) = Some(keys.clone());
                Some(keys)
            }
            Err(e) => {
                eprintln!(
                    "kube-test-server: OIDC discovery for {} failed: {e}",
                    self.config.issuer_url
                );
                None
            }
        }
    }

    fn verify(&self, token: &CoreIdToken, keys: CoreJsonWebKeySet) -> bool {
        let Ok(issuer) = IssuerUrl::new(self.config.issuer_url.clone()) else {
            return false;
        };
        let verifier = CoreIdTokenVerifier::new_public_client(
            ClientId::new(self.config.client_id.clone()),
            issuer,
            keys,
        )
        .set_allowed_algs([
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        ])
        // The apiserver only asks that the client id be among the audiences.
        .set_other_audience_verifier_fn(|_| true);
        token
            .claims(&verifier, |_: Option<&Nonce>| Ok::<(), String>(()))
            .is_ok()
    }

    /// The user behind `token`, if it is a valid id_token of this issuer.
    pub(crate) async fn authenticate(&self, token: &str) -> Option<User> {
        let claims = payload(token)?;
        // Like the apiserver's union of authenticators: only tokens from this
        // issuer are this authenticator's business.
        if claims["iss"].as_str() != Some(self.config.issuer_url.as_str()) {
            return None;
        }
        let id_token = CoreIdToken::from_str(token).ok()?;
        let cached = self.keys.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let mut verified = cached.is_some_and(|keys| self.verify(&id_token, keys));
        if !verified {
            // Unknown key or no keys yet: (re)fetch, as the issuer may have rotated.
            verified = match self.fetch_keys().await {
                Some(keys) => self.verify(&id_token, keys),
                None => false,
            };
        }
        if !verified {
            return None;
        }
        self.user_from_claims(&claims)
    }

    fn user_from_claims(&self, claims: &Value) -> Option<User> {
        let cfg = &self.config;
        let name = claims[&cfg.username_claim].as_str()?;
        if cfg.username_claim == "email"
            && claims.get("email_verified").is_some()
            && claims["email_verified"].as_bool() != Some(true)
        {
            return None;
        }
        let name = match cfg.username_prefix.as_deref() {
            Some("-") => name.to_string(),
            Some(prefix) => format!("{prefix}{name}"),
            None if cfg.username_claim == "email" => name.to_string(),
            None => format!("{}#{name}", cfg.issuer_url),
        };
        let groups: Vec<String> = match cfg.groups_claim.as_deref().map(|c| &claims[c]) {
            Some(Value::String(g)) => vec![g.clone()],
            Some(Value::Array(gs)) => gs
                .iter()
                .filter_map(|g| g.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        };
        let prefix = cfg.groups_prefix.as_deref().unwrap_or("");
        Some(User::new(name).with_groups(groups.into_iter().map(|g| format!("{prefix}{g}"))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_that_is_not_pem_is_refused_naming_the_issuer() {
        let config = OidcAuthenticator::new("https://issuer.example", "kubernetes")
            .ca_pem("this is not a certificate");
        match TrustedIssuer::new(config) {
            Err(e @ ServerError::OidcCa { .. }) => {
                assert!(e.to_string().contains("https://issuer.example"), "{e}");
            }
            Err(other) => panic!("expected OidcCa, got {other:?}"),
            Ok(_) => panic!("a CA without any certificate was accepted"),
        }
    }
}
