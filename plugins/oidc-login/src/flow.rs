//! The login flows (authorization code + PKCE with a loopback redirect or a
//! pasted code, device authorization, password, client credentials) and the
//! refresh, each ending with verified tokens.

use anyhow::{Context as _, anyhow, bail};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SecureRandom as _;

use crate::adapters::loopback::Loopback;
use crate::adapters::provider::{AuthorizationRequest, Provider, ProviderError, TokenResponse};
use crate::settings::{Grant, Pkce as PkceChoice, Settings};

/// What a login or refresh gives. Its `Debug` shows no token.
#[derive(Clone)]
pub struct Tokens {
    /// The token for kubectl (id_token, or access token with `--oidc-use-access-token`).
    pub token: String,
    /// The refresh token.
    pub refresh_token: Option<String>,
    /// Expiry from `expires_in` (for opaque access tokens).
    pub expires_at: Option<i64>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("token", &"<redacted>")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// What the terminal allows.
#[derive(Debug, Clone, Copy)]
pub struct Terminal {
    /// Prompts on stdin are allowed.
    pub may_prompt: bool,
    /// When prompts are not allowed, a browser login may still run if a
    /// browser can appear (the default; `--no-browser-when-non-interactive`
    /// turns it off).
    pub browser_without_terminal: bool,
}

/// `bytes` random bytes from the OS, base64url without padding.
fn random_b64(bytes: usize) -> anyhow::Result<String> {
    let mut buf = vec![0u8; bytes];
    ring::rand::SystemRandom::new()
        .fill(&mut buf)
        .map_err(|_| anyhow!("the operating system gave no random bytes (getrandom failed)"))?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}

/// A PKCE code verifier (RFC 7636); its S256 challenge goes with the
/// authorization request.
struct Pkce {
    verifier: String,
}

fn pkce(settings: &Settings, provider: &Provider) -> anyhow::Result<Option<Pkce>> {
    let use_it = match settings.pkce {
        PkceChoice::Never => false,
        PkceChoice::S256 => true,
        PkceChoice::WhenAdvertised => provider.supports_s256(),
    };
    if !use_it {
        return Ok(None);
    }
    Ok(Some(Pkce {
        verifier: random_b64(32)?,
    }))
}

fn non_interactive(grant: Grant, needs: &str) -> anyhow::Error {
    anyhow!(
        "the {} login needs {needs}, but kubectl runs this plugin non-interactively \
         (KUBERNETES_EXEC_INFO spec.interactive=false: the kubeconfig's exec interactiveMode is Never, \
         or stdin is not a terminal). Log in once from a terminal with `kubectl oidc-login get-token …` \
         using the same flags, or pass --browser-command / --username and --password",
        grant.name()
    )
}

/// Whether the configured login can happen at all here: flows that need the
/// terminal are refused when kubectl runs us non-interactively, and browser
/// flows too when no browser can appear (no `--browser-command`, `$BROWSER`
/// or desktop session), rather than waiting for a login nobody can see.
pub fn ensure_login_possible(settings: &Settings, terminal: Terminal) -> anyhow::Result<()> {
    if terminal.may_prompt {
        return Ok(());
    }
    if !terminal.browser_without_terminal
        && matches!(settings.grant, Grant::Authcode | Grant::DeviceCode)
    {
        return Err(anyhow!(
            "the {} login needs a browser, but kubectl runs this plugin non-interactively \
             (KUBERNETES_EXEC_INFO spec.interactive=false) and --no-browser-when-non-interactive is set. \
             Log in once from a terminal with `kubectl oidc-login get-token …` using the same flags, \
             or set the kubeconfig's exec interactiveMode to IfAvailable",
            settings.grant.name()
        ));
    }
    let browser = settings.browser.can_open_without_terminal();
    match settings.grant {
        Grant::Authcode if !browser => Err(non_interactive(Grant::Authcode, "a browser")),
        Grant::DeviceCode if !browser => Err(non_interactive(
            Grant::DeviceCode,
            "a browser or a terminal",
        )),
        Grant::AuthcodeKeyboard => Err(non_interactive(
            Grant::AuthcodeKeyboard,
            "a terminal to paste the code into",
        )),
        Grant::Password if settings.username.is_none() || settings.password.is_none() => {
            Err(non_interactive(
                Grant::Password,
                "a terminal to ask for the username and password",
            ))
        }
        _ => Ok(()),
    }
}

/// Logs in with the configured grant.
pub async fn login(
    settings: &Settings,
    provider: &Provider,
    terminal: Terminal,
) -> anyhow::Result<Tokens> {
    ensure_login_possible(settings, terminal)?;
    match settings.grant {
        Grant::Authcode => authcode_browser(settings, provider).await,
        Grant::AuthcodeKeyboard => authcode_keyboard(settings, provider).await,
        Grant::DeviceCode => device_code(settings, provider).await,
        Grant::Password => password(settings, provider).await,
        Grant::ClientCredentials => client_credentials(settings, provider).await,
        Grant::TokenExchange => token_exchange(settings, provider).await,
    }
}

/// One authorization request of the code flow: the URL the user opens, and
/// the redirect URI, state, nonce and PKCE verifier its answer is checked
/// and redeemed with. The browser and keyboard flows differ only in how the
/// code comes back.
struct Authorization {
    url: String,
    redirect_uri: String,
    state: String,
    nonce: String,
    pkce: Option<Pkce>,
}

impl Authorization {
    fn new(
        settings: &Settings,
        provider: &Provider,
        redirect_uri: String,
    ) -> anyhow::Result<Authorization> {
        let state = random_b64(32)?;
        let nonce = random_b64(32)?;
        let pkce = pkce(settings, provider)?;
        let url = provider.authorization_url(&AuthorizationRequest {
            redirect_uri: &redirect_uri,
            scopes: &settings.scopes,
            state: &state,
            nonce: &nonce,
            pkce_verifier: pkce.as_ref().map(|p| p.verifier.as_str()),
            login_hint: settings.login_hint.as_deref(),
            extra_params: &settings.extra_params,
        })?;
        Ok(Authorization {
            url,
            redirect_uri,
            state,
            nonce,
            pkce,
        })
    }

