//! Test helper that runs a real OpenID provider for integration tests.
//!
//! It starts the Node.js fixture in `fixture/` (the npm package
//! `oidc-provider`, pinned by `fixture/package-lock.json`) on a free loopback
//! port, over HTTPS with a certificate from a throw-away CA made here with
//! rcgen, or over plain HTTP. It waits until discovery answers, and kills the
//! process when the [`OidcProvider`] is dropped. A fresh clone works: when
//! `fixture/node_modules` is missing, `npm ci` runs once (under a file lock, so
//! parallel test processes do not race).
//!
//! ```no_run
//! let provider = oidc_test_provider::OidcProvider::builder().start().unwrap();
//! println!("issuer {}", provider.issuer());
//! let before = provider.stats().unwrap();
//! // ... run the plugin ...
//! let after = provider.stats().unwrap();
//! assert_eq!(after.token_requests_total(), before.token_requests_total());
//! ```
//!
//! The fixture's clients and accounts are constants of this crate
//! ([`PUBLIC_CLIENT_ID`], [`CONFIDENTIAL_CLIENT_ID`], [`ALICE`], ...). The
//! login/consent step completes by itself unless the provider runs
//! [`ProviderBuilder::interactive`]; [`OidcProvider::browse`] drives a URL
//! like a browser would (device pages, denied consent, keyboard flow).

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde::Deserialize;

/// Client id of the public client (no secret, PKCE required, native:
/// loopback redirects on any port, `urn:ietf:wg:oauth:2.0:oob`). Grants:
/// authorization code, refresh token, device code, password, token exchange.
pub const PUBLIC_CLIENT_ID: &str = "kubelogin-public";
/// Client id of the confidential client (`client_secret_basic`). Grants: the
/// public client's plus client credentials (its access token is a JWT whose
/// `aud` and `sub` are this client id).
pub const CONFIDENTIAL_CLIENT_ID: &str = "kubelogin-confidential";
/// `grant_type` of RFC 8693 token exchange. The fixture exchanges an access
/// token it issued (`subject_token_type`
/// `urn:ietf:params:oauth:token-type:access_token`) for a new access token
/// and, with the `openid` scope, an id_token of the same account.
pub const TOKEN_EXCHANGE_GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// Secret of [`CONFIDENTIAL_CLIENT_ID`].
pub const CONFIDENTIAL_CLIENT_SECRET: &str = "kubelogin-confidential-secret";
/// Client id of a public web client (PKCE required) whose redirect goes to
/// an HTTPS loopback listener: `https://localhost:<any port>/` and
/// `https://127.0.0.1:<any port>/` match (kubelogin's
/// `--local-server-cert`/`--local-server-key`). Grants: authorization code,
/// refresh token.
pub const HTTPS_LOOPBACK_CLIENT_ID: &str = "kubelogin-https-loopback";
/// How long the fixture keeps idle keep-alive connections by default (Node's
/// default `server.keepAliveTimeout`).
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(5);
/// Signing algorithms the fixture can use.
pub const KEY_ALGS: [KeyAlg; 5] = [
    KeyAlg::Rs256,
    KeyAlg::Ps256,
    KeyAlg::Es256,
    KeyAlg::Es512,
    KeyAlg::EdDsa,
];

/// An account known to the fixture.
#[derive(Debug, Clone, Copy)]
pub struct Account {
    /// `sub` claim and login name.
    pub id: &'static str,
    /// Password for the password grant.
    pub password: &'static str,
    /// `email` claim.
    pub email: &'static str,
    /// `groups` claim.
    pub groups: &'static [&'static str],
}

/// The default account: the non-interactive login signs in as alice unless
/// the authorization request carries `login_hint=bob` (or bob's email).
pub const ALICE: Account = Account {
    id: "alice",
    password: "alice-password",
    email: "alice@example.com",
    groups: &["developers", "kubext-admins"],
};
/// A second account, for tests with several accounts on one issuer.
pub const BOB: Account = Account {
    id: "bob",
    password: "bob-password",
    email: "bob@example.com",
    groups: &["developers"],
};

