
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'kubectl-oidc_login' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'kubectl-oidc_login'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'kubectl-oidc_login' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('get-token', 'get-token', [CompletionResultType]::ParameterValue, 'Run as a kubectl exec credential plugin: print an ExecCredential with a valid token')
            [CompletionResult]::new('setup', 'setup', [CompletionResultType]::ParameterValue, 'Log in once and print the kubeconfig and kube-apiserver settings for this provider')
            [CompletionResult]::new('whoami', 'whoami', [CompletionResultType]::ParameterValue, 'Show who the cached token of the current context says you are')
            [CompletionResult]::new('clean', 'clean', [CompletionResultType]::ParameterValue, 'Delete the token cache (disk and keyring)')
            [CompletionResult]::new('logout', 'logout', [CompletionResultType]::ParameterValue, 'Revoke the refresh token of the current context at the provider and delete its cache entry')
            [CompletionResult]::new('completion', 'completion', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('version', 'version', [CompletionResultType]::ParameterValue, 'Print the version')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-oidc_login;get-token' {
            [CompletionResult]::new('--oidc-issuer-url', '--oidc-issuer-url', [CompletionResultType]::ParameterName, 'Issuer URL of the provider (mandatory)')
            [CompletionResult]::new('--oidc-client-id', '--oidc-client-id', [CompletionResultType]::ParameterName, 'Client ID of the provider (mandatory)')
            [CompletionResult]::new('--oidc-client-secret', '--oidc-client-secret', [CompletionResultType]::ParameterName, 'Client secret of the provider')
            [CompletionResult]::new('--oidc-redirect-url', '--oidc-redirect-url', [CompletionResultType]::ParameterName, '[authcode, authcode-keyboard] Redirect URL')
            [CompletionResult]::new('--oidc-extra-scope', '--oidc-extra-scope', [CompletionResultType]::ParameterName, 'Scopes to request to the provider besides openid (repeatable, comma-separated)')
            [CompletionResult]::new('--oidc-use-access-token', '--oidc-use-access-token', [CompletionResultType]::ParameterName, 'Instead of using the id_token, use the access_token to authenticate to Kubernetes')
            [CompletionResult]::new('--oidc-request-header', '--oidc-request-header', [CompletionResultType]::ParameterName, 'HTTP headers to send with requests to the provider, KEY=VALUE (repeatable, comma-separated)')
            [CompletionResult]::new('--oidc-pkce-method', '--oidc-pkce-method', [CompletionResultType]::ParameterName, 'PKCE code challenge method')
            [CompletionResult]::new('--oidc-use-pkce', '--oidc-use-pkce', [CompletionResultType]::ParameterName, 'Deprecated: same as --oidc-pkce-method=S256')
            [CompletionResult]::new('--certificate-authority', '--certificate-authority', [CompletionResultType]::ParameterName, 'Path to a cert file for the certificate authority (repeatable)')
            [CompletionResult]::new('--certificate-authority-data', '--certificate-authority-data', [CompletionResultType]::ParameterName, 'Base64 encoded cert for the certificate authority (repeatable)')
            [CompletionResult]::new('--insecure-skip-tls-verify', '--insecure-skip-tls-verify', [CompletionResultType]::ParameterName, '[SECURITY RISK] If set, the provider''s certificate is not checked')
            [CompletionResult]::new('--tls-renegotiation-once', '--tls-renegotiation-once', [CompletionResultType]::ParameterName, 'Accepted for kubelogin compatibility; TLS renegotiation is never used (rustls has none)')
            [CompletionResult]::new('--tls-renegotiation-freely', '--tls-renegotiation-freely', [CompletionResultType]::ParameterName, 'Accepted for kubelogin compatibility; TLS renegotiation is never used (rustls has none)')
            [CompletionResult]::new('--grant-type', '--grant-type', [CompletionResultType]::ParameterName, 'Authorization grant type to use')
            [CompletionResult]::new('--listen-address', '--listen-address', [CompletionResultType]::ParameterName, '[authcode] Address to bind the local server to; the first free one wins (repeatable, comma-separated)')
            [CompletionResult]::new('--skip-open-browser', '--skip-open-browser', [CompletionResultType]::ParameterName, '[authcode, device-code] Do not open the browser automatically')
            [CompletionResult]::new('--browser-command', '--browser-command', [CompletionResultType]::ParameterName, '[authcode, device-code] Command to open the browser (may include arguments; the URL is appended)')
            [CompletionResult]::new('--authentication-timeout-sec', '--authentication-timeout-sec', [CompletionResultType]::ParameterName, '[authcode] Timeout of authentication in seconds')
            [CompletionResult]::new('--local-server-cert', '--local-server-cert', [CompletionResultType]::ParameterName, '[authcode] Certificate path for the local server (HTTPS redirect)')
            [CompletionResult]::new('--local-server-key', '--local-server-key', [CompletionResultType]::ParameterName, '[authcode] Certificate key path for the local server')
            [CompletionResult]::new('--open-url-after-authentication', '--open-url-after-authentication', [CompletionResultType]::ParameterName, '[authcode] If set, redirect the browser to this URL after authentication')
            [CompletionResult]::new('--oidc-auth-request-extra-params', '--oidc-auth-request-extra-params', [CompletionResultType]::ParameterName, '[authcode, authcode-keyboard, client-credentials] Extra parameters for the authentication request, KEY=VALUE (repeatable, comma-separated)')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, '[password] Username for the resource owner password credentials grant')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, '[password] Password for the resource owner password credentials grant')
            [CompletionResult]::new('--login-hint', '--login-hint', [CompletionResultType]::ParameterName, '[authcode, authcode-keyboard, device-code] Account to log in as (sent as login_hint; part of the cache key)')
            [CompletionResult]::new('--subject-token-file', '--subject-token-file', [CompletionResultType]::ParameterName, '[token-exchange] File holding the token to exchange (read at every exchange, so CI may rewrite it)')
            [CompletionResult]::new('--subject-token-type', '--subject-token-type', [CompletionResultType]::ParameterName, '[token-exchange] Type of that token: access_token, id_token, jwt, refresh_token or a full URN')
            [CompletionResult]::new('--token-cache-dir', '--token-cache-dir', [CompletionResultType]::ParameterName, 'Path to a directory of the token cache [default: $KUBECACHEDIR/oidc-login or ~/.kube/cache/oidc-login]')
            [CompletionResult]::new('--token-cache-storage', '--token-cache-storage', [CompletionResultType]::ParameterName, 'Storage for the token cache')
            [CompletionResult]::new('--force-refresh', '--force-refresh', [CompletionResultType]::ParameterName, 'If set, refresh the token regardless of its expiration time')
            [CompletionResult]::new('--token-refresh-margin', '--token-refresh-margin', [CompletionResultType]::ParameterName, 'Refresh a token this long before it expires (e.g. 30s, 1m, 2m30s)')
            [CompletionResult]::new('--token-cache-lock-timeout', '--token-cache-lock-timeout', [CompletionResultType]::ParameterName, 'How long to wait for another process that holds the token cache lock (e.g. 4m)')
            [CompletionResult]::new('--no-browser-when-non-interactive', '--no-browser-when-non-interactive', [CompletionResultType]::ParameterName, '[authcode, device-code] When kubectl runs the plugin non-interactively (exec interactiveMode Never, no terminal), fail instead of opening a browser')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log verbosity (accepted for kubelogin compatibility; 1 or more prints progress to stderr)')
            [CompletionResult]::new('--v', '--v', [CompletionResultType]::ParameterName, 'Log verbosity (accepted for kubelogin compatibility; 1 or more prints progress to stderr)')
            [CompletionResult]::new('--logtostderr', '--logtostderr', [CompletionResultType]::ParameterName, 'Accepted for kubelogin compatibility; logs always go to stderr')
            [CompletionResult]::new('--alsologtostderr', '--alsologtostderr', [CompletionResultType]::ParameterName, 'Accepted for kubelogin compatibility; logs always go to stderr')
            [CompletionResult]::new('--log_dir', '--log_dir', [CompletionResultType]::ParameterName, 'Accepted for kubelogin compatibility; ignored (logs go to stderr)')
            [CompletionResult]::new('--log_file', '--log_file', [CompletionResultType]::ParameterName, 'Accepted for kubelogin compatibility; ignored (logs go to stderr)')
            [CompletionResult]::new('--vmodule', '--vmodule', [CompletionResultType]::ParameterName, 'Accepted for kubelogin compatibility; ignored')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-oidc_login;setup' {
            [CompletionResult]::new('--oidc-issuer-url', '--oidc-issuer-url', [CompletionResultType]::ParameterName, 'Issuer URL of the provider (mandatory)')
            [CompletionResult]::new('--oidc-client-id', '--oidc-client-id', [CompletionResultType]::ParameterName, 'Client ID of the provider (mandatory)')
            [CompletionResult]::new('--oidc-client-secret', '--oidc-client-secret', [CompletionResultType]::ParameterName, 'Client secret of the provider')
            [CompletionResult]::new('--oidc-redirect-url', '--oidc-redirect-url', [CompletionResultType]::ParameterName, '[authcode, authcode-keyboard] Redirect URL')
            [CompletionResult]::new('--oidc-extra-scope', '--oidc-extra-scope', [CompletionResultType]::ParameterName, 'Scopes to request to the provider besides openid (repeatable, comma-separated)')
            [CompletionResult]::new('--oidc-use-access-token', '--oidc-use-access-token', [CompletionResultType]::ParameterName, 'Instead of using the id_token, use the access_token to authenticate to Kubernetes')
            [CompletionResult]::new('--oidc-request-header', '--oidc-request-header', [CompletionResultType]::ParameterName, 'HTTP headers to send with requests to the provider, KEY=VALUE (repeatable, comma-separated)')
            [CompletionResult]::new('--oidc-pkce-method', '--oidc-pkce-method', [CompletionResultType]::ParameterName, 'PKCE code challenge method')
            [CompletionResult]::new('--oidc-use-pkce', '--oidc-use-pkce', [CompletionResultType]::ParameterName, 'Deprecated: same as --oidc-pkce-method=S256')
            [CompletionResult]::new('--certificate-authority', '--certificate-authority', [CompletionResultType]::ParameterName, 'Path to a cert file for the certificate authority (repeatable)')
            [CompletionResult]::new('--certificate-authority-data', '--certificate-authority-data', [CompletionResultType]::ParameterName, 'Base64 encoded cert for the certificate authority (repeatable)')
            [CompletionResult]::new('--insecure-skip-tls-verify', '--insecure-skip-tls-verify', [CompletionResultType]::ParameterName, '[SECURITY RISK] If set, the provider''s certificate is not checked')
            [CompletionResult]::new('--tls-renegotiation-once', '--tls-renegotiation-once', [CompletionResultType]::ParameterName, 'Accepted for kubelogin compatibility; TLS renegotiation is never used (rustls has none)')
            [CompletionResult]::new('--tls-renegotiation-freely', '--tls-renegotiation-freely', [CompletionResultType]::ParameterName, 'Accepted for kubelogin compatibility; TLS renegotiation is never used (rustls has none)')
            [CompletionResult]::new('--grant-type', '--grant-type', [CompletionResultType]::ParameterName, 'Authorization grant type to use')
            [CompletionResult]::new('--listen-address', '--listen-address', [CompletionResultType]::ParameterName, '[authcode] Address to bind the local server to; the first free one wins (repeatable, comma-separated)')
            [CompletionResult]::new('--skip-open-browser', '--skip-open-browser', [CompletionResultType]::ParameterName, '[authcode, device-code] Do not open the browser automatically')
            [CompletionResult]::new('--browser-command', '--browser-command', [CompletionResultType]::ParameterName, '[authcode, device-code] Command to open the browser (may include arguments; the URL is appended)')
            [CompletionResult]::new('--authentication-timeout-sec', '--authentication-timeout-sec', [CompletionResultType]::ParameterName, '[authcode] Timeout of authentication in seconds')
            [CompletionResult]::new('--local-server-cert', '--local-server-cert', [CompletionResultType]::ParameterName, '[authcode] Certificate path for the local server (HTTPS redirect)')
            [CompletionResult]::new('--local-server-key', '--local-server-key', [CompletionResultType]::ParameterName, '[authcode] Certificate key path for the local server')
            [CompletionResult]::new('--open-url-after-authentication', '--open-url-after-authentication', [CompletionResultType]::ParameterName, '[authcode] If set, redirect the browser to this URL after authentication')
            [CompletionResult]::new('--oidc-auth-request-extra-params', '--oidc-auth-request-extra-params', [CompletionResultType]::ParameterName, '[authcode, authcode-keyboard, client-credentials] Extra parameters for the authentication request, KEY=VALUE (repeatable, comma-separated)')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, '[password] Username for the resource owner password credentials grant')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, '[password] Password for the resource owner password credentials grant')
            [CompletionResult]::new('--login-hint', '--login-hint', [CompletionResultType]::ParameterName, '[authcode, authcode-keyboard, device-code] Account to log in as (sent as login_hint; part of the cache key)')
            [CompletionResult]::new('--subject-token-file', '--subject-token-file', [CompletionResultType]::ParameterName, '[token-exchange] File holding the token to exchange (read at every exchange, so CI may rewrite it)')
            [CompletionResult]::new('--subject-token-type', '--subject-token-type', [CompletionResultType]::ParameterName, '[token-exchange] Type of that token: access_token, id_token, jwt, refresh_token or a full URN')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log verbosity')
            [CompletionResult]::new('--v', '--v', [CompletionResultType]::ParameterName, 'Log verbosity')
            [CompletionResult]::new('--logtostderr', '--logtostderr', [CompletionResultType]::ParameterName, 'Accepted for kubelogin compatibility; logs always go to stderr')
            [CompletionResult]::new('--alsologtostderr', '--alsologtostderr', [CompletionResultType]::ParameterName, 'Accepted for kubelogin compatibility; logs always go to stderr')
            [CompletionResult]::new('--log_dir', '--log_dir', [CompletionResultType]::ParameterName, 'Accepted for kubelogin compatibility; ignored (logs go to stderr)')
            [CompletionResult]::new('--log_file', '--log_file', [CompletionResultType]::ParameterName, 'Accepted for kubelogin compatibility; ignored (logs go to stderr)')
            [CompletionResult]::new('--vmodule', '--vmodule', [CompletionResultType]::ParameterName, 'Accepted for kubelogin compatibility; ignored')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-oidc_login;whoami' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file to use (instead of $KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The name of the kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The name of the kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The name of the kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace scope for this request (default: the context''s namespace, else "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace scope for this request (default: the context''s namespace, else "default")')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a single server request; 0 waits forever. Seconds, or a number with a unit (500ms, 1s, 2m, 3h, 1d)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-oidc_login;clean' {
            [CompletionResult]::new('--token-cache-dir', '--token-cache-dir', [CompletionResultType]::ParameterName, 'Path to a directory of the token cache [default: $KUBECACHEDIR/oidc-login or ~/.kube/cache/oidc-login]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'kubectl-oidc_login;logout' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file to use (instead of $KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The name of the kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The name of the kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The name of the kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace scope for this request (default: the context''s namespace, else "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace scope for this request (default: the context''s namespace, else "default")')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a single server request; 0 waits forever. Seconds, or a number with a unit (500ms, 1s, 2m, 3h, 1d)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'kubectl-oidc_login;completion' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'kubectl-oidc_login;version' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'kubectl-oidc_login;help' {
            [CompletionResult]::new('get-token', 'get-token', [CompletionResultType]::ParameterValue, 'Run as a kubectl exec credential plugin: print an ExecCredential with a valid token')
            [CompletionResult]::new('setup', 'setup', [CompletionResultType]::ParameterValue, 'Log in once and print the kubeconfig and kube-apiserver settings for this provider')
            [CompletionResult]::new('whoami', 'whoami', [CompletionResultType]::ParameterValue, 'Show who the cached token of the current context says you are')
            [CompletionResult]::new('clean', 'clean', [CompletionResultType]::ParameterValue, 'Delete the token cache (disk and keyring)')
            [CompletionResult]::new('logout', 'logout', [CompletionResultType]::ParameterValue, 'Revoke the refresh token of the current context at the provider and delete its cache entry')
            [CompletionResult]::new('completion', 'completion', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('version', 'version', [CompletionResultType]::ParameterValue, 'Print the version')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-oidc_login;help;get-token' {
            break
        }
        'kubectl-oidc_login;help;setup' {
            break
        }
        'kubectl-oidc_login;help;whoami' {
            break
        }
        'kubectl-oidc_login;help;clean' {
            break
        }
        'kubectl-oidc_login;help;logout' {
            break
        }
        'kubectl-oidc_login;help;completion' {
            break
        }
        'kubectl-oidc_login;help;version' {
            break
        }
        'kubectl-oidc_login;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
