//! Reaching NATS: over TLS with `--nats-ca` (server certificates made here
//! with rcgen), with a token from `--nats-token-file`, and an existing stream
//! the sink cannot use, each against a real `nats-server`.

mod common;
mod nats_support;

use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use audit_gen::{self as testgen, Level};
use common::*;
use nats_support::NatsCluster;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};

/// One server at a time: a 2-core machine.
static ONE_SERVER_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn generated(seed: u64, n: usize) -> Vec<String> {
    testgen::events(
        seed,
        n,
        Level::Metadata,
        "2025-07-01T00:00:00Z".parse().unwrap(),
        1_000,
    )
}

fn write(dir: &Path, name: &str, content: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p.to_str().unwrap().to_string()
}

/// The flags of a sink replica `name` on a one-server NATS at `urls`, then `extra`.
fn single_server<'a>(urls: &'a str, name: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "--nats",
        urls,
        "--nats-replicas",
        "1",
        "--replica-name",
        name,
    ];
    args.extend(extra);
    args
}

/// A sink replica started with `args`, which stores 400 events sent to it.
async fn started_and_storing(data: &Path, args: &[&str], seed: u64) -> SinkProc {
    let sink = SinkProc::start(data, args);
    let c = client();
    let events = generated(seed, 400);
    assert_eq!(post_list(&c, &sink.url, &events).await.status(), 200);
    wait_total(&c, &sink.url, "", 400).await;
    sink
}

/// A self-signed CA.
fn new_ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, name);
    CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap()
}

