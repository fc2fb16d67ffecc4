//! Talking to the identity provider: discovery, the token endpoint (every
//! grant), the device authorization endpoint, JWKS, revocation, and the
//! verification of what comes back.

use std::time::Duration;

use base64::Engine as _;
use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClientAuthMethod, CoreGrantType,
    CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm,
    CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::core::{CoreClient, CoreErrorResponseType, CoreRevocableToken, CoreTokenType};
use openidconnect::{
    AccessToken, AdditionalProviderMetadata, AuthType, AuthUrl, AuthenticationFlow,
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, DeviceAuthorizationUrl, EndpointNotSet,
    EndpointSet, HttpRequest, HttpResponse, IssuerUrl, JsonWebKeySet, LoginHint, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, ProviderMetadata, RedirectUrl,
    RefreshToken, RequestTokenError, ResourceOwnerPassword, ResourceOwnerUsername, RevocationUrl,
    Scope, StandardErrorResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};

use crate::adapters::jwt::{self, Expectations, Jwks};

/// Allowed clock difference with the provider when checking `exp`/`iat`.
pub const CLOCK_SKEW_SECS: i64 = 60;

/// How we reach the provider (TLS trust, extra headers). Its `Debug` shows
/// the header names but not their values (`--oidc-request-header` may carry
/// a credential, e.g. `Authorization=Bearer …`).
#[derive(Clone, Default)]
pub struct HttpSettings {
    /// PEM files to trust instead of the system roots.
    pub ca_files: Vec<std::path::PathBuf>,
    /// Base64-encoded PEM blobs to trust (with the files, instead of the system roots).
    pub ca_data: Vec<String>,
    /// Skip certificate checks.
    pub insecure_skip_tls_verify: bool,
    /// Headers added to every request to the provider.
    pub headers: Vec<(String, String)>,
}

impl std::fmt::Debug for HttpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<String> = self
            .headers
            .iter()
            .map(|(name, _)| format!("{name}: <redacted>"))
            .collect();
        f.debug_struct("HttpSettings")
            .field("ca_files", &self.ca_files)
            .field("ca_data", &self.ca_data)
            .field("insecure_skip_tls_verify", &self.insecure_skip_tls_verify)
            .field("headers", &headers)
            .finish()
    }
}

/// Discovery fields that openidconnect's core provider metadata leaves out.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct ExtraMetadata {
    /// RFC 8628 device authorization endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_authorization_endpoint: Option<DeviceAuthorizationUrl>,
    /// RFC 7009 revocation endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<RevocationUrl>,
    /// RFC 7636 PKCE methods (`S256`, `plain`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub code_challenge_methods_supported: Vec<String>,
}

impl AdditionalProviderMetadata for ExtraMetadata {}

/// The provider's discovery document as openidconnect reads it.
pub type Metadata = ProviderMetadata<
    ExtraMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// Fields OpenID Connect Discovery requires that some providers leave out
/// (OAuth-first servers, older releases), with the value the specification
/// implies. This client never relies on the first two.
const DISCOVERY_DEFAULTS: [(&str, &str); 3] = [
    ("response_types_supported", "code"),
    ("subject_types_supported", "public"),
    // OpenID Connect Core: RS256 when nothing else is agreed.
    ("id_token_signing_alg_values_supported", "RS256"),
];

/// What the provider's discovery document says.
#[derive(Debug, Clone)]
pub struct Discovery {
    metadata: Metadata,
    /// `None` for providers without one (device code or password only).
    authorization_endpoint: Option<String>,
}

impl Discovery {
    /// Reads a discovery document. Lenient where providers differ in practice:
    /// the fields in [`DISCOVERY_DEFAULTS`] and `authorization_endpoint` may be
    /// missing (or null), an algorithm or key type this client does not know is
    /// skipped. `token_endpoint` and `jwks_uri` are required.
    pub fn parse(body: &[u8]) -> Result<Discovery, String> {
        let mut doc: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(body).map_err(|e| format!("not a JSON object: {e}"))?;
        let authorization_endpoint = doc
            .get("authorization_endpoint")
            .and_then(|v| v.as_str())
            .map(str::to_string);
        for (field, default) in DISCOVERY_DEFAULTS {
            let missing = match doc.get(field) {
                None | Some(serde_json::Value::Null) => true,
                Some(serde_json::Value::Array(items)) => items.is_empty(),
                Some(_) => false,
            };
            if missing {
                doc.insert(field.to_string(), serde_json::json!([default]));
            }
        }
        if authorization_endpoint.is_none() {
            // The metadata type requires one. The issuer stands in and is never
            // used: `authorization_endpoint()` answers None.
            let issuer = doc.get("issuer").cloned().unwrap_or_default();
            doc.insert("authorization_endpoint".to_string(), issuer);
        }
        let metadata: Metadata =
            serde_json::from_value(serde_json::Value::Object(doc)).map_err(|e| e.to_string())?;
        if metadata.token_endpoint().is_none() {
            return Err("it names no token_endpoint".to_string());
        }
        Ok(Discovery {
            metadata,
            authorization_endpoint,
        })
    }

