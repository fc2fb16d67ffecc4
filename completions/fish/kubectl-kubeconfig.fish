# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_kubectl_kubeconfig_global_optspecs
    string join \n v/v= h/help V/version
end

function __fish_kubectl_kubeconfig_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_kubectl_kubeconfig_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_kubectl_kubeconfig_using_subcommand
    set -l cmd (__fish_kubectl_kubeconfig_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_needs_command" -s v -l v -d 'Log level for diagnostics on stderr (0–9, as kubectl\'s -v). Secrets are never logged' -r
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_needs_command" -s h -l help -d 'Print help'
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_needs_command" -s V -l version -d 'Print version'
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_needs_command" -f -a "validate" -d 'Check a catalog and report every problem with its place in the document'
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_needs_command" -f -a "generate" -d 'Generate kubeconfigs whose users log in with `kubectl oidc-login`'
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_needs_command" -f -a "merge" -d 'Merge a kubeconfig into yours, showing what is added, changed and kept'
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_needs_command" -f -a "serviceaccount" -d 'A kubeconfig for a service account, with a short-lived token (TokenRequest)'
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_needs_command" -f -a "sa" -d 'A kubeconfig for a service account, with a short-lived token (TokenRequest)'
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_needs_command" -f -a "check" -d 'Check that contexts work: reach the API server and ask who we are'
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_needs_command" -f -a "completion" -d 'Print a shell completion script (bash, zsh, fish, powershell, elvish)'
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand validate" -l catalog -d 'The catalog: a file (`-` for stdin) or an https:// URL' -r
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand validate" -l from-configmap -d 'Read the catalog from a ConfigMap in the cluster instead' -r
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand validate" -l configmap-key -d 'The ConfigMap key holding the catalog (default: its only key, else catalog.yaml)' -r
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand validate" -l catalog-certificate-authority -d 'A CA bundle (PEM) to trust for an https:// catalog, besides the system\'s' -r -F
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand validate" -l kubeconfig -d 'Kubeconfig used to read --from-configmap' -r -F
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand validate" -l context -d 'Context used to read --from-configmap' -r
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand validate" -s o -l output -d 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it' -r -f -a "table\t'A table, like kubectl\'s default output'
wide\t'A table with extra columns'
json\t'JSON'
yaml\t'YAML'
name\t'Names only, one per line'
jsonl\t'One JSON document per line'"
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand validate" -s v -l v -d 'Log level for diagnostics on stderr (0–9, as kubectl\'s -v). Secrets are never logged' -r
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand validate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand generate" -l catalog -d 'The catalog: a file (`-` for stdin) or an https:// URL' -r
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand generate" -l from-configmap -d 'Read the catalog from a ConfigMap in the cluster instead' -r
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand generate" -l configmap-key -d 'The ConfigMap key holding the catalog (default: its only key, else catalog.yaml)' -r
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand generate" -l catalog-certificate-authority -d 'A CA bundle (PEM) to trust for an https:// catalog, besides the system\'s' -r -F
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand generate" -l kubeconfig -d 'Kubeconfig used to read --from-configmap' -r -F
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand generate" -l context -d 'Context used to read --from-configmap' -r
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand generate" -l team -d 'Only this team\'s contexts (repeatable)' -r
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand generate" -l cluster -d 'Only these catalog clusters (repeatable, or comma-separated)' -r
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand generate" -s f -l file -d 'Write the kubeconfig to this file (mode 0600) instead of stdout' -r -F
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand generate" -l output-dir -d 'Write one kubeconfig per team, DIR/TEAM.yaml' -r -F
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand generate" -s o -l output -d 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it' -r -f -a "table\t'A table, like kubectl\'s default output'
wide\t'A table with extra columns'
json\t'JSON'
yaml\t'YAML'
name\t'Names only, one per line'
jsonl\t'One JSON document per line'"
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand generate" -s v -l v -d 'Log level for diagnostics on stderr (0–9, as kubectl\'s -v). Secrets are never logged' -r
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand generate" -l all -d 'Generate everything without asking, even on a terminal'
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand generate" -l progress -d 'Show a progress bar (only on a terminal)'
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand generate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand merge" -l into -d 'The kubeconfig to merge into (default: first file of $KUBECONFIG, else ~/.kube/config)' -r -F
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand merge" -s v -l v -d 'Log level for diagnostics on stderr (0–9, as kubectl\'s -v). Secrets are never logged' -r
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand merge" -l overwrite -d 'Replace entries that have the same name and different content'
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand merge" -l dry-run -d 'Show what would change and write nothing'
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand merge" -s h -l help -d 'Print help'
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand serviceaccount" -l kubeconfig -d 'Path to the kubeconfig file to use (instead of $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand serviceaccount" -l context -d 'The name of the kubeconfig context to use' -r
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand serviceaccount" -l cluster -d 'The name of the kubeconfig cluster to use' -r
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand serviceaccount" -l user -d 'The name of the kubeconfig user to use' -r
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand serviceaccount" -s n -l namespace -d 'The namespace scope for this request (default: the context\'s namespace, else "default")' -r
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand serviceaccount" -l request-timeout -d 'How long to wait for a single server request; 0 waits forever. Seconds, or a number with a unit (500ms, 1s, 2m, 3h, 1d)' -r
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand serviceaccount" -l duration -d 'How long the token is valid (at least 10m)' -r
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand serviceaccount" -l audience -d 'Audience of the token (repeatable; default: the API server\'s)' -r
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand serviceaccount" -s f -l file -d 'Write the kubeconfig to this file (mode 0600) instead of stdout' -r -F
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand serviceaccount" -s o -l output -d 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it' -r -f -a "table\t'A table, like kubectl\'s default output'
wide\t'A table with extra columns'
json\t'JSON'
yaml\t'YAML'
name\t'Names only, one per line'
jsonl\t'One JSON document per line'"
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand serviceaccount" -s v -l v -d 'Log level for diagnostics on stderr (0–9, as kubectl\'s -v). Secrets are never logged' -r
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand serviceaccount" -l bound-to-secret -d 'Create a Secret and bind the token to it: deleting the Secret revokes the token'
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand serviceaccount" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand sa" -l kubeconfig -d 'Path to the kubeconfig file to use (instead of $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand sa" -l context -d 'The name of the kubeconfig context to use' -r
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand sa" -l cluster -d 'The name of the kubeconfig cluster to use' -r
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand sa" -l user -d 'The name of the kubeconfig user to use' -r
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand sa" -s n -l namespace -d 'The namespace scope for this request (default: the context\'s namespace, else "default")' -r
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand sa" -l request-timeout -d 'How long to wait for a single server request; 0 waits forever. Seconds, or a number with a unit (500ms, 1s, 2m, 3h, 1d)' -r
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand sa" -l duration -d 'How long the token is valid (at least 10m)' -r
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand sa" -l audience -d 'Audience of the token (repeatable; default: the API server\'s)' -r
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand sa" -s f -l file -d 'Write the kubeconfig to this file (mode 0600) instead of stdout' -r -F
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand sa" -s o -l output -d 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it' -r -f -a "table\t'A table, like kubectl\'s default output'
wide\t'A table with extra columns'
json\t'JSON'
yaml\t'YAML'
name\t'Names only, one per line'
jsonl\t'One JSON document per line'"
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand sa" -s v -l v -d 'Log level for diagnostics on stderr (0–9, as kubectl\'s -v). Secrets are never logged' -r
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand sa" -l bound-to-secret -d 'Create a Secret and bind the token to it: deleting the Secret revokes the token'
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand sa" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand check" -l kubeconfig -d 'Path to the kubeconfig file to use (instead of $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand check" -l context -d 'The name of the kubeconfig context to use' -r
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand check" -l cluster -d 'The name of the kubeconfig cluster to use' -r
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand check" -l user -d 'The name of the kubeconfig user to use' -r
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand check" -s n -l namespace -d 'The namespace scope for this request (default: the context\'s namespace, else "default")' -r
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand check" -l request-timeout -d 'How long to wait for a single server request; 0 waits forever. Seconds, or a number with a unit (500ms, 1s, 2m, 3h, 1d)' -r
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand check" -l timeout -d 'How long each context may take' -r
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand check" -l parallel -d 'How many contexts are checked at once' -r
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand check" -s o -l output -d 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it' -r -f -a "table\t'A table, like kubectl\'s default output'
wide\t'A table with extra columns'
json\t'JSON'
yaml\t'YAML'
name\t'Names only, one per line'
jsonl\t'One JSON document per line'"
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand check" -s v -l v -d 'Log level for diagnostics on stderr (0–9, as kubectl\'s -v). Secrets are never logged' -r
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand check" -l progress -d 'Show a progress bar (only on a terminal)'
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand completion" -s v -l v -d 'Log level for diagnostics on stderr (0–9, as kubectl\'s -v). Secrets are never logged' -r
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand completion" -s h -l help -d 'Print help'
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand help; and not __fish_seen_subcommand_from validate generate merge serviceaccount check completion help" -f -a "validate" -d 'Check a catalog and report every problem with its place in the document'
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand help; and not __fish_seen_subcommand_from validate generate merge serviceaccount check completion help" -f -a "generate" -d 'Generate kubeconfigs whose users log in with `kubectl oidc-login`'
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand help; and not __fish_seen_subcommand_from validate generate merge serviceaccount check completion help" -f -a "merge" -d 'Merge a kubeconfig into yours, showing what is added, changed and kept'
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand help; and not __fish_seen_subcommand_from validate generate merge serviceaccount check completion help" -f -a "serviceaccount" -d 'A kubeconfig for a service account, with a short-lived token (TokenRequest)'
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand help; and not __fish_seen_subcommand_from validate generate merge serviceaccount check completion help" -f -a "check" -d 'Check that contexts work: reach the API server and ask who we are'
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand help; and not __fish_seen_subcommand_from validate generate merge serviceaccount check completion help" -f -a "completion" -d 'Print a shell completion script (bash, zsh, fish, powershell, elvish)'
complete -c kubectl-kubeconfig -n "__fish_kubectl_kubeconfig_using_subcommand help; and not __fish_seen_subcommand_from validate generate merge serviceaccount check completion help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
