//! The command line turned into validated login settings, and the cache key
//! they imply. This is the configuration the flows and adapters see: no clap
//! type goes past this module.

use std::path::PathBuf;
use std::time::Duration;

use kubectl_kit::KitError;

use crate::adapters::browser::BrowserSettings;
use crate::adapters::cache::{CacheKey, CacheStorage, KeyFields, TokenCache};
use crate::adapters::provider::HttpSettings;
use crate::cli::{self, CacheArgs, GrantType, LoginArgs, PkceMethod, ProviderArgs};

/// The grant actually used (`auto` resolved).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// Browser + loopback redirect.
    Authcode,
    /// Paste the code.
    AuthcodeKeyboard,
    /// Resource owner password credentials.
    Password,
    /// RFC 8628.
    DeviceCode,
    /// Client credentials.
    ClientCredentials,
    /// RFC 8693 token exchange.
    TokenExchange,
}

impl Grant {
    /// kubelogin's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Grant::Authcode => "authcode",
            Grant::AuthcodeKeyboard => "authcode-keyboard",
            Grant::Password => "password",
            Grant::DeviceCode => "device-code",
            Grant::ClientCredentials => "client-credentials",
            Grant::TokenExchange => "token-exchange",
        }
    }
}

/// Whether to send a PKCE code challenge (`--oidc-pkce-method`, `--oidc-use-pkce`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pkce {
    /// S256 when the provider advertises it.
    WhenAdvertised,
    /// Never.
    Never,
    /// Always S256.
    S256,
}

/// Everything a login needs. Its `Debug` shows neither the client secret
/// nor the password.
#[derive(Clone)]
pub struct Settings {
    /// Issuer URL as given.
    pub issuer: String,
    /// Client id.
    pub client_id: String,
    /// Client secret.
    pub client_secret: Option<String>,
    /// `openid` plus the extra scopes.
    pub scopes: Vec<String>,
    /// Hand the access token to kubectl.
    pub use_access_token: bool,
    /// `--oidc-redirect-url`.
    pub redirect_url: Option<String>,
    /// PKCE choice.
    pub pkce: Pkce,
    /// TLS trust and headers.
    pub http: HttpSettings,
    /// The grant.
    pub grant: Grant,
    /// Loopback listener candidates.
    pub listen_addresses: Vec<String>,
    /// Browser handling.
    pub browser: BrowserSettings,
    /// How long a browser/device login may take.
    pub auth_timeout: Duration,
    /// HTTPS for the loopback listener.
    pub local_server_tls: Option<(PathBuf, PathBuf)>,
    /// Where to send the browser after the login.
    pub open_url_after: Option<String>,
    /// Extra authorization request parameters.
    pub extra_params: Vec<(String, String)>,
    /// Password grant username.
    pub username: Option<String>,
    /// Password grant password.
    pub password: Option<String>,
    /// Account hint.
    pub login_hint: Option<String>,
    /// Token exchange: the file with the subject token.
    pub subject_token_file: Option<PathBuf>,
    /// Token exchange: the subject token's type (a URN).
    pub subject_token_type: String,
}

// Written out like `cli::ProviderArgs`'s: a derived `Debug` would print the
// secrets, so each holder of one names its fields and redacts the secrets.
impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("scopes", &self.scopes)
            .field("grant", &self.grant)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// Whether the URL's host is this machine (`localhost`, 127.0.0.0/8, ::1).