    /// The issuer the document names (exactly as written).
    pub fn issuer(&self) -> &str {
        self.metadata.issuer()
    }

    /// The authorization endpoint, when the provider has one.
    pub fn authorization_endpoint(&self) -> Option<&str> {
        self.authorization_endpoint.as_deref()
    }

    /// The token endpoint (present: [`Discovery::parse`] checks it).
    pub fn token_endpoint(&self) -> &str {
        self.metadata.token_endpoint().map_or("", |u| u.as_str())
    }

    /// The JWKS URL.
    pub fn jwks_uri(&self) -> &str {
        self.metadata.jwks_uri()
    }

    /// RFC 8628 device authorization endpoint.
    pub fn device_authorization_endpoint(&self) -> Option<&str> {
        self.metadata
            .additional_metadata()
            .device_authorization_endpoint
            .as_ref()
            .map(|u| u.as_str())
    }

    /// RFC 7009 revocation endpoint.
    pub fn revocation_endpoint(&self) -> Option<&str> {
        self.metadata
            .additional_metadata()
            .revocation_endpoint
            .as_ref()
            .map(|u| u.as_str())
    }

    /// The id_token algorithms the provider advertises (`RS256` when it
    /// advertises none), by their JOSE names.
    pub fn signing_algs(&self) -> Vec<String> {
        self.metadata
            .id_token_signing_alg_values_supported()
            .iter()
            .filter_map(|alg| serde_json::to_value(alg).ok())
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    }

    /// Whether S256 PKCE is advertised.
    pub fn supports_s256(&self) -> bool {
        self.metadata
            .additional_metadata()
            .code_challenge_methods_supported
            .iter()
            .any(|m| m == "S256")
    }

    /// Whether a client secret goes in a Basic header (the default, RFC 6749
    /// §2.3.1) rather than in the form (only `client_secret_post` advertised).
    fn secret_in_basic_header(&self) -> bool {
        let Some(methods) = self.metadata.token_endpoint_auth_methods_supported() else {
            return true;
        };
        methods.is_empty()
            || methods.contains(&CoreClientAuthMethod::ClientSecretBasic)
            || !methods.contains(&CoreClientAuthMethod::ClientSecretPost)
    }
}

/// A token endpoint answer, read by oauth2's requests (through its
/// `TokenResponse` trait) and by ours (device code, token exchange). Its
/// `Debug` shows no token.
#[derive(Clone, Deserialize, Serialize)]
pub struct TokenResponse {
    /// Access token (empty when the provider sent none).
    #[serde(default = "no_access_token")]
    access_token: AccessToken,
    /// Token type (`Bearer` when missing).
    #[serde(default = "bearer")]
    token_type: CoreTokenType,
    /// ID token.
    #[serde(default)]
    pub id_token: Option<String>,
    /// Refresh token.
    #[serde(default)]
    refresh_token: Option<RefreshToken>,
    /// Access token lifetime in seconds: a number, or a string holding one
    /// (Azure AD v1 sends `"3599"`).
    #[serde(default, deserialize_with = "lenient_seconds")]
    pub expires_in: Option<i64>,
}

fn no_access_token() -> AccessToken {
    AccessToken::new(String::new())
}

fn bearer() -> CoreTokenType {
    CoreTokenType::Bearer
}

impl TokenResponse {
    /// The access token, if the provider sent one.
    pub fn access_token_value(&self) -> Option<&str> {
        Some(self.access_token.secret().as_str()).filter(|t| !t.is_empty())
    }

    /// The refresh token, if the provider sent one.
    pub fn refresh_token_value(&self) -> Option<&str> {
        self.refresh_token.as_ref().map(|t| t.secret().as_str())
    }
}

impl OAuth2TokenResponse for TokenResponse {
    type TokenType = CoreTokenType;

    fn access_token(&self) -> &AccessToken {
        &self.access_token
    }

    fn token_type(&self) -> &CoreTokenType {
        &self.token_type
    }

    fn expires_in(&self) -> Option<Duration> {
        self.expires_in
            .and_then(|s| u64::try_from(s).ok())
            .map(Duration::from_secs)
    }

    fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }

    fn scopes(&self) -> Option<&Vec<Scope>> {
        None
    }
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |present: bool| present.then_some("<redacted>");
        f.debug_struct("TokenResponse")
            .field(
                "access_token",
                &redacted(self.access_token_value().is_some()),
            )
            .field("id_token", &redacted(self.id_token.is_some()))
            .field("refresh_token", &redacted(self.refresh_token.is_some()))
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

fn lenient_seconds<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Option<i64>, D::Error> {
    use serde::de::Error as _;
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Seconds {
        Number(serde_json::Number),
        Text(String),
    }
    let number = |text: &str| -> Option<i64> {
        let f: f64 = text.trim().parse().ok()?;
        // `as` saturates at the i64 bounds.
        f.is_finite().then(|| f.floor() as i64)
    };
    match Option::<Seconds>::deserialize(de)? {
        None => Ok(None),
        Some(Seconds::Number(n)) => n
            .as_i64()
            .or_else(|| number(&n.to_string()))
            .map(Some)
            .ok_or_else(|| D::Error::custom(format!("expires_in {n} is not a number of seconds"))),
        Some(Seconds::Text(t)) => number(&t).map(Some).ok_or_else(|| {
            D::Error::custom(format!("expires_in {t:?} is not a number of seconds"))
        }),
    }
}