/// An account in 250 groups (`group-001` … `group-250`), so that her
/// id_token is larger than 4 KB: for tests of size limits (keyrings).
pub const CAROL: Account = Account {
    id: "carol",
    password: "carol-password",
    email: "carol@example.com",
    // Too many to spell out: `group-001` … `group-250`, see CAROL_GROUP_COUNT.
    groups: &[],
};
/// Number of groups of [`CAROL`] (`group-001` … `group-250`).
pub const CAROL_GROUP_COUNT: usize = 250;

/// What went wrong while starting or asking the fixture.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A local I/O step failed (temp files, spawning node or npm).
    #[error("{what}: {source}")]
    Io {
        /// The step.
        what: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The fixture could not be started or did not become ready.
    #[error("{0}")]
    Start(String),
    /// An HTTP request to the fixture failed.
    #[error("{0}")]
    Http(String),
    /// Making the test certificates failed.
    #[error("making the test certificates: {0}")]
    Cert(#[from] rcgen::Error),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
    let what = what.into();
    move |source| Error::Io { what, source }
}

/// Signing algorithm (and key type) of the fixture's id_tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlg {
    /// RSA PKCS#1 v1.5 with SHA-256 (the default).
    Rs256,
    /// RSA-PSS with SHA-256.
    Ps256,
    /// ECDSA P-256 with SHA-256.
    Es256,
    /// ECDSA P-521 with SHA-512.
    Es512,
    /// Ed25519.
    EdDsa,
}

impl KeyAlg {
    /// The JOSE name (`RS256`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            KeyAlg::Rs256 => "RS256",
            KeyAlg::Ps256 => "PS256",
            KeyAlg::Es256 => "ES256",
            KeyAlg::Es512 => "ES512",
            KeyAlg::EdDsa => "EdDSA",
        }
    }
}

/// Settings of one fixture instance; see [`OidcProvider::builder`].
#[derive(Debug, Clone)]
pub struct ProviderBuilder {
    tls: bool,
    key_alg: KeyAlg,
    id_token_ttl: Option<u64>,
    access_token_ttl: Option<u64>,
    refresh_token_ttl: Option<u64>,
    device_code_ttl: Option<u64>,
    device_interval: Option<u64>,
    device_slow_down: bool,
    interactive: bool,
    revocation: bool,
    keep_alive: Duration,
    redirect_token: bool,
    string_expires_in: bool,
    malformed_token: bool,
    jwks_unusable_key: bool,
    device_pkce: bool,
    silent_token: bool,
}

impl Default for ProviderBuilder {
    fn default() -> Self {
        ProviderBuilder {
            tls: true,
            key_alg: KeyAlg::Rs256,
            id_token_ttl: None,
            access_token_ttl: None,
            refresh_token_ttl: None,
            device_code_ttl: None,
            device_interval: Some(1),
            device_slow_down: false,
            interactive: false,
            revocation: true,
            keep_alive: DEFAULT_KEEP_ALIVE,
            redirect_token: false,
            string_expires_in: false,
            malformed_token: false,
            jwks_unusable_key: false,
            device_pkce: false,
            silent_token: false,
        }
    }
}

