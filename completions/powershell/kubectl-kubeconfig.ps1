
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'kubectl-kubeconfig' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'kubectl-kubeconfig'
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
        'kubectl-kubeconfig' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log level for diagnostics on stderr (0–9, as kubectl''s -v). Secrets are never logged')
            [CompletionResult]::new('--v', '--v', [CompletionResultType]::ParameterName, 'Log level for diagnostics on stderr (0–9, as kubectl''s -v). Secrets are never logged')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Check a catalog and report every problem with its place in the document')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Generate kubeconfigs whose users log in with `kubectl oidc-login`')
            [CompletionResult]::new('merge', 'merge', [CompletionResultType]::ParameterValue, 'Merge a kubeconfig into yours, showing what is added, changed and kept')
            [CompletionResult]::new('serviceaccount', 'serviceaccount', [CompletionResultType]::ParameterValue, 'A kubeconfig for a service account, with a short-lived token (TokenRequest)')
            [CompletionResult]::new('sa', 'sa', [CompletionResultType]::ParameterValue, 'A kubeconfig for a service account, with a short-lived token (TokenRequest)')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check that contexts work: reach the API server and ask who we are')
            [CompletionResult]::new('completion', 'completion', [CompletionResultType]::ParameterValue, 'Print a shell completion script (bash, zsh, fish, powershell, elvish)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-kubeconfig;validate' {
            [CompletionResult]::new('--catalog', '--catalog', [CompletionResultType]::ParameterName, 'The catalog: a file (`-` for stdin) or an https:// URL')
            [CompletionResult]::new('--from-configmap', '--from-configmap', [CompletionResultType]::ParameterName, 'Read the catalog from a ConfigMap in the cluster instead')
            [CompletionResult]::new('--configmap-key', '--configmap-key', [CompletionResultType]::ParameterName, 'The ConfigMap key holding the catalog (default: its only key, else catalog.yaml)')
            [CompletionResult]::new('--catalog-certificate-authority', '--catalog-certificate-authority', [CompletionResultType]::ParameterName, 'A CA bundle (PEM) to trust for an https:// catalog, besides the system''s')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubeconfig used to read --from-configmap')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Context used to read --from-configmap')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log level for diagnostics on stderr (0–9, as kubectl''s -v). Secrets are never logged')
            [CompletionResult]::new('--v', '--v', [CompletionResultType]::ParameterName, 'Log level for diagnostics on stderr (0–9, as kubectl''s -v). Secrets are never logged')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-kubeconfig;generate' {
            [CompletionResult]::new('--catalog', '--catalog', [CompletionResultType]::ParameterName, 'The catalog: a file (`-` for stdin) or an https:// URL')
            [CompletionResult]::new('--from-configmap', '--from-configmap', [CompletionResultType]::ParameterName, 'Read the catalog from a ConfigMap in the cluster instead')
            [CompletionResult]::new('--configmap-key', '--configmap-key', [CompletionResultType]::ParameterName, 'The ConfigMap key holding the catalog (default: its only key, else catalog.yaml)')
            [CompletionResult]::new('--catalog-certificate-authority', '--catalog-certificate-authority', [CompletionResultType]::ParameterName, 'A CA bundle (PEM) to trust for an https:// catalog, besides the system''s')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Kubeconfig used to read --from-configmap')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Context used to read --from-configmap')
            [CompletionResult]::new('--team', '--team', [CompletionResultType]::ParameterName, 'Only this team''s contexts (repeatable)')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Only these catalog clusters (repeatable, or comma-separated)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Write the kubeconfig to this file (mode 0600) instead of stdout')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Write the kubeconfig to this file (mode 0600) instead of stdout')
            [CompletionResult]::new('--output-dir', '--output-dir', [CompletionResultType]::ParameterName, 'Write one kubeconfig per team, DIR/TEAM.yaml')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log level for diagnostics on stderr (0–9, as kubectl''s -v). Secrets are never logged')
            [CompletionResult]::new('--v', '--v', [CompletionResultType]::ParameterName, 'Log level for diagnostics on stderr (0–9, as kubectl''s -v). Secrets are never logged')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Generate everything without asking, even on a terminal')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'Show a progress bar (only on a terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-kubeconfig;merge' {
            [CompletionResult]::new('--into', '--into', [CompletionResultType]::ParameterName, 'The kubeconfig to merge into (default: first file of $KUBECONFIG, else ~/.kube/config)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log level for diagnostics on stderr (0–9, as kubectl''s -v). Secrets are never logged')
            [CompletionResult]::new('--v', '--v', [CompletionResultType]::ParameterName, 'Log level for diagnostics on stderr (0–9, as kubectl''s -v). Secrets are never logged')
            [CompletionResult]::new('--overwrite', '--overwrite', [CompletionResultType]::ParameterName, 'Replace entries that have the same name and different content')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would change and write nothing')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'kubectl-kubeconfig;serviceaccount' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file to use (instead of $KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The name of the kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The name of the kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The name of the kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace scope for this request (default: the context''s namespace, else "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace scope for this request (default: the context''s namespace, else "default")')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a single server request; 0 waits forever. Seconds, or a number with a unit (500ms, 1s, 2m, 3h, 1d)')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'How long the token is valid (at least 10m)')
            [CompletionResult]::new('--audience', '--audience', [CompletionResultType]::ParameterName, 'Audience of the token (repeatable; default: the API server''s)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Write the kubeconfig to this file (mode 0600) instead of stdout')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Write the kubeconfig to this file (mode 0600) instead of stdout')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log level for diagnostics on stderr (0–9, as kubectl''s -v). Secrets are never logged')
            [CompletionResult]::new('--v', '--v', [CompletionResultType]::ParameterName, 'Log level for diagnostics on stderr (0–9, as kubectl''s -v). Secrets are never logged')
            [CompletionResult]::new('--bound-to-secret', '--bound-to-secret', [CompletionResultType]::ParameterName, 'Create a Secret and bind the token to it: deleting the Secret revokes the token')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-kubeconfig;sa' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file to use (instead of $KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The name of the kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The name of the kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The name of the kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace scope for this request (default: the context''s namespace, else "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace scope for this request (default: the context''s namespace, else "default")')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a single server request; 0 waits forever. Seconds, or a number with a unit (500ms, 1s, 2m, 3h, 1d)')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'How long the token is valid (at least 10m)')
            [CompletionResult]::new('--audience', '--audience', [CompletionResultType]::ParameterName, 'Audience of the token (repeatable; default: the API server''s)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Write the kubeconfig to this file (mode 0600) instead of stdout')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Write the kubeconfig to this file (mode 0600) instead of stdout')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log level for diagnostics on stderr (0–9, as kubectl''s -v). Secrets are never logged')
            [CompletionResult]::new('--v', '--v', [CompletionResultType]::ParameterName, 'Log level for diagnostics on stderr (0–9, as kubectl''s -v). Secrets are never logged')
            [CompletionResult]::new('--bound-to-secret', '--bound-to-secret', [CompletionResultType]::ParameterName, 'Create a Secret and bind the token to it: deleting the Secret revokes the token')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-kubeconfig;check' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file to use (instead of $KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The name of the kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The name of the kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The name of the kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace scope for this request (default: the context''s namespace, else "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace scope for this request (default: the context''s namespace, else "default")')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a single server request; 0 waits forever. Seconds, or a number with a unit (500ms, 1s, 2m, 3h, 1d)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long each context may take')
            [CompletionResult]::new('--parallel', '--parallel', [CompletionResultType]::ParameterName, 'How many contexts are checked at once')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log level for diagnostics on stderr (0–9, as kubectl''s -v). Secrets are never logged')
            [CompletionResult]::new('--v', '--v', [CompletionResultType]::ParameterName, 'Log level for diagnostics on stderr (0–9, as kubectl''s -v). Secrets are never logged')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'Show a progress bar (only on a terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-kubeconfig;completion' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log level for diagnostics on stderr (0–9, as kubectl''s -v). Secrets are never logged')
            [CompletionResult]::new('--v', '--v', [CompletionResultType]::ParameterName, 'Log level for diagnostics on stderr (0–9, as kubectl''s -v). Secrets are never logged')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'kubectl-kubeconfig;help' {
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Check a catalog and report every problem with its place in the document')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Generate kubeconfigs whose users log in with `kubectl oidc-login`')
            [CompletionResult]::new('merge', 'merge', [CompletionResultType]::ParameterValue, 'Merge a kubeconfig into yours, showing what is added, changed and kept')
            [CompletionResult]::new('serviceaccount', 'serviceaccount', [CompletionResultType]::ParameterValue, 'A kubeconfig for a service account, with a short-lived token (TokenRequest)')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check that contexts work: reach the API server and ask who we are')
            [CompletionResult]::new('completion', 'completion', [CompletionResultType]::ParameterValue, 'Print a shell completion script (bash, zsh, fish, powershell, elvish)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-kubeconfig;help;validate' {
            break
        }
        'kubectl-kubeconfig;help;generate' {
            break
        }
        'kubectl-kubeconfig;help;merge' {
            break
        }
        'kubectl-kubeconfig;help;serviceaccount' {
            break
        }
        'kubectl-kubeconfig;help;check' {
            break
        }
        'kubectl-kubeconfig;help;completion' {
            break
        }
        'kubectl-kubeconfig;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