/// An OAuth error answer.
#[derive(Debug, Clone, Deserialize)]
pub struct OAuthError {
    /// Error code (`invalid_grant`, `authorization_pending`, …).
    pub error: String,
    /// Human description.
    #[serde(default)]
    pub error_description: Option<String>,
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.error_description {
            Some(d) if !d.is_empty() => write!(f, "{} ({d})", self.error),
            _ => write!(f, "{}", self.error),
        }
    }
}

/// What a token request can end with.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// Transport-level failure (DNS, TLS, refused, timeout).
    #[error("cannot reach the provider at {url}: {detail}")]
    Unreachable {
        /// The URL.
        url: String,
        /// Chain of causes.
        detail: String,
    },
    /// The provider answered with an OAuth error.
    #[error("the provider refused the {what}: {error}")]
    OAuth {
        /// The request.
        what: String,
        /// The error.
        error: OAuthError,
    },
    /// Any other unexpected answer.
    #[error("{0}")]
    Protocol(String),
}

/// Device authorization response (RFC 8628 §3.2), as oauth2 reads it. Its
/// `Debug` shows no device code.
pub type DeviceAuthorization = oauth2::StandardDeviceAuthorizationResponse;

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = cause.source();
    }
    out
}

/// The error for a redirect answer, which is never followed.
fn redirected(url: &str, what: &str, response: &reqwest::Response) -> ProviderError {
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("nowhere");
    ProviderError::Protocol(format!(
        "{url} answered {what} with {} to {location}; redirects are not followed on requests \
         that carry credentials: configure the provider's own URLs (check --oidc-issuer-url)",
        response.status()
    ))
}

/// What goes into an authorization request URL.
#[derive(Clone, Copy)]
pub struct AuthorizationRequest<'a> {
    /// Where the provider sends the browser back.
    pub redirect_uri: &'a str,
    /// The scopes, `openid` among them.
    pub scopes: &'a [String],
    /// The login's `state`.
    pub state: &'a str,
    /// The login's `nonce`.
    pub nonce: &'a str,
    /// The PKCE verifier whose S256 challenge is sent, if any.
    pub pkce_verifier: Option<&'a str>,
    /// `login_hint`.
    pub login_hint: Option<&'a str>,
    /// Extra parameters (`--oidc-auth-request-extra-params`).
    pub extra_params: &'a [(String, String)],
}