    /// Redeems the code the provider returned for this request.
    async fn exchange(
        &self,
        settings: &Settings,
        provider: &Provider,
        code: &str,
    ) -> anyhow::Result<Tokens> {
        let verifier = self.pkce.as_ref().map(|p| p.verifier.as_str());
        let response = provider
            .exchange_code(code, &self.redirect_uri, verifier)
            .await?;
        finish(settings, provider, response, Some(&self.nonce), None).await
    }
}

async fn authcode_browser(settings: &Settings, provider: &Provider) -> anyhow::Result<Tokens> {
    let tls = settings
        .local_server_tls
        .as_ref()
        .map(|(c, k)| (c.as_path(), k.as_path()));
    let scheme = if tls.is_some() { "https" } else { "http" };
    let (listener, redirect_uri) = match &settings.redirect_url {
        Some(redirect_uri) => {
            let url = url::Url::parse(redirect_uri)
                .with_context(|| format!("--oidc-redirect-url {redirect_uri:?} is not a URL"))?;
            let port = url.port_or_known_default().ok_or_else(|| {
                anyhow!("--oidc-redirect-url {redirect_uri:?} names no port to listen on")
            })?;
            // The browser comes back to that port: listen there or fail, never elsewhere.
            let addresses = with_port(&settings.listen_addresses, port);
            let listener = Loopback::bind(&addresses, tls).await.with_context(|| {
                format!(
                    "--oidc-redirect-url {redirect_uri} names port {port}, but the local server cannot listen on it; \
                     free the port or change --oidc-redirect-url"
                )
            })?;
            (listener, redirect_uri.clone())
        }
        None => {
            let listener = Loopback::bind(&settings.listen_addresses, tls).await?;
            let uri = format!("{scheme}://{}:{}", listener.host, listener.port);
            (listener, uri)
        }
    };
    let redirect_path = url::Url::parse(&redirect_uri)
        .with_context(|| format!("--oidc-redirect-url {redirect_uri:?} is not a URL"))?
        .path()
        .to_string();
    let auth = Authorization::new(settings, provider, redirect_uri.clone())?;
    let (url, state) = (&auth.url, &auth.state);

    eprintln!("Please visit the following URL in your browser: {url}");
    if let Err(e) = settings.browser.open(url) {
        eprintln!("warning: {e}; open the URL above yourself");
    }
    let wait =
        listener.wait_for_redirect(&redirect_path, state, settings.open_url_after.as_deref());
    let redirect = tokio::time::timeout(settings.auth_timeout, wait)
        .await
        .map_err(|_| {
            anyhow!(
                "no login within {}s (--authentication-timeout-sec): the browser never came back to {redirect_uri}",
                settings.auth_timeout.as_secs()
            )
        })??;
    if redirect.get("state") != Some(state.as_str()) {
        bail!(
            "the login redirect carried a wrong state parameter (possible cross-site request forgery); log in again"
        );
    }
    if let Some(error) = redirect.get("error") {
        let description = redirect.get("error_description").unwrap_or_default();
        if error == "access_denied" {
            bail!("the login was denied at the provider ({error}: {description})");
        }
        bail!("the provider refused the login: {error} ({description})");
    }
    let code = redirect
        .get("code")
        .ok_or_else(|| anyhow!("the login redirect carried no code"))?;
    auth.exchange(settings, provider, code).await
}

/// The listen addresses with their port replaced by `port` (in order, without repeats).
fn with_port(addresses: &[String], port: u16) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for address in addresses {
        let host = match address.rsplit_once(':') {
            Some((host, _)) => host,
            None => address.as_str(),
        };
        let address = format!("{host}:{port}");
        if !out.contains(&address) {
            out.push(address);
        }
    }
    out
}

