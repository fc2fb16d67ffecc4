
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'kubectl-audit' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'kubectl-audit'
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
        'kubectl-audit' {
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The sink''s URL, e.g. https://audit.example.com:9470 (default: http://127.0.0.1:9470, the address `audit-sink serve` listens on). Repeat it (or separate URLs with commas) to search, follow and count several sinks as one, newest first')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Reach the sink through the Kubernetes API server''s service proxy, with the kubeconfig''s credentials')
            [CompletionResult]::new('--index', '--index', [CompletionResultType]::ParameterName, 'Open an index directory read-only, with no server (needs a build with the `index` feature)')
            [CompletionResult]::new('--certificate-authority', '--certificate-authority', [CompletionResultType]::ParameterName, 'PEM file with the CA certificate(s) that signed the sink''s TLS certificate (--server https://…)')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Bearer token for the sink (prefer --token-file: a token on the command line is visible to other users)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the bearer token for the sink')
            [CompletionResult]::new('--client-certificate', '--client-certificate', [CompletionResultType]::ParameterName, 'PEM client certificate for the sink (with --client-key)')
            [CompletionResult]::new('--client-key', '--client-key', [CompletionResultType]::ParameterName, 'PEM private key of --client-certificate')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file to use (instead of $KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The name of the kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The name of the kubeconfig cluster to use')
            [CompletionResult]::new('--kube-user', '--kube-user', [CompletionResultType]::ParameterName, 'The name of the kubeconfig user to use (kubectl''s --user; --user filters events here)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a single request; 0 waits forever (1s, 2m, 3h)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log level for diagnostics on stderr (0–9, as kubectl''s -v). Secrets are never logged')
            [CompletionResult]::new('--v', '--v', [CompletionResultType]::ParameterName, 'Log level for diagnostics on stderr (0–9, as kubectl''s -v). Secrets are never logged')
            [CompletionResult]::new('--skip-unavailable', '--skip-unavailable', [CompletionResultType]::ParameterName, 'With several --server URLs: leave out a sink that cannot be reached or answers 5xx, with a warning, instead of failing')
            [CompletionResult]::new('--via-api', '--via-api', [CompletionResultType]::ParameterName, 'Read through the Kubernetes API (audit.kubext.io/v1alpha1, served by the sink behind the cluster''s aggregator) with the kubeconfig''s credentials and RBAC; the default when the current context''s cluster serves it')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('search', 'search', [CompletionResultType]::ParameterValue, 'Search audit events, newest first')
            [CompletionResult]::new('tail', 'tail', [CompletionResultType]::ParameterValue, 'Stream new matching events as they arrive, until Ctrl-C (same as `search --follow`)')
            [CompletionResult]::new('stats', 'stats', [CompletionResultType]::ParameterValue, 'Count events grouped by a field (top N with share), optionally with a histogram over time')
            [CompletionResult]::new('who', 'who', [CompletionResultType]::ParameterValue, 'The timeline of every request that touched one object, oldest first')
            [CompletionResult]::new('rbac', 'rbac', [CompletionResultType]::ParameterValue, 'Least-privilege Roles/ClusterRoles and bindings from the requests a user, service account or group made')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Send audit log files (the apiserver''s JSON lines, or EKS, GKE or AKS exports; gzip''d too) to the sink')
            [CompletionResult]::new('completion', 'completion', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-audit;search' {
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Only requests made by this user (wildcards: ''system:serviceaccount:prod:*'')')
            [CompletionResult]::new('--group', '--group', [CompletionResultType]::ParameterName, 'Only requests by members of this group')
            [CompletionResult]::new('--verb', '--verb', [CompletionResultType]::ParameterName, 'Only these verbs (repeatable: --verb get --verb list, or --verb get,list)')
            [CompletionResult]::new('--resource', '--resource', [CompletionResultType]::ParameterName, 'Only this resource; kubectl names work: deploy, po, svc, cm, secrets, deployments.apps')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Only objects with this name (wildcards: ''web-*'')')
            [CompletionResult]::new('--subresource', '--subresource', [CompletionResultType]::ParameterName, 'Only this subresource, e.g. exec, log, status, scale')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Only objects in this namespace (default: all namespaces)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Only objects in this namespace (default: all namespaces)')
            [CompletionResult]::new('--status', '--status', [CompletionResultType]::ParameterName, 'Only responses with this code or class: 403, 4xx, 5xx (repeatable)')
            [CompletionResult]::new('--stage', '--stage', [CompletionResultType]::ParameterName, 'Only this stage: RequestReceived, ResponseStarted, ResponseComplete, Panic')
            [CompletionResult]::new('--audit-cluster', '--audit-cluster', [CompletionResultType]::ParameterName, 'Only events from this cluster, as the sink recorded it (wildcards: ''prod-*''; repeatable). Not --cluster: that is kubectl''s kubeconfig flag')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only events received in this recent span (30m, 2h, 7d) or after this RFC 3339 time')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only events received before this time (a duration ago, or RFC 3339)')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'Start of the range, RFC 3339 (2024-05-01T10:00:00Z)')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'End of the range (exclusive), RFC 3339')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'How many events to show (one page)')
            [CompletionResult]::new('--page-token', '--page-token', [CompletionResultType]::ParameterName, 'Continue where a previous search stopped (printed on stderr after a full page)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The sink''s URL, e.g. https://audit.example.com:9470 (default: http://127.0.0.1:9470, the address `audit-sink serve` listens on). Repeat it (or separate URLs with commas) to search, follow and count several sinks as one, newest first')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Reach the sink through the Kubernetes API server''s service proxy, with the kubeconfig''s credentials')
            [CompletionResult]::new('--index', '--index', [CompletionResultType]::ParameterName, 'Open an index directory read-only, with no server (needs a build with the `index` feature)')
            [CompletionResult]::new('--certificate-authority', '--certificate-authority', [CompletionResultType]::ParameterName, 'PEM file with the CA certificate(s) that signed the sink''s TLS certificate (--server https://…)')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Bearer token for the sink (prefer --token-file: a token on the command line is visible to other users)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the bearer token for the sink')
            [CompletionResult]::new('--client-certificate', '--client-certificate', [CompletionResultType]::ParameterName, 'PEM client certificate for the sink (with --client-key)')
            [CompletionResult]::new('--client-key', '--client-key', [CompletionResultType]::ParameterName, 'PEM private key of --client-certificate')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file to use (instead of $KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The name of the kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The name of the kubeconfig cluster to use')
            [CompletionResult]::new('--kube-user', '--kube-user', [CompletionResultType]::ParameterName, 'The name of the kubeconfig user to use (kubectl''s --user; --user filters events here)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a single request; 0 waits forever (1s, 2m, 3h)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log level for diagnostics on stderr (0–9, as kubectl''s -v). Secrets are never logged')
            [CompletionResult]::new('--v', '--v', [CompletionResultType]::ParameterName, 'Log level for diagnostics on stderr (0–9, as kubectl''s -v). Secrets are never logged')
            [CompletionResult]::new('--exec', '--exec', [CompletionResultType]::ParameterName, 'exec, attach and port-forward sessions, whatever the verb (kubectl ≥ 1.35 execs with `get`)')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'All namespaces (the default; accepted for kubectl muscle memory)')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'All namespaces (the default; accepted for kubectl muscle memory)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'After the results, keep streaming new matching events until Ctrl-C')
            [CompletionResult]::new('--follow', '--follow', [CompletionResultType]::ParameterName, 'After the results, keep streaming new matching events until Ctrl-C')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every matching event, not one page: follows the cursor to the end, streaming (constant memory)')
            [CompletionResult]::new('--skip-unavailable', '--skip-unavailable', [CompletionResultType]::ParameterName, 'With several --server URLs: leave out a sink that cannot be reached or answers 5xx, with a warning, instead of failing')
            [CompletionResult]::new('--via-api', '--via-api', [CompletionResultType]::ParameterName, 'Read through the Kubernetes API (audit.kubext.io/v1alpha1, served by the sink behind the cluster''s aggregator) with the kubeconfig''s credentials and RBAC; the default when the current context''s cluster serves it')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-audit;tail' {
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Only requests made by this user (wildcards: ''system:serviceaccount:prod:*'')')
            [CompletionResult]::new('--group', '--group', [CompletionResultType]::ParameterName, 'Only requests by members of this group')
            [CompletionResult]::new('--verb', '--verb', [CompletionResultType]::ParameterName, 'Only these verbs (repeatable: --verb get --verb list, or --verb get,list)')
            [CompletionResult]::new('--resource', '--resource', [CompletionResultType]::ParameterName, 'Only this resource; kubectl names work: deploy, po, svc, cm, secrets, deployments.apps')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Only objects with this name (wildcards: ''web-*'')')
            [CompletionResult]::new('--subresource', '--subresource', [CompletionResultType]::ParameterName, 'Only this subresource, e.g. exec, log, status, scale')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Only objects in this namespace (default: all namespaces)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Only objects in this namespace (default: all namespaces)')
            [CompletionResult]::new('--status', '--status', [CompletionResultType]::ParameterName, 'Only responses with this code or class: 403, 4xx, 5xx (repeatable)')
            [CompletionResult]::new('--stage', '--stage', [CompletionResultType]::ParameterName, 'Only this stage: RequestReceived, ResponseStarted, ResponseComplete, Panic')
            [CompletionResult]::new('--audit-cluster', '--audit-cluster', [CompletionResultType]::ParameterName, 'Only events from this cluster, as the sink recorded it (wildcards: ''prod-*''; repeatable). Not --cluster: that is kubectl''s kubeconfig flag')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only events received in this recent span (30m, 2h, 7d) or after this RFC 3339 time')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only events received before this time (a duration ago, or RFC 3339)')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'Start of the range, RFC 3339 (2024-05-01T10:00:00Z)')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'End of the range (exclusive), RFC 3339')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The sink''s URL, e.g. https://audit.example.com:9470 (default: http://127.0.0.1:9470, the address `audit-sink serve` listens on). Repeat it (or separate URLs with commas) to search, follow and count several sinks as one, newest first')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Reach the sink through the Kubernetes API server''s service proxy, with the kubeconfig''s credentials')
            [CompletionResult]::new('--index', '--index', [CompletionResultType]::ParameterName, 'Open an index directory read-only, with no server (needs a build with the `index` feature)')
            [CompletionResult]::new('--certificate-authority', '--certificate-authority', [CompletionResultType]::ParameterName, 'PEM file with the CA certificate(s) that signed the sink''s TLS certificate (--server https://…)')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Bearer token for the sink (prefer --token-file: a token on the command line is visible to other users)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the bearer token for the sink')
            [CompletionResult]::new('--client-certificate', '--client-certificate', [CompletionResultType]::ParameterName, 'PEM client certificate for the sink (with --client-key)')
            [CompletionResult]::new('--client-key', '--client-key', [CompletionResultType]::ParameterName, 'PEM private key of --client-certificate')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file to use (instead of $KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The name of the kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The name of the kubeconfig cluster to use')
            [CompletionResult]::new('--kube-user', '--kube-user', [CompletionResultType]::ParameterName, 'The name of the kubeconfig user to use (kubectl''s --user; --user filters events here)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a single request; 0 waits forever (1s, 2m, 3h)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log level for diagnostics on stderr (0–9, as kubectl''s -v). Secrets are never logged')
            [CompletionResult]::new('--v', '--v', [CompletionResultType]::ParameterName, 'Log level for diagnostics on stderr (0–9, as kubectl''s -v). Secrets are never logged')
            [CompletionResult]::new('--exec', '--exec', [CompletionResultType]::ParameterName, 'exec, attach and port-forward sessions, whatever the verb (kubectl ≥ 1.35 execs with `get`)')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'All namespaces (the default; accepted for kubectl muscle memory)')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'All namespaces (the default; accepted for kubectl muscle memory)')
            [CompletionResult]::new('--skip-unavailable', '--skip-unavailable', [CompletionResultType]::ParameterName, 'With several --server URLs: leave out a sink that cannot be reached or answers 5xx, with a warning, instead of failing')
            [CompletionResult]::new('--via-api', '--via-api', [CompletionResultType]::ParameterName, 'Read through the Kubernetes API (audit.kubext.io/v1alpha1, served by the sink behind the cluster''s aggregator) with the kubeconfig''s credentials and RBAC; the default when the current context''s cluster serves it')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-audit;stats' {
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Only requests made by this user (wildcards: ''system:serviceaccount:prod:*'')')
            [CompletionResult]::new('--group', '--group', [CompletionResultType]::ParameterName, 'Only requests by members of this group')
            [CompletionResult]::new('--verb', '--verb', [CompletionResultType]::ParameterName, 'Only these verbs (repeatable: --verb get --verb list, or --verb get,list)')
            [CompletionResult]::new('--resource', '--resource', [CompletionResultType]::ParameterName, 'Only this resource; kubectl names work: deploy, po, svc, cm, secrets, deployments.apps')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Only objects with this name (wildcards: ''web-*'')')
            [CompletionResult]::new('--subresource', '--subresource', [CompletionResultType]::ParameterName, 'Only this subresource, e.g. exec, log, status, scale')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Only objects in this namespace (default: all namespaces)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Only objects in this namespace (default: all namespaces)')
            [CompletionResult]::new('--status', '--status', [CompletionResultType]::ParameterName, 'Only responses with this code or class: 403, 4xx, 5xx (repeatable)')
            [CompletionResult]::new('--stage', '--stage', [CompletionResultType]::ParameterName, 'Only this stage: RequestReceived, ResponseStarted, ResponseComplete, Panic')
            [CompletionResult]::new('--audit-cluster', '--audit-cluster', [CompletionResultType]::ParameterName, 'Only events from this cluster, as the sink recorded it (wildcards: ''prod-*''; repeatable). Not --cluster: that is kubectl''s kubeconfig flag')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only events received in this recent span (30m, 2h, 7d) or after this RFC 3339 time')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only events received before this time (a duration ago, or RFC 3339)')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'Start of the range, RFC 3339 (2024-05-01T10:00:00Z)')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'End of the range (exclusive), RFC 3339')
            [CompletionResult]::new('--by', '--by', [CompletionResultType]::ParameterName, 'Group by this field: user, verb, resource, namespace, code (or any groupable query field)')
            [CompletionResult]::new('--top', '--top', [CompletionResultType]::ParameterName, 'How many groups to show')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Histogram bucket width (5m, 1h, 1d); default picked from the time range')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The sink''s URL, e.g. https://audit.example.com:9470 (default: http://127.0.0.1:9470, the address `audit-sink serve` listens on). Repeat it (or separate URLs with commas) to search, follow and count several sinks as one, newest first')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Reach the sink through the Kubernetes API server''s service proxy, with the kubeconfig''s credentials')
            [CompletionResult]::new('--index', '--index', [CompletionResultType]::ParameterName, 'Open an index directory read-only, with no server (needs a build with the `index` feature)')
            [CompletionResult]::new('--certificate-authority', '--certificate-authority', [CompletionResultType]::ParameterName, 'PEM file with the CA certificate(s) that signed the sink''s TLS certificate (--server https://…)')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Bearer token for the sink (prefer --token-file: a token on the command line is visible to other users)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the bearer token for the sink')
            [CompletionResult]::new('--client-certificate', '--client-certificate', [CompletionResultType]::ParameterName, 'PEM client certificate for the sink (with --client-key)')
            [CompletionResult]::new('--client-key', '--client-key', [CompletionResultType]::ParameterName, 'PEM private key of --client-certificate')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file to use (instead of $KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The name of the kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The name of the kubeconfig cluster to use')
            [CompletionResult]::new('--kube-user', '--kube-user', [CompletionResultType]::ParameterName, 'The name of the kubeconfig user to use (kubectl''s --user; --user filters events here)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a single request; 0 waits forever (1s, 2m, 3h)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log level for diagnostics on stderr (0–9, as kubectl''s -v). Secrets are never logged')
            [CompletionResult]::new('--v', '--v', [CompletionResultType]::ParameterName, 'Log level for diagnostics on stderr (0–9, as kubectl''s -v). Secrets are never logged')
            [CompletionResult]::new('--exec', '--exec', [CompletionResultType]::ParameterName, 'exec, attach and port-forward sessions, whatever the verb (kubectl ≥ 1.35 execs with `get`)')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'All namespaces (the default; accepted for kubectl muscle memory)')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'All namespaces (the default; accepted for kubectl muscle memory)')
            [CompletionResult]::new('--histogram', '--histogram', [CompletionResultType]::ParameterName, 'Also show a histogram of matching events over time')
            [CompletionResult]::new('--skip-unavailable', '--skip-unavailable', [CompletionResultType]::ParameterName, 'With several --server URLs: leave out a sink that cannot be reached or answers 5xx, with a warning, instead of failing')
            [CompletionResult]::new('--via-api', '--via-api', [CompletionResultType]::ParameterName, 'Read through the Kubernetes API (audit.kubext.io/v1alpha1, served by the sink behind the cluster''s aggregator) with the kubeconfig''s credentials and RBAC; the default when the current context''s cluster serves it')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-audit;who' {
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The object''s namespace (default: the kubeconfig context''s, else "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The object''s namespace (default: the kubeconfig context''s, else "default")')
            [CompletionResult]::new('--audit-cluster', '--audit-cluster', [CompletionResultType]::ParameterName, 'Only events from this cluster, as the sink recorded it (wildcards: ''prod-*''; repeatable)')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only events received in this recent span (30m, 2h, 7d) or after this RFC 3339 time')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only events received before this time (a duration ago, or RFC 3339)')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'Start of the range, RFC 3339 (2024-05-01T10:00:00Z)')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'End of the range (exclusive), RFC 3339')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'At most this many events (the oldest are kept)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The sink''s URL, e.g. https://audit.example.com:9470 (default: http://127.0.0.1:9470, the address `audit-sink serve` listens on). Repeat it (or separate URLs with commas) to search, follow and count several sinks as one, newest first')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Reach the sink through the Kubernetes API server''s service proxy, with the kubeconfig''s credentials')
            [CompletionResult]::new('--index', '--index', [CompletionResultType]::ParameterName, 'Open an index directory read-only, with no server (needs a build with the `index` feature)')
            [CompletionResult]::new('--certificate-authority', '--certificate-authority', [CompletionResultType]::ParameterName, 'PEM file with the CA certificate(s) that signed the sink''s TLS certificate (--server https://…)')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Bearer token for the sink (prefer --token-file: a token on the command line is visible to other users)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the bearer token for the sink')
            [CompletionResult]::new('--client-certificate', '--client-certificate', [CompletionResultType]::ParameterName, 'PEM client certificate for the sink (with --client-key)')
            [CompletionResult]::new('--client-key', '--client-key', [CompletionResultType]::ParameterName, 'PEM private key of --client-certificate')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file to use (instead of $KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The name of the kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The name of the kubeconfig cluster to use')
            [CompletionResult]::new('--kube-user', '--kube-user', [CompletionResultType]::ParameterName, 'The name of the kubeconfig user to use (kubectl''s --user; --user filters events here)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a single request; 0 waits forever (1s, 2m, 3h)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log level for diagnostics on stderr (0–9, as kubectl''s -v). Secrets are never logged')
            [CompletionResult]::new('--v', '--v', [CompletionResultType]::ParameterName, 'Log level for diagnostics on stderr (0–9, as kubectl''s -v). Secrets are never logged')
            [CompletionResult]::new('--skip-unavailable', '--skip-unavailable', [CompletionResultType]::ParameterName, 'With several --server URLs: leave out a sink that cannot be reached or answers 5xx, with a warning, instead of failing')
            [CompletionResult]::new('--via-api', '--via-api', [CompletionResultType]::ParameterName, 'Read through the Kubernetes API (audit.kubext.io/v1alpha1, served by the sink behind the cluster''s aggregator) with the kubeconfig''s credentials and RBAC; the default when the current context''s cluster serves it')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-audit;rbac' {
            [CompletionResult]::new('--verb', '--verb', [CompletionResultType]::ParameterName, 'Only these verbs (repeatable: --verb get --verb list, or --verb get,list)')
            [CompletionResult]::new('--resource', '--resource', [CompletionResultType]::ParameterName, 'Only this resource; kubectl names work: deploy, po, svc, cm, secrets, deployments.apps')
            [CompletionResult]::new('--subresource', '--subresource', [CompletionResultType]::ParameterName, 'Only this subresource, e.g. exec, log, status, scale')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Only objects in this namespace (default: all namespaces)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Only objects in this namespace (default: all namespaces)')
            [CompletionResult]::new('--status', '--status', [CompletionResultType]::ParameterName, 'Only responses with this code or class: 403, 4xx, 5xx (repeatable)')
            [CompletionResult]::new('--stage', '--stage', [CompletionResultType]::ParameterName, 'Only this stage: RequestReceived, ResponseStarted, ResponseComplete, Panic')
            [CompletionResult]::new('--audit-cluster', '--audit-cluster', [CompletionResultType]::ParameterName, 'Only events from this cluster, as the sink recorded it (wildcards: ''prod-*''; repeatable). Not --cluster: that is kubectl''s kubeconfig flag')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only events received in this recent span (30m, 2h, 7d) or after this RFC 3339 time')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only events received before this time (a duration ago, or RFC 3339)')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'Start of the range, RFC 3339 (2024-05-01T10:00:00Z)')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'End of the range (exclusive), RFC 3339')
            [CompletionResult]::new('--serviceaccount', '--serviceaccount', [CompletionResultType]::ParameterName, 'The service account whose requests to read, as NAMESPACE/NAME (the user system:serviceaccount:NAMESPACE:NAME)')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Name of the generated Roles, ClusterRole and bindings (default: kubext-rbac:SUBJECT)')
            [CompletionResult]::new('--object-name', '--object-name', [CompletionResultType]::ParameterName, 'Only objects with this name (wildcards: ''web-*'')')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The user whose requests to read (its exact name)')
            [CompletionResult]::new('--group', '--group', [CompletionResultType]::ParameterName, 'The group whose members'' requests to read (its exact name)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The sink''s URL, e.g. https://audit.example.com:9470 (default: http://127.0.0.1:9470, the address `audit-sink serve` listens on). Repeat it (or separate URLs with commas) to search, follow and count several sinks as one, newest first')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Reach the sink through the Kubernetes API server''s service proxy, with the kubeconfig''s credentials')
            [CompletionResult]::new('--index', '--index', [CompletionResultType]::ParameterName, 'Open an index directory read-only, with no server (needs a build with the `index` feature)')
            [CompletionResult]::new('--certificate-authority', '--certificate-authority', [CompletionResultType]::ParameterName, 'PEM file with the CA certificate(s) that signed the sink''s TLS certificate (--server https://…)')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Bearer token for the sink (prefer --token-file: a token on the command line is visible to other users)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the bearer token for the sink')
            [CompletionResult]::new('--client-certificate', '--client-certificate', [CompletionResultType]::ParameterName, 'PEM client certificate for the sink (with --client-key)')
            [CompletionResult]::new('--client-key', '--client-key', [CompletionResultType]::ParameterName, 'PEM private key of --client-certificate')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file to use (instead of $KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The name of the kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The name of the kubeconfig cluster to use')
            [CompletionResult]::new('--kube-user', '--kube-user', [CompletionResultType]::ParameterName, 'The name of the kubeconfig user to use (kubectl''s --user; --user filters events here)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a single request; 0 waits forever (1s, 2m, 3h)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log level for diagnostics on stderr (0–9, as kubectl''s -v). Secrets are never logged')
            [CompletionResult]::new('--v', '--v', [CompletionResultType]::ParameterName, 'Log level for diagnostics on stderr (0–9, as kubectl''s -v). Secrets are never logged')
            [CompletionResult]::new('--exec', '--exec', [CompletionResultType]::ParameterName, 'exec, attach and port-forward sessions, whatever the verb (kubectl ≥ 1.35 execs with `get`)')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'All namespaces (the default; accepted for kubectl muscle memory)')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'All namespaces (the default; accepted for kubectl muscle memory)')
            [CompletionResult]::new('--resource-names', '--resource-names', [CompletionResultType]::ParameterName, 'Limit rules to the objects named, for verbs only ever used on named objects (never create, list, watch)')
            [CompletionResult]::new('--cluster-scope', '--cluster-scope', [CompletionResultType]::ParameterName, 'Grant everything cluster-wide in one ClusterRole instead of a Role per namespace')
            [CompletionResult]::new('--existing', '--existing', [CompletionResultType]::ParameterName, 'Compare with what the subject''s bindings in the kubeconfig''s cluster grant, and show what was never used')
            [CompletionResult]::new('--skip-unavailable', '--skip-unavailable', [CompletionResultType]::ParameterName, 'With several --server URLs: leave out a sink that cannot be reached or answers 5xx, with a warning, instead of failing')
            [CompletionResult]::new('--via-api', '--via-api', [CompletionResultType]::ParameterName, 'Read through the Kubernetes API (audit.kubext.io/v1alpha1, served by the sink behind the cluster''s aggregator) with the kubeconfig''s credentials and RBAC; the default when the current context''s cluster serves it')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-audit;import' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Input format: auto (told from each file''s content), apiserver, eks, gke or aks')
            [CompletionResult]::new('--audit-cluster', '--audit-cluster', [CompletionResultType]::ParameterName, 'Cluster of the imported events when the file does not name it (EKS CloudWatch output and S3 exports, the apiserver''s log)')
            [CompletionResult]::new('--dead-letters', '--dead-letters', [CompletionResultType]::ParameterName, 'Also write the records that are not stored (with their reason) to this file, as JSON lines')
            [CompletionResult]::new('--batch-size', '--batch-size', [CompletionResultType]::ParameterName, 'Events per EventList sent to the sink (the apiserver''s webhook default)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The sink''s URL, e.g. https://audit.example.com:9470 (default: http://127.0.0.1:9470, the address `audit-sink serve` listens on). Repeat it (or separate URLs with commas) to search, follow and count several sinks as one, newest first')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Reach the sink through the Kubernetes API server''s service proxy, with the kubeconfig''s credentials')
            [CompletionResult]::new('--index', '--index', [CompletionResultType]::ParameterName, 'Open an index directory read-only, with no server (needs a build with the `index` feature)')
            [CompletionResult]::new('--certificate-authority', '--certificate-authority', [CompletionResultType]::ParameterName, 'PEM file with the CA certificate(s) that signed the sink''s TLS certificate (--server https://…)')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Bearer token for the sink (prefer --token-file: a token on the command line is visible to other users)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the bearer token for the sink')
            [CompletionResult]::new('--client-certificate', '--client-certificate', [CompletionResultType]::ParameterName, 'PEM client certificate for the sink (with --client-key)')
            [CompletionResult]::new('--client-key', '--client-key', [CompletionResultType]::ParameterName, 'PEM private key of --client-certificate')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file to use (instead of $KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The name of the kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The name of the kubeconfig cluster to use')
            [CompletionResult]::new('--kube-user', '--kube-user', [CompletionResultType]::ParameterName, 'The name of the kubeconfig user to use (kubectl''s --user; --user filters events here)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a single request; 0 waits forever (1s, 2m, 3h)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log level for diagnostics on stderr (0–9, as kubectl''s -v). Secrets are never logged')
            [CompletionResult]::new('--v', '--v', [CompletionResultType]::ParameterName, 'Log level for diagnostics on stderr (0–9, as kubectl''s -v). Secrets are never logged')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Hide the progress bar (it is hidden anyway when stderr is not a terminal)')
            [CompletionResult]::new('--skip-unavailable', '--skip-unavailable', [CompletionResultType]::ParameterName, 'With several --server URLs: leave out a sink that cannot be reached or answers 5xx, with a warning, instead of failing')
            [CompletionResult]::new('--via-api', '--via-api', [CompletionResultType]::ParameterName, 'Read through the Kubernetes API (audit.kubext.io/v1alpha1, served by the sink behind the cluster''s aggregator) with the kubeconfig''s credentials and RBAC; the default when the current context''s cluster serves it')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-audit;completion' {
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The sink''s URL, e.g. https://audit.example.com:9470 (default: http://127.0.0.1:9470, the address `audit-sink serve` listens on). Repeat it (or separate URLs with commas) to search, follow and count several sinks as one, newest first')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Reach the sink through the Kubernetes API server''s service proxy, with the kubeconfig''s credentials')
            [CompletionResult]::new('--index', '--index', [CompletionResultType]::ParameterName, 'Open an index directory read-only, with no server (needs a build with the `index` feature)')
            [CompletionResult]::new('--certificate-authority', '--certificate-authority', [CompletionResultType]::ParameterName, 'PEM file with the CA certificate(s) that signed the sink''s TLS certificate (--server https://…)')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Bearer token for the sink (prefer --token-file: a token on the command line is visible to other users)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the bearer token for the sink')
            [CompletionResult]::new('--client-certificate', '--client-certificate', [CompletionResultType]::ParameterName, 'PEM client certificate for the sink (with --client-key)')
            [CompletionResult]::new('--client-key', '--client-key', [CompletionResultType]::ParameterName, 'PEM private key of --client-certificate')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file to use (instead of $KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The name of the kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The name of the kubeconfig cluster to use')
            [CompletionResult]::new('--kube-user', '--kube-user', [CompletionResultType]::ParameterName, 'The name of the kubeconfig user to use (kubectl''s --user; --user filters events here)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a single request; 0 waits forever (1s, 2m, 3h)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log level for diagnostics on stderr (0–9, as kubectl''s -v). Secrets are never logged')
            [CompletionResult]::new('--v', '--v', [CompletionResultType]::ParameterName, 'Log level for diagnostics on stderr (0–9, as kubectl''s -v). Secrets are never logged')
            [CompletionResult]::new('--skip-unavailable', '--skip-unavailable', [CompletionResultType]::ParameterName, 'With several --server URLs: leave out a sink that cannot be reached or answers 5xx, with a warning, instead of failing')
            [CompletionResult]::new('--via-api', '--via-api', [CompletionResultType]::ParameterName, 'Read through the Kubernetes API (audit.kubext.io/v1alpha1, served by the sink behind the cluster''s aggregator) with the kubeconfig''s credentials and RBAC; the default when the current context''s cluster serves it')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-audit;help' {
            [CompletionResult]::new('search', 'search', [CompletionResultType]::ParameterValue, 'Search audit events, newest first')
            [CompletionResult]::new('tail', 'tail', [CompletionResultType]::ParameterValue, 'Stream new matching events as they arrive, until Ctrl-C (same as `search --follow`)')
            [CompletionResult]::new('stats', 'stats', [CompletionResultType]::ParameterValue, 'Count events grouped by a field (top N with share), optionally with a histogram over time')
            [CompletionResult]::new('who', 'who', [CompletionResultType]::ParameterValue, 'The timeline of every request that touched one object, oldest first')
            [CompletionResult]::new('rbac', 'rbac', [CompletionResultType]::ParameterValue, 'Least-privilege Roles/ClusterRoles and bindings from the requests a user, service account or group made')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Send audit log files (the apiserver''s JSON lines, or EKS, GKE or AKS exports; gzip''d too) to the sink')
            [CompletionResult]::new('completion', 'completion', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-audit;help;search' {
            break
        }
        'kubectl-audit;help;tail' {
            break
        }
        'kubectl-audit;help;stats' {
            break
        }
        'kubectl-audit;help;who' {
            break
        }
        'kubectl-audit;help;rbac' {
            break
        }
        'kubectl-audit;help;import' {
            break
        }
        'kubectl-audit;help;completion' {
            break
        }
        'kubectl-audit;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
