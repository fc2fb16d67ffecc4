//! The fixture is a real OpenID provider: an independent client library
//! (`openidconnect`) discovers it, runs the authorization code flow with PKCE
//! and a nonce, and verifies the id_token against its JWKS.

use oidc_test_provider::{ALICE, BOB, KeyAlg, OidcProvider, PUBLIC_CLIENT_ID};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    AuthorizationCode, ClientId, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, RedirectUrl, RefreshToken, Scope, TokenResponse,
};

fn http_client(provider: &OidcProvider) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_idle_timeout(provider.client_idle_timeout());
    if let Some(pem) = provider.ca_pem() {
        builder = builder
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap());
    }
    builder.build().unwrap()
}

fn payload(jwt: &str) -> serde_json::Value {
    use base64::Engine as _;
    let part = jwt.split('.').nth(1).expect("a JWT has three parts");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let url = reqwest::Url::parse(url).unwrap();
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn openidconnect_verifies_an_authcode_id_token_over_https() {
    let provider = OidcProvider::builder().start().unwrap();
    assert!(provider.issuer().starts_with("https://127.0.0.1:"));
    let http = http_client(&provider);

    let metadata = CoreProviderMetadata::discover_async(
        IssuerUrl::new(provider.issuer().into()).unwrap(),
        &http,
    )
    .await
    .unwrap();
    let client =
        CoreClient::from_provider_metadata(metadata, ClientId::new(PUBLIC_CLIENT_ID.into()), None)
            .set_redirect_uri(RedirectUrl::new("http://localhost:8000".into()).unwrap());

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("groups".into()))
        .set_pkce_challenge(challenge)
        .url();

    // The login and consent pages complete by themselves; the redirect to the
    // (absent) loopback listener carries the code.
    let output = provider.browse(url.as_str(), &["--stop-outside"]).unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let redirect = String::from_utf8(output.stdout).unwrap();
    let redirect = redirect.trim();
    assert!(redirect.starts_with("http://localhost:8000/"), "{redirect}");
    assert_eq!(
        query_param(redirect, "state").as_deref(),
        Some(state.secret().as_str())
    );
    let code = query_param(redirect, "code").expect("the redirect carries a code");

    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let id_token = tokens.id_token().expect("an id_token");
    let claims = id_token
        .claims(&client.id_token_verifier(), &nonce)
        .unwrap();
    assert_eq!(claims.subject().as_str(), ALICE.id);
    assert_eq!(claims.email().map(|e| e.as_str()), Some(ALICE.email));
    assert_eq!(claims.issuer().as_str(), provider.issuer());
    let groups = payload(&id_token.to_string())["groups"].clone();
    assert_eq!(groups, serde_json::json!(ALICE.groups));

    // A refresh token comes without offline_access, and works once.
    let refresh = tokens
        .refresh_token()
        .expect("a refresh token")
        .secret()
        .clone();
    let refreshed = client
        .exchange_refresh_token(&RefreshToken::new(refresh.clone()))
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    let new_id_token = refreshed.id_token().expect("an id_token on refresh");
    let claims = new_id_token
        .claims(&client.id_token_verifier(), |_: Option<&Nonce>| Ok(()))
        .unwrap();
    assert_eq!(claims.subject().as_str(), ALICE.id);
    assert!(!refreshed.access_token().secret().is_empty());
    // Public clients' refresh tokens rotate: the old one is now rejected.
    let reused = client
        .exchange_refresh_token(&RefreshToken::new(refresh))
        .unwrap()
        .request_async(&http)
        .await;
    assert!(reused.is_err(), "a rotated refresh token must be rejected");

    let stats = provider.stats().unwrap();
    assert_eq!(stats.token_requests_for("authorization_code"), 1);
    assert_eq!(stats.token_requests_for("refresh_token"), 2);
    assert_eq!(stats.grants_for("refresh_token"), 1);
    assert_eq!(stats.authorization_requests(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_signing_algorithm_verifies_and_a_tampered_token_does_not() {
    let algs = [
        (KeyAlg::Rs256, CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256),
        (KeyAlg::Ps256, CoreJwsSigningAlgorithm::RsaSsaPssSha256),
        (KeyAlg::Es256, CoreJwsSigningAlgorithm::EcdsaP256Sha256),
        (KeyAlg::EdDsa, CoreJwsSigningAlgorithm::EdDsa),
    ];
    for (alg, jws) in algs {
        let provider = OidcProvider::builder().http().key_alg(alg).start().unwrap();
        let http = http_client(&provider);
        let metadata = CoreProviderMetadata::discover_async(
            IssuerUrl::new(provider.issuer().into()).unwrap(),
            &http,
        )
        .await
        .unwrap();
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(PUBLIC_CLIENT_ID.into()),
            None,
        );
        let verifier = client.id_token_verifier().set_allowed_algs([jws.clone()]);

        let tokens = provider
            .password_grant(PUBLIC_CLIENT_ID, None, BOB, "openid email groups")
            .unwrap();
        let raw = tokens["id_token"].as_str().unwrap().to_string();
        let id_token: CoreIdToken = raw.parse().unwrap();
        let claims = id_token
            .claims(&verifier, |_: Option<&Nonce>| Ok(()))
            .unwrap();
        assert_eq!(claims.subject().as_str(), BOB.id, "{alg:?}");
        assert_eq!(payload(&raw)["groups"], serde_json::json!(BOB.groups));

        // Same header and signature, another payload.
        let mut parts: Vec<String> = raw.split('.').map(str::to_string).collect();
        let mut body = payload(&raw);
        body["sub"] = serde_json::json!("mallory");
        use base64::Engine as _;
        parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(body.to_string());
        let tampered: CoreIdToken = parts.join(".").parse().unwrap();
        assert!(
            tampered
                .claims(&verifier, |_: Option<&Nonce>| Ok(()))
                .is_err(),
            "{alg:?}: a tampered id_token must not verify"
        );
    }
}

#[test]
fn pkce_is_required_for_the_public_client() {
    let provider = OidcProvider::builder().http().start().unwrap();
    let url = format!(
        "{}/auth?client_id={PUBLIC_CLIENT_ID}&response_type=code&scope=openid&redirect_uri=http://localhost:8000&state=s1",
        provider.issuer()
    );
    let output = provider.browse(&url, &["--stop-outside"]).unwrap();
    let redirect = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        query_param(redirect.trim(), "error").as_deref(),
        Some("invalid_request"),
        "{redirect}"
    );
    assert!(
        query_param(redirect.trim(), "error_description")
            .unwrap()
            .contains("PKCE")
    );
}

#[test]
fn device_flow_completes_through_the_device_pages_and_can_be_denied() {
    let provider = OidcProvider::builder().start().unwrap();
    let http = provider.http_client();
    let device_auth = |scope: &str| -> serde_json::Value {
        http.post(format!("{}/device/auth", provider.issuer()))
            .form(&[("client_id", PUBLIC_CLIENT_ID), ("scope", scope)])
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    let poll = |device_code: &str| -> serde_json::Value {
        http.post(format!("{}/token", provider.issuer()))
            .form(&[
                ("client_id", PUBLIC_CLIENT_ID),
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("device_code", device_code),
            ])
            .send()
            .unwrap()
            .json()
            .unwrap()
    };

    let started = device_auth("openid email");
    assert_eq!(started["interval"], 1);
    let device_code = started["device_code"].as_str().unwrap();
    assert_eq!(poll(device_code)["error"], "authorization_pending");
    let output = provider
        .browse(started["verification_uri_complete"].as_str().unwrap(), &[])
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tokens = poll(device_code);
    assert_eq!(
        payload(tokens["id_token"].as_str().unwrap())["email"],
        ALICE.email
    );

    let started = device_auth("openid");
    let output = provider
        .browse(
            started["verification_uri_complete"].as_str().unwrap(),
            &["--deny"],
        )
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        poll(started["device_code"].as_str().unwrap())["error"],
        "access_denied"
    );
}

#[test]
fn password_grant_checks_the_password_and_client_credentials_give_a_jwt() {
    let provider = OidcProvider::builder().http().start().unwrap();
    let (id, secret) = provider.confidential_client();
    let wrong = oidc_test_provider::Account {
        password: "wrong",
        ..ALICE
    };
    let err = provider
        .password_grant(id, Some(secret), wrong, "openid")
        .unwrap_err();
    assert!(
        err.to_string().contains("invalid username or password"),
        "{err}"
    );

    let response: serde_json::Value = provider
        .http_client()
        .post(format!("{}/token", provider.issuer()))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "openid")])
        .send()
        .unwrap()
        .json()
        .unwrap();
    let claims = payload(response["access_token"].as_str().unwrap());
    assert_eq!(claims["sub"], id);
    assert_eq!(claims["aud"], id);
    assert_eq!(claims["iss"], provider.issuer());
}
