# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_kubectl_oidc_login_global_optspecs
    string join \n h/help V/version
end

function __fish_kubectl_oidc_login_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_kubectl_oidc_login_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_kubectl_oidc_login_using_subcommand
    set -l cmd (__fish_kubectl_oidc_login_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_needs_command" -s h -l help -d 'Print help'
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_needs_command" -s V -l version -d 'Print version'
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_needs_command" -f -a "get-token" -d 'Run as a kubectl exec credential plugin: print an ExecCredential with a valid token'
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_needs_command" -f -a "setup" -d 'Log in once and print the kubeconfig and kube-apiserver settings for this provider'
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_needs_command" -f -a "whoami" -d 'Show who the cached token of the current context says you are'
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_needs_command" -f -a "clean" -d 'Delete the token cache (disk and keyring)'
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_needs_command" -f -a "logout" -d 'Revoke the refresh token of the current context at the provider and delete its cache entry'
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_needs_command" -f -a "completion" -d 'Print a shell completion script'
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_needs_command" -f -a "version" -d 'Print the version'
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand get-token" -l oidc-issuer-url -d 'Issuer URL of the provider (mandatory)' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand get-token" -l oidc-client-id -d 'Client ID of the provider (mandatory)' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand get-token" -l oidc-client-secret -d 'Client secret of the provider' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand get-token" -l oidc-redirect-url -d '[authcode, authcode-keyboard] Redirect URL' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand get-token" -l oidc-extra-scope -d 'Scopes to request to the provider besides openid (repeatable, comma-separated)' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand get-token" -l oidc-use-access-token -d 'Instead of using the id_token, use the access_token to authenticate to Kubernetes' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand get-token" -l oidc-request-header -d 'HTTP headers to send with requests to the provider, KEY=VALUE (repeatable, comma-separated)' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand get-token" -l oidc-pkce-method -d 'PKCE code challenge method' -r -f -a "auto\t'S256 when the provider advertises it'
no\t'Never send a code challenge'
S256\t'Always S256'"
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand get-token" -l oidc-use-pkce -d 'Deprecated: same as --oidc-pkce-method=S256' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand get-token" -l certificate-authority -d 'Path to a cert file for the certificate authority (repeatable)' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand get-token" -l certificate-authority-data -d 'Base64 encoded cert for the certificate authority (repeatable)' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand get-token" -l insecure-skip-tls-verify -d '[SECURITY RISK] If set, the provider\'s certificate is not checked' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand get-token" -l tls-renegotiation-once -d 'Accepted for kubelogin compatibility; TLS renegotiation is never used (rustls has none)' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand get-token" -l tls-renegotiation-freely -d 'Accepted for kubelogin compatibility; TLS renegotiation is never used (rustls has none)' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand get-token" -l grant-type -d 'Authorization grant type to use' -r -f -a "auto\t'authcode, or password when --username is set'
authcode\t'Authorization code flow with a browser and a loopback redirect'
authcode-keyboard\t'Authorization code flow; paste the code on the terminal'
password\t'Resource owner password credentials'
device-code\t'Device authorization grant (RFC 8628)'
client-credentials\t'Client credentials (no user)'
token-exchange\t'Token exchange (RFC 8693): trade the token in --subject-token-file, e.g. a CI job\'s'"
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand get-token" -l listen-address -d '[authcode] Address to bind the local server to; the first free one wins (repeatable, comma-separated)' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand get-token" -l skip-open-browser -d '[authcode, device-code] Do not open the browser automatically' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand get-token" -l browser-command -d '[authcode, device-code] Command to open the browser (may include arguments; the URL is appended)' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand get-token" -l authentication-timeout-sec -d '[authcode] Timeout of authentication in seconds' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand get-token" -l local-server-cert -d '[authcode] Certificate path for the local server (HTTPS redirect)' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand get-token" -l local-server-key -d '[authcode] Certificate key path for the local server' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand get-token" -l open-url-after-authentication -d '[authcode] If set, redirect the browser to this URL after authentication' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand get-token" -l oidc-auth-request-extra-params -d '[authcode, authcode-keyboard, client-credentials] Extra parameters for the authentication request, KEY=VALUE (repeatable, comma-separated)' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand get-token" -l username -d '[password] Username for the resource owner password credentials grant' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand get-token" -l password -d '[password] Password for the resource owner password credentials grant' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand get-token" -l login-hint -d '[authcode, authcode-keyboard, device-code] Account to log in as (sent as login_hint; part of the cache key)' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand get-token" -l subject-token-file -d '[token-exchange] File holding the token to exchange (read at every exchange, so CI may rewrite it)' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand get-token" -l subject-token-type -d '[token-exchange] Type of that token: access_token, id_token, jwt, refresh_token or a full URN' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand get-token" -l token-cache-dir -d 'Path to a directory of the token cache [default: $KUBECACHEDIR/oidc-login or ~/.kube/cache/oidc-login]' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand get-token" -l token-cache-storage -d 'Storage for the token cache' -r -f -a "disk\t'Files in --token-cache-dir'
keyring\t'The OS keyring (Secret Service on Linux); falls back to disk when there is none'
none\t'No cache: log in every time'"
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand get-token" -l force-refresh -d 'If set, refresh the token regardless of its expiration time' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand get-token" -l token-refresh-margin -d 'Refresh a token this long before it expires (e.g. 30s, 1m, 2m30s)' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand get-token" -l token-cache-lock-timeout -d 'How long to wait for another process that holds the token cache lock (e.g. 4m)' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand get-token" -l no-browser-when-non-interactive -d '[authcode, device-code] When kubectl runs the plugin non-interactively (exec interactiveMode Never, no terminal), fail instead of opening a browser' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand get-token" -s v -l v -d 'Log verbosity (accepted for kubelogin compatibility; 1 or more prints progress to stderr)' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand get-token" -l logtostderr -d 'Accepted for kubelogin compatibility; logs always go to stderr' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand get-token" -l alsologtostderr -d 'Accepted for kubelogin compatibility; logs always go to stderr' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand get-token" -l log_dir -d 'Accepted for kubelogin compatibility; ignored (logs go to stderr)' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand get-token" -l log_file -d 'Accepted for kubelogin compatibility; ignored (logs go to stderr)' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand get-token" -l vmodule -d 'Accepted for kubelogin compatibility; ignored' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand get-token" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand setup" -l oidc-issuer-url -d 'Issuer URL of the provider (mandatory)' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand setup" -l oidc-client-id -d 'Client ID of the provider (mandatory)' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand setup" -l oidc-client-secret -d 'Client secret of the provider' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand setup" -l oidc-redirect-url -d '[authcode, authcode-keyboard] Redirect URL' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand setup" -l oidc-extra-scope -d 'Scopes to request to the provider besides openid (repeatable, comma-separated)' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand setup" -l oidc-use-access-token -d 'Instead of using the id_token, use the access_token to authenticate to Kubernetes' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand setup" -l oidc-request-header -d 'HTTP headers to send with requests to the provider, KEY=VALUE (repeatable, comma-separated)' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand setup" -l oidc-pkce-method -d 'PKCE code challenge method' -r -f -a "auto\t'S256 when the provider advertises it'
no\t'Never send a code challenge'
S256\t'Always S256'"
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand setup" -l oidc-use-pkce -d 'Deprecated: same as --oidc-pkce-method=S256' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand setup" -l certificate-authority -d 'Path to a cert file for the certificate authority (repeatable)' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand setup" -l certificate-authority-data -d 'Base64 encoded cert for the certificate authority (repeatable)' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand setup" -l insecure-skip-tls-verify -d '[SECURITY RISK] If set, the provider\'s certificate is not checked' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand setup" -l tls-renegotiation-once -d 'Accepted for kubelogin compatibility; TLS renegotiation is never used (rustls has none)' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand setup" -l tls-renegotiation-freely -d 'Accepted for kubelogin compatibility; TLS renegotiation is never used (rustls has none)' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand setup" -l grant-type -d 'Authorization grant type to use' -r -f -a "auto\t'authcode, or password when --username is set'
authcode\t'Authorization code flow with a browser and a loopback redirect'
authcode-keyboard\t'Authorization code flow; paste the code on the terminal'
password\t'Resource owner password credentials'
device-code\t'Device authorization grant (RFC 8628)'
client-credentials\t'Client credentials (no user)'
token-exchange\t'Token exchange (RFC 8693): trade the token in --subject-token-file, e.g. a CI job\'s'"
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand setup" -l listen-address -d '[authcode] Address to bind the local server to; the first free one wins (repeatable, comma-separated)' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand setup" -l skip-open-browser -d '[authcode, device-code] Do not open the browser automatically' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand setup" -l browser-command -d '[authcode, device-code] Command to open the browser (may include arguments; the URL is appended)' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand setup" -l authentication-timeout-sec -d '[authcode] Timeout of authentication in seconds' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand setup" -l local-server-cert -d '[authcode] Certificate path for the local server (HTTPS redirect)' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand setup" -l local-server-key -d '[authcode] Certificate key path for the local server' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand setup" -l open-url-after-authentication -d '[authcode] If set, redirect the browser to this URL after authentication' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand setup" -l oidc-auth-request-extra-params -d '[authcode, authcode-keyboard, client-credentials] Extra parameters for the authentication request, KEY=VALUE (repeatable, comma-separated)' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand setup" -l username -d '[password] Username for the resource owner password credentials grant' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand setup" -l password -d '[password] Password for the resource owner password credentials grant' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand setup" -l login-hint -d '[authcode, authcode-keyboard, device-code] Account to log in as (sent as login_hint; part of the cache key)' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand setup" -l subject-token-file -d '[token-exchange] File holding the token to exchange (read at every exchange, so CI may rewrite it)' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand setup" -l subject-token-type -d '[token-exchange] Type of that token: access_token, id_token, jwt, refresh_token or a full URN' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand setup" -s v -l v -d 'Log verbosity' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand setup" -l logtostderr -d 'Accepted for kubelogin compatibility; logs always go to stderr' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand setup" -l alsologtostderr -d 'Accepted for kubelogin compatibility; logs always go to stderr' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand setup" -l log_dir -d 'Accepted for kubelogin compatibility; ignored (logs go to stderr)' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand setup" -l log_file -d 'Accepted for kubelogin compatibility; ignored (logs go to stderr)' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand setup" -l vmodule -d 'Accepted for kubelogin compatibility; ignored' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand setup" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand whoami" -l kubeconfig -d 'Path to the kubeconfig file to use (instead of $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand whoami" -l context -d 'The name of the kubeconfig context to use' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand whoami" -l cluster -d 'The name of the kubeconfig cluster to use' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand whoami" -l user -d 'The name of the kubeconfig user to use' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand whoami" -s n -l namespace -d 'The namespace scope for this request (default: the context\'s namespace, else "default")' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand whoami" -l request-timeout -d 'How long to wait for a single server request; 0 waits forever. Seconds, or a number with a unit (500ms, 1s, 2m, 3h, 1d)' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand whoami" -s o -l output -d 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it' -r -f -a "table\t'A table, like kubectl\'s default output'
wide\t'A table with extra columns'
json\t'JSON'
yaml\t'YAML'
name\t'Names only, one per line'
jsonl\t'One JSON document per line'"
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand whoami" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand clean" -l token-cache-dir -d 'Path to a directory of the token cache [default: $KUBECACHEDIR/oidc-login or ~/.kube/cache/oidc-login]' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand clean" -s h -l help -d 'Print help'
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand logout" -l kubeconfig -d 'Path to the kubeconfig file to use (instead of $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand logout" -l context -d 'The name of the kubeconfig context to use' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand logout" -l cluster -d 'The name of the kubeconfig cluster to use' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand logout" -l user -d 'The name of the kubeconfig user to use' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand logout" -s n -l namespace -d 'The namespace scope for this request (default: the context\'s namespace, else "default")' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand logout" -l request-timeout -d 'How long to wait for a single server request; 0 waits forever. Seconds, or a number with a unit (500ms, 1s, 2m, 3h, 1d)' -r
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand logout" -s h -l help -d 'Print help'
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand completion" -s h -l help -d 'Print help'
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand version" -s h -l help -d 'Print help'
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand help; and not __fish_seen_subcommand_from get-token setup whoami clean logout completion version help" -f -a "get-token" -d 'Run as a kubectl exec credential plugin: print an ExecCredential with a valid token'
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand help; and not __fish_seen_subcommand_from get-token setup whoami clean logout completion version help" -f -a "setup" -d 'Log in once and print the kubeconfig and kube-apiserver settings for this provider'
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand help; and not __fish_seen_subcommand_from get-token setup whoami clean logout completion version help" -f -a "whoami" -d 'Show who the cached token of the current context says you are'
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand help; and not __fish_seen_subcommand_from get-token setup whoami clean logout completion version help" -f -a "clean" -d 'Delete the token cache (disk and keyring)'
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand help; and not __fish_seen_subcommand_from get-token setup whoami clean logout completion version help" -f -a "logout" -d 'Revoke the refresh token of the current context at the provider and delete its cache entry'
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand help; and not __fish_seen_subcommand_from get-token setup whoami clean logout completion version help" -f -a "completion" -d 'Print a shell completion script'
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand help; and not __fish_seen_subcommand_from get-token setup whoami clean logout completion version help" -f -a "version" -d 'Print the version'
complete -c kubectl-oidc_login -n "__fish_kubectl_oidc_login_using_subcommand help; and not __fish_seen_subcommand_from get-token setup whoami clean logout completion version help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
