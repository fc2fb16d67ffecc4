//! `POST /v1/ingest/pubsub`: Google Cloud Pub/Sub push delivery, for GKE
//! clusters whose audit entries a Cloud Logging sink routes to a Pub/Sub
//! topic with a push subscription.
//!
//! Pub/Sub sends `{"message":{"data":BASE64,"messageId","publishTime",
//! "attributes"},"subscription"}`, `data` one `LogEntry`. The request is let in
//! by an ingest bearer token, or by the push subscription's Google-signed
//! OIDC token (`Authorization: Bearer JWT`) when `--pubsub-audience` is set:
//! signature against the issuer's JWKS, issuer, audience, expiry, and
//! optionally the service account's `email`. Pub/Sub redelivers until it gets
//! a 2xx; a redelivered message is deduplicated like any event, and its dead
//! letters (keyed by the `messageId`) are kept once. A message
//! that is not a Kubernetes audit entry is acknowledged (200, so it is not
//! redelivered forever) and kept in the dead-letter log with its reason.

use std::time::{Duration, Instant};

use audit_api::envelope::{Context, DeadReason, gke};
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use openidconnect::core::{CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet};
use openidconnect::{ClientId, IssuerUrl, Nonce};
use serde::Deserialize;

use super::caller::{bearer, peer_of};
use super::ingest::{accept_cloud_events, ingest_cluster, ingest_params};
use super::reply::{error, unauthorized};
use super::{AppState, store};
use crate::auth::Principal;
use crate::deadletter::DeadLetter;
use audit_api::api::ErrorBody;

/// The path a push subscription is pointed at.
pub const PUBSUB_PATH: &str = "/v1/ingest/pubsub";

/// Google's issuer of push tokens.
pub const GOOGLE_ISSUER: &str = "https://accounts.google.com";
/// Google's signing keys.
pub const GOOGLE_JWKS: &str = "https://www.googleapis.com/oauth2/v3/certs";

/// How long fetched signing keys are used before they are fetched again.
const KEYS_TTL: Duration = Duration::from_secs(600);
/// Shortest time between two fetches of the signing keys.
const MIN_REFRESH: Duration = Duration::from_secs(60);

/// Why the push token verifier cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum PushAuthError {
    /// The issuer is not a URL.
    #[error("--pubsub-issuer {url:?} is not a URL")]
    Issuer {
        /// The value given.
        url: String,
        /// The cause.
        #[source]
        source: url::ParseError,
    },
    /// The HTTP client cannot be built (e.g. a bad CA file).
    #[error("building the HTTP client for {jwks_url}")]
    Client {
        /// The JWKS URL.
        jwks_url: String,
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
}

