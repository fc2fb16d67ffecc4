//! Command line: kubelogin's subcommands and flags, with the same names and meanings.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// kubectl oidc-login: log in to an OpenID Connect provider and give kubectl the token.
#[derive(Debug, Parser)]
#[command(
    name = "kubectl-oidc_login",
    bin_name = "kubectl oidc-login",
    version,
    about = "Log in to an OpenID Connect provider and hand the token to kubectl (kubelogin-compatible)",
    long_about = None,
)]
pub struct Cli {
    /// `None`: the root command alone (kubelogin's standalone mode).
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run as a kubectl exec credential plugin: print an ExecCredential with a valid token
    // As pflag: a repeated single-value flag keeps its last value.
    #[command(args_override_self = true)]
    GetToken(Box<GetTokenArgs>),
    /// Log in once and print the kubeconfig and kube-apiserver settings for this provider
    #[command(args_override_self = true)]
    Setup(Box<SetupArgs>),
    /// Show who the cached token of the current context says you are
    Whoami(WhoamiArgs),
    /// Delete the token cache (disk and keyring)
    Clean(CleanArgs),
    /// Revoke the refresh token of the current context at the provider and delete its cache entry
    Logout(LogoutArgs),
    /// Print a shell completion script
    Completion(kubectl_kit::completion::CompletionArgs),
    /// Print the version
    Version,
}

/// The grant types kubelogin knows (`--grant-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GrantType {
    /// authcode, or password when --username is set
    Auto,
    /// Authorization code flow with a browser and a loopback redirect
    Authcode,
    /// Authorization code flow; paste the code on the terminal
    AuthcodeKeyboard,
    /// Resource owner password credentials
    Password,
    /// Device authorization grant (RFC 8628)
    DeviceCode,
    /// Client credentials (no user)
    ClientCredentials,
    /// Token exchange (RFC 8693): trade the token in --subject-token-file, e.g. a CI job's
    TokenExchange,
}

/// `--token-cache-storage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CacheStorage {
    /// Files in --token-cache-dir
    Disk,
    /// The OS keyring (Secret Service on Linux); falls back to disk when there is none
    Keyring,
    /// No cache: log in every time
    None,
}

/// `--oidc-pkce-method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PkceMethod {
    /// S256 when the provider advertises it
    Auto,
    /// Never send a code challenge
    No,
    /// Always S256
    #[value(name = "S256")]
    S256,
}

/// Who the provider is and how we talk to it (shared by get-token, setup).
#[derive(Clone, Args)]
pub struct ProviderArgs {
    /// Issuer URL of the provider (mandatory)
    #[arg(long = "oidc-issuer-url", value_name = "URL")]
    pub issuer_url: Option<String>,
    /// Client ID of the provider (mandatory)
    #[arg(long = "oidc-client-id", value_name = "ID")]
    pub client_id: Option<String>,
    /// Client secret of the provider
    #[arg(long = "oidc-client-secret", value_name = "SECRET")]
    pub client_secret: Option<String>,
    /// [authcode, authcode-keyboard] Redirect URL
    #[arg(long = "oidc-redirect-url", value_name = "URL")]
    pub redirect_url: Option<String>,
    /// Scopes to request to the provider besides openid (repeatable, comma-separated)
    #[arg(long = "oidc-extra-scope", value_name = "SCOPE", value_delimiter = ',')]
    pub extra_scopes: Vec<String>,
    /// Instead of using the id_token, use the access_token to authenticate to Kubernetes
    #[arg(long = "oidc-use-access-token", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = parse_pflag_bool, action = clap::ArgAction::Set)]
    pub use_access_token: bool,
    /// HTTP headers to send with requests to the provider, KEY=VALUE (repeatable, comma-separated)
    #[arg(
        long = "oidc-request-header",
        value_name = "KEY=VALUE",
        value_delimiter = ','
    )]
    pub request_headers: Vec<String>,
    /// PKCE code challenge method
    #[arg(long = "oidc-pkce-method", value_enum, default_value = "auto")]
    pub pkce_method: PkceMethod,
    /// Deprecated: same as --oidc-pkce-method=S256
    #[arg(long = "oidc-use-pkce", hide = true, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = parse_pflag_bool, action = clap::ArgAction::Set)]
    pub use_pkce: bool,
    /// Path to a cert file for the certificate authority (repeatable)
    #[arg(long = "certificate-authority", value_name = "FILE")]
    pub certificate_authority: Vec<String>,
    /// Base64 encoded cert for the certificate authority (repeatable)
    #[arg(long = "certificate-authority-data", value_name = "BASE64")]
    pub certificate_authority_data: Vec<String>,
    /// [SECURITY RISK] If set, the provider's certificate is not checked
    #[arg(long = "insecure-skip-tls-verify", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = parse_pflag_bool, action = clap::ArgAction::Set)]
    pub insecure_skip_tls_verify: bool,
    /// Accepted for kubelogin compatibility; TLS renegotiation is never used (rustls has none)
    #[arg(long = "tls-renegotiation-once", hide = true, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = parse_pflag_bool, action = clap::ArgAction::Set)]
    pub tls_renegotiation_once: bool,
    /// Accepted for kubelogin compatibility; TLS renegotiation is never used (rustls has none)
    #[arg(long = "tls-renegotiation-freely", hide = true, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = parse_pflag_bool, action = clap::ArgAction::Set)]
    pub tls_renegotiation_freely: bool,
}