/// A connection to one provider. Its `Debug` shows no client secret.
#[derive(Clone)]
pub struct Provider {
    http: reqwest::Client,
    issuer: String,
    client_id: String,
    client_secret: Option<String>,
    /// The discovery document.
    pub discovery: Discovery,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

/// The certificates of a PEM bundle; an error when there is none (a file
/// that trusts nothing is a mistake worth reporting).
fn pem_certificates(pem: &[u8]) -> anyhow::Result<Vec<reqwest::Certificate>> {
    let certs = reqwest::Certificate::from_pem_bundle(pem)?;
    if certs.is_empty() {
        anyhow::bail!("no -----BEGIN CERTIFICATE----- block found");
    }
    Ok(certs)
}

/// The longest one request to the provider may take, from connecting to the
/// last byte of the answer.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Builds the HTTP client for the provider.
pub fn http_client(settings: &HttpSettings) -> anyhow::Result<reqwest::Client> {
    use anyhow::Context as _;
    let mut builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        // A provider that takes a request and never answers must not hang
        // kubectl: every request ends within this, the device-code polls
        // included.
        .timeout(REQUEST_TIMEOUT)
        // Drop idle connections before common servers do (Node closes them
        // after 5 s): a device-code poll every 5 s or more must not reuse a
        // connection the provider is closing at that moment.
        .pool_idle_timeout(Duration::from_secs(4))
        // Never follow a redirect: a 307 from the token endpoint would have
        // the code, verifier, refresh token, password or client secret
        // posted again to wherever it points.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("kubectl-oidc_login/", env!("CARGO_PKG_VERSION")));
    if !settings.ca_files.is_empty() || !settings.ca_data.is_empty() {
        // As kubelogin and kubectl do: the given CAs replace the system's.
        builder = builder.tls_built_in_root_certs(false);
    }
    for file in &settings.ca_files {
        let pem = std::fs::read(file)
            .with_context(|| format!("reading --certificate-authority {}", file.display()))?;
        let certs = pem_certificates(&pem).with_context(|| {
            format!(
                "--certificate-authority {} holds no PEM certificate",
                file.display()
            )
        })?;
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    for data in &settings.ca_data {
        let pem = base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .context("--certificate-authority-data is not base64")?;
        for cert in pem_certificates(&pem)
            .context("--certificate-authority-data holds no PEM certificate")?
        {
            builder = builder.add_root_certificate(cert);
        }
    }
    if settings.insecure_skip_tls_verify {
        builder = builder.danger_accept_invalid_certs(true);
    }
    let mut headers = reqwest::header::HeaderMap::new();
    for (name, value) in &settings.headers {
        let name = reqwest::header::HeaderName::from_bytes(name.as_bytes()).with_context(|| {
            format!("--oidc-request-header: {name:?} is not a valid header name")
        })?;
        let value = reqwest::header::HeaderValue::from_str(value).with_context(|| {
            format!("--oidc-request-header: the value of {name} is not a valid header value")
        })?;
        headers.insert(name, value);
    }
    builder
        .default_headers(headers)
        .build()
        .context("setting up the HTTPS client")
}

/// oauth2's client for the token endpoint, with our token response type.
type OAuthClient = oauth2::Client<
    StandardErrorResponse<CoreErrorResponseType>,
    TokenResponse,
    openidconnect::StandardTokenIntrospectionResponse<
        openidconnect::EmptyExtraTokenFields,
        CoreTokenType,
    >,
    openidconnect::core::CoreRevocableToken,
    openidconnect::core::CoreRevocationErrorResponse,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// Why a request oauth2 asked us to send got no answer it can read.
#[derive(Debug, thiserror::Error)]
enum HttpError {
    /// Transport failure, or the request could not be built.
    #[error("{0}")]
    Unreachable(ProviderError),
    /// A redirect, which is never followed.
    #[error("{0}")]
    Redirected(ProviderError),
}

impl Provider {
    /// oauth2's client for this provider's token endpoint, authenticating
    /// as discovery says (Basic unless only `client_secret_post` is offered).
    fn oauth_client(&self) -> Result<OAuthClient, ProviderError> {
        let token_url =
            TokenUrl::new(self.discovery.token_endpoint().to_string()).map_err(|e| {
                ProviderError::Protocol(format!(
                    "the provider's token_endpoint {:?} is not a URL: {e}",
                    self.discovery.token_endpoint()
                ))
            })?;
        let auth_type = if self.discovery.secret_in_basic_header() {
            AuthType::BasicAuth
        } else {
            AuthType::RequestBody
        };
        let client = oauth2::Client::new(ClientId::new(self.client_id.clone()))
            .set_token_uri(token_url)
            .set_auth_type(auth_type);
        Ok(match &self.client_secret {
            Some(secret) => client.set_client_secret(ClientSecret::new(secret.clone())),
            None => client,
        })
    }

    /// Sends a request oauth2 built, with our client (configured CAs,
    /// headers, no redirects followed).
    async fn send(&self, request: HttpRequest, what: &str) -> Result<HttpResponse, HttpError> {
        let url = request.uri().to_string();
        let unreachable = |detail: String| {
            HttpError::Unreachable(ProviderError::Unreachable {
                url: url.clone(),
                detail,
            })
        };
        let failed = |e: reqwest::Error| {
            if e.is_timeout() {
                unreachable(format!(
                    "no answer within {} s (the time allowed for each request to the provider): {}",
                    REQUEST_TIMEOUT.as_secs(),
                    error_chain(&e)
                ))
            } else {
                unreachable(error_chain(&e))
            }
        };
        let request = reqwest::Request::try_from(request).map_err(failed)?;
        let response = self.http.execute(request).await.map_err(failed)?;
        if response.status().is_redirection() {
            return Err(HttpError::Redirected(redirected(
                &url,
                &format!("the {what}"),
                &response,
            )));
        }
        let mut builder = openidconnect::http::Response::builder().status(response.status());
        for (name, value) in response.headers() {
            builder = builder.header(name, value);
        }
        let body = response.bytes().await.map_err(failed)?;
        builder
            .body(body.to_vec())
            .map_err(|e| unreachable(e.to_string()))
    }

    /// Our error for what an oauth2 token request ended with. The body of an
    /// answer that cannot be read is never shown: it could hold a token.
    fn token_error<T: oauth2::ErrorResponseType + AsRef<str> + std::fmt::Display + 'static>(
        what: &str,
        err: RequestTokenError<HttpError, StandardErrorResponse<T>>,
    ) -> ProviderError {
        match err {
            RequestTokenError::ServerResponse(answer) => ProviderError::OAuth {
                what: what.to_string(),
                error: OAuthError {
                    error: answer.error().as_ref().to_string(),
                    error_description: answer.error_description().cloned(),
                },
            },
            RequestTokenError::Request(HttpError::Unreachable(e) | HttpError::Redirected(e)) => e,
            RequestTokenError::Parse(e, _body) => {
                Self::unreadable(what, e.inner().classify(), &e.path().to_string())
            }
            RequestTokenError::Other(why) => {
                ProviderError::Protocol(format!("the provider's answer to the {what}: {why}"))
            }
        }
    }

    /// Our error for an answer that cannot be read. Its body is never shown:
    /// serde's message may quote a value of it, which could be a token. It
    /// says where and what kind of problem instead.
    fn unreadable(what: &str, category: serde_json::error::Category, path: &str) -> ProviderError {
        let kind = match category {
            serde_json::error::Category::Syntax => "not JSON",
            serde_json::error::Category::Eof => "cut short",
            serde_json::error::Category::Io => "unreadable",
            serde_json::error::Category::Data => "a field is missing or of the wrong type",
        };
        ProviderError::Protocol(format!(
            "the provider's answer to the {what} is not what OAuth 2.0 specifies ({kind}, at {path})"
        ))
    }

    // The grants below end alike (send through `self.send`, map the error
    // with `token_error`), but each builds its own oauth2 request type with
    // its own parameters, so that tail stays in each rather than behind a
    // generic over five request types.

    /// Authorization code grant (with the PKCE verifier when one was sent).
    pub async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
        pkce_verifier: Option<&str>,
    ) -> Result<TokenResponse, ProviderError> {
        let what = "authorization code";
        let redirect = RedirectUrl::new(redirect_uri.to_string()).map_err(|e| {
            ProviderError::Protocol(format!(
                "the redirect URI {redirect_uri:?} is not a URL: {e}"
            ))
        })?;
        let client = self.oauth_client()?;
        let mut request = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .set_redirect_uri(std::borrow::Cow::Owned(redirect));
        if let Some(verifier) = pkce_verifier {
            request = request.set_pkce_verifier(PkceCodeVerifier::new(verifier.to_string()));
        }
        let send = |r| self.send(r, what);
        request
            .request_async(&send)
            .await
            .map_err(|e| Self::token_error(what, e))
    }