impl ProviderBuilder {
    /// Plain HTTP instead of HTTPS (the default is HTTPS with a test CA).
    pub fn http(mut self) -> Self {
        self.tls = false;
        self
    }
    /// Signing algorithm of id_tokens (RS256 by default).
    pub fn key_alg(mut self, alg: KeyAlg) -> Self {
        self.key_alg = alg;
        self
    }
    /// Lifetime of id_tokens in seconds (600 by default).
    pub fn id_token_ttl(mut self, secs: u64) -> Self {
        self.id_token_ttl = Some(secs);
        self
    }
    /// Lifetime of access tokens in seconds (600 by default).
    pub fn access_token_ttl(mut self, secs: u64) -> Self {
        self.access_token_ttl = Some(secs);
        self
    }
    /// Lifetime of refresh tokens in seconds (one day by default).
    pub fn refresh_token_ttl(mut self, secs: u64) -> Self {
        self.refresh_token_ttl = Some(secs);
        self
    }
    /// Lifetime of device codes in seconds (600 by default).
    pub fn device_code_ttl(mut self, secs: u64) -> Self {
        self.device_code_ttl = Some(secs);
        self
    }
    /// `interval` in device authorization responses (1 s by default; `None`
    /// leaves it out as oidc-provider does, so clients use RFC 8628's 5 s).
    pub fn device_interval(mut self, secs: Option<u64>) -> Self {
        self.device_interval = secs;
        self
    }
    /// Answer the first pending poll of each device code with `slow_down`.
    pub fn device_slow_down(mut self) -> Self {
        self.device_slow_down = true;
        self
    }
    /// Keep the real development login and consent pages (for a browser
    /// test); by default `/interaction/:uid` completes them by itself.
    pub fn interactive(mut self) -> Self {
        self.interactive = true;
        self
    }
    /// Turn the revocation endpoint off (it is on by default).
    pub fn without_revocation(mut self) -> Self {
        self.revocation = false;
        self
    }

    /// Discovery names a token endpoint that answers every request with a
    /// `307` to `/test/redirect/target`; [`Stats::redirect_target`] counts
    /// the requests that followed it there.
    pub fn redirecting_token_endpoint(mut self) -> Self {
        self.redirect_token = true;
        self
    }
    /// The device flow requires PKCE (S256), as Keycloak clients that
    /// require PKCE do: a device authorization without `code_challenge` is
    /// refused, a poll without the matching `code_verifier` gets
    /// `invalid_grant`.
    pub fn device_pkce_required(mut self) -> Self {
        self.device_pkce = true;
        self
    }
    /// The token endpoint reads every request and never answers (the
    /// connection stays open), as a hung provider does;
    /// [`Stats::unanswered_token_requests`] counts those requests.
    pub fn silent_token_endpoint(mut self) -> Self {
        self.silent_token = true;
        self
    }
    /// Token responses carry `expires_in` as a string (`"600"`), as Azure
    /// AD v1 does.
    pub fn string_expires_in(mut self) -> Self {
        self.string_expires_in = true;
        self
    }
    /// Successful token responses carry `token_type` as a number, a body no
    /// OAuth 2.0 client can parse, that still holds the tokens; the access
    /// token starts with `leak-canary-`, so a test can tell whether a client
    /// printed the body.
    pub fn malformed_token_responses(mut self) -> Self {
        self.malformed_token = true;
        self
    }
    /// The JWKS starts with two keys no client can use: one with the
    /// signing key's `kid` but a broken modulus or curve point, one that is
    /// not a valid JWK. The real keys follow.
    pub fn jwks_with_unusable_keys(mut self) -> Self {
        self.jwks_unusable_key = true;
        self
    }
    /// How long the fixture keeps an idle keep-alive connection open (5 s
    /// by default, Node's own default). The helper's clients drop theirs
    /// after half of it; see [`OidcProvider::client_idle_timeout`].
    pub fn keep_alive_timeout(mut self, timeout: Duration) -> Self {
        self.keep_alive = timeout;
        self
    }

    /// Start the fixture and wait until its discovery document answers.
    pub fn start(self) -> Result<OidcProvider, Error> {
        OidcProvider::start(self)
    }
}