/// How to log in (shared by get-token, setup).
#[derive(Clone, Args)]
pub struct LoginArgs {
    /// Authorization grant type to use
    #[arg(long = "grant-type", value_enum, default_value = "auto")]
    pub grant_type: GrantType,
    /// [authcode] Address to bind the local server to; the first free one wins (repeatable, comma-separated)
    #[arg(
        long = "listen-address",
        value_name = "ADDR",
        value_delimiter = ',',
        default_values = ["127.0.0.1:8000", "127.0.0.1:18000"]
    )]
    pub listen_address: Vec<String>,
    /// [authcode, device-code] Do not open the browser automatically
    #[arg(long = "skip-open-browser", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = parse_pflag_bool, action = clap::ArgAction::Set)]
    pub skip_open_browser: bool,
    /// [authcode, device-code] Command to open the browser (may include arguments; the URL is appended)
    #[arg(long = "browser-command", value_name = "COMMAND")]
    pub browser_command: Option<String>,
    /// [authcode] Timeout of authentication in seconds
    #[arg(
        long = "authentication-timeout-sec",
        value_name = "SECONDS",
        default_value_t = 180
    )]
    pub authentication_timeout_sec: u64,
    /// [authcode] Certificate path for the local server (HTTPS redirect)
    #[arg(long = "local-server-cert", value_name = "FILE")]
    pub local_server_cert: Option<String>,
    /// [authcode] Certificate key path for the local server
    #[arg(long = "local-server-key", value_name = "FILE")]
    pub local_server_key: Option<String>,
    /// [authcode] If set, redirect the browser to this URL after authentication
    #[arg(long = "open-url-after-authentication", value_name = "URL")]
    pub open_url_after_authentication: Option<String>,
    /// [authcode, authcode-keyboard, client-credentials] Extra parameters for the authentication request, KEY=VALUE (repeatable, comma-separated)
    #[arg(
        long = "oidc-auth-request-extra-params",
        value_name = "KEY=VALUE",
        value_delimiter = ','
    )]
    pub auth_request_extra_params: Vec<String>,
    /// [password] Username for the resource owner password credentials grant
    #[arg(long = "username")]
    pub username: Option<String>,
    /// [password] Password for the resource owner password credentials grant
    #[arg(long = "password")]
    pub password: Option<String>,
    /// [authcode, authcode-keyboard, device-code] Account to log in as (sent as login_hint; part of the cache key)
    #[arg(long = "login-hint", value_name = "ACCOUNT")]
    pub login_hint: Option<String>,
    /// [token-exchange] File holding the token to exchange (read at every exchange, so CI may rewrite it)
    #[arg(long = "subject-token-file", value_name = "FILE")]
    pub subject_token_file: Option<String>,
    /// [token-exchange] Type of that token: access_token, id_token, jwt, refresh_token or a full URN
    #[arg(
        long = "subject-token-type",
        value_name = "TYPE",
        default_value = "access_token"
    )]
    pub subject_token_type: String,
}

/// Where tokens are kept.
#[derive(Debug, Clone, Args)]
pub struct CacheArgs {
    /// Path to a directory of the token cache [default: $KUBECACHEDIR/oidc-login or ~/.kube/cache/oidc-login]
    #[arg(long = "token-cache-dir", value_name = "DIR")]
    pub token_cache_dir: Option<String>,
    /// Storage for the token cache
    #[arg(long = "token-cache-storage", value_enum, default_value = "disk")]
    pub token_cache_storage: CacheStorage,
}