    /// Refresh token grant.
    pub async fn exchange_refresh_token(
        &self,
        refresh_token: &str,
    ) -> Result<TokenResponse, ProviderError> {
        let what = "refresh";
        let client = self.oauth_client()?;
        let refresh_token = RefreshToken::new(refresh_token.to_string());
        let send = |r| self.send(r, what);
        client
            .exchange_refresh_token(&refresh_token)
            .request_async(&send)
            .await
            .map_err(|e| Self::token_error(what, e))
    }

    /// Resource owner password grant.
    pub async fn exchange_password(
        &self,
        username: &str,
        password: &str,
        scopes: &[String],
    ) -> Result<TokenResponse, ProviderError> {
        let what = "password login";
        let client = self.oauth_client()?;
        let username = ResourceOwnerUsername::new(username.to_string());
        let password = ResourceOwnerPassword::new(password.to_string());
        let send = |r| self.send(r, what);
        client
            .exchange_password(&username, &password)
            .add_scopes(scopes.iter().cloned().map(Scope::new))
            .request_async(&send)
            .await
            .map_err(|e| Self::token_error(what, e))
    }

    /// Client credentials grant, with extra parameters (e.g. `audience`).
    pub async fn exchange_client_credentials(
        &self,
        scopes: &[String],
        extra: &[(String, String)],
    ) -> Result<TokenResponse, ProviderError> {
        let what = "client credentials login";
        let client = self.oauth_client()?;
        let mut request = client
            .exchange_client_credentials()
            .add_scopes(scopes.iter().cloned().map(Scope::new));
        for (name, value) in extra {
            request = request.add_extra_param(name.clone(), value.clone());
        }
        let send = |r| self.send(r, what);
        request
            .request_async(&send)
            .await
            .map_err(|e| Self::token_error(what, e))
    }
}

impl Provider {
    /// Fetches discovery and checks that it describes `issuer`.
    pub async fn discover(
        http: reqwest::Client,
        issuer: &str,
        client_id: &str,
        client_secret: Option<&str>,
    ) -> Result<Provider, ProviderError> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let response = http
            .get(&url)
            .send()
            .await
            .map_err(|e| ProviderError::Unreachable {
                url: url.clone(),
                detail: error_chain(&e),
            })?;
        let status = response.status();
        if status.is_redirection() {
            return Err(redirected(&url, "the discovery request", &response));
        }
        if !status.is_success() {
            return Err(ProviderError::Protocol(format!(
                "the provider's discovery document {url} answered {status}; check --oidc-issuer-url"
            )));
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| ProviderError::Unreachable {
                url: url.clone(),
                detail: error_chain(&e),
            })?;
        let discovery = Discovery::parse(&body).map_err(|e| {
            ProviderError::Protocol(format!(
                "{url} is not an OpenID Connect discovery document ({e}); check --oidc-issuer-url"
            ))
        })?;
        if discovery.issuer() != issuer {
            return Err(ProviderError::Protocol(format!(
                "the provider at {url} says its issuer is {:?}, but --oidc-issuer-url is {issuer:?}; \
                 use exactly the provider's issuer URL",
                discovery.issuer()
            )));
        }
        Ok(Provider {
            http,
            issuer: issuer.to_string(),
            client_id: client_id.to_string(),
            client_secret: client_secret.filter(|s| !s.is_empty()).map(str::to_string),
            discovery,
        })
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// Whether S256 PKCE is advertised.
    pub fn supports_s256(&self) -> bool {
        self.discovery.supports_s256()
    }

