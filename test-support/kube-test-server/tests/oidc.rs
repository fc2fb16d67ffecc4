//! OIDC id_tokens as bearer tokens: tokens signed here (ES256) with keys served
//! from a small discovery/JWKS endpoint, and tokens from the real test provider
//! (npm oidc-provider) over HTTPS, RS256 and ES256.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{client, secret, status_of};
use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::PostParams;
use kube_test_server::{KubeTestServer, KubeconfigOpts, OidcAuthenticator};
use oidc_test_provider::{ALICE, KeyAlg, OidcProvider, PUBLIC_CLIENT_ID};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use serde_json::{Value, json};

/// An ES256 signing key and a plain-HTTP issuer serving its discovery document and JWKS.
struct Issuer {
    url: String,
    key: EcdsaKeyPair,
}

fn es256_key() -> EcdsaKeyPair {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap()
}

impl Issuer {
    fn start() -> Self {
        let key = es256_key();
        let point = key.public_key().as_ref().to_vec(); // 0x04 || x || y
        let jwks = json!({"keys": [{
            "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": "test-key",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
        }]});
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let discovery = json!({
            "issuer": url,
            "authorization_endpoint": format!("{url}/auth"),
            "token_endpoint": format!("{url}/token"),
            "jwks_uri": format!("{url}/jwks"),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"],
        });
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut line = String::new();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                reader.read_line(&mut line).unwrap();
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                        break;
                    }
                }
                let body = if line.starts_with("GET /.well-known/openid-configuration ") {
                    discovery.to_string()
                } else if line.starts_with("GET /jwks ") {
                    jwks.to_string()
                } else {
                    let _ = stream.write_all(
                        b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                    );
                    continue;
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Issuer { url, key }
    }

    fn sign_with(key: &EcdsaKeyPair, claims: &Value) -> String {
        let header = json!({"alg": "ES256", "typ": "JWT", "kid": "test-key"});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let sig = key.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
    }

    fn token(&self, overrides: Value) -> String {
        let now = jiff::Timestamp::now().as_second();
        let mut claims = json!({
            "iss": self.url, "sub": "u-123", "aud": "kubernetes", "iat": now, "exp": now + 300,
            "email": "dana@example.com", "email_verified": true, "groups": ["platform", "oncall"],
        });
        for (k, v) in overrides.as_object().unwrap() {
            claims[k] = v.clone();
        }
        Self::sign_with(&self.key, &claims)
    }
}

async fn whoami(
    server: &KubeTestServer,
    dir: &std::path::Path,
    token: &str,
) -> Result<SelfSubjectReview, kube::Error> {
    let client = client(server, dir, &KubeconfigOpts::token(token)).await;
    Api::<SelfSubjectReview>::all(client)
        .create(&PostParams::default(), &SelfSubjectReview::default())
        .await
}

#[tokio::test]
async fn id_tokens_of_a_trusted_issuer_authenticate() {
    let issuer = Issuer::start();
    let server = KubeTestServer::start();
    server.trust_oidc(
        OidcAuthenticator::new(&issuer.url, "kubernetes")
            .username_claim("email")
            .groups_claim("groups")
            .groups_prefix("oidc:"),
    );
    server.insert_secret(secret("prod", "db", &[("k", "v")]));
    server.allow("oidc:platform", &["get"], &["secrets"], "prod");
    let dir = tempfile::tempdir().unwrap();
    let token = issuer.token(json!({}));

    let review = whoami(&server, dir.path(), &token).await.unwrap();
    let info = review.status.unwrap().user_info.unwrap();
    assert_eq!(info.username.as_deref(), Some("dana@example.com"));
    assert_eq!(
        info.groups.unwrap(),
        ["oidc:platform", "oidc:oncall", "system:authenticated"]
    );

    let client = client(&server, dir.path(), &KubeconfigOpts::token(&token)).await;
    Api::<Secret>::namespaced(client, "prod")
        .get("db")
        .await
        .unwrap();
    let seen = server.requests();
    assert!(
        seen.iter()
            .all(|r| r.bearer_token_seen.as_deref() == Some(token.as_str())
                && r.user.as_deref() == Some("dana@example.com"))
    );
}