/// Runs `audit-sink serve` expecting it to refuse to start; returns its
/// standard error. Hang detection only: it must exit within two minutes.
fn refused_start(data: &Path, args: &[&str]) -> String {
    let mut child = Command::new(bin())
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start audit-sink");
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("audit-sink kept running; it should have refused to start");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let err = reader.join().unwrap();
    assert!(!status.success(), "audit-sink exited 0: {err}");
    err
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_the_servers_ca_and_a_token() {
    let _serial = ONE_SERVER_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let ca = new_ca("NATS CA");
    let mut p =
        CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    p.distinguished_name.push(DnType::CommonName, "nats");
    let key = KeyPair::generate().unwrap();
    let cert = p.signed_by(&key, &ca).unwrap();
    let cert = write(dir.path(), "nats.crt", &cert.pem());
    let key = write(dir.path(), "nats.key", &key.serialize_pem());
    let ca_file = write(dir.path(), "ca.crt", &ca.pem());
    // Another CA, which did not sign the server's certificate.
    let other_ca = write(dir.path(), "other-ca.crt", &new_ca("other CA").pem());
    let token = write(dir.path(), "token", "s3cret-nats-token\n");
    let wrong_token = write(dir.path(), "wrong-token", "not-the-token\n");

    let mut nats = NatsCluster::start_with(
        1,
        &[
            "--tls",
            "--tlscert",
            &cert,
            "--tlskey",
            &key,
            "--auth",
            "s3cret-nats-token",
        ],
    );
    nats.scheme = "tls";
    let urls = nats.urls();
    let args = single_server(
        &urls,
        "a",
        &["--nats-ca", &ca_file, "--nats-token-file", &token],
    );
    let sink = started_and_storing(&dir.path().join("a"), &args, 1).await;
    let found = search_all(&client(), &sink.url, "", 1000).await;
    assert_eq!(found.len(), 400);
    drop(sink);

    // The wrong CA or the wrong token: no start, and the error says why.
    for (args, says) in [
        (
            [
                "--nats-ca",
                other_ca.as_str(),
                "--nats-token-file",
                token.as_str(),
            ],
            "not trusted: give the CA that signed it with --nats-ca",
        ),
        (
            [
                "--nats-ca",
                ca_file.as_str(),
                "--nats-token-file",
                wrong_token.as_str(),
            ],
            "refused the credentials: check --nats-token-file",
        ),
    ] {
        let err = refused_start(&dir.path().join("b"), &single_server(&urls, "b", &args));
        assert!(err.contains(says), "{err}");
        assert!(
            !err.contains("s3cret-nats-token") && !err.contains("not-the-token"),
            "a token in the error: {err}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_stream_it_cannot_use_stops_start_up_with_the_reasons() {
    let _serial = ONE_SERVER_AT_A_TIME.lock().await;
    let nats = NatsCluster::start_with(1, &[]);
    let client = async_nats::connect(nats.urls()).await.unwrap();
    let js = async_nats::jetstream::new(client);
    // Someone made the stream by hand: in memory, as a work queue.
    js.create_stream(async_nats::jetstream::stream::Config {
        name: "KUBEXT_AUDIT".into(),
        subjects: vec!["kubext.audit.>".into()],
        storage: async_nats::jetstream::stream::StorageType::Memory,
        retention: async_nats::jetstream::stream::RetentionPolicy::WorkQueue,
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err = refused_start(dir.path(), &single_server(&nats.urls(), "a", &[]));
    assert!(
        err.contains("the existing JetStream stream KUBEXT_AUDIT cannot be the audit log"),
        "{err}"
    );
    assert!(
        err.contains("work queue") && err.contains("file storage"),
        "{err}"
    );
    assert!(err.contains("--nats-stream"), "no way out offered: {err}");
    // The stream answered: nothing about an unreachable cluster or quorum.
    assert!(
        !err.contains("quorum") && !err.contains("did not answer"),
        "{err}"
    );
}

/// `--nats-creds` takes a NATS credentials file (user JWT and NKey seed, as
/// `nsc` writes it); anything else stops start-up naming the file and what
/// is missing, before any connection is tried.
#[test]
fn a_credentials_file_without_a_user_jwt_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let seed_only = write(
        dir.path(),
        "seed-only.creds",
        "-----BEGIN USER NKEY SEED-----\nSUAIO3FHUX5PNV2LQIIP7TZ3N4L7TX3W53MQGEIVYFIGA635OZCKEYHFLM\n------END USER NKEY SEED------\n",
    );
    let missing = dir.path().join("missing.creds");
    let missing = missing.to_str().unwrap();
    for (file, says) in [
        (seed_only.as_str(), "no user JWT in it"),
        (missing, "No such file"),
    ] {
        // Nothing listens on port 1: the file must be refused before connecting.
        let err = refused_start(
            &dir.path().join("data"),
            &[
                "--nats",
                "nats://127.0.0.1:1",
                "--replica-name",
                "a",
                "--nats-creds",
                file,
            ],
        );
        assert!(
            err.contains(&format!("reading --nats-creds {file}")) && err.contains(says),
            "{err}"
        );
        assert!(!err.contains("SUAIO3FH"), "the seed in the error: {err}");
    }
}

/// A NATS JWT (`ed25519-nkey`), `claims` completed with the subject,
/// issuer and issue time, signed by `issuer`.
fn jwt(issuer: &nkeys::KeyPair, subject: &str, mut claims: serde_json::Value) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    claims["jti"] = format!("{subject}{}", claims["name"].as_str().unwrap_or_default()).into();
    claims["iat"] = jiff::Timestamp::now().as_second().into();
    claims["iss"] = issuer.public_key().into();
    claims["sub"] = subject.into();
    let head = b64.encode(br#"{"typ":"JWT","alg":"ed25519-nkey"}"#);
    let body = b64.encode(claims.to_string());
    let signed = format!("{head}.{body}");
    let sig = issuer.sign(signed.as_bytes()).unwrap();
    format!("{signed}.{}", b64.encode(sig))
}

/// A credentials file as `nsc generate creds` writes it.
fn creds(user_jwt: &str, user: &nkeys::KeyPair) -> String {
    format!(
        "-----BEGIN NATS USER JWT-----\n{user_jwt}\n------END NATS USER JWT------\n\n\
         ************************* IMPORTANT *************************\n\
         NKEY Seed printed below can be used to sign and prove identity.\n\n\
         -----BEGIN USER NKEY SEED-----\n{}\n------END USER NKEY SEED------\n",
        user.seed().unwrap()
    )
}

/// Decentralised authentication: an operator, an account with JetStream
/// preloaded into the server, and the sink as one of its users.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_of_an_operator_signed_account_with_nats_creds() {
    let _serial = ONE_SERVER_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let operator = nkeys::KeyPair::new_operator();
    let account = nkeys::KeyPair::new_account();
    let user = nkeys::KeyPair::new_user();
    let op_jwt = jwt(
        &operator,
        &operator.public_key(),
        serde_json::json!({"name": "kubext-test", "nats": {"type": "operator", "version": 2}}),
    );
    let unlimited = serde_json::json!({
        "subs": -1, "data": -1, "payload": -1, "imports": -1, "exports": -1,
        "wildcards": true, "conn": -1, "leaf": -1,
        "mem_storage": -1, "disk_storage": -1, "streams": -1, "consumer": -1
    });
    let acc_jwt = jwt(
        &operator,
        &account.public_key(),
        serde_json::json!({"name": "audit", "nats": {
            "limits": unlimited, "default_permissions": {"pub": {}, "sub": {}},
            "type": "account", "version": 2
        }}),
    );
    let user_jwt = jwt(
        &account,
        &user.public_key(),
        serde_json::json!({"name": "audit-sink", "nats": {
            "pub": {}, "sub": {}, "subs": -1, "data": -1, "payload": -1,
            "type": "user", "version": 2
        }}),
    );
    // JetStream needs a system account in operator mode.
    let system = nkeys::KeyPair::new_account();
    let sys_jwt = jwt(
        &operator,
        &system.public_key(),
        serde_json::json!({"name": "SYS", "nats": {"type": "account", "version": 2}}),
    );
    let conf = write(
        dir.path(),
        "nats.conf",
        &format!(
            "operator: \"{op_jwt}\"\nsystem_account: {sys}\nresolver: MEMORY\nresolver_preload: {{\n  {sys}: \"{sys_jwt}\"\n  {acc}: \"{acc_jwt}\"\n}}\n",
            sys = system.public_key(),
            acc = account.public_key()
        ),
    );
    let good = write(dir.path(), "sink.creds", &creds(&user_jwt, &user));
    // A user signed by an account the server does not know.
    let stranger = nkeys::KeyPair::new_user();
    let other_account = nkeys::KeyPair::new_account();
    let stranger_jwt = jwt(
        &other_account,
        &stranger.public_key(),
        serde_json::json!({"name": "x", "nats": {"type": "user", "version": 2}}),
    );
    let bad = write(
        dir.path(),
        "stranger.creds",
        &creds(&stranger_jwt, &stranger),
    );

    let nats = NatsCluster::start_with(1, &["-c", &conf]);
    let urls = nats.urls();
    let args = single_server(&urls, "a", &["--nats-creds", &good]);
    drop(started_and_storing(&dir.path().join("a"), &args, 2).await);

    let args = single_server(&urls, "b", &["--nats-creds", &bad]);
    let err = refused_start(&dir.path().join("b"), &args);
    assert!(err.contains("refused the credentials"), "{err}");
    assert!(
        !err.contains(&stranger.seed().unwrap()),
        "the seed in the error: {err}"
    );
}
