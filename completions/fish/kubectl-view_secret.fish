# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_kubectl_view_secret_global_optspecs
    string join \n a/all q/quiet A/all-namespaces raw interpret show-passwords values as= as-group= kubeconfig= context= cluster= user= n/namespace= request-timeout= o/output= v/v= h/help V/version
end

function __fish_kubectl_view_secret_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_kubectl_view_secret_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_kubectl_view_secret_using_subcommand
    set -l cmd (__fish_kubectl_view_secret_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c kubectl-view_secret -n "__fish_kubectl_view_secret_needs_command" -l as -d 'Username to impersonate for the request (a user or system:serviceaccount:NS:NAME)' -r
complete -c kubectl-view_secret -n "__fish_kubectl_view_secret_needs_command" -l as-group -d 'Group to impersonate for the request; repeat for several groups' -r
complete -c kubectl-view_secret -n "__fish_kubectl_view_secret_needs_command" -l kubeconfig -d 'Path to the kubeconfig file to use (instead of $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-view_secret -n "__fish_kubectl_view_secret_needs_command" -l context -d 'The name of the kubeconfig context to use' -r
complete -c kubectl-view_secret -n "__fish_kubectl_view_secret_needs_command" -l cluster -d 'The name of the kubeconfig cluster to use' -r
complete -c kubectl-view_secret -n "__fish_kubectl_view_secret_needs_command" -l user -d 'The name of the kubeconfig user to use' -r
complete -c kubectl-view_secret -n "__fish_kubectl_view_secret_needs_command" -s n -l namespace -d 'The namespace scope for this request (default: the context\'s namespace, else "default")' -r
complete -c kubectl-view_secret -n "__fish_kubectl_view_secret_needs_command" -l request-timeout -d 'How long to wait for a single server request; 0 waits forever. Seconds, or a number with a unit (500ms, 1s, 2m, 3h, 1d)' -r
complete -c kubectl-view_secret -n "__fish_kubectl_view_secret_needs_command" -s o -l output -d 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it' -r -f -a "table\t'A table, like kubectl\'s default output'
wide\t'A table with extra columns'
json\t'JSON'
yaml\t'YAML'
name\t'Names only, one per line'
jsonl\t'One JSON document per line'"
complete -c kubectl-view_secret -n "__fish_kubectl_view_secret_needs_command" -s v -l v -d 'Log level for diagnostics on stderr (0–9, as kubectl\'s -v). Secrets are never logged' -r
complete -c kubectl-view_secret -n "__fish_kubectl_view_secret_needs_command" -s a -l all -d 'Show every key, as key=\'value\' blocks'
complete -c kubectl-view_secret -n "__fish_kubectl_view_secret_needs_command" -s q -l quiet -d 'Drop the informational lines on stderr'
complete -c kubectl-view_secret -n "__fish_kubectl_view_secret_needs_command" -s A -l all-namespaces -d 'Search every namespace you can read for secrets whose names start with NAME'
complete -c kubectl-view_secret -n "__fish_kubectl_view_secret_needs_command" -l raw -d 'Print values exactly as stored: no certificate, registry, Helm or binary interpretation'
complete -c kubectl-view_secret -n "__fish_kubectl_view_secret_needs_command" -l interpret -d 'Interpret values (certificates, registries, Helm releases, hex dumps) even when stdout is not a terminal'
complete -c kubectl-view_secret -n "__fish_kubectl_view_secret_needs_command" -l show-passwords -d 'Show registry passwords of docker config secrets (hidden otherwise)'
complete -c kubectl-view_secret -n "__fish_kubectl_view_secret_needs_command" -l values -d 'Show the user-supplied values of a Helm release'
complete -c kubectl-view_secret -n "__fish_kubectl_view_secret_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-view_secret -n "__fish_kubectl_view_secret_needs_command" -s V -l version -d 'Print version'
complete -c kubectl-view_secret -n "__fish_kubectl_view_secret_needs_command" -a "completion" -d 'Print a shell completion script (bash, zsh, fish, powershell, elvish)'
complete -c kubectl-view_secret -n "__fish_kubectl_view_secret_using_subcommand completion" -l kubeconfig -d 'Path to the kubeconfig file to use (instead of $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-view_secret -n "__fish_kubectl_view_secret_using_subcommand completion" -l context -d 'The name of the kubeconfig context to use' -r
complete -c kubectl-view_secret -n "__fish_kubectl_view_secret_using_subcommand completion" -l cluster -d 'The name of the kubeconfig cluster to use' -r
complete -c kubectl-view_secret -n "__fish_kubectl_view_secret_using_subcommand completion" -l user -d 'The name of the kubeconfig user to use' -r
complete -c kubectl-view_secret -n "__fish_kubectl_view_secret_using_subcommand completion" -s n -l namespace -d 'The namespace scope for this request (default: the context\'s namespace, else "default")' -r
complete -c kubectl-view_secret -n "__fish_kubectl_view_secret_using_subcommand completion" -l request-timeout -d 'How long to wait for a single server request; 0 waits forever. Seconds, or a number with a unit (500ms, 1s, 2m, 3h, 1d)' -r
complete -c kubectl-view_secret -n "__fish_kubectl_view_secret_using_subcommand completion" -s o -l output -d 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it' -r -f -a "table\t'A table, like kubectl\'s default output'
wide\t'A table with extra columns'
json\t'JSON'
yaml\t'YAML'
name\t'Names only, one per line'
jsonl\t'One JSON document per line'"
complete -c kubectl-view_secret -n "__fish_kubectl_view_secret_using_subcommand completion" -s v -l v -d 'Log level for diagnostics on stderr (0–9, as kubectl\'s -v). Secrets are never logged' -r
complete -c kubectl-view_secret -n "__fish_kubectl_view_secret_using_subcommand completion" -s h -l help -d 'Print help (see more with \'--help\')'