    /// Adds client authentication to a form request.
    fn authenticate(
        &self,
        request: reqwest::RequestBuilder,
        form: &mut Vec<(String, String)>,
    ) -> reqwest::RequestBuilder {
        match &self.client_secret {
            Some(secret) if self.discovery.secret_in_basic_header() => {
                // RFC 6749 §2.3.1: form-urlencode id and secret before Basic.
                let enc = |s: &str| {
                    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
                };
                request.basic_auth(enc(&self.client_id), Some(enc(secret)))
            }
            Some(secret) => {
                form.push(("client_id".into(), self.client_id.clone()));
                form.push(("client_secret".into(), secret.clone()));
                request
            }
            None => {
                form.push(("client_id".into(), self.client_id.clone()));
                request
            }
        }
    }

    async fn post_form<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
        what: &str,
        mut form: Vec<(String, String)>,
    ) -> Result<T, ProviderError> {
        let request = self.http.post(url).header("accept", "application/json");
        let request = self.authenticate(request, &mut form);
        let response =
            request
                .form(&form)
                .send()
                .await
                .map_err(|e| ProviderError::Unreachable {
                    url: url.to_string(),
                    detail: error_chain(&e),
                })?;
        let status = response.status();
        if status.is_redirection() {
            return Err(redirected(url, &format!("the {what}"), &response));
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| ProviderError::Unreachable {
                url: url.to_string(),
                detail: error_chain(&e),
            })?;
        if !status.is_success() {
            if let Ok(error) = serde_json::from_slice::<OAuthError>(&body) {
                return Err(ProviderError::OAuth {
                    what: what.to_string(),
                    error,
                });
            }
            // The body is not shown: it could hold a token.
            return Err(ProviderError::Protocol(format!(
                "the provider answered the {what} with {status} and no OAuth error"
            )));
        }
        serde_json::from_slice(&body).map_err(|e| {
            ProviderError::Protocol(format!(
                "the provider's answer to the {what} is not what OAuth 2.0 specifies: {e}"
            ))
        })
    }

    /// A request to the token endpoint with this grant's parameters.
    pub async fn token(
        &self,
        what: &str,
        form: Vec<(String, String)>,
    ) -> Result<TokenResponse, ProviderError> {
        let url = self.discovery.token_endpoint().to_string();
        self.post_form(&url, what, form).await
    }

    /// Starts a device authorization (RFC 8628 §3.1) with oauth2's request,
    /// sending `extra` beside the scopes (the PKCE challenge when there is one).
    pub async fn device_authorization(
        &self,
        scopes: &[String],
        pkce_verifier: Option<&str>,
    ) -> Result<DeviceAuthorization, ProviderError> {
        let what = "device authorization request";
        let url = self.discovery.device_authorization_endpoint().ok_or_else(|| {
            ProviderError::Protocol(format!(
                "the provider {} does not support the device authorization grant \
                 (no device_authorization_endpoint in its discovery document); use another --grant-type",
                self.issuer
            ))
        })?;
        let url = DeviceAuthorizationUrl::new(url.to_string()).map_err(|e| {
            ProviderError::Protocol(format!(
                "the provider's device_authorization_endpoint {url:?} is not a URL: {e}"
            ))
        })?;
        let client = self.oauth_client()?.set_device_authorization_url(url);
        let mut request = client
            .exchange_device_code()
            .add_scopes(scopes.iter().cloned().map(Scope::new));
        if let Some(verifier) = pkce_verifier {
            let challenge = PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(
                verifier.to_string(),
            ));
            request = request
                .add_extra_param("code_challenge", challenge.as_str().to_string())
                .add_extra_param(
                    "code_challenge_method",
                    challenge.method().as_str().to_string(),
                );
        }
        let send = |r| self.send(r, what);
        request
            .request_async(&send)
            .await
            .map_err(|e| Self::token_error(what, e))
    }

    /// Polls the token endpoint for a device authorization (RFC 8628 §3.4)
    /// with oauth2's loop: at the provider's `interval`, 5 s more after each
    /// `slow_down`, until tokens, a refusal, or the end of the code's
    /// `expires_in`. The PKCE verifier goes with each poll when the
    /// authorization sent a challenge. A request that gets no answer (or a
    /// redirect) ends the login at once.
    pub async fn poll_device_authorization(
        &self,
        authorization: &DeviceAuthorization,
        pkce_verifier: Option<&str>,
    ) -> Result<TokenResponse, ProviderError> {
        let what = "device code";
        let client = self.oauth_client()?;
        let mut request = client
            .exchange_device_access_token(authorization)
            .set_time_fn(chrono::Utc::now);
        if let Some(verifier) = pkce_verifier {
            request = request.add_extra_param("code_verifier", verifier.to_string());
        }
        // oauth2 retries a failed request with a growing interval; here it
        // ends the login instead, as every other request does.
        let failed: std::sync::Mutex<Option<ProviderError>> = std::sync::Mutex::new(None);
        let stop = tokio::sync::Notify::new();
        let send = |r| async {
            let answer = self.send(r, what).await;
            if let Err(HttpError::Unreachable(e) | HttpError::Redirected(e)) = answer {
                let detail = e.to_string();
                *failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                stop.notify_one();
                return Err(HttpError::Unreachable(ProviderError::Protocol(detail)));
            }
            answer
        };
        let poll = request.request_async(&send, tokio::time::sleep, None);
        let answer = tokio::select! {
            answer = poll => answer,
            () = stop.notified() => {
                let error = failed.lock().unwrap_or_else(|p| p.into_inner()).take();
                return Err(error.unwrap_or_else(|| {
                    ProviderError::Protocol(format!("the {what} request failed"))
                }));
            }
        };
        answer.map_err(|e| Self::token_error(what, e))
    }

    /// The authorization request URL (OpenID Connect Core §3.1.2.1), built
    /// by openidconnect: `response_type=code`, `openid` and the other
    /// scopes, `state`, `nonce`, the S256 challenge of `pkce_verifier`,
    /// `login_hint` and the extra parameters.
    pub fn authorization_url(
        &self,
        request: &AuthorizationRequest<'_>,
    ) -> Result<String, ProviderError> {
        let endpoint = self.discovery.authorization_endpoint().ok_or_else(|| {
            ProviderError::Protocol(format!(
                "the provider {} has no authorization_endpoint; use --grant-type=device-code, password or client-credentials",
                self.issuer
            ))
        })?;
        let auth_url = AuthUrl::new(endpoint.to_string()).map_err(|e| {
            ProviderError::Protocol(format!(
                "the provider's authorization_endpoint {endpoint:?} is not a URL: {e}"
            ))
        })?;
        let issuer = IssuerUrl::new(self.issuer.clone()).map_err(|e| {
            ProviderError::Protocol(format!("the issuer {:?} is not a URL: {e}", self.issuer))
        })?;
        let redirect = RedirectUrl::new(request.redirect_uri.to_string()).map_err(|e| {
            ProviderError::Protocol(format!(
                "the redirect URI {:?} is not a URL: {e}",
                request.redirect_uri
            ))
        })?;
        let client = CoreClient::new(
            ClientId::new(self.client_id.clone()),
            issuer,
            JsonWebKeySet::default(),
        )
        .set_auth_uri(auth_url)
        .set_redirect_uri(redirect);
        let state = CsrfToken::new(request.state.to_string());
        let nonce = Nonce::new(request.nonce.to_string());
        let mut builder = client
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                move || state,
                move || nonce,
            )
            // openidconnect adds `openid` itself.
            .add_scopes(
                request
                    .scopes
                    .iter()
                    .filter(|s| s.as_str() != "openid")
                    .cloned()
                    .map(Scope::new),
            );
        if let Some(verifier) = request.pkce_verifier {
            builder = builder.set_pkce_challenge(PkceCodeChallenge::from_code_verifier_sha256(
                &PkceCodeVerifier::new(verifier.to_string()),
            ));
        }
        if let Some(hint) = request.login_hint {
            builder = builder.set_login_hint(LoginHint::new(hint.to_string()));
        }
        for (name, value) in request.extra_params {
            builder = builder.add_extra_param(name.as_str(), value.as_str());
        }
        Ok(builder.url().0.into())
    }

    /// Revokes a refresh token (RFC 7009) with oauth2's request. `Ok(false)`
    /// when the provider has no revocation endpoint.
    pub async fn revoke_refresh_token(&self, token: &str) -> Result<bool, ProviderError> {
        let what = "revocation request";
        let Some(url) = self.discovery.revocation_endpoint() else {
            return Ok(false);
        };
        let url = RevocationUrl::new(url.to_string()).map_err(|e| {
            ProviderError::Protocol(format!(
                "the provider's revocation_endpoint {url:?} is not a URL: {e}"
            ))
        })?;
        let client = self.oauth_client()?.set_revocation_url(url);
        let request = client
            .revoke_token(CoreRevocableToken::from(RefreshToken::new(token.to_string())))
            .map_err(|e| {
                ProviderError::Protocol(format!(
                    "the provider's revocation endpoint cannot be used: {e} (RFC 7009 requires https://)"
                ))
            })?;
        let send = |r| self.send(r, what);
        request.request_async(&send).await.map_err(|e| match e {
            RequestTokenError::ServerResponse(answer) => ProviderError::OAuth {
                what: what.to_string(),
                error: OAuthError {
                    error: answer.error().to_string(),
                    error_description: answer.error_description().cloned(),
                },
            },
            RequestTokenError::Request(HttpError::Unreachable(e) | HttpError::Redirected(e)) => e,
            RequestTokenError::Parse(e, _body) => {
                Self::unreadable(what, e.inner().classify(), &e.path().to_string())
            }
            RequestTokenError::Other(why) => {
                ProviderError::Protocol(format!("the provider's answer to the {what}: {why}"))
            }
        })?;
        Ok(true)
    }

    async fn jwks(&self) -> Result<Jwks, ProviderError> {
        let url = self.discovery.jwks_uri();
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| ProviderError::Unreachable {
                url: url.to_string(),
                detail: error_chain(&e),
            })?;
        if !response.status().is_success() {
            return Err(ProviderError::Protocol(format!(
                "the provider's JWKS {url} answered {}",
                response.status()
            )));
        }
        response.json().await.map_err(|e| {
            ProviderError::Protocol(format!("the provider's JWKS {url} is not a JWK set: {e}"))
        })
    }

    /// Verifies a token's signature against the JWKS and its claims.
    /// `audience` is checked for id_tokens (not for access tokens).
    pub async fn verify(
        &self,
        token: &str,
        audience: Option<&str>,
        nonce: Option<&str>,
        what: &str,
    ) -> anyhow::Result<jwt::Claims> {
        let jwks = self.jwks().await?;
        let algs = self.discovery.signing_algs();
        let expect = Expectations {
            issuer: &self.issuer,
            audience,
            nonce,
            now: jiff::Timestamp::now().as_second(),
            leeway: CLOCK_SKEW_SECS,
        };
        let invalid = |e| anyhow::anyhow!("the {what} from {} is not valid: {e}", self.issuer);
        if audience.is_some() {
            // An id_token: openidconnect's verifier.
            return jwt::verify_id_token(token, &jwks, &algs, &expect).map_err(invalid);
        }
        // An access token (`--oidc-use-access-token`): its audience is the
        // API's, so only signature, issuer and times are checked.
        let claims = jwt::verify_signature(token, &jwks, &algs).map_err(invalid)?;
        jwt::check_claims(&claims, &expect).map_err(invalid)?;
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_in_may_be_a_string_or_fractional() {
        let parse = |json: &str| serde_json::from_str::<TokenResponse>(json).map(|t| t.expires_in);
        assert_eq!(parse(r#"{"expires_in": 3599}"#).unwrap(), Some(3599));
        assert_eq!(parse(r#"{"expires_in": "3599"}"#).unwrap(), Some(3599));
        assert_eq!(parse(r#"{"expires_in": 3599.9}"#).unwrap(), Some(3599));
        assert_eq!(parse(r#"{}"#).unwrap(), None);
        assert_eq!(parse(r#"{"expires_in": null}"#).unwrap(), None);
        assert!(parse(r#"{"expires_in": "soon"}"#).is_err());
    }

    #[test]
    fn discovery_with_only_what_oauth_servers_send_is_read() {
        let d = Discovery::parse(
            br#"{"issuer": "https://idp", "token_endpoint": "https://idp/token",
                 "jwks_uri": "https://idp/jwks",
                 "device_authorization_endpoint": "https://idp/device",
                 "id_token_signing_alg_values_supported": ["ES256K", "ES512"],
                 "token_endpoint_auth_methods_supported": ["client_secret_post", "tls_client_auth"],
                 "response_types_supported": null}"#,
        )
        .unwrap();
        assert_eq!(d.issuer(), "https://idp");
        assert_eq!(d.authorization_endpoint(), None);
        assert_eq!(d.token_endpoint(), "https://idp/token");
        assert_eq!(
            d.device_authorization_endpoint(),
            Some("https://idp/device")
        );
        assert_eq!(d.revocation_endpoint(), None);
        assert_eq!(
            d.signing_algs(),
            ["ES512"],
            "an unknown algorithm is skipped"
        );
        assert!(!d.supports_s256());
        assert!(!d.secret_in_basic_header());

        let d = Discovery::parse(
            br#"{"issuer": "https://idp", "token_endpoint": "https://idp/token",
                 "authorization_endpoint": "https://idp/auth", "jwks_uri": "https://idp/jwks",
                 "revocation_endpoint": "https://idp/revoke",
                 "code_challenge_methods_supported": ["plain", "S256"],
                 "id_token_signing_alg_values_supported": []}"#,
        )
        .unwrap();
        assert_eq!(d.authorization_endpoint(), Some("https://idp/auth"));
        assert_eq!(d.revocation_endpoint(), Some("https://idp/revoke"));
        assert_eq!(d.signing_algs(), ["RS256"], "the OpenID Connect default");
        assert!(d.supports_s256());
        assert!(d.secret_in_basic_header());

        let err = Discovery::parse(br#"{"issuer": "https://idp", "jwks_uri": "https://idp/jwks"}"#)
            .unwrap_err();
        assert!(err.contains("token_endpoint"), "{err}");
        let err =
            Discovery::parse(br#"{"issuer": "https://idp", "token_endpoint": "https://idp/t"}"#)
                .unwrap_err();
        assert!(err.contains("jwks_uri"), "{err}");
    }

    #[test]
    fn http_settings_debug_shows_no_header_value() {
        let settings = HttpSettings {
            ca_files: vec!["/etc/ca.pem".into()],
            headers: vec![("Authorization".into(), "Bearer header-secret".into())],
            ..HttpSettings::default()
        };
        let text = format!("{settings:?}");
        assert!(!text.contains("header-secret"), "{text}");
        assert!(
            text.contains("Authorization"),
            "the header name stays: {text}"
        );
        assert!(text.contains("/etc/ca.pem"), "{text}");
    }

    #[test]
    fn debug_output_shows_no_token() {
        let response: TokenResponse = serde_json::from_str(
            r#"{"access_token": "at-secret", "id_token": "id-secret", "refresh_token": "rt-secret"}"#,
        )
        .unwrap();
        let text = format!("{response:?}");
        assert!(!text.contains("secret"), "{text}");
    }
}
