//! HTTPS with client certificates: ingest and search each trust their own CA.

mod common;

use audit_gen::{self as testgen, Level};
use common::*;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};

struct Pki {
    dir: tempfile::TempDir,
}

fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, name);
    CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap()
}

fn leaf(names: &[&str], cn: &str, issuer: &CertifiedIssuer<'static, KeyPair>) -> (String, String) {
    let mut p =
        CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    p.distinguished_name.push(DnType::CommonName, cn);
    let key = KeyPair::generate().unwrap();
    let cert = p.signed_by(&key, issuer).unwrap();
    (cert.pem(), key.serialize_pem())
}

impl Pki {
    fn write(&self, name: &str, content: &str) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, content).unwrap();
        p.to_str().unwrap().to_string()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificates_from_separate_cas_for_ingest_and_search() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let pki = Pki {
        dir: tempfile::tempdir().unwrap(),
    };
    let ingest_ca = ca("ingest CA");
    let search_ca = ca("search CA");
    let (server_cert, server_key) = leaf(&["127.0.0.1", "localhost"], "audit-sink", &ingest_ca);
    let (apiserver_cert, apiserver_key) = leaf(&[], "kube-apiserver", &ingest_ca);
    let (reader_cert, reader_key) = leaf(&[], "auditor", &search_ca);
    let args = [
        "--tls-cert".to_string(),
        pki.write("server.crt", &server_cert),
        "--tls-key".to_string(),
        pki.write("server.key", &server_key),
        "--client-ca".to_string(),
        pki.write("ingest-ca.crt", &ingest_ca.pem()),
        "--search-client-ca".to_string(),
        pki.write("search-ca.crt", &search_ca.pem()),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let data = pki.dir.path().join("data");
    let sink = SinkProc::start(&data, &args);
    assert!(sink.url.starts_with("https://127.0.0.1:"), "{}", sink.url);

    let root = reqwest::Certificate::from_pem(ingest_ca.pem().as_bytes()).unwrap();
    let client_with = |identity: Option<(&str, &str)>| {
        let mut b = reqwest::Client::builder()
            .use_rustls_tls()
            .add_root_certificate(root.clone());
        if let Some((cert, key)) = identity {
            b = b.identity(reqwest::Identity::from_pem(format!("{cert}{key}").as_bytes()).unwrap());
        }
        b.build().unwrap()
    };
    let apiserver = client_with(Some((&apiserver_cert, &apiserver_key)));
    let auditor = client_with(Some((&reader_cert, &reader_key)));
    let anonymous = client_with(None);

    let items = testgen::events(
        11,
        20,
        Level::Metadata,
        "2025-02-01T00:00:00Z".parse().unwrap(),
        1_000_000,
    );
    assert_eq!(post_list(&anonymous, &sink.url, &items).await.status(), 401);
    assert_eq!(post_list(&auditor, &sink.url, &items).await.status(), 401);
    assert_eq!(post_list(&apiserver, &sink.url, &items).await.status(), 200);

    let search = |c: &reqwest::Client| c.get(format!("{}/v1/search?q=verb:get", sink.url)).send();
    assert_eq!(search(&anonymous).await.unwrap().status(), 401);
    assert_eq!(search(&apiserver).await.unwrap().status(), 401);
    assert_eq!(search(&auditor).await.unwrap().status(), 200);
    wait_total(&auditor, &sink.url, "", 20).await;
}
