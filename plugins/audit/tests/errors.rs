//! The documented errors: bad queries and flags (exit 2, before any request),
//! an unreachable sink (exit 1, with the address and a hint), and refusals by
//! the Kubernetes API server on the way to the sink's service (which
//! credential was used, never its value).

mod common;

use common::{audit, free_port, run};
use kube_test_server::{KubeTestServer, KubeconfigOpts, User};

#[test]
fn a_bad_query_reports_the_position_and_what_was_expected_without_any_request() {
    // Nothing listens on this port: a request would fail differently.
    let server = format!("http://127.0.0.1:{}", free_port());
    let (code, stdout, stderr) =
        run(audit().args(["search", "--server", &server, "verb:delete (ns:prod"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("position 20") && stderr.contains("expected `)`"),
        "{stderr}"
    );
    assert!(stderr.contains("verb:delete (ns:prod\n"), "{stderr}");
    assert!(!stderr.contains("cannot reach"), "{stderr}");

    let (code, _, stderr) = run(audit().args(["stats", "--server", &server, "colour:red"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("unknown field `colour`"), "{stderr}");
}

#[test]
fn bad_flag_values_are_usage_errors() {
    let server = format!("http://127.0.0.1:{}", free_port());
    for (args, needle) in [
        (&["search", "--status", "4x"][..], "not a response code"),
        (
            &["search", "--resource", "pods/exec"],
            "not a resource name",
        ),
        (&["search", "--since", "yesterday"], "RFC 3339"),
        (&["search", "--from", "2h"], "not an RFC 3339 time"),
        (
            &["search", "--since", "1h", "--until", "2h"],
            "time range is empty",
        ),
        (&["search", "--stage", "done"], "not an audit stage"),
        (&["search", "--limit", "0"], "--limit 0 is out of range"),
        (&["stats", "--by", "auditid"], "cannot be grouped"),
        (&["who", "web"], "TYPE/NAME"),
        (&["tail", "--since", "1h"], "search --follow --since"),
        (&["search", "--service", "audit-sink"], "not a service"),
        (
            &["search", "-o", "yaml", "--server", "not a url"],
            "is not a URL",
        ),
        (&["stats", "-o", "jsonl"], "not supported by this command"),
    ] {
        let mut cmd = audit();
        cmd.args(args);
        if !args.contains(&"--service") && !args.contains(&"--server") {
            cmd.args(["--server", &server]);
        }
        let (code, _, stderr) = run(&mut cmd);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
    // clap's own usage errors exit 2 as well
    let (code, _, _) = run(audit().args(["search", "--no-such-flag"]));
    assert_eq!(code, 2);
}

#[test]
fn an_unreachable_sink_names_the_address_and_how_to_fix_it() {
    let port = free_port();
    let server = format!("http://127.0.0.1:{port}");
    let (code, stdout, stderr) =
        run(audit().args(["search", "--server", &server, "--verb", "get"]));
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.is_empty());
    assert!(
        stderr.contains(&format!("cannot reach the audit sink at {server}")),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint:") && stderr.contains("--server"),
        "{stderr}"
    );

    // The same through the environment variable, for every subcommand that talks to the sink.
    for args in [&["stats"][..], &["who", "deploy/web"], &["tail"]] {
        let (code, _, stderr) = run(audit().args(args).env("KUBECTL_AUDIT_SERVER", &server));
        assert_eq!(code, 1, "{args:?}: {stderr}");
        assert!(
            stderr.contains("cannot reach the audit sink"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn the_default_address_hint_says_how_to_start_a_sink() {
    let default = audit_api::DEFAULT_LISTEN;
    if std::net::TcpStream::connect(default).is_ok() {
        eprintln!("something listens on {default}; this check needs it free");
        return;
    }
    let (code, _, stderr) = run(audit().args(["search"]));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains(audit_api::DEFAULT_URL), "{stderr}");
    assert!(stderr.contains("audit-sink serve"), "{stderr}");
}

#[test]
fn the_api_server_refusing_the_service_proxy_names_the_kubeconfig_user_not_the_token() {
    let cluster = KubeTestServer::start();
    cluster.add_token("s3cr3t-token-value", User::new("bob"));
    cluster.add_service_proxy(
        "audit",
        "audit-sink",
        9470,
        format!("127.0.0.1:{}", free_port()),
    );
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig =
        cluster.write_kubeconfig(dir.path(), &KubeconfigOpts::token("s3cr3t-token-value"));

    let (code, _, stderr) = run(audit()
        .args(["search", "--service", "audit/audit-sink:9470"])
        .arg("--kubeconfig")
        .arg(&kubeconfig));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("the Kubernetes API server"), "{stderr}");
    assert!(stderr.contains("(403)"), "{stderr}");
    assert!(stderr.contains("kubeconfig user \"test-user\""), "{stderr}");
    assert!(stderr.contains("services/proxy"), "{stderr}");
    assert!(!stderr.contains("s3cr3t-token-value"), "{stderr}");

    // An unknown token: 401 from the API server.
    let stale = cluster.write_kubeconfig(dir.path(), &KubeconfigOpts::token("expired-token-value"));
    let (code, _, stderr) = run(audit()
        .args(["search", "--service", "audit/audit-sink:9470"])
        .arg("--kubeconfig")
        .arg(&stale));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("(401)"), "{stderr}");
    assert!(!stderr.contains("expired-token-value"), "{stderr}");
}

#[test]
fn a_service_without_a_running_sink_is_reported_as_unreachable() {
    let cluster = KubeTestServer::start();
    cluster.add_token("t", User::new("alice"));
    cluster.allow("alice", &["get", "create"], &["services/proxy"], "audit");
    cluster.add_service_proxy(
        "audit",
        "audit-sink",
        9470,
        format!("127.0.0.1:{}", free_port()),
    );
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = cluster.write_kubeconfig(dir.path(), &KubeconfigOpts::token("t"));

    let (code, _, stderr) = run(audit()
        .args(["search", "--service", "audit/audit-sink:9470"])
        .arg("--kubeconfig")
        .arg(&kubeconfig));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(
            "cannot reach the audit sink at service audit/audit-sink:9470 through the API server"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("hint:"), "{stderr}");

    // A service that does not exist.
    let (code, _, stderr) = run(audit()
        .args(["search", "--service", "audit/nope:9470"])
        .arg("--kubeconfig")
        .arg(&kubeconfig));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("no such service"), "{stderr}");
}

#[test]
fn completion_scripts_name_the_binary() {
    let (code, stdout, _) = run(audit().args(["completion", "bash"]));
    assert_eq!(code, 0);
    assert!(stdout.contains("kubectl-audit"));
}