/// Why a push request's token is refused.
#[derive(Debug, thiserror::Error)]
pub enum PushTokenError {
    /// The bearer token is not a JWT.
    #[error("not a signed JWT")]
    NotJwt {
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// The signing keys cannot be fetched.
    #[error("fetching the signing keys from {url}")]
    FetchKeys {
        /// The JWKS URL.
        url: String,
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
    /// The signing keys are not a JWKS.
    #[error("reading the signing keys from {url}")]
    ReadKeys {
        /// The JWKS URL.
        url: String,
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
    /// Signature, issuer, audience or expiry do not verify.
    #[error(transparent)]
    Claims(#[from] openidconnect::ClaimsVerificationError),
    /// Signed by the issuer, but for another service account.
    #[error("the token's email {got:?} is not the push service account {want:?}")]
    Email {
        /// The token's `email` claim.
        got: Option<String>,
        /// `--pubsub-email`.
        want: String,
    },
}

/// Verifies the OIDC tokens Pub/Sub push subscriptions send.
pub struct PushAuth {
    audience: String,
    issuer: IssuerUrl,
    jwks_url: String,
    email: Option<String>,
    client: reqwest::Client,
    keys: tokio::sync::Mutex<Option<(Instant, CoreJsonWebKeySet)>>,
}

impl std::fmt::Debug for PushAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushAuth")
            .field("audience", &self.audience)
            .field("issuer", &self.issuer.as_str())
            .field("jwks_url", &self.jwks_url)
            .field("email", &self.email)
            .finish()
    }
}

impl PushAuth {
    /// A verifier for tokens with `audience`, signed by `issuer`'s keys at
    /// `jwks_url` (fetched with the system roots plus `ca_pem`), from the
    /// service account `email` when given.
    pub fn new(
        audience: String,
        issuer: &str,
        jwks_url: &str,
        email: Option<String>,
        ca_pem: Option<&[u8]>,
    ) -> Result<PushAuth, PushAuthError> {
        let issuer =
            IssuerUrl::new(issuer.to_string()).map_err(|source| PushAuthError::Issuer {
                url: issuer.to_string(),
                source,
            })?;
        let client_err = |source| PushAuthError::Client {
            jwks_url: jwks_url.to_string(),
            source,
        };
        let mut b = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none());
        if let Some(pem) = ca_pem {
            for cert in reqwest::Certificate::from_pem_bundle(pem).map_err(client_err)? {
                b = b.add_root_certificate(cert);
            }
        }
        Ok(PushAuth {
            audience,
            issuer,
            jwks_url: jwks_url.to_string(),
            email,
            client: b.build().map_err(client_err)?,
            keys: tokio::sync::Mutex::new(None),
        })
    }

    async fn keys(&self, refresh: bool) -> Result<CoreJsonWebKeySet, PushTokenError> {
        let mut slot = self.keys.lock().await;
        // A refresh (a token signed by a key not seen yet) fetches at most
        // once a minute, so bad tokens cannot make the sink hammer the issuer.
        if let Some((at, keys)) = slot.as_ref()
            && at.elapsed() < if refresh { MIN_REFRESH } else { KEYS_TTL }
        {
            return Ok(keys.clone());
        }
        let keys: CoreJsonWebKeySet = self
            .client
            .get(&self.jwks_url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|source| PushTokenError::FetchKeys {
                url: self.jwks_url.clone(),
                source,
            })?
            .json()
            .await
            .map_err(|source| PushTokenError::ReadKeys {
                url: self.jwks_url.clone(),
                source,
            })?;
        *slot = Some((Instant::now(), keys.clone()));
        Ok(keys)
    }

    fn check(&self, token: &CoreIdToken, keys: CoreJsonWebKeySet) -> Result<(), PushTokenError> {
        let verifier = CoreIdTokenVerifier::new_public_client(
            ClientId::new(self.audience.clone()),
            self.issuer.clone(),
            keys,
        );
        let claims = token.claims(&verifier, |_: Option<&Nonce>| Ok(()))?;
        if let Some(want) = &self.email {
            let got = claims.email().map(|e| e.as_str());
            if got != Some(want.as_str()) {
                return Err(PushTokenError::Email {
                    got: got.map(str::to_string),
                    want: want.clone(),
                });
            }
        }
        Ok(())
    }

    /// Verifies a push request's bearer token; why not, when it fails.
    pub async fn verify(&self, jwt: &str) -> Result<(), PushTokenError> {
        let token: CoreIdToken = jwt
            .parse()
            .map_err(|source| PushTokenError::NotJwt { source })?;
        match self.check(&token, self.keys(false).await?) {
            Ok(()) => Ok(()),
            // Keys rotate: try once more with freshly fetched ones.
            Err(_) => self.check(&token, self.keys(true).await?),
        }
    }
}

#[derive(Deserialize)]
struct Push {
    message: Message,
    #[serde(default)]
    subscription: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Message {
    #[serde(default)]
    data: String,
    #[serde(default)]
    message_id: String,
}

fn bad_request(reason: String) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        ErrorBody::new("bad_request", reason),
    )
}

