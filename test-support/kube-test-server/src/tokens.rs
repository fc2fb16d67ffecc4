//! Tokens: which user a bearer token stands for (the token table, then the
//! trusted OIDC issuers), TokenReview, and the TokenRequest API that issues
//! signed service account tokens.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::auth::{API_AUDIENCE, TokenEntry, User, matching_audiences, user_info};
use crate::request_info::ResourceRequest;
use crate::state::Shared;
use crate::status::ApiError;
use crate::store::{ObjectKey, format_time, new_uid};

/// The user behind a bearer token, and the audiences among `wanted` it is valid for.
pub(crate) async fn authenticate_token(
    shared: &Shared,
    token: &str,
    wanted: &[String],
) -> Option<(User, Vec<String>)> {
    let (entry, issuers) = {
        let inner = shared.lock();
        (inner.tokens.get(token).cloned(), inner.oidc.clone())
    };
    if let Some(entry) = entry {
        let audiences = matching_audiences(entry.audiences.as_deref(), wanted);
        return (entry.valid_now() && !audiences.is_empty())
            .then(|| (entry.user.authenticated(), audiences));
    }
    let audiences = matching_audiences(None, wanted);
    if audiences.is_empty() {
        return None;
    }
    for issuer in issuers {
        if let Some(user) = issuer.authenticate(token).await {
            return Some((user.authenticated(), audiences));
        }
    }
    None
}

/// TokenReview: who is behind `spec.token`, for `spec.audiences`.
pub(crate) async fn token_review(shared: &Shared, mut body: Value) -> Value {
    let token = body["spec"]["token"].as_str().unwrap_or("").to_string();
    let wanted = spec_audiences(&body);
    body["apiVersion"] = json!("authentication.k8s.io/v1");
    body["kind"] = json!("TokenReview");
    body["metadata"] = json!({"creationTimestamp": null});
    body["status"] = match authenticate_token(shared, &token, &wanted).await {
        Some((user, audiences)) => {
            json!({"authenticated": true, "user": user_info(&user), "audiences": audiences})
        }
        None => json!({"user": {}, "error": "invalid bearer token"}),
    };
    body
}