fn is_loopback_host(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => {
            name.eq_ignore_ascii_case("localhost")
                || name.to_ascii_lowercase().ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

impl Settings {
    /// Validates the flags.
    pub fn from_args(provider: &ProviderArgs, login: &LoginArgs) -> Result<Settings, KitError> {
        let issuer = provider
            .issuer_url
            .clone()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                KitError::usage(
                    "--oidc-issuer-url is missing: set it to your provider's issuer URL",
                )
            })?;
        let parsed = url::Url::parse(&issuer).map_err(|e| {
            KitError::usage(format!("--oidc-issuer-url {issuer:?} is not a URL: {e}"))
        })?;
        if !matches!(parsed.scheme(), "https" | "http") {
            return Err(KitError::usage(format!(
                "--oidc-issuer-url {issuer:?} must be an https:// URL"
            )));
        }
        // Over plain HTTP anyone on the path could read the tokens and swap
        // the provider's keys; only a provider on this machine is exempt.
        if parsed.scheme() == "http" && !is_loopback_host(&parsed) {
            return Err(KitError::usage(format!(
                "--oidc-issuer-url {issuer:?} uses plain http:// to another machine, which would expose \
                 the tokens on the network; use the provider's https:// URL (http:// is only accepted \
                 for localhost, 127.0.0.1 or [::1])"
            )));
        }
        let client_id = provider
            .client_id
            .clone()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| KitError::usage("--oidc-client-id is missing: set it to the client ID registered at your provider"))?;

        let mut scopes = vec!["openid".to_string()];
        for scope in provider
            .extra_scopes
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
        {
            if !scopes.iter().any(|s| s == scope) {
                scopes.push(scope.to_string());
            }
        }

        let grant = match login.grant_type {
            GrantType::Auto if login.username.is_some() => Grant::Password,
            GrantType::Auto | GrantType::Authcode => Grant::Authcode,
            GrantType::AuthcodeKeyboard => Grant::AuthcodeKeyboard,
            GrantType::Password => Grant::Password,
            GrantType::DeviceCode => Grant::DeviceCode,
            GrantType::ClientCredentials => Grant::ClientCredentials,
            GrantType::TokenExchange => Grant::TokenExchange,
        };
        let subject_token_file = login
            .subject_token_file
            .as_deref()
            .filter(|f| !f.is_empty())
            .map(cli::expand_home);
        if grant == Grant::TokenExchange && subject_token_file.is_none() {
            return Err(KitError::usage(
                "--grant-type=token-exchange needs --subject-token-file: the file holding the token to exchange",
            ));
        }
        let subject_token_type = match login.subject_token_type.as_str() {
            short @ ("access_token" | "id_token" | "jwt" | "refresh_token") => {
                format!("urn:ietf:params:oauth:token-type:{short}")
            }
            urn if urn.starts_with("urn:") => urn.to_string(),
            other => {
                return Err(KitError::usage(format!(
                    "--subject-token-type {other:?} is not a token type: use access_token, id_token, jwt, \
                     refresh_token or a full urn:... type"
                )));
            }
        };
        if grant == Grant::ClientCredentials
            && provider.client_secret.as_deref().unwrap_or("").is_empty()
        {
            return Err(KitError::usage(
                "--grant-type=client-credentials needs --oidc-client-secret (the client authenticates itself)",
            ));
        }

        let headers = cli::parse_pairs("--oidc-request-header", &provider.request_headers)
            .map_err(KitError::usage)?;
        let extra_params = cli::parse_pairs(
            "--oidc-auth-request-extra-params",
            &login.auth_request_extra_params,
        )
        .map_err(KitError::usage)?;

        let local_server_tls = match (&login.local_server_cert, &login.local_server_key) {
            (Some(cert), Some(key)) => Some((cli::expand_home(cert), cli::expand_home(key))),
            (None, None) => None,
            _ => {
                return Err(KitError::usage(
                    "--local-server-cert and --local-server-key go together: give both or neither",
                ));
            }
        };
        if login.listen_address.iter().all(|a| a.trim().is_empty()) {
            return Err(KitError::usage(
                "--listen-address is empty: give an address such as 127.0.0.1:8000",
            ));
        }
        if login.authentication_timeout_sec == 0 {
            return Err(KitError::usage(
                "--authentication-timeout-sec must be more than 0",
            ));
        }

        Ok(Settings {
            issuer,
            client_id,
            client_secret: provider.client_secret.clone().filter(|s| !s.is_empty()),
            scopes,
            use_access_token: provider.use_access_token,
            redirect_url: provider.redirect_url.clone().filter(|s| !s.is_empty()),
            pkce: match provider.pkce_method {
                _ if provider.use_pkce => Pkce::S256,
                PkceMethod::Auto => Pkce::WhenAdvertised,
                PkceMethod::No => Pkce::Never,
                PkceMethod::S256 => Pkce::S256,
            },
            http: HttpSettings {
                ca_files: provider
                    .certificate_authority
                    .iter()
                    .map(|f| cli::expand_home(f))
                    .collect(),
                ca_data: provider.certificate_authority_data.clone(),
                insecure_skip_tls_verify: provider.insecure_skip_tls_verify,
                headers,
            },
            grant,
            listen_addresses: login
                .listen_address
                .iter()
                .map(|a| a.trim().to_string())
                .filter(|a| !a.is_empty())
                .collect(),
            browser: BrowserSettings {
                skip: login.skip_open_browser,
                command: login.browser_command.clone(),
            },
            auth_timeout: Duration::from_secs(login.authentication_timeout_sec),
            local_server_tls,
            open_url_after: login.open_url_after_authentication.clone(),
            extra_params,
            username: login.username.clone(),
            password: login.password.clone(),
            login_hint: login.login_hint.clone().filter(|s| !s.is_empty()),
            subject_token_file,
            subject_token_type,
        })
    }

    /// The scopes as one space-separated string.
    pub fn scope_string(&self) -> String {
        self.scopes.join(" ")
    }

    /// The cache key of these settings.
    pub fn cache_key(&self) -> CacheKey {
        CacheKey::new(&KeyFields {
            issuer: self.issuer.clone(),
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone().unwrap_or_default(),
            scopes: self.scopes.clone(),
            use_access_token: self.use_access_token,
            client_credentials: self.grant == Grant::ClientCredentials,
            username: if self.grant == Grant::Password {
                self.username.clone().unwrap_or_default()
            } else {
                String::new()
            },
            login_hint: self.login_hint.clone().unwrap_or_default(),
            extra_params: self.extra_params.clone(),
            subject_token_file: match (&self.grant, &self.subject_token_file) {
                (Grant::TokenExchange, Some(file)) => file.display().to_string(),
                _ => String::new(),
            },
            insecure_skip_tls_verify: self.http.insecure_skip_tls_verify,
            certificate_authorities: self
                .http
                .ca_files
                .iter()
                .map(|f| format!("file:{}", f.display()))
                .chain(
                    self.http
                        .ca_data
                        .iter()
                        .map(|d| format!("data:{}", d.trim())),
                )
                .collect(),
        })
    }
}

