//! Which cluster an event came from: tokens bound to a cluster, `?cluster=`
//! for unbound credentials, `--cluster-name`, and the `cluster:` query field,
//! against the real binary.

mod common;

use std::process::Command;

use audit_gen::{self as testgen, Level};
use common::clusters::{assert_other_cluster_refused, assert_stored_as, cluster_of, post_as};
use common::*;

fn generated(seed: u64, n: usize) -> Vec<String> {
    testgen::events(
        seed,
        n,
        Level::Metadata,
        "2025-03-10T12:00:00Z".parse().unwrap(),
        1_000_000,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_event_is_stored_as_the_cluster_its_credential_allows() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens");
    std::fs::write(
        &tokens,
        "# two clusters' apiservers, and a token bound to none\n\
         tok-eu cluster=prod-eu\n\
         tok-dev   cluster=dev\n\
         tok-any\n",
    )
    .unwrap();
    let data = dir.path().join("data");
    let mut sink = SinkProc::start(
        &data,
        &[
            "--token-file",
            tokens.to_str().unwrap(),
            "--cluster-name",
            "home",
        ],
    );
    let c = client();
    let url = sink.url.clone();

    // prod-eu's apiserver; some events claim to be from dev, which a
    // bound token cannot make true.
    let mut eu = generated(1, 20);
    for e in eu.iter_mut().take(5) {
        *e = audit_api::fields::stamp_cluster(e, "dev").unwrap().unwrap();
    }
    assert_eq!(
        post_as(&c, &url, Some("tok-eu"), None, &eu).await.status(),
        200
    );
    let dev = generated(2, 15);
    assert_eq!(
        post_as(&c, &url, Some("tok-dev"), None, &dev)
            .await
            .status(),
        200
    );
    // An unbound token names its cluster on the URL, or gets --cluster-name.
    let staging = generated(3, 10);
    let r = post_as(&c, &url, Some("tok-any"), Some("staging"), &staging).await;
    assert_eq!(r.status(), 200);
    let home = generated(4, 5);
    assert_eq!(
        post_as(&c, &url, Some("tok-any"), None, &home)
            .await
            .status(),
        200
    );
    // Events that name their cluster keep it when the credential is bound to none.
    let qa: Vec<String> = generated(6, 3)
        .iter()
        .map(|e| audit_api::fields::stamp_cluster(e, "qa").unwrap().unwrap())
        .collect();
    let r = post_as(&c, &url, Some("tok-any"), None, &qa).await;
    assert_eq!(r.status(), 200);

    // A bound token asking for another cluster: 403, nothing stored.
    let other = generated(5, 7);
    assert_other_cluster_refused(&c, &[&url], "tok-eu", ("prod-eu", "dev"), &other).await;
    // Asking for its own cluster is fine (and the resend is stored once).
    let r = post_as(&c, &url, Some("tok-eu"), Some("prod-eu"), &eu).await;
    assert_eq!(r.status(), 200);
    // A cluster name that is not one: 400 saying what a name may hold.
    let r = post_as(&c, &url, Some("tok-any"), Some("prod.eu"), &other).await;
    assert_eq!(r.status(), 400);
    let e: audit_api::ErrorBody = r.json().await.unwrap();
    assert!(e.error.contains("letters, digits"), "{}", e.error);
    // No token at all: 401 as before.
    assert_eq!(
        post_as(&c, &url, None, Some("dev"), &other).await.status(),
        401
    );

    wait_total(&c, &url, "", 53).await;
    let forged: serde_json::Value = serde_json::from_str(&eu[0]).unwrap();
    let forged_id = forged["auditID"].as_str().unwrap().to_string();
    let want: &[(&str, &[String])] = &[
        ("prod-eu", &eu),
        ("dev", &dev),
        ("staging", &staging),
        ("home", &home),
        ("qa", &qa),
    ];
    check_clusters(&c, &url, want, &forged_id).await;

    // The cluster is part of the stored event: a crash and a replay keep it.
    sink.kill9();
    let sink = SinkProc::start(&data, &["--token-file", tokens.to_str().unwrap()]);
    wait_ready(&c, &sink.url, std::time::Duration::from_secs(60)).await;
    check_clusters(&c, &sink.url, want, &forged_id).await;
}

/// What the sink holds after the sends above: each cluster's events exactly.
async fn check_clusters(
    c: &reqwest::Client,
    url: &str,
    want: &[(&str, &[String])],
    forged_id: &str,
) {
    assert_stored_as(c, &[url], want).await;
    assert_eq!(search_all(c, url, "cluster:prod-*", 100).await.len(), 20);
    let not_eu_dev = search_all(c, url, "NOT cluster:prod-eu NOT cluster:dev", 100).await;
    assert_eq!(not_eu_dev.len(), 18);
    // The events sent as prod-eu but claiming dev are prod-eu's.
    let found = search_all(c, url, &format!("auditid:{forged_id}"), 10).await;
    assert_eq!(found.len(), 1);
    assert_eq!(cluster_of(&found[0]), "prod-eu");
}

#[test]
fn a_token_file_line_with_something_else_than_a_cluster_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    for (line, says) in [
        ("tok region=eu", "line 2: unexpected \"region\""),
        ("tok cluster=prod.eu", "line 2"),
    ] {
        let tokens = dir.path().join("tokens");
        std::fs::write(&tokens, format!("ok\n{line}\n")).unwrap();
        let out = Command::new(bin())
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path().join("data"))
            .arg("--token-file")
            .arg(&tokens)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{err}");
        // The token itself is never printed.
        assert!(!err.contains("tok "), "{err}");
    }
    let out = Command::new(bin())
        .args(["serve", "--cluster-name", "a b"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("letters, digits"));
}

