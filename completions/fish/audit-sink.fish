# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_audit_sink_global_optspecs
    string join \n h/help V/version
end

function __fish_audit_sink_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_audit_sink_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_audit_sink_using_subcommand
    set -l cmd (__fish_audit_sink_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c audit-sink -n "__fish_audit_sink_needs_command" -s h -l help -d 'Print help'
complete -c audit-sink -n "__fish_audit_sink_needs_command" -s V -l version -d 'Print version'
complete -c audit-sink -n "__fish_audit_sink_needs_command" -f -a "serve" -d 'Receive audit EventLists over HTTP(S) and answer searches'
complete -c audit-sink -n "__fish_audit_sink_needs_command" -f -a "import" -d 'Import audit log files (JSON lines, optionally gzip\'d) into the data directory'
complete -c audit-sink -n "__fish_audit_sink_needs_command" -f -a "dead-letters" -d 'Show what was rejected and why (the dead-letter log)'
complete -c audit-sink -n "__fish_audit_sink_needs_command" -f -a "completion" -d 'Print a shell completion script (bash, zsh, fish, powershell, elvish)'
complete -c audit-sink -n "__fish_audit_sink_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l listen -d 'Address and port to listen on (port 0: any free port)' -r
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l data-dir -d 'Data directory: write-ahead log, index, dead-letter log' -r -F
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l redact -d 'Also redact this JSON path in events about this resource: RESOURCE[.GROUP][/NAMESPACE]:PATH, e.g. configmaps/prod:data (repeatable)' -r
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l redact-key-file -d 'Key of the value hashes in redaction markers (default: DATA_DIR/redact.key, created on first start; share it between replicas for equal markers)' -r -F
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l tls-cert -d 'TLS certificate chain (PEM); enables HTTPS' -r -F
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l tls-key -d 'TLS private key (PEM)' -r -F
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l client-ca -d 'CA bundle (PEM) for client certificates allowed to ingest' -r -F
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l token-file -d 'File of bearer tokens allowed to ingest: one per line, `TOKEN` or `TOKEN cluster=NAME` (that token writes only as cluster NAME)' -r -F
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l cluster-name -d 'The cluster of events whose credential is bound to none and whose webhook URL has no ?cluster=NAME' -r
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l cluster-from-cert -d 'Bind each ingest client certificate to the cluster named by its subject\'s CN or O' -r -f -a "cn\t''
o\t''"
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l search-client-ca -d 'CA bundle (PEM) for client certificates allowed to search' -r -F
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l search-token-file -d 'File of bearer tokens (one per line) allowed to search, stats and follow' -r -F
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l pubsub-audience -d 'Accept Pub/Sub push requests whose Google-signed OIDC token has this audience (the push subscription\'s --push-auth-token-audience)' -r
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l pubsub-service-account -d 'Only from this push service account (the token\'s email claim)' -r
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l pubsub-issuer -d 'Issuer of push tokens' -r
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l pubsub-jwks-url -d 'Where the issuer\'s signing keys are (JWKS)' -r
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l pubsub-ca -d 'Extra CA bundle (PEM) trusted when fetching --pubsub-jwks-url' -r -F
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l max-body-bytes -d 'Largest request body accepted (bytes, also after gzip decoding); larger gets 413' -r
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l commit-interval -d 'Longest time from 200 to searchable (index commit cadence), e.g. 500ms, 1s' -r
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l retention -d 'Drop whole day partitions older than this (e.g. 30d); default: keep everything' -r
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l max-pending-events -d 'Acknowledged events waiting for the index writer beyond which ingest waits for room (--overload-wait), then answers 429' -r
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l overload-wait -d 'How long an ingest request waits for room while the index queue is full before it is answered 429 with Retry-After, e.g. 0s, 2s' -r
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l writer-memory-mib -d 'Index writer memory per open day partition, MiB' -r
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l log-format -d 'Log format on stderr' -r -f -a "text\t''
json\t''"
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l header-read-timeout -d 'Longest time to receive a request\'s headers, and the first request on a new connection (and its TLS handshake); slower connections are closed' -r
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l body-read-timeout -d 'Longest time to receive a whole ingest body; slower uploads get 408 and are closed' -r
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l idle-timeout -d 'Close keep-alive connections with no request for this long' -r
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l max-connections -d 'Most connections served at once; more wait in the listen backlog until one closes' -r
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l nats -d 'NATS server URLs (comma-separated, nats:// or tls://): a JetStream stream becomes the log of record instead of the local write-ahead log, and this process one replica of a fleet' -r
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l nats-stream -d 'The JetStream stream holding the events (created when missing)' -r
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l nats-replicas -d 'Replicas of the stream when the sink creates it (a quorum acknowledges each event)' -r
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l nats-creds -d 'NATS credentials file (JWT and NKey seed)' -r -F
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l nats-token-file -d 'File holding a NATS token' -r -F
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l nats-ca -d 'CA bundle (PEM) of the NATS servers\' certificates; requires TLS' -r -F
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l nats-max-age -d 'Drop events older than this from the stream when the sink creates it (e.g. 30d)' -r
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l nats-max-bytes -d 'Size limit of the stream when the sink creates it (oldest events go first)' -r
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l replica-name -d 'This replica\'s name, which names its durable consumer (default: the host name)' -r
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l max-lag -d '/readyz answers 503 while this replica\'s index is further behind the stream' -r
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l index-subjects -d 'Index only these subjects (repeatable), e.g. kubext.audit.prod-eu; default: every cluster' -r
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l api-listen -d 'Serve the API group audit.kubext.io over TLS on this address, for the kube-apiserver\'s aggregator (APIService v1alpha1.audit.kubext.io)' -r
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l api-tls-cert -d 'Serving certificate chain (PEM) of the API; the APIService\'s caBundle verifies it' -r -F
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l api-tls-key -d 'Private key (PEM) of --api-tls-cert' -r -F
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l requestheader-client-ca-file -d 'CA bundle (PEM) of the front-proxy client certificates allowed to name users in the request headers; default: read from ConfigMap kube-system/extension-apiserver-authentication' -r -F
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l requestheader-allowed-names -d 'Front-proxy certificate CNs allowed (comma-separated); empty: any certificate signed by the request-header CA' -r
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l requestheader-username-headers -d 'Request headers naming the user (the first present wins)' -r
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l requestheader-group-headers -d 'Request headers naming the user\'s groups' -r
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l requestheader-extra-headers-prefix -d 'Prefixes of request headers carrying the user\'s extra attributes' -r
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l authentication-kubeconfig -d 'Kubeconfig to read ConfigMap kube-system/extension-apiserver-authentication with, when --requestheader-client-ca-file is not given (default: in-cluster)' -r -F
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l authorization-kubeconfig -d 'Kubeconfig to POST SubjectAccessReviews with (default: in-cluster)' -r -F
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l authorization-webhook-cache-authorized-ttl -d 'How long an allowed SubjectAccessReview answer is cached' -r
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l authorization-webhook-cache-unauthorized-ttl -d 'How long a denied SubjectAccessReview answer is cached' -r
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l no-redact-secrets -d 'Store Secret data and tokens as received (logged as a warning, and audit_sink_secret_redaction_enabled is 0 in /metrics)'
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -l insecure -d 'Allow listening on a non-loopback address without authentication'
complete -c audit-sink -n "__fish_audit_sink_using_subcommand serve" -s h -l help -d 'Print help'
complete -c audit-sink -n "__fish_audit_sink_using_subcommand import" -l data-dir -d 'Data directory: write-ahead log, index, dead-letter log' -r -F
complete -c audit-sink -n "__fish_audit_sink_using_subcommand import" -l redact -d 'Also redact this JSON path in events about this resource: RESOURCE[.GROUP][/NAMESPACE]:PATH, e.g. configmaps/prod:data (repeatable)' -r
complete -c audit-sink -n "__fish_audit_sink_using_subcommand import" -l redact-key-file -d 'Key of the value hashes in redaction markers (default: DATA_DIR/redact.key, created on first start; share it between replicas for equal markers)' -r -F
complete -c audit-sink -n "__fish_audit_sink_using_subcommand import" -l format -d 'Input format: auto (told from each file\'s content), apiserver, eks, gke or aks' -r -f -a "auto\t''
apiserver\t''
eks\t''
gke\t''
aks\t''"
complete -c audit-sink -n "__fish_audit_sink_using_subcommand import" -l audit-cluster -d 'Cluster of the imported events when the file does not name it (EKS CloudWatch output and S3 exports, the apiserver\'s log)' -r
complete -c audit-sink -n "__fish_audit_sink_using_subcommand import" -s o -l output -d 'Output: table, or json (an array with one summary per file)' -r -f -a "table\t''
json\t''"
complete -c audit-sink -n "__fish_audit_sink_using_subcommand import" -l no-redact-secrets -d 'Store Secret data and tokens as received (logged as a warning, and audit_sink_secret_redaction_enabled is 0 in /metrics)'
complete -c audit-sink -n "__fish_audit_sink_using_subcommand import" -l no-progress -d 'Hide the progress bar'
complete -c audit-sink -n "__fish_audit_sink_using_subcommand import" -s h -l help -d 'Print help'
complete -c audit-sink -n "__fish_audit_sink_using_subcommand dead-letters" -l data-dir -d 'Data directory: write-ahead log, index, dead-letter log' -r -F
complete -c audit-sink -n "__fish_audit_sink_using_subcommand dead-letters" -s o -l output -d 'Output: table, or json (one object per line, bodies verbatim)' -r -f -a "table\t''
json\t''"
complete -c audit-sink -n "__fish_audit_sink_using_subcommand dead-letters" -l tail -d 'Show only the last N entries' -r
complete -c audit-sink -n "__fish_audit_sink_using_subcommand dead-letters" -s h -l help -d 'Print help'
complete -c audit-sink -n "__fish_audit_sink_using_subcommand completion" -s h -l help -d 'Print help'
complete -c audit-sink -n "__fish_audit_sink_using_subcommand help; and not __fish_seen_subcommand_from serve import dead-letters completion help" -f -a "serve" -d 'Receive audit EventLists over HTTP(S) and answer searches'
complete -c audit-sink -n "__fish_audit_sink_using_subcommand help; and not __fish_seen_subcommand_from serve import dead-letters completion help" -f -a "import" -d 'Import audit log files (JSON lines, optionally gzip\'d) into the data directory'
complete -c audit-sink -n "__fish_audit_sink_using_subcommand help; and not __fish_seen_subcommand_from serve import dead-letters completion help" -f -a "dead-letters" -d 'Show what was rejected and why (the dead-letter log)'
complete -c audit-sink -n "__fish_audit_sink_using_subcommand help; and not __fish_seen_subcommand_from serve import dead-letters completion help" -f -a "completion" -d 'Print a shell completion script (bash, zsh, fish, powershell, elvish)'
complete -c audit-sink -n "__fish_audit_sink_using_subcommand help; and not __fish_seen_subcommand_from serve import dead-letters completion help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