/// The token cache `--token-cache-dir` and `--token-cache-storage` name.
pub fn token_cache(args: &CacheArgs) -> TokenCache {
    let storage = match args.token_cache_storage {
        cli::CacheStorage::Disk => CacheStorage::Disk,
        cli::CacheStorage::Keyring => CacheStorage::Keyring,
        cli::CacheStorage::None => CacheStorage::None,
    };
    TokenCache::new(cli::cache_dir(args.token_cache_dir.as_deref()), storage)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn settings(args: &[&str]) -> Result<Settings, KitError> {
        let mut argv = vec!["k", "get-token"];
        argv.extend_from_slice(args);
        let Some(Command::GetToken(a)) = Cli::try_parse_from(argv).unwrap().command else {
            unreachable!()
        };
        Settings::from_args(&a.provider, &a.login)
    }

    #[test]
    fn debug_output_shows_no_secret() {
        let argv = [
            "k",
            "get-token",
            "--oidc-issuer-url=https://i",
            "--oidc-client-id=c",
            "--oidc-client-secret=client-secret-value",
            "--grant-type=password",
            "--username=alice",
            "--password=password-value",
        ];
        let Some(Command::GetToken(a)) = Cli::try_parse_from(argv).unwrap().command else {
            unreachable!()
        };
        let s = Settings::from_args(&a.provider, &a.login).unwrap();
        for text in [format!("{s:?}"), format!("{a:?}")] {
            assert!(!text.contains("client-secret-value"), "{text}");
            assert!(!text.contains("password-value"), "{text}");
            assert!(text.contains("<redacted>"), "{text}");
        }
    }

    #[test]
    fn mandatory_flags_are_named_in_the_error() {
        let err = settings(&["--oidc-client-id=c"]).unwrap_err();
        assert!(err.to_string().contains("--oidc-issuer-url"), "{err}");
        assert_eq!(err.exit_code(), 2);
        let err = settings(&["--oidc-issuer-url=https://i"]).unwrap_err();
        assert!(err.to_string().contains("--oidc-client-id"), "{err}");
        let err = settings(&[
            "--oidc-issuer-url=http://idp.example.com",
            "--oidc-client-id=c",
        ])
        .unwrap_err();
        assert!(err.to_string().contains("https://"), "{err}");
        for loopback in [
            "http://127.0.0.1:5556/dex",
            "http://localhost:8080",
            "http://[::1]:9000",
        ] {
            let issuer = format!("--oidc-issuer-url={loopback}");
            assert!(
                settings(&[&issuer, "--oidc-client-id=c"]).is_ok(),
                "{loopback}"
            );
        }
        let err = settings(&["--oidc-issuer-url=ftp://i", "--oidc-client-id=c"]).unwrap_err();
        assert!(err.to_string().contains("https://"), "{err}");
    }

    #[test]
    fn auto_picks_password_when_a_username_is_given() {
        let s = settings(&[
            "--oidc-issuer-url=https://i",
            "--oidc-client-id=c",
            "--username=u",
        ])
        .unwrap();
        assert_eq!(s.grant, Grant::Password);
        let s = settings(&["--oidc-issuer-url=https://i", "--oidc-client-id=c"]).unwrap();
        assert_eq!(s.grant, Grant::Authcode);
        assert_eq!(s.scope_string(), "openid");
    }

    #[test]
    fn cache_key_separates_accounts_and_ignores_flow_details() {
        let base = [
            "--oidc-issuer-url=https://i",
            "--oidc-client-id=c",
            "--oidc-extra-scope=email",
        ];
        let a = settings(&base).unwrap().cache_key();
        let mut device = base.to_vec();
        device.push("--grant-type=device-code");
        assert_eq!(a, settings(&device).unwrap().cache_key());
        let mut bob = base.to_vec();
        bob.push("--login-hint=bob");
        assert_ne!(a, settings(&bob).unwrap().cache_key());
    }

    #[test]
    fn client_credentials_need_a_secret() {
        let err = settings(&[
            "--oidc-issuer-url=https://i",
            "--oidc-client-id=c",
            "--grant-type=client-credentials",
        ])
        .unwrap_err();
        assert!(err.to_string().contains("--oidc-client-secret"));
    }
}