/// Counters the fixture keeps (`GET /test/stats`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Stats {
    /// Every request except `/test/*`.
    pub requests: u64,
    /// TCP connections accepted (TLS connections once their handshake is done).
    #[serde(default)]
    pub connections: u64,
    /// Requests that reached `/test/redirect/target` (following the
    /// redirect of [`ProviderBuilder::redirecting_token_endpoint`]).
    #[serde(default)]
    pub redirect_target: u64,
    /// Token endpoint requests left unanswered
    /// ([`ProviderBuilder::silent_token_endpoint`]).
    #[serde(default)]
    pub unanswered_token_requests: u64,
    /// Requests by `METHOD /path` (interaction ids replaced by `*`).
    pub routes: BTreeMap<String, u64>,
    /// Token endpoint requests by `grant_type`, successful or not.
    pub token_requests: BTreeMap<String, u64>,
    /// Successful token responses by `grant_type`.
    pub grants: BTreeMap<String, u64>,
    /// Failed token requests by `grant_type`.
    pub grant_errors: BTreeMap<String, u64>,
    /// Token requests by their `Origin` header (when they had one).
    #[serde(default)]
    pub token_request_origins: BTreeMap<String, u64>,
    /// Every device code poll of the token endpoint, in order.
    #[serde(default)]
    pub device_polls: Vec<DevicePoll>,
}

/// One poll of the token endpoint with a device code.
#[derive(Debug, Clone, Deserialize)]
pub struct DevicePoll {
    /// When, in Unix milliseconds.
    pub at_ms: u64,
    /// `tokens`, or the OAuth error answered (`authorization_pending`, `slow_down`, ...).
    pub result: String,
}

impl Stats {
    /// All token endpoint requests.
    pub fn token_requests_total(&self) -> u64 {
        self.token_requests.values().sum()
    }
    /// Token endpoint requests with this `grant_type` (`authorization_code`,
    /// `refresh_token`, `password`, `client_credentials`,
    /// `urn:ietf:params:oauth:grant-type:device_code`).
    pub fn token_requests_for(&self, grant_type: &str) -> u64 {
        self.token_requests.get(grant_type).copied().unwrap_or(0)
    }
    /// Successful grants with this `grant_type`.
    pub fn grants_for(&self, grant_type: &str) -> u64 {
        self.grants.get(grant_type).copied().unwrap_or(0)
    }
    /// Requests to the authorization endpoint (`GET /auth`).
    pub fn authorization_requests(&self) -> u64 {
        self.routes.get("GET /auth").copied().unwrap_or(0)
    }
    /// Requests to the device authorization endpoint.
    pub fn device_authorization_requests(&self) -> u64 {
        self.routes.get("POST /device/auth").copied().unwrap_or(0)
    }
    /// Requests to the revocation endpoint.
    pub fn revocation_requests(&self) -> u64 {
        self.routes
            .get("POST /token/revocation")
            .copied()
            .unwrap_or(0)
    }
}

#[derive(Deserialize)]
struct Ready {
    issuer: String,
}

/// A running fixture. Dropping it kills the node process.
pub struct OidcProvider {
    child: Child,
    _stdin: Option<ChildStdin>,
    issuer: String,
    ca_pem: Option<String>,
    ca_file: Option<PathBuf>,
    dir: tempfile::TempDir,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
    http: reqwest::blocking::Client,
    idle_timeout: Duration,
}

impl std::fmt::Debug for OidcProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcProvider")
            .field("issuer", &self.issuer)
            .field("pid", &self.child.id())
            .finish()
    }
}

/// The fixture folder (`test-support/oidc-provider/fixture`).
pub fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixture")
}