/// Flags of `get-token`.
#[derive(Debug, Clone, Args)]
pub struct GetTokenArgs {
    #[command(flatten)]
    pub provider: ProviderArgs,
    #[command(flatten)]
    pub login: LoginArgs,
    #[command(flatten)]
    pub cache: CacheArgs,
    /// If set, refresh the token regardless of its expiration time
    #[arg(long = "force-refresh", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = parse_pflag_bool, action = clap::ArgAction::Set)]
    pub force_refresh: bool,
    /// Refresh a token this long before it expires (e.g. 30s, 1m, 2m30s)
    #[arg(long = "token-refresh-margin", value_name = "DURATION", default_value = "1m", value_parser = parse_duration)]
    pub token_refresh_margin: Duration,
    /// How long to wait for another process that holds the token cache lock (e.g. 4m)
    #[arg(long = "token-cache-lock-timeout", value_name = "DURATION", default_value = "4m", value_parser = parse_duration)]
    pub token_cache_lock_timeout: Duration,
    /// [authcode, device-code] When kubectl runs the plugin non-interactively (exec interactiveMode Never, no terminal), fail instead of opening a browser
    #[arg(long = "no-browser-when-non-interactive", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = parse_pflag_bool, action = clap::ArgAction::Set)]
    pub no_browser_when_non_interactive: bool,
    /// Log verbosity (accepted for kubelogin compatibility; 1 or more prints progress to stderr)
    #[arg(short = 'v', long = "v", value_name = "LEVEL", default_value_t = 0)]
    pub verbosity: u8,
    #[command(flatten)]
    pub klog: KlogArgs,
}

/// kubelogin's klog flags: accepted so that its kubeconfigs work unchanged.
/// Logs always go to stderr (so the log file settings are ignored); `-v`
/// is the verbosity.
#[derive(Debug, Clone, Args)]
pub struct KlogArgs {
    /// Accepted for kubelogin compatibility; logs always go to stderr
    #[arg(long = "logtostderr", hide = true, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_pflag_bool)]
    pub logtostderr: Option<bool>,
    /// Accepted for kubelogin compatibility; logs always go to stderr
    #[arg(long = "alsologtostderr", hide = true, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_pflag_bool)]
    pub alsologtostderr: Option<bool>,
    /// Accepted for kubelogin compatibility; ignored (logs go to stderr)
    #[arg(long = "log_dir", hide = true, value_name = "DIR")]
    pub log_dir: Option<String>,
    /// Accepted for kubelogin compatibility; ignored (logs go to stderr)
    #[arg(long = "log_file", hide = true, value_name = "FILE")]
    pub log_file: Option<String>,
    /// Accepted for kubelogin compatibility; ignored
    #[arg(long = "vmodule", hide = true, value_name = "PATTERN=N,...")]
    pub vmodule: Option<String>,
}

impl KlogArgs {
    /// Whether any klog flag was given.
    pub fn given(&self) -> bool {
        self.logtostderr.is_some()
            || self.alsologtostderr.is_some()
            || self.log_dir.is_some()
            || self.log_file.is_some()
            || self.vmodule.is_some()
    }
}

/// A boolean flag's value as pflag (Go's strconv.ParseBool) reads it:
/// `--flag`, `--flag=true|false`, `=1|0`, `=t|f`, `=TRUE|FALSE`, `=True|False`.
pub fn parse_pflag_bool(value: &str) -> Result<bool, String> {
    match value {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        other => Err(format!(
            "{other:?} is not a boolean: use true or false (or 1, 0, t, f)"
        )),
    }
}

/// Flags of `setup`.
#[derive(Debug, Clone, Args)]
pub struct SetupArgs {
    #[command(flatten)]
    pub provider: ProviderArgs,
    #[command(flatten)]
    pub login: LoginArgs,
    /// Log verbosity
    #[arg(short = 'v', long = "v", value_name = "LEVEL", default_value_t = 0)]
    pub verbosity: u8,
    #[command(flatten)]
    pub klog: KlogArgs,
}

/// Flags of `whoami`.
#[derive(Debug, Clone, Args)]
pub struct WhoamiArgs {
    #[command(flatten)]
    pub kube: kubectl_kit::KubeFlags,
    #[command(flatten)]
    pub output: kubectl_kit::OutputFlags,
}