#[tokio::test]
async fn the_default_username_prefix_is_the_issuer() {
    let issuer = Issuer::start();
    let server = KubeTestServer::start();
    server.trust_oidc(OidcAuthenticator::new(&issuer.url, "kubernetes"));
    let dir = tempfile::tempdir().unwrap();
    let review = whoami(&server, dir.path(), &issuer.token(json!({})))
        .await
        .unwrap();
    let expected = format!("{}#u-123", issuer.url);
    assert_eq!(
        review.status.unwrap().user_info.unwrap().username,
        Some(expected)
    );
}

#[tokio::test]
async fn invalid_id_tokens_get_401() {
    let issuer = Issuer::start();
    let server = KubeTestServer::start();
    server.trust_oidc(OidcAuthenticator::new(&issuer.url, "kubernetes").username_claim("email"));
    let dir = tempfile::tempdir().unwrap();
    let now = jiff::Timestamp::now().as_second();
    let other_key = es256_key();
    let cases = [
        (
            "expired",
            issuer.token(json!({"iat": now - 600, "exp": now - 300})),
        ),
        (
            "wrong audience",
            issuer.token(json!({"aud": "someone-else"})),
        ),
        (
            "email not verified",
            issuer.token(json!({"email_verified": false})),
        ),
        (
            "foreign issuer",
            issuer.token(json!({"iss": "https://elsewhere.example"})),
        ),
        (
            "signed by another key",
            Issuer::sign_with(
                &other_key,
                &json!({"iss": issuer.url, "sub": "x", "aud": "kubernetes", "iat": now, "exp": now + 300, "email": "x@example.com"}),
            ),
        ),
    ];
    for (what, token) in cases {
        let status = status_of(whoami(&server, dir.path(), &token).await.unwrap_err());
        assert_eq!(status.code, 401, "{what}");
    }
    // A second audience next to the client id is fine, as with the apiserver.
    let token = issuer.token(json!({"aud": ["kubernetes", "other"]}));
    whoami(&server, dir.path(), &token).await.unwrap();
}

fn real_provider_login(alg: KeyAlg) {
    let provider = OidcProvider::builder().key_alg(alg).start().unwrap();
    let tokens = provider
        .password_grant(PUBLIC_CLIENT_ID, None, ALICE, "openid email groups")
        .unwrap();
    let id_token = tokens["id_token"].as_str().unwrap().to_string();

    let server = KubeTestServer::start();
    server.trust_oidc(
        OidcAuthenticator::new(provider.issuer(), PUBLIC_CLIENT_ID)
            .ca_pem(provider.ca_pem().expect("the provider runs over HTTPS"))
            .username_claim("email")
            .groups_claim("groups"),
    );
    server.insert_secret(secret("team", "db", &[("k", "v")]));
    server.allow("kubext-admins", &["get"], &["secrets"], "team");
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let review = whoami(&server, dir.path(), &id_token).await.unwrap();
        let info = review.status.unwrap().user_info.unwrap();
        assert_eq!(info.username.as_deref(), Some(ALICE.email));
        assert_eq!(
            info.groups.unwrap(),
            ["developers", "kubext-admins", "system:authenticated"]
        );
        let client = client(&server, dir.path(), &KubeconfigOpts::token(&id_token)).await;
        Api::<Secret>::namespaced(client, "team")
            .get("db")
            .await
            .unwrap();
    });
}

#[test]
fn real_provider_rs256_id_token() {
    real_provider_login(KeyAlg::Rs256);
}

#[test]
fn real_provider_es256_id_token() {
    real_provider_login(KeyAlg::Es256);
}
