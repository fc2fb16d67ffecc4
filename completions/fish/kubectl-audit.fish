# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_kubectl_audit_global_optspecs
    string join \n server= skip-unavailable service= index= via-api certificate-authority= token= token-file= client-certificate= client-key= kubeconfig= context= cluster= kube-user= request-timeout= o/output= v/v= h/help V/version
end

function __fish_kubectl_audit_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_kubectl_audit_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_kubectl_audit_using_subcommand
    set -l cmd (__fish_kubectl_audit_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c kubectl-audit -n "__fish_kubectl_audit_needs_command" -l server -d 'The sink\'s URL, e.g. https://audit.example.com:9470 (default: http://127.0.0.1:9470, the address `audit-sink serve` listens on). Repeat it (or separate URLs with commas) to search, follow and count several sinks as one, newest first' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_needs_command" -l service -d 'Reach the sink through the Kubernetes API server\'s service proxy, with the kubeconfig\'s credentials' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_needs_command" -l index -d 'Open an index directory read-only, with no server (needs a build with the `index` feature)' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_needs_command" -l certificate-authority -d 'PEM file with the CA certificate(s) that signed the sink\'s TLS certificate (--server https://…)' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_needs_command" -l token -d 'Bearer token for the sink (prefer --token-file: a token on the command line is visible to other users)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_needs_command" -l token-file -d 'File holding the bearer token for the sink' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_needs_command" -l client-certificate -d 'PEM client certificate for the sink (with --client-key)' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_needs_command" -l client-key -d 'PEM private key of --client-certificate' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_needs_command" -l kubeconfig -d 'Path to the kubeconfig file to use (instead of $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_needs_command" -l context -d 'The name of the kubeconfig context to use' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_needs_command" -l cluster -d 'The name of the kubeconfig cluster to use' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_needs_command" -l kube-user -d 'The name of the kubeconfig user to use (kubectl\'s --user; --user filters events here)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_needs_command" -l request-timeout -d 'How long to wait for a single request; 0 waits forever (1s, 2m, 3h)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_needs_command" -s o -l output -d 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it' -r -f -a "table\t'A table, like kubectl\'s default output'
wide\t'A table with extra columns'
json\t'JSON'
yaml\t'YAML'
name\t'Names only, one per line'
jsonl\t'One JSON document per line'"
complete -c kubectl-audit -n "__fish_kubectl_audit_needs_command" -s v -l v -d 'Log level for diagnostics on stderr (0–9, as kubectl\'s -v). Secrets are never logged' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_needs_command" -l skip-unavailable -d 'With several --server URLs: leave out a sink that cannot be reached or answers 5xx, with a warning, instead of failing'
complete -c kubectl-audit -n "__fish_kubectl_audit_needs_command" -l via-api -d 'Read through the Kubernetes API (audit.kubext.io/v1alpha1, served by the sink behind the cluster\'s aggregator) with the kubeconfig\'s credentials and RBAC; the default when the current context\'s cluster serves it'
complete -c kubectl-audit -n "__fish_kubectl_audit_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-audit -n "__fish_kubectl_audit_needs_command" -s V -l version -d 'Print version'
complete -c kubectl-audit -n "__fish_kubectl_audit_needs_command" -f -a "search" -d 'Search audit events, newest first'
complete -c kubectl-audit -n "__fish_kubectl_audit_needs_command" -f -a "tail" -d 'Stream new matching events as they arrive, until Ctrl-C (same as `search --follow`)'
complete -c kubectl-audit -n "__fish_kubectl_audit_needs_command" -f -a "stats" -d 'Count events grouped by a field (top N with share), optionally with a histogram over time'
complete -c kubectl-audit -n "__fish_kubectl_audit_needs_command" -f -a "who" -d 'The timeline of every request that touched one object, oldest first'
complete -c kubectl-audit -n "__fish_kubectl_audit_needs_command" -f -a "rbac" -d 'Least-privilege Roles/ClusterRoles and bindings from the requests a user, service account or group made'
complete -c kubectl-audit -n "__fish_kubectl_audit_needs_command" -f -a "import" -d 'Send audit log files (the apiserver\'s JSON lines, or EKS, GKE or AKS exports; gzip\'d too) to the sink'
complete -c kubectl-audit -n "__fish_kubectl_audit_needs_command" -f -a "completion" -d 'Print a shell completion script'
complete -c kubectl-audit -n "__fish_kubectl_audit_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand search" -l user -d 'Only requests made by this user (wildcards: \'system:serviceaccount:prod:*\')' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand search" -l group -d 'Only requests by members of this group' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand search" -l verb -d 'Only these verbs (repeatable: --verb get --verb list, or --verb get,list)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand search" -l resource -d 'Only this resource; kubectl names work: deploy, po, svc, cm, secrets, deployments.apps' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand search" -l name -d 'Only objects with this name (wildcards: \'web-*\')' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand search" -l subresource -d 'Only this subresource, e.g. exec, log, status, scale' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand search" -s n -l namespace -d 'Only objects in this namespace (default: all namespaces)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand search" -l status -d 'Only responses with this code or class: 403, 4xx, 5xx (repeatable)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand search" -l stage -d 'Only this stage: RequestReceived, ResponseStarted, ResponseComplete, Panic' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand search" -l audit-cluster -d 'Only events from this cluster, as the sink recorded it (wildcards: \'prod-*\'; repeatable). Not --cluster: that is kubectl\'s kubeconfig flag' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand search" -l since -d 'Only events received in this recent span (30m, 2h, 7d) or after this RFC 3339 time' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand search" -l until -d 'Only events received before this time (a duration ago, or RFC 3339)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand search" -l from -d 'Start of the range, RFC 3339 (2024-05-01T10:00:00Z)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand search" -l to -d 'End of the range (exclusive), RFC 3339' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand search" -l limit -d 'How many events to show (one page)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand search" -l page-token -d 'Continue where a previous search stopped (printed on stderr after a full page)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand search" -l server -d 'The sink\'s URL, e.g. https://audit.example.com:9470 (default: http://127.0.0.1:9470, the address `audit-sink serve` listens on). Repeat it (or separate URLs with commas) to search, follow and count several sinks as one, newest first' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand search" -l service -d 'Reach the sink through the Kubernetes API server\'s service proxy, with the kubeconfig\'s credentials' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand search" -l index -d 'Open an index directory read-only, with no server (needs a build with the `index` feature)' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand search" -l certificate-authority -d 'PEM file with the CA certificate(s) that signed the sink\'s TLS certificate (--server https://…)' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand search" -l token -d 'Bearer token for the sink (prefer --token-file: a token on the command line is visible to other users)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand search" -l token-file -d 'File holding the bearer token for the sink' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand search" -l client-certificate -d 'PEM client certificate for the sink (with --client-key)' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand search" -l client-key -d 'PEM private key of --client-certificate' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand search" -l kubeconfig -d 'Path to the kubeconfig file to use (instead of $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand search" -l context -d 'The name of the kubeconfig context to use' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand search" -l cluster -d 'The name of the kubeconfig cluster to use' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand search" -l kube-user -d 'The name of the kubeconfig user to use (kubectl\'s --user; --user filters events here)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand search" -l request-timeout -d 'How long to wait for a single request; 0 waits forever (1s, 2m, 3h)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand search" -s o -l output -d 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it' -r -f -a "table\t'A table, like kubectl\'s default output'
wide\t'A table with extra columns'
json\t'JSON'
yaml\t'YAML'
name\t'Names only, one per line'
jsonl\t'One JSON document per line'"
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand search" -s v -l v -d 'Log level for diagnostics on stderr (0–9, as kubectl\'s -v). Secrets are never logged' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand search" -l exec -d 'exec, attach and port-forward sessions, whatever the verb (kubectl ≥ 1.35 execs with `get`)'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand search" -s A -l all-namespaces -d 'All namespaces (the default; accepted for kubectl muscle memory)'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand search" -s f -l follow -d 'After the results, keep streaming new matching events until Ctrl-C'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand search" -l all -d 'Every matching event, not one page: follows the cursor to the end, streaming (constant memory)'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand search" -l skip-unavailable -d 'With several --server URLs: leave out a sink that cannot be reached or answers 5xx, with a warning, instead of failing'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand search" -l via-api -d 'Read through the Kubernetes API (audit.kubext.io/v1alpha1, served by the sink behind the cluster\'s aggregator) with the kubeconfig\'s credentials and RBAC; the default when the current context\'s cluster serves it'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand search" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand tail" -l user -d 'Only requests made by this user (wildcards: \'system:serviceaccount:prod:*\')' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand tail" -l group -d 'Only requests by members of this group' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand tail" -l verb -d 'Only these verbs (repeatable: --verb get --verb list, or --verb get,list)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand tail" -l resource -d 'Only this resource; kubectl names work: deploy, po, svc, cm, secrets, deployments.apps' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand tail" -l name -d 'Only objects with this name (wildcards: \'web-*\')' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand tail" -l subresource -d 'Only this subresource, e.g. exec, log, status, scale' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand tail" -s n -l namespace -d 'Only objects in this namespace (default: all namespaces)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand tail" -l status -d 'Only responses with this code or class: 403, 4xx, 5xx (repeatable)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand tail" -l stage -d 'Only this stage: RequestReceived, ResponseStarted, ResponseComplete, Panic' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand tail" -l audit-cluster -d 'Only events from this cluster, as the sink recorded it (wildcards: \'prod-*\'; repeatable). Not --cluster: that is kubectl\'s kubeconfig flag' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand tail" -l since -d 'Only events received in this recent span (30m, 2h, 7d) or after this RFC 3339 time' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand tail" -l until -d 'Only events received before this time (a duration ago, or RFC 3339)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand tail" -l from -d 'Start of the range, RFC 3339 (2024-05-01T10:00:00Z)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand tail" -l to -d 'End of the range (exclusive), RFC 3339' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand tail" -l server -d 'The sink\'s URL, e.g. https://audit.example.com:9470 (default: http://127.0.0.1:9470, the address `audit-sink serve` listens on). Repeat it (or separate URLs with commas) to search, follow and count several sinks as one, newest first' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand tail" -l service -d 'Reach the sink through the Kubernetes API server\'s service proxy, with the kubeconfig\'s credentials' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand tail" -l index -d 'Open an index directory read-only, with no server (needs a build with the `index` feature)' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand tail" -l certificate-authority -d 'PEM file with the CA certificate(s) that signed the sink\'s TLS certificate (--server https://…)' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand tail" -l token -d 'Bearer token for the sink (prefer --token-file: a token on the command line is visible to other users)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand tail" -l token-file -d 'File holding the bearer token for the sink' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand tail" -l client-certificate -d 'PEM client certificate for the sink (with --client-key)' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand tail" -l client-key -d 'PEM private key of --client-certificate' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand tail" -l kubeconfig -d 'Path to the kubeconfig file to use (instead of $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand tail" -l context -d 'The name of the kubeconfig context to use' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand tail" -l cluster -d 'The name of the kubeconfig cluster to use' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand tail" -l kube-user -d 'The name of the kubeconfig user to use (kubectl\'s --user; --user filters events here)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand tail" -l request-timeout -d 'How long to wait for a single request; 0 waits forever (1s, 2m, 3h)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand tail" -s o -l output -d 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it' -r -f -a "table\t'A table, like kubectl\'s default output'
wide\t'A table with extra columns'
json\t'JSON'
yaml\t'YAML'
name\t'Names only, one per line'
jsonl\t'One JSON document per line'"
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand tail" -s v -l v -d 'Log level for diagnostics on stderr (0–9, as kubectl\'s -v). Secrets are never logged' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand tail" -l exec -d 'exec, attach and port-forward sessions, whatever the verb (kubectl ≥ 1.35 execs with `get`)'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand tail" -s A -l all-namespaces -d 'All namespaces (the default; accepted for kubectl muscle memory)'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand tail" -l skip-unavailable -d 'With several --server URLs: leave out a sink that cannot be reached or answers 5xx, with a warning, instead of failing'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand tail" -l via-api -d 'Read through the Kubernetes API (audit.kubext.io/v1alpha1, served by the sink behind the cluster\'s aggregator) with the kubeconfig\'s credentials and RBAC; the default when the current context\'s cluster serves it'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand tail" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand stats" -l user -d 'Only requests made by this user (wildcards: \'system:serviceaccount:prod:*\')' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand stats" -l group -d 'Only requests by members of this group' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand stats" -l verb -d 'Only these verbs (repeatable: --verb get --verb list, or --verb get,list)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand stats" -l resource -d 'Only this resource; kubectl names work: deploy, po, svc, cm, secrets, deployments.apps' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand stats" -l name -d 'Only objects with this name (wildcards: \'web-*\')' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand stats" -l subresource -d 'Only this subresource, e.g. exec, log, status, scale' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand stats" -s n -l namespace -d 'Only objects in this namespace (default: all namespaces)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand stats" -l status -d 'Only responses with this code or class: 403, 4xx, 5xx (repeatable)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand stats" -l stage -d 'Only this stage: RequestReceived, ResponseStarted, ResponseComplete, Panic' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand stats" -l audit-cluster -d 'Only events from this cluster, as the sink recorded it (wildcards: \'prod-*\'; repeatable). Not --cluster: that is kubectl\'s kubeconfig flag' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand stats" -l since -d 'Only events received in this recent span (30m, 2h, 7d) or after this RFC 3339 time' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand stats" -l until -d 'Only events received before this time (a duration ago, or RFC 3339)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand stats" -l from -d 'Start of the range, RFC 3339 (2024-05-01T10:00:00Z)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand stats" -l to -d 'End of the range (exclusive), RFC 3339' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand stats" -l by -d 'Group by this field: user, verb, resource, namespace, code (or any groupable query field)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand stats" -l top -d 'How many groups to show' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand stats" -l interval -d 'Histogram bucket width (5m, 1h, 1d); default picked from the time range' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand stats" -l server -d 'The sink\'s URL, e.g. https://audit.example.com:9470 (default: http://127.0.0.1:9470, the address `audit-sink serve` listens on). Repeat it (or separate URLs with commas) to search, follow and count several sinks as one, newest first' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand stats" -l service -d 'Reach the sink through the Kubernetes API server\'s service proxy, with the kubeconfig\'s credentials' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand stats" -l index -d 'Open an index directory read-only, with no server (needs a build with the `index` feature)' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand stats" -l certificate-authority -d 'PEM file with the CA certificate(s) that signed the sink\'s TLS certificate (--server https://…)' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand stats" -l token -d 'Bearer token for the sink (prefer --token-file: a token on the command line is visible to other users)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand stats" -l token-file -d 'File holding the bearer token for the sink' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand stats" -l client-certificate -d 'PEM client certificate for the sink (with --client-key)' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand stats" -l client-key -d 'PEM private key of --client-certificate' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand stats" -l kubeconfig -d 'Path to the kubeconfig file to use (instead of $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand stats" -l context -d 'The name of the kubeconfig context to use' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand stats" -l cluster -d 'The name of the kubeconfig cluster to use' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand stats" -l kube-user -d 'The name of the kubeconfig user to use (kubectl\'s --user; --user filters events here)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand stats" -l request-timeout -d 'How long to wait for a single request; 0 waits forever (1s, 2m, 3h)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand stats" -s o -l output -d 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it' -r -f -a "table\t'A table, like kubectl\'s default output'
wide\t'A table with extra columns'
json\t'JSON'
yaml\t'YAML'
name\t'Names only, one per line'
jsonl\t'One JSON document per line'"
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand stats" -s v -l v -d 'Log level for diagnostics on stderr (0–9, as kubectl\'s -v). Secrets are never logged' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand stats" -l exec -d 'exec, attach and port-forward sessions, whatever the verb (kubectl ≥ 1.35 execs with `get`)'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand stats" -s A -l all-namespaces -d 'All namespaces (the default; accepted for kubectl muscle memory)'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand stats" -l histogram -d 'Also show a histogram of matching events over time'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand stats" -l skip-unavailable -d 'With several --server URLs: leave out a sink that cannot be reached or answers 5xx, with a warning, instead of failing'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand stats" -l via-api -d 'Read through the Kubernetes API (audit.kubext.io/v1alpha1, served by the sink behind the cluster\'s aggregator) with the kubeconfig\'s credentials and RBAC; the default when the current context\'s cluster serves it'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand stats" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand who" -s n -l namespace -d 'The object\'s namespace (default: the kubeconfig context\'s, else "default")' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand who" -l audit-cluster -d 'Only events from this cluster, as the sink recorded it (wildcards: \'prod-*\'; repeatable)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand who" -l since -d 'Only events received in this recent span (30m, 2h, 7d) or after this RFC 3339 time' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand who" -l until -d 'Only events received before this time (a duration ago, or RFC 3339)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand who" -l from -d 'Start of the range, RFC 3339 (2024-05-01T10:00:00Z)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand who" -l to -d 'End of the range (exclusive), RFC 3339' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand who" -l limit -d 'At most this many events (the oldest are kept)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand who" -l server -d 'The sink\'s URL, e.g. https://audit.example.com:9470 (default: http://127.0.0.1:9470, the address `audit-sink serve` listens on). Repeat it (or separate URLs with commas) to search, follow and count several sinks as one, newest first' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand who" -l service -d 'Reach the sink through the Kubernetes API server\'s service proxy, with the kubeconfig\'s credentials' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand who" -l index -d 'Open an index directory read-only, with no server (needs a build with the `index` feature)' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand who" -l certificate-authority -d 'PEM file with the CA certificate(s) that signed the sink\'s TLS certificate (--server https://…)' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand who" -l token -d 'Bearer token for the sink (prefer --token-file: a token on the command line is visible to other users)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand who" -l token-file -d 'File holding the bearer token for the sink' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand who" -l client-certificate -d 'PEM client certificate for the sink (with --client-key)' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand who" -l client-key -d 'PEM private key of --client-certificate' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand who" -l kubeconfig -d 'Path to the kubeconfig file to use (instead of $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand who" -l context -d 'The name of the kubeconfig context to use' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand who" -l cluster -d 'The name of the kubeconfig cluster to use' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand who" -l kube-user -d 'The name of the kubeconfig user to use (kubectl\'s --user; --user filters events here)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand who" -l request-timeout -d 'How long to wait for a single request; 0 waits forever (1s, 2m, 3h)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand who" -s o -l output -d 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it' -r -f -a "table\t'A table, like kubectl\'s default output'
wide\t'A table with extra columns'
json\t'JSON'
yaml\t'YAML'
name\t'Names only, one per line'
jsonl\t'One JSON document per line'"
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand who" -s v -l v -d 'Log level for diagnostics on stderr (0–9, as kubectl\'s -v). Secrets are never logged' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand who" -l skip-unavailable -d 'With several --server URLs: leave out a sink that cannot be reached or answers 5xx, with a warning, instead of failing'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand who" -l via-api -d 'Read through the Kubernetes API (audit.kubext.io/v1alpha1, served by the sink behind the cluster\'s aggregator) with the kubeconfig\'s credentials and RBAC; the default when the current context\'s cluster serves it'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand who" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand rbac" -l verb -d 'Only these verbs (repeatable: --verb get --verb list, or --verb get,list)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand rbac" -l resource -d 'Only this resource; kubectl names work: deploy, po, svc, cm, secrets, deployments.apps' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand rbac" -l subresource -d 'Only this subresource, e.g. exec, log, status, scale' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand rbac" -s n -l namespace -d 'Only objects in this namespace (default: all namespaces)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand rbac" -l status -d 'Only responses with this code or class: 403, 4xx, 5xx (repeatable)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand rbac" -l stage -d 'Only this stage: RequestReceived, ResponseStarted, ResponseComplete, Panic' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand rbac" -l audit-cluster -d 'Only events from this cluster, as the sink recorded it (wildcards: \'prod-*\'; repeatable). Not --cluster: that is kubectl\'s kubeconfig flag' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand rbac" -l since -d 'Only events received in this recent span (30m, 2h, 7d) or after this RFC 3339 time' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand rbac" -l until -d 'Only events received before this time (a duration ago, or RFC 3339)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand rbac" -l from -d 'Start of the range, RFC 3339 (2024-05-01T10:00:00Z)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand rbac" -l to -d 'End of the range (exclusive), RFC 3339' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand rbac" -l serviceaccount -d 'The service account whose requests to read, as NAMESPACE/NAME (the user system:serviceaccount:NAMESPACE:NAME)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand rbac" -l name -d 'Name of the generated Roles, ClusterRole and bindings (default: kubext-rbac:SUBJECT)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand rbac" -l object-name -d 'Only objects with this name (wildcards: \'web-*\')' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand rbac" -l user -d 'The user whose requests to read (its exact name)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand rbac" -l group -d 'The group whose members\' requests to read (its exact name)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand rbac" -l server -d 'The sink\'s URL, e.g. https://audit.example.com:9470 (default: http://127.0.0.1:9470, the address `audit-sink serve` listens on). Repeat it (or separate URLs with commas) to search, follow and count several sinks as one, newest first' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand rbac" -l service -d 'Reach the sink through the Kubernetes API server\'s service proxy, with the kubeconfig\'s credentials' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand rbac" -l index -d 'Open an index directory read-only, with no server (needs a build with the `index` feature)' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand rbac" -l certificate-authority -d 'PEM file with the CA certificate(s) that signed the sink\'s TLS certificate (--server https://…)' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand rbac" -l token -d 'Bearer token for the sink (prefer --token-file: a token on the command line is visible to other users)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand rbac" -l token-file -d 'File holding the bearer token for the sink' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand rbac" -l client-certificate -d 'PEM client certificate for the sink (with --client-key)' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand rbac" -l client-key -d 'PEM private key of --client-certificate' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand rbac" -l kubeconfig -d 'Path to the kubeconfig file to use (instead of $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand rbac" -l context -d 'The name of the kubeconfig context to use' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand rbac" -l cluster -d 'The name of the kubeconfig cluster to use' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand rbac" -l kube-user -d 'The name of the kubeconfig user to use (kubectl\'s --user; --user filters events here)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand rbac" -l request-timeout -d 'How long to wait for a single request; 0 waits forever (1s, 2m, 3h)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand rbac" -s o -l output -d 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it' -r -f -a "table\t'A table, like kubectl\'s default output'
wide\t'A table with extra columns'
json\t'JSON'
yaml\t'YAML'
name\t'Names only, one per line'
jsonl\t'One JSON document per line'"
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand rbac" -s v -l v -d 'Log level for diagnostics on stderr (0–9, as kubectl\'s -v). Secrets are never logged' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand rbac" -l exec -d 'exec, attach and port-forward sessions, whatever the verb (kubectl ≥ 1.35 execs with `get`)'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand rbac" -s A -l all-namespaces -d 'All namespaces (the default; accepted for kubectl muscle memory)'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand rbac" -l resource-names -d 'Limit rules to the objects named, for verbs only ever used on named objects (never create, list, watch)'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand rbac" -l cluster-scope -d 'Grant everything cluster-wide in one ClusterRole instead of a Role per namespace'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand rbac" -l existing -d 'Compare with what the subject\'s bindings in the kubeconfig\'s cluster grant, and show what was never used'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand rbac" -l skip-unavailable -d 'With several --server URLs: leave out a sink that cannot be reached or answers 5xx, with a warning, instead of failing'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand rbac" -l via-api -d 'Read through the Kubernetes API (audit.kubext.io/v1alpha1, served by the sink behind the cluster\'s aggregator) with the kubeconfig\'s credentials and RBAC; the default when the current context\'s cluster serves it'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand rbac" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand import" -l format -d 'Input format: auto (told from each file\'s content), apiserver, eks, gke or aks' -r -f -a "auto\t''
apiserver\t''
eks\t''
gke\t''
aks\t''"
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand import" -l audit-cluster -d 'Cluster of the imported events when the file does not name it (EKS CloudWatch output and S3 exports, the apiserver\'s log)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand import" -l dead-letters -d 'Also write the records that are not stored (with their reason) to this file, as JSON lines' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand import" -l batch-size -d 'Events per EventList sent to the sink (the apiserver\'s webhook default)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand import" -l server -d 'The sink\'s URL, e.g. https://audit.example.com:9470 (default: http://127.0.0.1:9470, the address `audit-sink serve` listens on). Repeat it (or separate URLs with commas) to search, follow and count several sinks as one, newest first' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand import" -l service -d 'Reach the sink through the Kubernetes API server\'s service proxy, with the kubeconfig\'s credentials' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand import" -l index -d 'Open an index directory read-only, with no server (needs a build with the `index` feature)' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand import" -l certificate-authority -d 'PEM file with the CA certificate(s) that signed the sink\'s TLS certificate (--server https://…)' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand import" -l token -d 'Bearer token for the sink (prefer --token-file: a token on the command line is visible to other users)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand import" -l token-file -d 'File holding the bearer token for the sink' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand import" -l client-certificate -d 'PEM client certificate for the sink (with --client-key)' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand import" -l client-key -d 'PEM private key of --client-certificate' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand import" -l kubeconfig -d 'Path to the kubeconfig file to use (instead of $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand import" -l context -d 'The name of the kubeconfig context to use' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand import" -l cluster -d 'The name of the kubeconfig cluster to use' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand import" -l kube-user -d 'The name of the kubeconfig user to use (kubectl\'s --user; --user filters events here)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand import" -l request-timeout -d 'How long to wait for a single request; 0 waits forever (1s, 2m, 3h)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand import" -s o -l output -d 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it' -r -f -a "table\t'A table, like kubectl\'s default output'
wide\t'A table with extra columns'
json\t'JSON'
yaml\t'YAML'
name\t'Names only, one per line'
jsonl\t'One JSON document per line'"
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand import" -s v -l v -d 'Log level for diagnostics on stderr (0–9, as kubectl\'s -v). Secrets are never logged' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand import" -l no-progress -d 'Hide the progress bar (it is hidden anyway when stderr is not a terminal)'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand import" -l skip-unavailable -d 'With several --server URLs: leave out a sink that cannot be reached or answers 5xx, with a warning, instead of failing'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand import" -l via-api -d 'Read through the Kubernetes API (audit.kubext.io/v1alpha1, served by the sink behind the cluster\'s aggregator) with the kubeconfig\'s credentials and RBAC; the default when the current context\'s cluster serves it'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand completion" -l server -d 'The sink\'s URL, e.g. https://audit.example.com:9470 (default: http://127.0.0.1:9470, the address `audit-sink serve` listens on). Repeat it (or separate URLs with commas) to search, follow and count several sinks as one, newest first' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand completion" -l service -d 'Reach the sink through the Kubernetes API server\'s service proxy, with the kubeconfig\'s credentials' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand completion" -l index -d 'Open an index directory read-only, with no server (needs a build with the `index` feature)' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand completion" -l certificate-authority -d 'PEM file with the CA certificate(s) that signed the sink\'s TLS certificate (--server https://…)' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand completion" -l token -d 'Bearer token for the sink (prefer --token-file: a token on the command line is visible to other users)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand completion" -l token-file -d 'File holding the bearer token for the sink' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand completion" -l client-certificate -d 'PEM client certificate for the sink (with --client-key)' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand completion" -l client-key -d 'PEM private key of --client-certificate' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand completion" -l kubeconfig -d 'Path to the kubeconfig file to use (instead of $KUBECONFIG or ~/.kube/config)' -r -F
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand completion" -l context -d 'The name of the kubeconfig context to use' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand completion" -l cluster -d 'The name of the kubeconfig cluster to use' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand completion" -l kube-user -d 'The name of the kubeconfig user to use (kubectl\'s --user; --user filters events here)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand completion" -l request-timeout -d 'How long to wait for a single request; 0 waits forever (1s, 2m, 3h)' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand completion" -s o -l output -d 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it' -r -f -a "table\t'A table, like kubectl\'s default output'
wide\t'A table with extra columns'
json\t'JSON'
yaml\t'YAML'
name\t'Names only, one per line'
jsonl\t'One JSON document per line'"
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand completion" -s v -l v -d 'Log level for diagnostics on stderr (0–9, as kubectl\'s -v). Secrets are never logged' -r
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand completion" -l skip-unavailable -d 'With several --server URLs: leave out a sink that cannot be reached or answers 5xx, with a warning, instead of failing'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand completion" -l via-api -d 'Read through the Kubernetes API (audit.kubext.io/v1alpha1, served by the sink behind the cluster\'s aggregator) with the kubeconfig\'s credentials and RBAC; the default when the current context\'s cluster serves it'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand completion" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand help; and not __fish_seen_subcommand_from search tail stats who rbac import completion help" -f -a "search" -d 'Search audit events, newest first'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand help; and not __fish_seen_subcommand_from search tail stats who rbac import completion help" -f -a "tail" -d 'Stream new matching events as they arrive, until Ctrl-C (same as `search --follow`)'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand help; and not __fish_seen_subcommand_from search tail stats who rbac import completion help" -f -a "stats" -d 'Count events grouped by a field (top N with share), optionally with a histogram over time'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand help; and not __fish_seen_subcommand_from search tail stats who rbac import completion help" -f -a "who" -d 'The timeline of every request that touched one object, oldest first'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand help; and not __fish_seen_subcommand_from search tail stats who rbac import completion help" -f -a "rbac" -d 'Least-privilege Roles/ClusterRoles and bindings from the requests a user, service account or group made'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand help; and not __fish_seen_subcommand_from search tail stats who rbac import completion help" -f -a "import" -d 'Send audit log files (the apiserver\'s JSON lines, or EKS, GKE or AKS exports; gzip\'d too) to the sink'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand help; and not __fish_seen_subcommand_from search tail stats who rbac import completion help" -f -a "completion" -d 'Print a shell completion script'
complete -c kubectl-audit -n "__fish_kubectl_audit_using_subcommand help; and not __fish_seen_subcommand_from search tail stats who rbac import completion help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
