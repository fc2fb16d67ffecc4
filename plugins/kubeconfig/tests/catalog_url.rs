//! Catalogs fetched over HTTPS: a private CA is honoured, an untrusted server
//! and plain http are refused, and relative file references are rejected.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;

use common::*;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// A small HTTPS server (its own CA) answering every request with `body`.
/// Returns its base URL and the CA's PEM; the server thread ends with the test process.
fn serve_https(body: String) -> (String, String) {
    kubectl_kit::install_crypto_provider();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        )
        .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "https://127.0.0.1:{}",
        listener.local_addr().unwrap().port()
    );
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let conn = rustls::ServerConnection::new(config.clone()).unwrap();
            let mut tls = rustls::StreamOwned::new(conn, stream);
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match tls.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let (status, text) = if request.starts_with(b"GET /catalog.yaml ") {
                ("200 OK", body.as_str())
            } else {
                ("404 Not Found", "not found")
            };
            let _ = write!(
                tls,
                "HTTP/1.1 {status}\r\ncontent-type: application/yaml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                text.len()
            );
            let _ = tls.flush();
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
    });
    (url, ca.pem())
}

#[test]
fn a_catalog_is_fetched_over_https_with_a_private_ca() {
    let catalog = catalog_for_server(
        "https://api.example.test:6443",
        include_str!("../examples/ca/acme-root.pem"),
    );
    let (url, ca_pem) = serve_https(catalog);
    let home = tempfile::tempdir().unwrap();
    let ca = home.path().join("catalog-ca.pem");
    std::fs::write(&ca, ca_pem).unwrap();

    let out = plugin(home.path())
        .args(["generate", "--team", "dev", "-o", "json", "--catalog"])
        .arg(format!("{url}/catalog.yaml"))
        .arg("--catalog-certificate-authority")
        .arg(&ca)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let doc = parse(&stdout(&out));
    assert_eq!(names(&doc, "contexts"), ["test-dev"]);

    let untrusted = plugin(home.path())
        .args(["validate", "--catalog"])
        .arg(format!("{url}/catalog.yaml"))
        .output()
        .unwrap();
    assert_eq!(untrusted.status.code(), Some(1));
    let err = stderr(&untrusted);
    assert!(
        err.contains("cannot fetch catalog") && err.to_lowercase().contains("certificate"),
        "{err}"
    );

    let missing = plugin(home.path())
        .args(["validate", "--catalog"])
        .arg(format!("{url}/nope.yaml"))
        .arg("--catalog-certificate-authority")
        .arg(&ca)
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("404 Not Found"),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn remote_catalogs_cannot_use_relative_files_or_plain_http() {
    let catalog = "apiVersion: kubext.io/v1alpha1\nkind: Catalog\n\
identityProviders: [{name: i, issuerURL: 'https://i.example', clientID: c}]\n\
clusters: [{name: a, server: 'https://a.example', certificateAuthority: {file: ca.pem}}]\n\
teams: [{name: t, clusters: [{name: a}]}]\n";
    let (url, ca_pem) = serve_https(catalog.to_string());
    let home = tempfile::tempdir().unwrap();
    let ca = home.path().join("catalog-ca.pem");
    std::fs::write(&ca, ca_pem).unwrap();
    let out = plugin(home.path())
        .args(["validate", "--catalog"])
        .arg(format!("{url}/catalog.yaml"))
        .arg("--catalog-certificate-authority")
        .arg(&ca)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("clusters[0].certificateAuthority.file: relative path \"ca.pem\" cannot be resolved for a catalog read from a URL"),
        "{}",
        stderr(&out)
    );

    let plain = plugin(home.path())
        .args(["validate", "--catalog", "http://127.0.0.1:9/catalog.yaml"])
        .output()
        .unwrap();
    assert_eq!(plain.status.code(), Some(1));
    assert!(
        stderr(&plain).contains("must use https"),
        "{}",
        stderr(&plain)
    );
}

#[test]
fn a_catalog_ca_file_without_a_certificate_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let key = KeyPair::generate().unwrap().serialize_pem();
    for (name, text) in [
        ("notes.txt", "not a certificate\n"),
        ("key.pem", key.as_str()),
    ] {
        let ca = home.path().join(name);
        std::fs::write(&ca, text).unwrap();
        let out = plugin(home.path())
            .args(["validate", "--catalog", "https://127.0.0.1:9/catalog.yaml"])
            .arg("--catalog-certificate-authority")
            .arg(&ca)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains(&format!("{} holds no PEM certificate", ca.display())),
            "{err}"
        );
    }
}