/// Flags of `clean`.
#[derive(Debug, Clone, Args)]
pub struct CleanArgs {
    /// Path to a directory of the token cache [default: $KUBECACHEDIR/oidc-login or ~/.kube/cache/oidc-login]
    #[arg(long = "token-cache-dir", value_name = "DIR")]
    pub token_cache_dir: Option<String>,
}

/// Flags of `logout`.
#[derive(Debug, Clone, Args)]
pub struct LogoutArgs {
    #[command(flatten)]
    pub kube: kubectl_kit::KubeFlags,
}

/// Duration flags: `90`, `90s`, `2m30s`, `500ms`, `1d` (the kit's one parser).
pub use kubectl_kit::parse_flag_duration as parse_duration;

/// Expands a leading `~` to the home directory, as kubelogin does for paths.
pub fn expand_home(path: &str) -> PathBuf {
    if (path == "~" || path.starts_with("~/"))
        && let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty())
    {
        return PathBuf::from(home).join(path.trim_start_matches('~').trim_start_matches('/'));
    }
    PathBuf::from(path)
}

/// The default token cache directory: `$KUBECACHEDIR/oidc-login`, else `~/.kube/cache/oidc-login`.
pub fn default_cache_dir() -> PathBuf {
    match std::env::var_os("KUBECACHEDIR").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir).join("oidc-login"),
        None => expand_home("~/.kube/cache/oidc-login"),
    }
}

/// The cache directory from `--token-cache-dir` or the default.
pub fn cache_dir(flag: Option<&str>) -> PathBuf {
    flag.map(expand_home).unwrap_or_else(default_cache_dir)
}

/// Splits `KEY=VALUE` pairs (kubelogin's stringToString flags).
pub fn parse_pairs(flag: &str, values: &[String]) -> Result<Vec<(String, String)>, String> {
    values
        .iter()
        .filter(|v| !v.is_empty())
        .map(|v| {
            v.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.to_string()))
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| format!("{flag} expects KEY=VALUE, got {v:?}"))
        })
        .collect()
}

/// `KEY=VALUE` flag values with the values hidden (a header may carry a credential).
fn redacted_pairs(values: &[String]) -> Vec<String> {
    values
        .iter()
        .map(|v| match v.split_once('=') {
            Some((key, _)) => format!("{key}=<redacted>"),
            None => "<redacted>".to_string(),
        })
        .collect()
}

impl std::fmt::Debug for ProviderArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderArgs")
            .field("issuer_url", &self.issuer_url)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("redirect_url", &self.redirect_url)
            .field("extra_scopes", &self.extra_scopes)
            .field("use_access_token", &self.use_access_token)
            .field("request_headers", &redacted_pairs(&self.request_headers))
            .field("pkce_method", &self.pkce_method)
            .field("use_pkce", &self.use_pkce)
            .field("certificate_authority", &self.certificate_authority)
            .field(
                "certificate_authority_data",
                &self.certificate_authority_data,
            )
            .field("insecure_skip_tls_verify", &self.insecure_skip_tls_verify)
            .field("tls_renegotiation_once", &self.tls_renegotiation_once)
            .field("tls_renegotiation_freely", &self.tls_renegotiation_freely)
            .finish()
    }
}