/// Reads a line from stdin on a blocking thread.
async fn read_line() -> anyhow::Result<String> {
    tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map(|_| line)
    })
    .await
    .context("reading from the terminal")?
    .context("reading from the terminal")
}

async fn authcode_keyboard(settings: &Settings, provider: &Provider) -> anyhow::Result<Tokens> {
    let redirect_uri = settings
        .redirect_url
        .clone()
        .unwrap_or_else(|| "urn:ietf:wg:oauth:2.0:oob".to_string());
    let auth = Authorization::new(settings, provider, redirect_uri)?;
    let state = &auth.state;
    eprintln!(
        "Please visit the following URL in your browser: {}",
        auth.url
    );
    eprint!("Enter code: ");
    let line = tokio::time::timeout(settings.auth_timeout, read_line())
        .await
        .map_err(|_| {
            anyhow!(
                "no code entered within {}s (--authentication-timeout-sec)",
                settings.auth_timeout.as_secs()
            )
        })??;
    let input = line.trim();
    if input.is_empty() {
        bail!(
            "no code entered: paste the code the provider showed (or the whole URL it redirected to)"
        );
    }
    // A pasted redirect URL carries the state too: check it.
    let code = match url::Url::parse(input) {
        Ok(pasted) if pasted.query().is_some() => {
            let params: Vec<(String, String)> = pasted
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            let get = |name: &str| {
                params
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone())
            };
            if let Some(error) = get("error") {
                bail!(
                    "the provider refused the login: {error} ({})",
                    get("error_description").unwrap_or_default()
                );
            }
            if let Some(got) = get("state")
                && got != *state
            {
                bail!(
                    "the pasted URL carries a wrong state parameter (it belongs to another login); log in again"
                );
            }
            get("code").ok_or_else(|| anyhow!("the pasted URL has no code parameter"))?
        }
        _ => input.to_string(),
    };
    auth.exchange(settings, provider, &code).await
}

async fn device_code(settings: &Settings, provider: &Provider) -> anyhow::Result<Tokens> {
    // PKCE as in the code flow (S256 when advertised, or --oidc-pkce-method=S256):
    // providers whose clients require PKCE require it on the device flow too
    // (kubelogin#1470), and the others ignore the extra parameters.
    let pkce = pkce(settings, provider)?;
    let verifier = pkce.as_ref().map(|p| p.verifier.as_str());
    let auth = provider
        .device_authorization(&settings.scopes, verifier)
        .await?;
    let user_code = auth.user_code().secret();
    let verification_uri = auth.verification_uri().as_str();
    let complete = auth
        .verification_uri_complete()
        .map(|c| c.secret().as_str());
    match complete {
        Some(complete) => {
            eprintln!("Please visit the following URL to log in: {complete}");
            eprintln!("(or open {verification_uri} and enter the code {user_code})");
        }
        None => eprintln!(
            "Please visit the following URL and enter the code {user_code}: {verification_uri}"
        ),
    }
    if let Err(e) = settings.browser.open(complete.unwrap_or(verification_uri)) {
        eprintln!("warning: {e}; open the URL above yourself");
    }
    match provider.poll_device_authorization(&auth, verifier).await {
        Ok(response) => finish(settings, provider, response, None, None).await,
        Err(ProviderError::OAuth { error, .. }) => match error.error.as_str() {
            "access_denied" => bail!("the login was denied at the provider ({error})"),
            "expired_token" => bail!(
                "the device code expired before the login was completed ({error}); run the command again and finish the login in time"
            ),
            _ => bail!("the provider refused the device code login: {error}"),
        },
        Err(e) => Err(e.into()),
    }
}