/// TokenRequest: a signed service account token the server then accepts.
pub(crate) fn token_request(
    shared: &Shared,
    rr: &ResourceRequest,
    mut body: Value,
) -> Result<Value, ApiError> {
    const GROUP: &str = "authentication.k8s.io";
    let expiration = match &body["spec"]["expirationSeconds"] {
        Value::Null => 3600,
        v => v.as_i64().ok_or_else(|| {
            ApiError::bad_request("spec.expirationSeconds must be an integer".into())
        })?,
    };
    if expiration < 600 {
        return Err(ApiError::invalid(
            GROUP,
            "TokenRequest",
            &rr.name,
            "spec.expirationSeconds",
            format!("Invalid value: {expiration}: may not specify a duration less than 10 minutes"),
        ));
    }
    if expiration > 1 << 32 {
        return Err(ApiError::invalid(
            GROUP,
            "TokenRequest",
            &rr.name,
            "spec.expirationSeconds",
            format!(
                "Invalid value: {expiration}: may not specify a duration larger than 2^32 seconds"
            ),
        ));
    }
    let audiences = spec_audiences(&body);

    let mut inner = shared.lock();
    let sa_key = ObjectKey {
        group: String::new(),
        plural: "serviceaccounts".into(),
        namespace: rr.namespace.clone(),
        name: rr.name.clone(),
    };
    let sa = inner
        .store
        .get(&sa_key)
        .cloned()
        .ok_or_else(|| ApiError::not_found("", "serviceaccounts", &rr.name))?;
    let sa_uid = sa["metadata"]["uid"].as_str().unwrap_or("").to_string();

    let mut kubernetes_io = json!({
        "namespace": rr.namespace,
        "serviceaccount": {"name": rr.name, "uid": sa_uid},
    });
    let bound = body["spec"]["boundObjectRef"].clone();
    if bound.is_object() {
        let kind = bound["kind"].as_str().unwrap_or("");
        let name = bound["name"].as_str().unwrap_or("");
        let (plural, claim) = match kind {
            "Pod" => ("pods", "pod"),
            "Secret" => ("secrets", "secret"),
            "Node" => ("nodes", "node"),
            other => {
                return Err(ApiError::invalid(
                    GROUP,
                    "TokenRequest",
                    &rr.name,
                    "spec.boundObjectRef.kind",
                    format!(
                        "Unsupported value: {other:?}: supported values: \"Pod\", \"Secret\", \"Node\""
                    ),
                ));
            }
        };
        let key = ObjectKey {
            group: String::new(),
            plural: plural.into(),
            namespace: if kind == "Node" {
                String::new()
            } else {
                rr.namespace.clone()
            },
            name: name.to_string(),
        };
        let obj = inner
            .store
            .get(&key)
            .ok_or_else(|| ApiError::not_found("", plural, name))?;
        let uid = obj["metadata"]["uid"].as_str().unwrap_or("").to_string();
        if let Some(want) = bound["uid"].as_str().filter(|u| !u.is_empty() && *u != uid) {
            return Err(ApiError::conflict(
                "",
                plural,
                name,
                format!(
                    "the UID in the bound object reference ({want}) does not match the UID in record. The object might have been deleted and then recreated"
                ),
            ));
        }
        body["spec"]["boundObjectRef"]["uid"] = json!(uid);
        if body["spec"]["boundObjectRef"]["apiVersion"].is_null() {
            body["spec"]["boundObjectRef"]["apiVersion"] = json!("v1");
        }
        kubernetes_io[claim] = json!({"name": name, "uid": uid});
    }

    let now = jiff::Timestamp::now();
    let exp = now + jiff::SignedDuration::from_secs(expiration);
    let jti = new_uid();
    let claims = json!({
        "aud": audiences,
        "exp": exp.as_second(),
        "iat": now.as_second(),
        "iss": API_AUDIENCE,
        "jti": jti,
        "kubernetes.io": kubernetes_io,
        "nbf": now.as_second(),
        "sub": format!("system:serviceaccount:{}:{}", rr.namespace, rr.name),
    });
    let token = sign_jwt(shared, &claims).map_err(ApiError::internal)?;

    let mut user = User::new(format!(
        "system:serviceaccount:{}:{}",
        rr.namespace, rr.name
    ))
    .with_uid(sa_uid)
    .with_groups([
        "system:serviceaccounts".to_string(),
        format!("system:serviceaccounts:{}", rr.namespace),
    ]);
    user.extra.insert(
        "authentication.kubernetes.io/credential-id".into(),
        vec![format!("JTI={jti}")],
    );
    inner.tokens.insert(
        token.clone(),
        TokenEntry {
            user,
            expires: Some(exp),
            audiences: Some(audiences.clone()),
        },
    );

    body["apiVersion"] = json!("authentication.k8s.io/v1");
    body["kind"] = json!("TokenRequest");
    body["metadata"] =
        json!({"name": rr.name, "namespace": rr.namespace, "creationTimestamp": null});
    body["spec"]["audiences"] = json!(audiences);
    body["spec"]["expirationSeconds"] = json!(expiration);
    if !body["spec"]["boundObjectRef"].is_object() {
        // Not omitempty in TokenRequestSpec: sent as null.
        body["spec"]["boundObjectRef"] = Value::Null;
    }
    body["status"] = json!({"token": token, "expirationTimestamp": format_time(exp)});
    Ok(body)
}

fn sign_jwt(shared: &Shared, claims: &Value) -> Result<String, String> {
    let header = json!({"alg": "ES256", "kid": shared.sa_key_id});
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig = shared
        .sa_key
        .sign(&shared.rng, signing_input.as_bytes())
        .map_err(|_| "signing the token failed".to_string())?;
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(sig.as_ref())
    ))
}

/// `spec.audiences` of a review or request, or the apiserver's own audience
/// when it names none.
fn spec_audiences(body: &Value) -> Vec<String> {
    body["spec"]["audiences"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .filter(|a: &Vec<String>| !a.is_empty())
        .unwrap_or_else(|| vec![API_AUDIENCE.to_string()])
}