impl std::fmt::Debug for LoginArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginArgs")
            .field("grant_type", &self.grant_type)
            .field("listen_address", &self.listen_address)
            .field("skip_open_browser", &self.skip_open_browser)
            .field("browser_command", &self.browser_command)
            .field(
                "authentication_timeout_sec",
                &self.authentication_timeout_sec,
            )
            .field("local_server_cert", &self.local_server_cert)
            .field("local_server_key", &self.local_server_key)
            .field(
                "open_url_after_authentication",
                &self.open_url_after_authentication,
            )
            .field("auth_request_extra_params", &self.auth_request_extra_params)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("login_hint", &self.login_hint)
            .field("subject_token_file", &self.subject_token_file)
            .field("subject_token_type", &self.subject_token_type)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("2m30s"), Ok(Duration::from_secs(150)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn kubelogin_list_flags_split_on_commas_and_repeat() {
        let cli = Cli::try_parse_from([
            "kubectl-oidc_login",
            "get-token",
            "--oidc-issuer-url=https://issuer",
            "--oidc-client-id=c",
            "--oidc-extra-scope=email,profile",
            "--oidc-extra-scope",
            "groups",
            "--listen-address=127.0.0.1:0",
            "--oidc-auth-request-extra-params=prompt=consent,ttl=1",
        ])
        .unwrap();
        let Some(Command::GetToken(args)) = cli.command else {
            panic!("get-token")
        };
        assert_eq!(args.provider.extra_scopes, ["email", "profile", "groups"]);
        assert_eq!(args.login.listen_address, ["127.0.0.1:0"]);
        assert_eq!(
            parse_pairs("x", &args.login.auth_request_extra_params).unwrap(),
            [
                ("prompt".to_string(), "consent".to_string()),
                ("ttl".to_string(), "1".to_string())
            ]
        );
        assert_eq!(args.token_refresh_margin, Duration::from_secs(60));
    }

    #[test]
    fn default_listen_addresses_are_kubeloginss() {
        let cli = Cli::try_parse_from(["k", "get-token"]).unwrap();
        let Some(Command::GetToken(args)) = cli.command else {
            panic!("get-token")
        };
        assert_eq!(
            args.login.listen_address,
            ["127.0.0.1:8000", "127.0.0.1:18000"]
        );
        assert_eq!(args.login.grant_type, GrantType::Auto);
    }

    fn get_token(args: &[&str]) -> Box<GetTokenArgs> {
        let mut argv = vec!["k", "get-token"];
        argv.extend_from_slice(args);
        match Cli::try_parse_from(argv).unwrap().command {
            Some(Command::GetToken(args)) => args,
            _ => panic!("get-token"),
        }
    }

    #[test]
    fn boolean_flags_take_pflag_values() {
        assert!(
            get_token(&["--insecure-skip-tls-verify"])
                .provider
                .insecure_skip_tls_verify
        );
        assert!(
            get_token(&["--insecure-skip-tls-verify=true"])
                .provider
                .insecure_skip_tls_verify
        );
        assert!(
            !get_token(&["--insecure-skip-tls-verify=false"])
                .provider
                .insecure_skip_tls_verify
        );
        assert!(
            get_token(&["--skip-open-browser=1"])
                .login
                .skip_open_browser
        );
        assert!(!get_token(&["--force-refresh=False"]).force_refresh);
        assert!(!get_token(&[]).provider.use_access_token);
        // A bare boolean flag does not swallow the next argument.
        let args = get_token(&["--oidc-use-access-token", "--oidc-client-id=c"]);
        assert!(args.provider.use_access_token);
        assert_eq!(args.provider.client_id.as_deref(), Some("c"));
        let err = Cli::try_parse_from(["k", "get-token", "--force-refresh=yes"]).unwrap_err();
        assert!(err.to_string().contains("not a boolean"), "{err}");
    }

    #[test]
    fn a_repeated_flag_keeps_its_last_value() {
        let args = get_token(&[
            "--oidc-client-id=first",
            "--oidc-client-id=second",
            "--grant-type=password",
            "--grant-type=authcode",
            "--oidc-extra-scope=email",
            "--oidc-extra-scope=groups",
        ]);
        assert_eq!(args.provider.client_id.as_deref(), Some("second"));
        assert_eq!(args.login.grant_type, GrantType::Authcode);
        assert_eq!(
            args.provider.extra_scopes,
            ["email", "groups"],
            "lists still add up"
        );
    }

    #[test]
    fn klog_flags_are_accepted() {
        let args = get_token(&[
            "--logtostderr=true",
            "--alsologtostderr",
            "--log_dir=/tmp/logs",
            "--log_file=/tmp/log",
            "--vmodule=foo=2",
            "-v1",
        ]);
        assert_eq!(args.verbosity, 1);
        assert_eq!(args.klog.logtostderr, Some(true));
        assert_eq!(args.klog.log_dir.as_deref(), Some("/tmp/logs"));
    }

    #[test]
    fn debug_output_shows_no_request_header_value() {
        let args = get_token(&[
            "--oidc-request-header=Authorization=Bearer header-secret",
            "--oidc-client-secret=client-secret-value",
        ]);
        let text = format!("{:?}", args.provider);
        assert!(!text.contains("header-secret"), "{text}");
        assert!(!text.contains("client-secret-value"), "{text}");
        assert!(
            text.contains("Authorization"),
            "the header name stays: {text}"
        );
    }

    #[test]
    fn pairs_need_an_equals_sign() {
        assert!(parse_pairs("--oidc-request-header", &["Origin".into()]).is_err());
        assert_eq!(
            parse_pairs("h", &["Origin=http://localhost=x".into()]).unwrap(),
            [("Origin".to_string(), "http://localhost=x".to_string())]
        );
    }
}