/// Handles one push request.
pub(super) async fn ingest(State(st): State<AppState>, req: http::Request<Body>) -> Response {
    let (parts, body) = req.into_parts();
    let (peer, remote) = peer_of(&parts.extensions);
    let token = bearer(&parts.headers);
    // With --pubsub-audience the OIDC token is required unless an ingest
    // credential is configured (which then also lets a request in).
    let mut principal = if st.pubsub.is_some() && !st.ingest.is_configured() {
        None
    } else {
        st.ingest.authenticate(token, &peer).ok()
    };
    if principal.is_none()
        && let (Some(auth), Some(jwt)) = (&st.pubsub, token)
    {
        match auth.verify(jwt).await {
            // A push subscription's token is bound to no cluster.
            Ok(()) => principal = Some(Principal { cluster: None }),
            Err(why) => {
                tracing::warn!(
                    remote = ?remote,
                    reason = &why as &dyn std::error::Error,
                    "Pub/Sub push token refused"
                );
            }
        }
    }
    let Some(principal) = principal else {
        tracing::warn!(remote = ?remote, "unauthenticated Pub/Sub push refused");
        return unauthorized(
            "Pub/Sub push (a bearer token or the subscription's OIDC token for --pubsub-audience)",
        );
    };
    // The cluster as on the webhook: a token bound to one stores as it,
    // else `?cluster=` on the push endpoint, else the entry's.
    let params = match ingest_params(&parts.uri) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let report = params.report.is_some();
    let cluster = match ingest_cluster(&st, &principal, params.cluster) {
        Ok(c) => c,
        Err(r) => {
            tracing::warn!(remote = ?remote, reason = %r.message, "Pub/Sub push refused");
            return r.into_response();
        }
    };
    let deadline = tokio::time::Instant::now() + st.sink.overload_wait();
    let read = tokio::time::timeout(
        st.body_read_timeout,
        axum::body::to_bytes(body, st.max_body),
    )
    .await;
    let bytes = match read {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => return bad_request(format!("reading the body: {e}")),
        Err(_) => return bad_request("the body did not arrive within --body-read-timeout".into()),
    };
    let redaction = &st.sink.shared.redaction;
    let push: Push = match serde_json::from_slice(&bytes) {
        Ok(p) => p,
        Err(e) => {
            let reason = format!(
                "body is not a Pub/Sub push request ({{\"message\":{{\"data\"}},\"subscription\"}}): {e}"
            );
            let d = DeadLetter::new(
                "body",
                reason.clone(),
                remote.map(|r| r.to_string()),
                &redaction.rejected(&bytes),
            );
            store::keep_rejected_body(&st, d).await;
            return bad_request(reason);
        }
    };
    let source = format!("pubsub {} {}", push.subscription, push.message.message_id);
    let mut accepted = Vec::new();
    let mut dead = Vec::new();
    match base64::engine::general_purpose::STANDARD.decode(push.message.data.trim()) {
        Err(e) => dead.push(DeadLetter::new(
            "event",
            DeadReason::Malformed(format!("message data is not base64: {e}")).to_string(),
            Some(source.clone()),
            &redaction.rejected(push.message.data.as_bytes()),
        )),
        Ok(data) => {
            let decoded = gke::decode(&data, &Context::default());
            accept_cloud_events(
                &st,
                decoded.events,
                &cluster,
                &source,
                &mut accepted,
                &mut dead,
            );
            for d in decoded.dead {
                dead.push(DeadLetter::new(
                    "event",
                    d.reason.to_string(),
                    Some(source.clone()),
                    &redaction.rejected(&d.bytes),
                ));
            }
        }
    }
    // A redelivery (same messageId) yields the same dead letters: keyed so,
    // the log keeps each once.
    if !push.message.message_id.is_empty() {
        for (i, d) in dead.iter_mut().enumerate() {
            d.key = Some(format!(
                "pubsub {} {} #{i}",
                push.subscription, push.message.message_id
            ));
        }
    }
    match store::store(&st, accepted, dead, deadline, report, &source).await {
        Ok(answer) => axum::Json(answer).into_response(),
        Err(e) => e.into_response(),
    }
}
