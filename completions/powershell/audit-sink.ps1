
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'audit-sink' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'audit-sink'
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
        'audit-sink' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Receive audit EventLists over HTTP(S) and answer searches')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Import audit log files (JSON lines, optionally gzip''d) into the data directory')
            [CompletionResult]::new('dead-letters', 'dead-letters', [CompletionResultType]::ParameterValue, 'Show what was rejected and why (the dead-letter log)')
            [CompletionResult]::new('completion', 'completion', [CompletionResultType]::ParameterValue, 'Print a shell completion script (bash, zsh, fish, powershell, elvish)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'audit-sink;serve' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address and port to listen on (port 0: any free port)')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'Data directory: write-ahead log, index, dead-letter log')
            [CompletionResult]::new('--redact', '--redact', [CompletionResultType]::ParameterName, 'Also redact this JSON path in events about this resource: RESOURCE[.GROUP][/NAMESPACE]:PATH, e.g. configmaps/prod:data (repeatable)')
            [CompletionResult]::new('--redact-key-file', '--redact-key-file', [CompletionResultType]::ParameterName, 'Key of the value hashes in redaction markers (default: DATA_DIR/redact.key, created on first start; share it between replicas for equal markers)')
            [CompletionResult]::new('--tls-cert', '--tls-cert', [CompletionResultType]::ParameterName, 'TLS certificate chain (PEM); enables HTTPS')
            [CompletionResult]::new('--tls-key', '--tls-key', [CompletionResultType]::ParameterName, 'TLS private key (PEM)')
            [CompletionResult]::new('--client-ca', '--client-ca', [CompletionResultType]::ParameterName, 'CA bundle (PEM) for client certificates allowed to ingest')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File of bearer tokens allowed to ingest: one per line, `TOKEN` or `TOKEN cluster=NAME` (that token writes only as cluster NAME)')
            [CompletionResult]::new('--cluster-name', '--cluster-name', [CompletionResultType]::ParameterName, 'The cluster of events whose credential is bound to none and whose webhook URL has no ?cluster=NAME')
            [CompletionResult]::new('--cluster-from-cert', '--cluster-from-cert', [CompletionResultType]::ParameterName, 'Bind each ingest client certificate to the cluster named by its subject''s CN or O')
            [CompletionResult]::new('--search-client-ca', '--search-client-ca', [CompletionResultType]::ParameterName, 'CA bundle (PEM) for client certificates allowed to search')
            [CompletionResult]::new('--search-token-file', '--search-token-file', [CompletionResultType]::ParameterName, 'File of bearer tokens (one per line) allowed to search, stats and follow')
            [CompletionResult]::new('--pubsub-audience', '--pubsub-audience', [CompletionResultType]::ParameterName, 'Accept Pub/Sub push requests whose Google-signed OIDC token has this audience (the push subscription''s --push-auth-token-audience)')
            [CompletionResult]::new('--pubsub-service-account', '--pubsub-service-account', [CompletionResultType]::ParameterName, 'Only from this push service account (the token''s email claim)')
            [CompletionResult]::new('--pubsub-issuer', '--pubsub-issuer', [CompletionResultType]::ParameterName, 'Issuer of push tokens')
            [CompletionResult]::new('--pubsub-jwks-url', '--pubsub-jwks-url', [CompletionResultType]::ParameterName, 'Where the issuer''s signing keys are (JWKS)')
            [CompletionResult]::new('--pubsub-ca', '--pubsub-ca', [CompletionResultType]::ParameterName, 'Extra CA bundle (PEM) trusted when fetching --pubsub-jwks-url')
            [CompletionResult]::new('--max-body-bytes', '--max-body-bytes', [CompletionResultType]::ParameterName, 'Largest request body accepted (bytes, also after gzip decoding); larger gets 413')
            [CompletionResult]::new('--commit-interval', '--commit-interval', [CompletionResultType]::ParameterName, 'Longest time from 200 to searchable (index commit cadence), e.g. 500ms, 1s')
            [CompletionResult]::new('--retention', '--retention', [CompletionResultType]::ParameterName, 'Drop whole day partitions older than this (e.g. 30d); default: keep everything')
            [CompletionResult]::new('--max-pending-events', '--max-pending-events', [CompletionResultType]::ParameterName, 'Acknowledged events waiting for the index writer beyond which ingest waits for room (--overload-wait), then answers 429')
            [CompletionResult]::new('--overload-wait', '--overload-wait', [CompletionResultType]::ParameterName, 'How long an ingest request waits for room while the index queue is full before it is answered 429 with Retry-After, e.g. 0s, 2s')
            [CompletionResult]::new('--writer-memory-mib', '--writer-memory-mib', [CompletionResultType]::ParameterName, 'Index writer memory per open day partition, MiB')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log format on stderr')
            [CompletionResult]::new('--header-read-timeout', '--header-read-timeout', [CompletionResultType]::ParameterName, 'Longest time to receive a request''s headers, and the first request on a new connection (and its TLS handshake); slower connections are closed')
            [CompletionResult]::new('--body-read-timeout', '--body-read-timeout', [CompletionResultType]::ParameterName, 'Longest time to receive a whole ingest body; slower uploads get 408 and are closed')
            [CompletionResult]::new('--idle-timeout', '--idle-timeout', [CompletionResultType]::ParameterName, 'Close keep-alive connections with no request for this long')
            [CompletionResult]::new('--max-connections', '--max-connections', [CompletionResultType]::ParameterName, 'Most connections served at once; more wait in the listen backlog until one closes')
            [CompletionResult]::new('--nats', '--nats', [CompletionResultType]::ParameterName, 'NATS server URLs (comma-separated, nats:// or tls://): a JetStream stream becomes the log of record instead of the local write-ahead log, and this process one replica of a fleet')
            [CompletionResult]::new('--nats-stream', '--nats-stream', [CompletionResultType]::ParameterName, 'The JetStream stream holding the events (created when missing)')
            [CompletionResult]::new('--nats-replicas', '--nats-replicas', [CompletionResultType]::ParameterName, 'Replicas of the stream when the sink creates it (a quorum acknowledges each event)')
            [CompletionResult]::new('--nats-creds', '--nats-creds', [CompletionResultType]::ParameterName, 'NATS credentials file (JWT and NKey seed)')
            [CompletionResult]::new('--nats-token-file', '--nats-token-file', [CompletionResultType]::ParameterName, 'File holding a NATS token')
            [CompletionResult]::new('--nats-ca', '--nats-ca', [CompletionResultType]::ParameterName, 'CA bundle (PEM) of the NATS servers'' certificates; requires TLS')
            [CompletionResult]::new('--nats-max-age', '--nats-max-age', [CompletionResultType]::ParameterName, 'Drop events older than this from the stream when the sink creates it (e.g. 30d)')
            [CompletionResult]::new('--nats-max-bytes', '--nats-max-bytes', [CompletionResultType]::ParameterName, 'Size limit of the stream when the sink creates it (oldest events go first)')
            [CompletionResult]::new('--replica-name', '--replica-name', [CompletionResultType]::ParameterName, 'This replica''s name, which names its durable consumer (default: the host name)')
            [CompletionResult]::new('--max-lag', '--max-lag', [CompletionResultType]::ParameterName, '/readyz answers 503 while this replica''s index is further behind the stream')
            [CompletionResult]::new('--index-subjects', '--index-subjects', [CompletionResultType]::ParameterName, 'Index only these subjects (repeatable), e.g. kubext.audit.prod-eu; default: every cluster')
            [CompletionResult]::new('--api-listen', '--api-listen', [CompletionResultType]::ParameterName, 'Serve the API group audit.kubext.io over TLS on this address, for the kube-apiserver''s aggregator (APIService v1alpha1.audit.kubext.io)')
            [CompletionResult]::new('--api-tls-cert', '--api-tls-cert', [CompletionResultType]::ParameterName, 'Serving certificate chain (PEM) of the API; the APIService''s caBundle verifies it')
            [CompletionResult]::new('--api-tls-key', '--api-tls-key', [CompletionResultType]::ParameterName, 'Private key (PEM) of --api-tls-cert')
            [CompletionResult]::new('--requestheader-client-ca-file', '--requestheader-client-ca-file', [CompletionResultType]::ParameterName, 'CA bundle (PEM) of the front-proxy client certificates allowed to name users in the request headers; default: read from ConfigMap kube-system/extension-apiserver-authentication')
            [CompletionResult]::new('--requestheader-allowed-names', '--requestheader-allowed-names', [CompletionResultType]::ParameterName, 'Front-proxy certificate CNs allowed (comma-separated); empty: any certificate signed by the request-header CA')
            [CompletionResult]::new('--requestheader-username-headers', '--requestheader-username-headers', [CompletionResultType]::ParameterName, 'Request headers naming the user (the first present wins)')
            [CompletionResult]::new('--requestheader-group-headers', '--requestheader-group-headers', [CompletionResultType]::ParameterName, 'Request headers naming the user''s groups')
            [CompletionResult]::new('--requestheader-extra-headers-prefix', '--requestheader-extra-headers-prefix', [CompletionResultType]::ParameterName, 'Prefixes of request headers carrying the user''s extra attributes')
            [CompletionResult]::new('--authentication-kubeconfig', '--authentication-kubeconfig', [CompletionResultType]::ParameterName, 'Kubeconfig to read ConfigMap kube-system/extension-apiserver-authentication with, when --requestheader-client-ca-file is not given (default: in-cluster)')
            [CompletionResult]::new('--authorization-kubeconfig', '--authorization-kubeconfig', [CompletionResultType]::ParameterName, 'Kubeconfig to POST SubjectAccessReviews with (default: in-cluster)')
            [CompletionResult]::new('--authorization-webhook-cache-authorized-ttl', '--authorization-webhook-cache-authorized-ttl', [CompletionResultType]::ParameterName, 'How long an allowed SubjectAccessReview answer is cached')
            [CompletionResult]::new('--authorization-webhook-cache-unauthorized-ttl', '--authorization-webhook-cache-unauthorized-ttl', [CompletionResultType]::ParameterName, 'How long a denied SubjectAccessReview answer is cached')
            [CompletionResult]::new('--no-redact-secrets', '--no-redact-secrets', [CompletionResultType]::ParameterName, 'Store Secret data and tokens as received (logged as a warning, and audit_sink_secret_redaction_enabled is 0 in /metrics)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Allow listening on a non-loopback address without authentication')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'audit-sink;import' {
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'Data directory: write-ahead log, index, dead-letter log')
            [CompletionResult]::new('--redact', '--redact', [CompletionResultType]::ParameterName, 'Also redact this JSON path in events about this resource: RESOURCE[.GROUP][/NAMESPACE]:PATH, e.g. configmaps/prod:data (repeatable)')
            [CompletionResult]::new('--redact-key-file', '--redact-key-file', [CompletionResultType]::ParameterName, 'Key of the value hashes in redaction markers (default: DATA_DIR/redact.key, created on first start; share it between replicas for equal markers)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Input format: auto (told from each file''s content), apiserver, eks, gke or aks')
            [CompletionResult]::new('--audit-cluster', '--audit-cluster', [CompletionResultType]::ParameterName, 'Cluster of the imported events when the file does not name it (EKS CloudWatch output and S3 exports, the apiserver''s log)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output: table, or json (an array with one summary per file)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output: table, or json (an array with one summary per file)')
            [CompletionResult]::new('--no-redact-secrets', '--no-redact-secrets', [CompletionResultType]::ParameterName, 'Store Secret data and tokens as received (logged as a warning, and audit_sink_secret_redaction_enabled is 0 in /metrics)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Hide the progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'audit-sink;dead-letters' {
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'Data directory: write-ahead log, index, dead-letter log')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output: table, or json (one object per line, bodies verbatim)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output: table, or json (one object per line, bodies verbatim)')
            [CompletionResult]::new('--tail', '--tail', [CompletionResultType]::ParameterName, 'Show only the last N entries')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'audit-sink;completion' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'audit-sink;help' {
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Receive audit EventLists over HTTP(S) and answer searches')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Import audit log files (JSON lines, optionally gzip''d) into the data directory')
            [CompletionResult]::new('dead-letters', 'dead-letters', [CompletionResultType]::ParameterValue, 'Show what was rejected and why (the dead-letter log)')
            [CompletionResult]::new('completion', 'completion', [CompletionResultType]::ParameterValue, 'Print a shell completion script (bash, zsh, fish, powershell, elvish)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'audit-sink;help;serve' {
            break
        }
        'audit-sink;help;import' {
            break
        }
        'audit-sink;help;dead-letters' {
            break
        }
        'audit-sink;help;completion' {
            break
        }
        'audit-sink;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