async fn password(settings: &Settings, provider: &Provider) -> anyhow::Result<Tokens> {
    let username = match &settings.username {
        Some(u) => u.clone(),
        None => {
            prompt(|| {
                dialoguer::Input::<String>::new()
                    .with_prompt("Username")
                    .interact_text()
            })
            .await?
        }
    };
    let password = match &settings.password {
        Some(p) => p.clone(),
        None => {
            prompt(|| {
                dialoguer::Password::new()
                    .with_prompt("Password")
                    .interact()
            })
            .await?
        }
    };
    let response = provider
        .exchange_password(&username, &password, &settings.scopes)
        .await
        .map_err(|e| match e {
            ProviderError::OAuth { ref error, .. } if error.error == "invalid_grant" => {
                anyhow!("{e}; check --username and --password")
            }
            other => other.into(),
        })?;
    finish(settings, provider, response, None, None).await
}

async fn prompt<F>(ask: F) -> anyhow::Result<String>
where
    F: FnOnce() -> dialoguer::Result<String> + Send + 'static,
{
    tokio::task::spawn_blocking(ask)
        .await
        .context("asking on the terminal")?
        .context("asking on the terminal")
}

async fn client_credentials(settings: &Settings, provider: &Provider) -> anyhow::Result<Tokens> {
    let response = provider
        .exchange_client_credentials(&settings.scopes, &settings.extra_params)
        .await?;
    finish(settings, provider, response, None, None).await
}

/// RFC 8693: trades the token in `--subject-token-file` for this client's
/// tokens. The file is read at every exchange (a CI system may rewrite it).
async fn token_exchange(settings: &Settings, provider: &Provider) -> anyhow::Result<Tokens> {
    let path = settings
        .subject_token_file
        .as_ref()
        .ok_or_else(|| anyhow!("--grant-type=token-exchange needs --subject-token-file"))?;
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading --subject-token-file {}", path.display()))?;
    let subject_token = text.trim();
    if subject_token.is_empty() {
        bail!(
            "--subject-token-file {} is empty: write the token to exchange into it",
            path.display()
        );
    }
    let mut form = vec![
        (
            "grant_type".to_string(),
            "urn:ietf:params:oauth:grant-type:token-exchange".to_string(),
        ),
        ("subject_token".to_string(), subject_token.to_string()),
        (
            "subject_token_type".to_string(),
            settings.subject_token_type.clone(),
        ),
        ("scope".to_string(), settings.scope_string()),
    ];
    form.extend(settings.extra_params.iter().cloned());
    let response = provider.token("token exchange", form).await?;
    finish(settings, provider, response, None, None).await
}

/// Uses the refresh token. Verifies what comes back like a login.
pub async fn refresh(
    settings: &Settings,
    provider: &Provider,
    refresh_token: &str,
) -> anyhow::Result<Tokens> {
    let response = provider.exchange_refresh_token(refresh_token).await?;
    finish(settings, provider, response, None, Some(refresh_token)).await
}

/// Verifies a token response and picks the token kubectl gets.
async fn finish(
    settings: &Settings,
    provider: &Provider,
    response: TokenResponse,
    nonce: Option<&str>,
    previous_refresh_token: Option<&str>,
) -> anyhow::Result<Tokens> {
    let now = jiff::Timestamp::now().as_second();
    let refresh_token = response
        .refresh_token_value()
        .or(previous_refresh_token)
        .map(str::to_string);
    if let Some(id_token) = &response.id_token {
        provider
            .verify(id_token, Some(provider.client_id()), nonce, "id_token")
            .await?;
    }
    if settings.use_access_token {
        let access_token = response
            .access_token_value()
            .map(str::to_string)
            .ok_or_else(|| anyhow!("the provider's token response has no access_token"))?;
        // Audiences of access tokens differ by design (e.g. `audience=` extra params).
        if crate::adapters::jwt::decode_claims(&access_token).is_ok() {
            provider
                .verify(&access_token, None, None, "access token")
                .await?;
        }
        return Ok(Tokens {
            token: access_token,
            refresh_token,
            expires_at: response.expires_in.map(|s| now.saturating_add(s)),
        });
    }
    let id_token = response.id_token.ok_or_else(|| {
        anyhow!(
            "the provider's token response has no id_token (with --grant-type=client-credentials, \
             or a provider that sends none on refresh, use --oidc-use-access-token)"
        )
    })?;
    Ok(Tokens {
        token: id_token,
        refresh_token,
        expires_at: None,
    })
}