/// Runs `npm ci` in the fixture folder when its `node_modules` is missing or
/// incomplete. Several test processes may call this at once: a file lock in
/// the temp dir lets one install while the others wait.
pub fn ensure_node_modules() -> Result<(), Error> {
    let dir = fixture_dir();
    let installed = || {
        dir.join("node_modules/oidc-provider/package.json")
            .is_file()
            && dir
                .join("node_modules/playwright-core/package.json")
                .is_file()
    };
    if installed() {
        return Ok(());
    }
    let lock_path = std::env::temp_dir().join("kubext-oidc-fixture-npm-ci.lock");
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(io(format!("opening {}", lock_path.display())))?;
    lock.lock().map_err(io("locking the npm ci lock file"))?;
    if installed() {
        return Ok(());
    }
    let output = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .output()
        .map_err(io(
            "running `npm ci` for the OIDC fixture (is Node.js with npm installed?)",
        ))?;
    if !output.status.success() {
        return Err(Error::Start(format!(
            "`npm ci` in {} failed ({}):\n{}",
            dir.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    Ok(())
}

struct TestPki {
    ca_pem: String,
    cert_pem: String,
    key_pem: String,
}

fn make_pki() -> Result<TestPki, Error> {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "kubext OIDC test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key)?;

    let key = KeyPair::generate()?;
    let mut params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])?;
    params
        .distinguished_name
        .push(DnType::CommonName, "kubext OIDC test provider");
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.signed_by(&key, &ca)?;
    Ok(TestPki {
        ca_pem: ca.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

fn write_file(path: &Path, contents: &str) -> Result<(), Error> {
    std::fs::write(path, contents).map_err(io(format!("writing {}", path.display())))
}

impl OidcProvider {
    /// Settings for a new fixture (HTTPS, RS256, default lifetimes).
    pub fn builder() -> ProviderBuilder {
        ProviderBuilder::default()
    }

    fn start(options: ProviderBuilder) -> Result<OidcProvider, Error> {
        ensure_node_modules()?;
        let dir = tempfile::Builder::new()
            .prefix("oidc-fixture-")
            .tempdir()
            .map_err(io("creating a temp dir"))?;

        let mut cmd = Command::new("node");
        cmd.arg(fixture_dir().join("server.mjs"))
            .current_dir(fixture_dir())
            .env("FIXTURE_HOST", "127.0.0.1")
            .env("FIXTURE_PORT", "0")
            .env("FIXTURE_KEY_ALG", options.key_alg.as_str())
            .env(
                "FIXTURE_INTERACTIVE",
                if options.interactive { "1" } else { "0" },
            )
            .env(
                "FIXTURE_REVOCATION",
                if options.revocation { "1" } else { "0" },
            )
            .env(
                "FIXTURE_DEVICE_SLOW_DOWN",
                if options.device_slow_down { "1" } else { "0" },
            )
            .env("FIXTURE_EXIT_ON_STDIN_EOF", "1")
            .env(
                "FIXTURE_REDIRECT_TOKEN",
                if options.redirect_token { "1" } else { "0" },
            )
            .env(
                "FIXTURE_DEVICE_PKCE",
                if options.device_pkce { "1" } else { "0" },
            )
            .env(
                "FIXTURE_SILENT_TOKEN",
                if options.silent_token { "1" } else { "0" },
            )
            .env(
                "FIXTURE_STRING_EXPIRES_IN",
                if options.string_expires_in { "1" } else { "0" },
            )
            .env(
                "FIXTURE_MALFORMED_TOKEN",
                if options.malformed_token { "1" } else { "0" },
            )
            .env(
                "FIXTURE_JWKS_UNUSABLE_KEY",
                if options.jwks_unusable_key { "1" } else { "0" },
            )
            .env(
                "FIXTURE_KEEP_ALIVE_MS",
                options.keep_alive.as_millis().max(1).to_string(),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in [
            ("FIXTURE_ID_TOKEN_TTL", options.id_token_ttl),
            ("FIXTURE_ACCESS_TOKEN_TTL", options.access_token_ttl),
            ("FIXTURE_REFRESH_TOKEN_TTL", options.refresh_token_ttl),
            ("FIXTURE_DEVICE_CODE_TTL", options.device_code_ttl),
            ("FIXTURE_DEVICE_INTERVAL", options.device_interval),
        ] {
            match value {
                Some(v) => cmd.env(name, v.to_string()),
                None => cmd.env_remove(name),
            };
        }

        // Drop idle connections well before the fixture closes them: a
        // request sent on a connection at the moment the fixture closes it
        // fails ("error sending request"), e.g. after a test's sleep.
        let idle_timeout = options.keep_alive / 2;
        let mut http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(10))
            .pool_idle_timeout(idle_timeout);
        let (mut ca_pem, mut ca_file) = (None, None);
        if options.tls {
            let pki = make_pki()?;
            let cert = dir.path().join("tls.crt");
            let key = dir.path().join("tls.key");
            let ca = dir.path().join("ca.crt");
            write_file(&cert, &pki.cert_pem)?;
            write_file(&key, &pki.key_pem)?;
            write_file(&ca, &pki.ca_pem)?;
            cmd.env("FIXTURE_TLS_CERT", &cert)
                .env("FIXTURE_TLS_KEY", &key);
            let root = reqwest::Certificate::from_pem(pki.ca_pem.as_bytes())
                .map_err(|e| Error::Start(format!("loading the test CA: {e}")))?;
            http = http
                .add_root_certificate(root)
                .tls_built_in_root_certs(false);
            ca_pem = Some(pki.ca_pem);
            ca_file = Some(ca);
        } else {
            cmd.env_remove("FIXTURE_TLS_CERT")
                .env_remove("FIXTURE_TLS_KEY");
        }
        let http = in_plain_thread(move || http.build())
            .map_err(|e| Error::Start(format!("building an HTTP client: {e}")))?;

        let mut child = cmd.spawn().map_err(io(
            "starting `node` for the OIDC fixture (is Node.js installed?)",
        ))?;
        let stdin = child.stdin.take();

        // stderr is collected for error messages; stdout gives the issuer.
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        if let Some(mut pipe) = child.stderr.take() {
            let sink = stderr.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = pipe.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    if let Ok(mut s) = sink.lock() {
                        s.push_str(&String::from_utf8_lossy(&buf[..n]));
                    }
                }
            });
        }
        let (tx, rx) = mpsc::channel();
        if let Some(pipe) = child.stdout.take() {
            std::thread::spawn(move || {
                let mut sent = false;
                for line in BufReader::new(pipe).lines() {
                    let Ok(line) = line else { break };
                    if !sent && let Ok(ready) = serde_json::from_str::<Ready>(&line) {
                        let _ = tx.send(ready.issuer);
                        sent = true;
                    }
                }
            });
        }

        let mut provider = OidcProvider {
            child,
            _stdin: stdin,
            issuer: String::new(),
            ca_pem,
            ca_file,
            dir,
            stderr,
            http,
            idle_timeout,
        };
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(issuer) => provider.issuer = issuer,
            Err(_) => {
                return Err(Error::Start(format!(
                    "the OIDC fixture did not report its address within 30 s; its stderr:\n{}",
                    provider.stderr_text()
                )));
            }
        }
        provider.wait_for_discovery(Duration::from_secs(30))?;
        Ok(provider)
    }

    fn wait_for_discovery(&mut self, limit: Duration) -> Result<(), Error> {
        let url = format!("{}/.well-known/openid-configuration", self.issuer);
        let deadline = Instant::now() + limit;
        loop {
            match self.get(&url) {
                Ok(_) => return Ok(()),
                Err(e) => {
                    if let Ok(Some(status)) = self.child.try_wait() {
                        return Err(Error::Start(format!(
                            "the OIDC fixture exited ({status}); its stderr:\n{}",
                            self.stderr_text()
                        )));
                    }
                    if Instant::now() > deadline {
                        return Err(Error::Start(format!(
                            "the OIDC fixture's discovery at {url} did not answer: {e}"
                        )));
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
    }

    fn get(&self, url: &str) -> Result<String, Error> {
        let http = self.http.clone();
        let url = url.to_string();
        in_plain_thread(move || {
            let response = http
                .get(&url)
                .send()
                .map_err(|e| Error::Http(format!("GET {url}: {e}")))?;
            let status = response.status();
            let body = response
                .text()
                .map_err(|e| Error::Http(format!("GET {url}: reading the body: {e}")))?;
            if !status.is_success() {
                return Err(Error::Http(format!("GET {url}: {status}: {body}")));
            }
            Ok(body)
        })
    }

    /// The issuer URL, e.g. `https://127.0.0.1:41234` (no trailing slash).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }
    /// PEM of the CA that signed the HTTPS certificate (`None` over HTTP).
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }
    /// Path of a file holding [`ca_pem`](Self::ca_pem) (`None` over HTTP).
    pub fn ca_file(&self) -> Option<&Path> {
        self.ca_file.as_deref()
    }
    /// The CA as kubeconfig/kubelogin `certificate-authority-data` (base64 PEM).
    pub fn ca_data_base64(&self) -> Option<String> {
        use base64::Engine as _;
        self.ca_pem
            .as_ref()
            .map(|pem| base64::engine::general_purpose::STANDARD.encode(pem))
    }
    /// The provider's own HTTPS certificate (PEM, for `localhost` and
    /// `127.0.0.1`, signed by [`ca_file`](Self::ca_file)) and its key
    /// (`None` over HTTP). A test may serve another loopback HTTPS endpoint
    /// with them that the fixture's test browser trusts.
    pub fn tls_cert_and_key_files(&self) -> Option<(PathBuf, PathBuf)> {
        self.ca_file.as_ref().map(|_| {
            (
                self.dir.path().join("tls.crt"),
                self.dir.path().join("tls.key"),
            )
        })
    }
    /// A scratch directory that lives as long as the provider.
    pub fn scratch_dir(&self) -> &Path {
        self.dir.path()
    }
    /// Client id of the public client; see [`PUBLIC_CLIENT_ID`].
    pub fn public_client_id(&self) -> &'static str {
        PUBLIC_CLIENT_ID
    }
    /// Id and secret of the confidential client.
    pub fn confidential_client(&self) -> (&'static str, &'static str) {
        (CONFIDENTIAL_CLIENT_ID, CONFIDENTIAL_CLIENT_SECRET)
    }
    /// How long a client of the fixture may keep an idle connection: half
    /// of the fixture's keep-alive timeout. Every client a test builds for
    /// the fixture sets it as its `pool_idle_timeout`; the helper's own
    /// client ([`http_client`](Self::http_client)) does.
    pub fn client_idle_timeout(&self) -> Duration {
        self.idle_timeout
    }
    /// An HTTP client that trusts the fixture's CA (blocking; any thread).
    pub fn http_client(&self) -> reqwest::blocking::Client {
        self.http.clone()
    }
    /// The provider's JWKS document as JSON text.
    pub fn jwks_json(&self) -> Result<String, Error> {
        self.get(&format!("{}/jwks", self.issuer))
    }
    /// The discovery document as JSON text.
    pub fn discovery_json(&self) -> Result<String, Error> {
        self.get(&format!("{}/.well-known/openid-configuration", self.issuer))
    }

    /// Current counters.
    pub fn stats(&self) -> Result<Stats, Error> {
        let body = self.get(&format!("{}/test/stats", self.issuer))?;
        serde_json::from_str(&body).map_err(|e| Error::Http(format!("parsing /test/stats: {e}")))
    }

    /// Zero the counters.
    pub fn reset_stats(&self) -> Result<(), Error> {
        let http = self.http.clone();
        let url = format!("{}/test/stats/reset", self.issuer);
        in_plain_thread(move || {
            http.post(&url)
                .send()
                .and_then(|r| r.error_for_status())
                .map(|_| ())
                .map_err(|e| Error::Http(format!("POST {url}: {e}")))
        })
    }

    /// From now on (`true`) or no longer, token responses carry an id_token
    /// whose payload was changed after signing (`sub` = `mallory`): a client
    /// that checks signatures must refuse it.
    pub fn tamper_id_tokens(&self, enabled: bool) -> Result<(), Error> {
        let http = self.http.clone();
        let url = format!(
            "{}/test/tamper?enabled={}",
            self.issuer,
            if enabled { 1 } else { 0 }
        );
        in_plain_thread(move || {
            http.post(&url)
                .send()
                .and_then(|r| r.error_for_status())
                .map(|_| ())
                .map_err(|e| Error::Http(format!("POST {url}: {e}")))
        })
    }

    /// Token with the password grant, straight from the token endpoint: the
    /// parsed JSON response (`id_token`, `access_token`, `refresh_token`, ...).
    pub fn password_grant(
        &self,
        client_id: &str,
        client_secret: Option<&str>,
        account: Account,
        scope: &str,
    ) -> Result<serde_json::Value, Error> {
        let http = self.http.clone();
        let url = format!("{}/token", self.issuer);
        let mut form = vec![
            ("grant_type", "password".to_string()),
            ("username", account.id.to_string()),
            ("password", account.password.to_string()),
            ("scope", scope.to_string()),
        ];
        let (client_id, client_secret) = (client_id.to_string(), client_secret.map(str::to_string));
        if client_secret.is_none() {
            form.push(("client_id", client_id.clone()));
        }
        in_plain_thread(move || {
            let mut request = http.post(&url).form(&form);
            if let Some(secret) = client_secret {
                request = request.basic_auth(client_id, Some(secret));
            }
            let response = request
                .send()
                .map_err(|e| Error::Http(format!("POST {url}: {e}")))?;
            let status = response.status();
            let body = response
                .text()
                .map_err(|e| Error::Http(format!("POST {url}: {e}")))?;
            if !status.is_success() {
                return Err(Error::Http(format!("POST {url}: {status}: {body}")));
            }
            serde_json::from_str(&body).map_err(|e| Error::Http(format!("POST {url}: {e}")))
        })
    }

    /// The command line of the fixture's test browser (`node …/browse.mjs`),
    /// trusting this provider's CA through `NODE_EXTRA_CA_CERTS`: run it with
    /// a URL to follow redirects and submit the provider's pages. Options are
    /// documented in `fixture/browse.mjs` (`--deny`, `--stop-outside`, ...).
    pub fn browse_command(&self) -> Command {
        let mut cmd = Command::new("node");
        cmd.arg(fixture_dir().join("browse.mjs"));
        if let Some(ca) = &self.ca_file {
            cmd.env("NODE_EXTRA_CA_CERTS", ca);
        }
        cmd
    }

    /// Run the test browser on `url` with extra options and wait for it.
    pub fn browse(&self, url: &str, options: &[&str]) -> Result<Output, Error> {
        self.browse_command()
            .args(options)
            .arg(url)
            .stdin(Stdio::null())
            .output()
            .map_err(io("running the fixture's browse.mjs"))
    }

    /// Writes an executable shell script that opens its last argument with
    /// the test browser (plus `options`), for `--browser-command`. Returns
    /// its path (inside [`scratch_dir`](Self::scratch_dir)).
    pub fn browser_script(&self, name: &str, options: &[&str]) -> Result<PathBuf, Error> {
        let path = self.dir.path().join(name);
        let mut script = String::from("#!/bin/sh\n");
        if let Some(ca) = &self.ca_file {
            script.push_str(&format!(
                "export NODE_EXTRA_CA_CERTS={}\n",
                shell_quote(&ca.to_string_lossy())
            ));
        }
        script.push_str("exec node ");
        script.push_str(&shell_quote(
            &fixture_dir().join("browse.mjs").to_string_lossy(),
        ));
        for option in options {
            script.push(' ');
            script.push_str(&shell_quote(option));
        }
        script.push_str(" \"$@\"\n");
        let mut file = File::create(&path).map_err(io(format!("creating {}", path.display())))?;
        file.write_all(script.as_bytes())
            .map_err(io(format!("writing {}", path.display())))?;
        drop(file);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                .map_err(io(format!("chmod {}", path.display())))?;
        }
        Ok(path)
    }

    /// What the fixture wrote on stderr so far (warnings, server errors).
    pub fn stderr_text(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// reqwest's blocking client owns a tokio runtime, which must not be created
/// or dropped inside another runtime's context (an async test); a plain
/// thread keeps the helper usable from sync and async tests alike.
fn in_plain_thread<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| scope.spawn(f).join().expect("helper thread panicked"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quote_escapes_single_quotes() {
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
    }

    #[test]
    fn test_pki_makes_a_ca_and_a_leaf_for_loopback() {
        let pki = make_pki().unwrap();
        assert!(pki.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(pki.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(pki.key_pem.contains("PRIVATE KEY"));
        assert_ne!(pki.ca_pem, pki.cert_pem);
    }
}