fn ca() -> rcgen::CertifiedIssuer<'static, rcgen::KeyPair> {
    let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    p.distinguished_name
        .push(rcgen::DnType::CommonName, "apiservers CA");
    rcgen::CertifiedIssuer::self_signed(p, rcgen::KeyPair::generate().unwrap()).unwrap()
}

/// A certificate and key (PEM) with this subject, signed by `issuer`.
fn leaf(
    names: &[&str],
    subject: &[(rcgen::DnType, &str)],
    issuer: &rcgen::CertifiedIssuer<'static, rcgen::KeyPair>,
) -> String {
    let mut p =
        rcgen::CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .unwrap();
    for (t, v) in subject {
        p.distinguished_name.push(t.clone(), *v);
    }
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = p.signed_by(&key, issuer).unwrap();
    format!("{}{}", cert.pem(), key.serialize_pem())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificates_write_as_the_cluster_their_subject_names() {
    use rcgen::DnType::{CommonName, OrganizationName};
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let issuer = ca();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let server = leaf(&["127.0.0.1"], &[(CommonName, "audit-sink")], &issuer);
    let (server_cert, server_key) = server.split_at(server.find("-----BEGIN PRIVATE KEY").unwrap());
    let (cert, key, ca_file) = (
        write("server.crt", server_cert),
        write("server.key", server_key),
        write("ca.crt", &issuer.pem()),
    );
    let data = dir.path().join("data");
    let sink = SinkProc::start(
        &data,
        &[
            "--tls-cert",
            &cert,
            "--tls-key",
            &key,
            "--client-ca",
            &ca_file,
            "--cluster-from-cert",
            "o",
        ],
    );
    let root = reqwest::Certificate::from_pem(issuer.pem().as_bytes()).unwrap();
    let client = |pem: &str| {
        reqwest::Client::builder()
            .use_rustls_tls()
            .add_root_certificate(root.clone())
            .identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap())
            .build()
            .unwrap()
    };
    let eu = client(&leaf(
        &[],
        &[
            (CommonName, "kube-apiserver"),
            (OrganizationName, "prod-eu"),
        ],
        &issuer,
    ));
    let nameless = client(&leaf(&[], &[(CommonName, "kube-apiserver")], &issuer));

    let items = generated(21, 12);
    assert_eq!(
        post_as(&eu, &sink.url, None, None, &items).await.status(),
        200
    );
    let r = post_as(&eu, &sink.url, None, Some("dev"), &items).await;
    assert_eq!(r.status(), 403);
    // A valid certificate without an O cannot say which cluster it is.
    let r = post_as(&nameless, &sink.url, None, None, &generated(22, 3)).await;
    assert_eq!(r.status(), 403);
    let e: audit_api::ErrorBody = r.json().await.unwrap();
    assert!(e.error.contains("subject O"), "{}", e.error);

    wait_total(&eu, &sink.url, "cluster:prod-eu", 12).await;
    wait_total(&eu, &sink.url, "", 12).await;
}
