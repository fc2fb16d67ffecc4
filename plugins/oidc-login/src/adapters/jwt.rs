//! JSON Web Tokens: decoding claims (cheap, for the cache) and verifying
//! signatures against the provider's JWKS (RS256/384/512, PS256/384/512,
//! ES256, ES384, ES512, EdDSA). id_tokens go through openidconnect's
//! `IdTokenVerifier`, with this module's key type doing the cryptography
//! (ring, and RustCrypto's `p521` for ES512, which ring lacks); access
//! tokens (`--oidc-use-access-token`) through the checks here.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{
    CoreGenderClaim, CoreJsonWebKeyType, CoreJsonWebKeyUse, CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
};
use openidconnect::{
    ClaimsVerificationError, ClientId, EmptyAdditionalClaims, IdToken, IdTokenVerifier, IssuerUrl,
    JsonWebKey, JsonWebKeyAlgorithm, JsonWebKeyId, JsonWebKeySet, JsonWebKeyUse as _,
    JwsSigningAlgorithm as _, Nonce, SignatureVerificationError,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Why a token was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwtError {
    /// Not three base64url parts with JSON inside.
    #[error("the token is not a well-formed JWT: {0}")]
    Malformed(String),
    /// An algorithm we or the provider do not accept.
    #[error("the token is signed with {alg}, which {why}")]
    Algorithm {
        /// The header's alg.
        alg: String,
        /// Why it is refused.
        why: String,
    },
    /// No key in the JWKS fits.
    #[error(
        "no key in the provider's JWKS matches the token (kid {0:?}); the provider may have rotated its keys"
    )]
    NoKey(Option<String>),
    /// The signature does not verify.
    #[error(
        "the token's signature does not verify against the provider's keys (was it tampered with?)"
    )]
    BadSignature,
    /// A claim check failed.
    #[error("{0}")]
    Claim(String),
}

/// The claims we look at.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Claims {
    /// Issuer.
    #[serde(default)]
    pub iss: Option<String>,
    /// Subject.
    #[serde(default)]
    pub sub: Option<String>,
    /// Audience: a string or an array.
    #[serde(default)]
    pub aud: Option<Value>,
    /// Authorized party.
    #[serde(default)]
    pub azp: Option<String>,
    /// Expiry (Unix seconds; a fractional value is rounded down).
    #[serde(default, deserialize_with = "numeric_date")]
    pub exp: Option<i64>,
    /// Issued at (Unix seconds; a fractional value is rounded down).
    #[serde(default, deserialize_with = "numeric_date")]
    pub iat: Option<i64>,
    /// Not before (Unix seconds; a fractional value is rounded down).
    #[serde(default, deserialize_with = "numeric_date")]
    pub nbf: Option<i64>,
    /// Nonce from the authorization request.
    #[serde(default)]
    pub nonce: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// Groups (usually an array of strings).
    #[serde(default)]
    pub groups: Option<Value>,
}

/// A JWT NumericDate (RFC 7519 §2): seconds, which may be fractional
/// (some providers write `1700000000.5`). Rounded down; values out of
/// range saturate.
fn numeric_date<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Option<i64>, D::Error> {
    use serde::de::Error as _;
    match Option::<serde_json::Number>::deserialize(de)? {
        None => Ok(None),
        Some(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Ok(Some(i)),
            // `as` saturates at the i64 bounds.
            (None, Some(f)) if f.is_finite() => Ok(Some(f.floor() as i64)),
            _ => Err(D::Error::custom(format!("{n} is not a date in seconds"))),
        },
    }
}

impl Claims {
    /// The audiences as a list.
    pub fn audiences(&self) -> Vec<String> {
        match &self.aud {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The groups as a list of strings (a single string counts as one group).
    pub fn group_list(&self) -> Vec<String> {
        match &self.groups {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    }
}

fn decode_part(part: &str, what: &str) -> Result<Vec<u8>, JwtError> {
    URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|e| JwtError::Malformed(format!("{what} is not base64url: {e}")))
}

fn split(token: &str) -> Result<(&str, &str, &str), JwtError> {
    let mut parts = token.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(p), Some(s), None) if !h.is_empty() && !p.is_empty() => Ok((h, p, s)),
        _ => Err(JwtError::Malformed(
            "expected three dot-separated parts".into(),
        )),
    }
}

/// Decodes the claims without checking the signature (for tokens we verified
/// before caching them).
pub fn decode_claims(token: &str) -> Result<Claims, JwtError> {
    let (_, payload, _) = split(token)?;
    let bytes = decode_part(payload, "the payload")?;
    serde_json::from_slice(&bytes)
        .map_err(|e| JwtError::Malformed(format!("the payload is not JSON claims: {e}")))
}

/// All claims as JSON (for `setup` and `whoami -o json`).
pub fn decode_claims_json(token: &str) -> Result<Value, JwtError> {
    let (_, payload, _) = split(token)?;
    let bytes = decode_part(payload, "the payload")?;
    serde_json::from_slice(&bytes)
        .map_err(|e| JwtError::Malformed(format!("the payload is not JSON: {e}")))
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    /// RFC 7515 §4.1.11: extensions the recipient must understand.
    #[serde(default)]
    crit: Option<Value>,
}

/// One key of a JWKS: the public parts this client verifies with.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Jwk {
    kty: CoreJsonWebKeyType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kid: Option<JsonWebKeyId>,
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    use_: Option<CoreJsonWebKeyUse>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    alg: Option<CoreJwsSigningAlgorithm>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    crv: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    n: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    e: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    x: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    y: Option<String>,
}

impl Jwk {
    /// Whether this key may verify a signature made with `alg` and named `kid`.
    fn fits(&self, alg: &CoreJwsSigningAlgorithm, kid: Option<&str>) -> bool {
        alg.key_type().as_ref() == Some(&self.kty)
            && self.use_.as_ref().is_none_or(|u| u.allows_signature())
            && self.alg.as_ref().is_none_or(|a| a == alg)
            && (kid.is_none() || self.kid.as_deref().map(String::as_str) == kid)
    }
}

/// The key type openidconnect's verifier calls; the cryptography is [`verify_with`].
impl JsonWebKey for Jwk {
    type KeyUse = CoreJsonWebKeyUse;
    type SigningAlgorithm = CoreJwsSigningAlgorithm;

    fn key_id(&self) -> Option<&JsonWebKeyId> {
        self.kid.as_ref()
    }

    fn key_type(&self) -> &CoreJsonWebKeyType {
        &self.kty
    }

    fn key_use(&self) -> Option<&CoreJsonWebKeyUse> {
        self.use_.as_ref()
    }

    fn signing_alg(&self) -> JsonWebKeyAlgorithm<&CoreJwsSigningAlgorithm> {
        match &self.alg {
            None => JsonWebKeyAlgorithm::Unspecified,
            Some(alg) => JsonWebKeyAlgorithm::Algorithm(alg),
        }
    }

    fn new_symmetric(_key: Vec<u8>) -> Self {
        // Only reached for HS* with a client secret, which this client never
        // configures (a shared secret would let anyone holding it mint tokens).
        Jwk {
            kty: CoreJsonWebKeyType::Symmetric,
            kid: None,
            use_: None,
            alg: None,
            crv: None,
            n: None,
            e: None,
            x: None,
            y: None,
        }
    }

    fn verify_signature(
        &self,
        alg: &CoreJwsSigningAlgorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureVerificationError> {
        match verify_with(self, &alg_name(alg), message, signature) {
            Ok(true) => Ok(()),
            Ok(false) => Err(SignatureVerificationError::CryptoError(
                "the signature does not verify".into(),
            )),
            Err(e) => Err(SignatureVerificationError::InvalidKey(e.to_string())),
        }
    }

    fn hash_bytes(&self, bytes: &[u8], alg: &CoreJwsSigningAlgorithm) -> Result<Vec<u8>, String> {
        use ring::digest::{SHA256, SHA384, SHA512, digest};
        // at_hash / c_hash (OpenID Connect Core §3.1.3.6): the hash of the JWS algorithm.
        let hash = match alg_name(alg).as_str() {
            "RS256" | "PS256" | "ES256" => &SHA256,
            "RS384" | "PS384" | "ES384" => &SHA384,
            "RS512" | "PS512" | "ES512" | "EdDSA" => &SHA512,
            other => return Err(format!("no hash for {other}")),
        };
        Ok(digest(hash, bytes).as_ref().to_vec())
    }
}

/// The JOSE name of an algorithm (`RS256`, …).
fn alg_name(alg: &CoreJwsSigningAlgorithm) -> String {
    serde_json::to_value(alg)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// A JSON Web Key Set.
#[derive(Debug, Clone, Deserialize)]
pub struct Jwks {
    /// The keys this client can read; a key it cannot (another key type's
    /// fields, a private extension) is left out instead of failing the set.
    #[serde(deserialize_with = "usable_keys")]
    pub keys: Vec<Jwk>,
}

fn usable_keys<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Vec<Jwk>, D::Error> {
    let keys = Vec::<Value>::deserialize(de)?;
    Ok(keys
        .into_iter()
        .filter_map(|key| serde_json::from_value(key).ok())
        .collect())
}

/// Algorithms this plugin can verify (never `none` or HS*: a shared secret
/// would let anyone holding it mint tokens).
pub const SUPPORTED_ALGS: [&str; 10] = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
];

fn verify_with(jwk: &Jwk, alg: &str, message: &[u8], signature: &[u8]) -> Result<bool, JwtError> {
    use ring::signature as sig;
    let b64 = |v: &Option<String>, name: &str| -> Result<Vec<u8>, JwtError> {
        let v = v
            .as_deref()
            .ok_or_else(|| JwtError::Malformed(format!("the JWKS key lacks {name}")))?;
        URL_SAFE_NO_PAD
            .decode(v.trim_end_matches('='))
            .map_err(|e| {
                JwtError::Malformed(format!("the JWKS key's {name} is not base64url: {e}"))
            })
    };
    let ok = match alg {
        "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" => {
            let params: &sig::RsaParameters = match alg {
                "RS256" => &sig::RSA_PKCS1_2048_8192_SHA256,
                "RS384" => &sig::RSA_PKCS1_2048_8192_SHA384,
                "RS512" => &sig::RSA_PKCS1_2048_8192_SHA512,
                "PS256" => &sig::RSA_PSS_2048_8192_SHA256,
                "PS384" => &sig::RSA_PSS_2048_8192_SHA384,
                _ => &sig::RSA_PSS_2048_8192_SHA512,
            };
            let key = sig::RsaPublicKeyComponents {
                n: b64(&jwk.n, "n")?,
                e: b64(&jwk.e, "e")?,
            };
            key.verify(params, message, signature).is_ok()
        }
        "ES256" | "ES384" => {
            let (params, curve): (&sig::EcdsaVerificationAlgorithm, &str) = if alg == "ES256" {
                (&sig::ECDSA_P256_SHA256_FIXED, "P-256")
            } else {
                (&sig::ECDSA_P384_SHA384_FIXED, "P-384")
            };
            if jwk.crv.as_deref() != Some(curve) {
                return Ok(false);
            }
            let mut point = vec![0x04];
            point.extend(b64(&jwk.x, "x")?);
            point.extend(b64(&jwk.y, "y")?);
            sig::UnparsedPublicKey::new(params, point)
                .verify(message, signature)
                .is_ok()
        }
        "ES512" => {
            // ring has no P-521: RustCrypto's pure-Rust curve (no second TLS stack).
            use p521::ecdsa::signature::Verifier as _;
            if jwk.crv.as_deref() != Some("P-521") {
                return Ok(false);
            }
            let mut point = vec![0x04];
            point.extend(b64(&jwk.x, "x")?);
            point.extend(b64(&jwk.y, "y")?);
            let key = p521::ecdsa::VerifyingKey::from_sec1_bytes(&point).map_err(|_| {
                JwtError::Malformed("the JWKS key's x and y are not a point of P-521".into())
            })?;
            match p521::ecdsa::Signature::from_slice(signature) {
                Ok(signature) => key.verify(message, &signature).is_ok(),
                Err(_) => false,
            }
        }
        "EdDSA" => {
            if jwk.crv.as_deref() != Some("Ed25519") {
                return Ok(false);
            }
            sig::UnparsedPublicKey::new(&sig::ED25519, b64(&jwk.x, "x")?)
                .verify(message, signature)
                .is_ok()
        }
        other => {
            return Err(JwtError::Algorithm {
                alg: other.to_string(),
                why: "this plugin cannot verify".into(),
            });
        }
    };
    Ok(ok)
}

/// The token's algorithm (one this plugin verifies and the provider
/// advertises) and the JWKS keys that may have signed it.
fn signing_candidates<'k>(
    token: &str,
    jwks: &'k Jwks,
    allowed: &[String],
) -> Result<(CoreJwsSigningAlgorithm, Vec<&'k Jwk>), JwtError> {
    let (header_b64, _, _) = split(token)?;
    let header: Header = serde_json::from_slice(&decode_part(header_b64, "the header")?)
        .map_err(|e| JwtError::Malformed(format!("the header is not JSON: {e}")))?;
    // We understand no JWS extension, so a token that makes any critical
    // must be refused (RFC 7515 §4.1.11).
    if let Some(crit) = &header.crit {
        return Err(JwtError::Malformed(format!(
            "the header marks extensions as critical ({crit}), which this client does not understand"
        )));
    }
    let alg = header.alg.as_str();
    if !SUPPORTED_ALGS.contains(&alg) {
        return Err(JwtError::Algorithm {
            alg: alg.to_string(),
            why: format!("is not accepted (supported: {})", SUPPORTED_ALGS.join(", ")),
        });
    }
    let advertised = allowed.is_empty() && alg == "RS256" || allowed.iter().any(|a| a == alg);
    if !advertised {
        return Err(JwtError::Algorithm {
            alg: alg.to_string(),
            why: format!(
                "the provider does not advertise in id_token_signing_alg_values_supported ({})",
                if allowed.is_empty() {
                    "RS256".to_string()
                } else {
                    allowed.join(", ")
                }
            ),
        });
    }
    let jws_alg: CoreJwsSigningAlgorithm =
        serde_json::from_value(Value::String(alg.to_string()))
            .map_err(|e| JwtError::Malformed(format!("the header's alg {alg:?}: {e}")))?;
    let candidates: Vec<&Jwk> = jwks
        .keys
        .iter()
        .filter(|k| k.fits(&jws_alg, header.kid.as_deref()))
        .collect();
    if candidates.is_empty() {
        return Err(JwtError::NoKey(header.kid));
    }
    Ok((jws_alg, candidates))
}

/// Checks the signature of `token` against `jwks`. `allowed` are the
/// algorithms the provider advertises (empty = RS256, the OIDC default).
/// Returns the decoded claims.
pub fn verify_signature(token: &str, jwks: &Jwks, allowed: &[String]) -> Result<Claims, JwtError> {
    let (alg, candidates) = signing_candidates(token, jwks, allowed)?;
    let (header_b64, payload_b64, signature_b64) = split(token)?;
    let signature = decode_part(signature_b64, "the signature")?;
    let message = &token.as_bytes()[..header_b64.len() + 1 + payload_b64.len()];
    // A key that cannot be used (bad base64, missing fields) does not stop
    // the others from being tried; its error is reported if none verifies.
    let mut unusable = None;
    for jwk in candidates {
        match verify_with(jwk, &alg_name(&alg), message, &signature) {
            Ok(true) => return decode_claims(token),
            Ok(false) => {}
            Err(e) => unusable = Some(e),
        }
    }
    Err(unusable.unwrap_or(JwtError::BadSignature))
}

/// An id_token as openidconnect reads it (the claims this client uses are
/// decoded again into [`Claims`] once it is verified).
type OidcIdToken = IdToken<
    EmptyAdditionalClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

/// Verifies an id_token (OpenID Connect Core §3.1.3.7) with openidconnect's
/// `IdTokenVerifier`: signature with one of `jwks` (each key that fits is
/// tried, so an unusable one does not hide the others), the algorithm among
/// `allowed` (never HS*: the verifier is a public client's, with no shared
/// secret), `iss`, `aud` (other audiences allowed beside the client, then
/// `azp` checked here), `exp` and `iat` with `expect.leeway` of clock skew,
/// `nonce` when one was sent. `nbf`, which the verifier ignores, is checked
/// here too. `expect.audience` is the client id.
pub fn verify_id_token(
    token: &str,
    jwks: &Jwks,
    allowed: &[String],
    expect: &Expectations<'_>,
) -> Result<Claims, JwtError> {
    let client_id = expect
        .audience
        .ok_or_else(|| JwtError::Claim("an id_token is checked against a client id".into()))?;
    let (alg, candidates) = signing_candidates(token, jwks, allowed)?;
    let id_token: OidcIdToken = token
        .parse()
        .map_err(|e| JwtError::Malformed(format!("not an OpenID Connect id_token: {e}")))?;
    let issuer = IssuerUrl::new(expect.issuer.to_string()).map_err(|e| {
        JwtError::Claim(format!("the issuer {:?} is not a URL: {e}", expect.issuer))
    })?;
    let (now, leeway) = (expect.now, expect.leeway);
    // exp is compared with "now": moving now back by the leeway accepts a
    // token up to that long after its expiry (saturating, never overflowing).
    let skewed_now = chrono::DateTime::from_timestamp(now.saturating_sub(leeway), 0)
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
    let mut unusable = None;
    let mut verified = false;
    for jwk in candidates {
        let verifier = IdTokenVerifier::new_public_client(
            ClientId::new(client_id.to_string()),
            issuer.clone(),
            JsonWebKeySet::new(vec![jwk.clone()]),
        )
        .set_allowed_algs([alg.clone()])
        // Audiences beside this client are accepted when it is among them;
        // `azp` then says who the token is for (checked below).
        .set_other_audience_verifier_fn(|_| true)
        .set_time_fn(move || skewed_now)
        .set_issue_time_verifier_fn(move |iat| {
            let ahead = iat.timestamp().saturating_sub(now);
            if ahead > leeway {
                Err(format!(
                    "the token was issued {ahead}s in the future (check this machine's clock)"
                ))
            } else {
                Ok(())
            }
        });
        let result = match expect.nonce {
            Some(nonce) => id_token
                .claims(&verifier, &Nonce::new(nonce.to_string()))
                .map(drop),
            None => id_token
                .claims(&verifier, |_: Option<&Nonce>| Ok(()))
                .map(drop),
        };
        match result {
            Ok(()) => {
                verified = true;
                break;
            }
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::CryptoError(_),
            )) => {}
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::InvalidKey(why),
            )) => unusable = Some(JwtError::Malformed(why)),
            Err(other) => return Err(refused(other, token, expect)),
        }
    }
    if !verified {
        return Err(unusable.unwrap_or(JwtError::BadSignature));
    }
    let claims = decode_claims(token)?;
    check_authorized_party(&claims, client_id)?;
    check_not_before(&claims, expect)?;
    Ok(claims)
}

/// Our words for what openidconnect's verifier refused.
fn refused(err: ClaimsVerificationError, token: &str, expect: &Expectations<'_>) -> JwtError {
    match err {
        ClaimsVerificationError::InvalidIssuer(why) => JwtError::Claim(format!(
            "the token was not issued by the configured issuer {:?}: {why} (check --oidc-issuer-url)",
            expect.issuer
        )),
        ClaimsVerificationError::InvalidAudience(why) => JwtError::Claim(format!(
            "the token is not meant for the client {:?}: {why} (check --oidc-client-id)",
            expect.audience.unwrap_or_default()
        )),
        ClaimsVerificationError::Expired(why) if why.contains("future") => JwtError::Claim(why),
        ClaimsVerificationError::Expired(_) => {
            let exp = decode_claims(token).ok().and_then(|c| c.exp).unwrap_or(0);
            JwtError::Claim(format!(
                "the token expired {}s ago (check this machine's clock)",
                expect.now.saturating_sub(exp)
            ))
        }
        ClaimsVerificationError::InvalidNonce(_) => JwtError::Claim(
            "the id_token's nonce does not match the login request (possible replay); log in again"
                .into(),
        ),
        ClaimsVerificationError::SignatureVerification(
            SignatureVerificationError::DisallowedAlg(why),
        ) => JwtError::Algorithm {
            alg: decode_alg(token),
            why,
        },
        ClaimsVerificationError::SignatureVerification(
            SignatureVerificationError::NoMatchingKey,
        ) => JwtError::NoKey(None),
        other => JwtError::Malformed(other.to_string()),
    }
}

fn decode_alg(token: &str) -> String {
    split(token)
        .ok()
        .and_then(|(h, _, _)| decode_part(h, "the header").ok())
        .and_then(|bytes| serde_json::from_slice::<Header>(&bytes).ok())
        .map(|h| h.alg)
        .unwrap_or_default()
}

/// What the OpenID Connect claim checks expect.
#[derive(Debug, Clone)]
pub struct Expectations<'a> {
    /// `iss` must equal this.
    pub issuer: &'a str,
    /// `aud` must contain this (skipped when `None`: access tokens).
    pub audience: Option<&'a str>,
    /// `nonce` must equal this (when the authorization request sent one).
    pub nonce: Option<&'a str>,
    /// Now, in Unix seconds.
    pub now: i64,
    /// Allowed clock difference with the provider, in seconds.
    pub leeway: i64,
}

/// The claim checks of OpenID Connect Core §3.1.3.7 that apply to a client:
/// `iss`, `aud`/`azp`, `exp`, `iat`/`nbf` against the clock (with leeway), `nonce`.
pub fn check_claims(claims: &Claims, expect: &Expectations<'_>) -> Result<(), JwtError> {
    let iss = claims.iss.as_deref().unwrap_or("");
    if iss != expect.issuer {
        return Err(JwtError::Claim(format!(
            "the token was issued by {iss:?}, not by the configured issuer {:?} (check --oidc-issuer-url)",
            expect.issuer
        )));
    }
    if let Some(audience) = expect.audience {
        let audiences = claims.audiences();
        if !audiences.iter().any(|a| a == audience) {
            return Err(JwtError::Claim(format!(
                "the token is meant for {audiences:?}, not for the client {audience:?} (check --oidc-client-id)"
            )));
        }
        check_authorized_party(claims, audience)?;
    }
    let exp = claims
        .exp
        .ok_or_else(|| JwtError::Claim("the token has no exp claim".into()))?;
    // Claim times come from the token: saturating arithmetic, so that
    // absurd values are refused or accepted on their merits, never overflow.
    if exp.saturating_add(expect.leeway) <= expect.now {
        return Err(JwtError::Claim(format!(
            "the token expired {}s ago (check this machine's clock)",
            expect.now.saturating_sub(exp)
        )));
    }
    check_not_before(claims, expect)?;
    if let Some(iat) = claims.iat
        && iat.saturating_sub(expect.leeway) > expect.now
    {
        return Err(JwtError::Claim(format!(
            "the token was issued {}s in the future (check this machine's clock)",
            iat.saturating_sub(expect.now)
        )));
    }
    if let Some(nonce) = expect.nonce
        && claims.nonce.as_deref() != Some(nonce)
    {
        return Err(JwtError::Claim(
            "the id_token's nonce does not match the login request (possible replay); log in again"
                .into(),
        ));
    }
    Ok(())
}

/// With several audiences, an `azp` claim must name this client.
fn check_authorized_party(claims: &Claims, client_id: &str) -> Result<(), JwtError> {
    if claims.audiences().len() > 1
        && let Some(azp) = &claims.azp
        && azp != client_id
    {
        return Err(JwtError::Claim(format!(
            "the token's authorized party is {azp:?}, not the client {client_id:?}"
        )));
    }
    Ok(())
}

/// `nbf` against the clock, with the leeway (saturating).
fn check_not_before(claims: &Claims, expect: &Expectations<'_>) -> Result<(), JwtError> {
    if let Some(nbf) = claims.nbf
        && nbf.saturating_sub(expect.leeway) > expect.now
    {
        return Err(JwtError::Claim(
            "the token is not valid yet (check this machine's clock)".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;
    use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair};

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn sign_es256(payload: &Value, kid: &str) -> (String, Jwk) {
        sign_es256_with_header(payload, serde_json::json!({"alg": "ES256", "kid": kid}))
    }

    fn sign_es256_with_header(payload: &Value, header: Value) -> (String, Jwk) {
        let kid = header["kid"].as_str().map(str::to_string);
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            pkcs8.as_ref(),
            &rng,
        )
        .unwrap();
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(payload.to_string().as_bytes())
        );
        let sig = pair.sign(&rng, input.as_bytes()).unwrap();
        let point = pair.public_key().as_ref();
        let jwk = Jwk {
            kty: CoreJsonWebKeyType::EllipticCurve,
            kid: kid.map(JsonWebKeyId::new),
            use_: Some(CoreJsonWebKeyUse::Signature),
            alg: None,
            crv: Some("P-256".into()),
            n: None,
            e: None,
            x: Some(b64(&point[1..33])),
            y: Some(b64(&point[33..])),
        };
        (format!("{input}.{}", b64(sig.as_ref())), jwk)
    }

    fn sign_eddsa(payload: &Value) -> (String, Jwk) {
        let rng = SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let header = serde_json::json!({"alg": "EdDSA"});
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(payload.to_string().as_bytes())
        );
        let sig = pair.sign(input.as_bytes());
        let jwk = Jwk {
            kty: CoreJsonWebKeyType::OctetKeyPair,
            kid: None,
            use_: None,
            alg: None,
            crv: Some("Ed25519".into()),
            n: None,
            e: None,
            x: Some(b64(pair.public_key().as_ref())),
            y: None,
        };
        (format!("{input}.{}", b64(sig.as_ref())), jwk)
    }

    fn claims() -> Value {
        serde_json::json!({"iss": "https://issuer", "aud": "client", "sub": "alice", "exp": 2000, "iat": 1000, "nonce": "n1"})
    }

    #[test]
    fn es256_and_eddsa_verify_and_tampering_is_caught() {
        let (token, jwk) = sign_es256(&claims(), "k1");
        let jwks = Jwks { keys: vec![jwk] };
        let allowed = vec!["ES256".to_string(), "EdDSA".to_string()];
        let c = verify_signature(&token, &jwks, &allowed).unwrap();
        assert_eq!(c.sub.as_deref(), Some("alice"));

        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = b64(
            serde_json::json!({"iss": "https://issuer", "sub": "mallory"})
                .to_string()
                .as_bytes(),
        );
        parts[1] = &forged;
        assert_eq!(
            verify_signature(&parts.join("."), &jwks, &allowed).unwrap_err(),
            JwtError::BadSignature
        );

        let (token, jwk) = sign_eddsa(&claims());
        let jwks = Jwks { keys: vec![jwk] };
        assert!(verify_signature(&token, &jwks, &allowed).is_ok());
        // Not advertised by the provider: refused even with a good signature.
        assert!(matches!(
            verify_signature(&token, &jwks, &["RS256".to_string()]),
            Err(JwtError::Algorithm { .. })
        ));
    }

    #[test]
    fn a_jwks_with_an_unusable_key_still_verifies_with_the_others() {
        let (token, jwk) = sign_es256(&claims(), "k1");
        let good = serde_json::json!({
            "kty": "EC", "kid": "k1", "crv": "P-256", "x": jwk.x, "y": jwk.y,
        });
        let jwks: Jwks = serde_json::from_value(serde_json::json!({"keys": [
            // Same kid, but its coordinates are not base64url.
            {"kty": "EC", "kid": "k1", "crv": "P-256", "x": "!!", "y": "!!"},
            // Not a key this client can read at all.
            {"kty": 7, "kid": ["odd"]},
            good,
        ]}))
        .unwrap();
        assert_eq!(jwks.keys.len(), 2);
        let c = verify_signature(&token, &jwks, &["ES256".into()]).unwrap();
        assert_eq!(c.sub.as_deref(), Some("alice"));
    }

    #[test]
    fn fractional_claim_times_are_read() {
        let c = decode_claims(&format!(
            "x.{}.y",
            b64(br#"{"exp":1700000000.75,"iat":1699999000.2,"nbf":1e9}"#)
        ))
        .unwrap();
        assert_eq!(c.exp, Some(1_700_000_000));
        assert_eq!(c.iat, Some(1_699_999_000));
        assert_eq!(c.nbf, Some(1_000_000_000));
    }

    #[test]
    fn critical_header_extensions_are_refused() {
        let header = serde_json::json!({"alg": "ES256", "kid": "k1", "crit": ["exp"], "exp": 1});
        let (token, jwk) = sign_es256_with_header(&claims(), header);
        let err =
            verify_signature(&token, &Jwks { keys: vec![jwk] }, &["ES256".into()]).unwrap_err();
        assert!(err.to_string().contains("critical"), "{err}");
    }

    #[test]
    fn extreme_claim_times_never_overflow() {
        let ok = Expectations {
            issuer: "https://issuer",
            audience: Some("client"),
            nonce: None,
            now: 1500,
            leeway: 60,
        };
        let at = |exp: i64, nbf: i64, iat: i64| {
            let c: Claims = serde_json::from_value(serde_json::json!({
                "iss": "https://issuer", "aud": "client", "exp": exp, "nbf": nbf, "iat": iat
            }))
            .unwrap();
            check_claims(&c, &ok)
        };
        assert!(at(i64::MAX, 0, 0).is_ok());
        assert!(
            at(i64::MIN, 0, 0)
                .unwrap_err()
                .to_string()
                .contains("expired")
        );
        assert!(at(2000, i64::MIN, i64::MIN).is_ok());
        assert!(at(2000, i64::MAX, 0).is_err());
        assert!(at(2000, 0, i64::MAX).is_err());
        let far = Expectations {
            now: i64::MAX,
            ..ok.clone()
        };
        let c: Claims = serde_json::from_value(serde_json::json!({
            "iss": "https://issuer", "aud": "client", "exp": i64::MIN
        }))
        .unwrap();
        assert!(check_claims(&c, &far).is_err());
    }

    #[test]
    fn alg_none_and_hmac_are_refused() {
        let payload = b64(claims().to_string().as_bytes());
        for alg in ["none", "HS256"] {
            let header = b64(serde_json::json!({ "alg": alg }).to_string().as_bytes());
            let token = format!("{header}.{payload}.");
            let err =
                verify_signature(&token, &Jwks { keys: vec![] }, &[alg.to_string()]).unwrap_err();
            assert!(matches!(err, JwtError::Algorithm { .. }), "{alg}: {err}");
        }
    }

    #[test]
    fn unknown_kid_is_reported() {
        let (token, mut jwk) = sign_es256(&claims(), "k1");
        jwk.kid = Some(JsonWebKeyId::new("other".into()));
        let err =
            verify_signature(&token, &Jwks { keys: vec![jwk] }, &["ES256".into()]).unwrap_err();
        assert_eq!(err, JwtError::NoKey(Some("k1".into())));
    }

    #[test]
    fn claim_checks() {
        let c: Claims = serde_json::from_value(claims()).unwrap();
        let ok = Expectations {
            issuer: "https://issuer",
            audience: Some("client"),
            nonce: Some("n1"),
            now: 1500,
            leeway: 30,
        };
        assert!(check_claims(&c, &ok).is_ok());
        // Within the leeway after exp.
        assert!(
            check_claims(
                &c,
                &Expectations {
                    now: 2020,
                    ..ok.clone()
                }
            )
            .is_ok()
        );
        let expired = check_claims(
            &c,
            &Expectations {
                now: 2100,
                ..ok.clone()
            },
        )
        .unwrap_err();
        assert!(expired.to_string().contains("expired"), "{expired}");
        let wrong_iss = check_claims(
            &c,
            &Expectations {
                issuer: "https://other",
                ..ok.clone()
            },
        )
        .unwrap_err();
        assert!(wrong_iss.to_string().contains("--oidc-issuer-url"));
        let wrong_aud = check_claims(
            &c,
            &Expectations {
                audience: Some("x"),
                ..ok.clone()
            },
        )
        .unwrap_err();
        assert!(wrong_aud.to_string().contains("--oidc-client-id"));
        let wrong_nonce = check_claims(
            &c,
            &Expectations {
                nonce: Some("n2"),
                ..ok.clone()
            },
        )
        .unwrap_err();
        assert!(wrong_nonce.to_string().contains("nonce"));
        let future = check_claims(
            &c,
            &Expectations {
                now: 900,
                ..ok.clone()
            },
        )
        .unwrap_err();
        assert!(future.to_string().contains("future"));
        assert!(
            check_claims(
                &c,
                &Expectations {
                    audience: None,
                    nonce: None,
                    ..ok
                }
            )
            .is_ok()
        );
    }

    fn sign_es512(payload: &Value) -> (String, Jwk) {
        use p521::ecdsa::signature::Signer as _;
        // A fixed private scalar below the group order: the test needs a key, not randomness.
        let mut scalar = [7u8; 66];
        scalar[0] = 0;
        let key = p521::ecdsa::SigningKey::from_slice(&scalar).unwrap();
        let header = serde_json::json!({"alg": "ES512", "kid": "p521"});
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(payload.to_string().as_bytes())
        );
        let sig: p521::ecdsa::Signature = key.sign(input.as_bytes());
        let point = key.verifying_key().to_sec1_point(false);
        let point = point.as_bytes();
        let jwk: Jwk = serde_json::from_value(serde_json::json!({
            "kty": "EC", "kid": "p521", "crv": "P-521",
            "x": b64(&point[1..67]), "y": b64(&point[67..]),
        }))
        .unwrap();
        (format!("{input}.{}", b64(&sig.to_bytes())), jwk)
    }

    fn id_token_expectations(now: i64) -> Expectations<'static> {
        Expectations {
            issuer: "https://issuer",
            audience: Some("client"),
            nonce: Some("n1"),
            now,
            leeway: 60,
        }
    }

    #[test]
    fn es512_verifies_and_tampering_is_caught() {
        let (token, jwk) = sign_es512(&claims());
        let jwks = Jwks { keys: vec![jwk] };
        let allowed = vec!["ES512".to_string()];
        let c = verify_id_token(&token, &jwks, &allowed, &id_token_expectations(1500)).unwrap();
        assert_eq!(c.sub.as_deref(), Some("alice"));
        assert!(verify_signature(&token, &jwks, &allowed).is_ok());
        let mut forged = token.clone();
        forged.replace_range(forged.len() - 4.., "AAAA");
        assert_eq!(
            verify_id_token(&forged, &jwks, &allowed, &id_token_expectations(1500)).unwrap_err(),
            JwtError::BadSignature
        );
    }

    #[test]
    fn id_tokens_without_a_required_claim_are_refused() {
        let allowed = vec!["ES256".to_string()];
        for missing in ["iat", "sub", "exp"] {
            let mut payload = claims();
            payload.as_object_mut().unwrap().remove(missing);
            let (token, jwk) = sign_es256(&payload, "k1");
            let err = verify_id_token(
                &token,
                &Jwks { keys: vec![jwk] },
                &allowed,
                &id_token_expectations(1500),
            )
            .unwrap_err();
            assert!(err.to_string().contains(missing), "{missing}: {err}");
        }
    }

    #[test]
    fn id_token_checks_through_the_verifier() {
        let allowed = vec!["ES256".to_string()];
        let check = |payload: Value, expect: &Expectations<'_>| {
            let (token, jwk) = sign_es256(&payload, "k1");
            verify_id_token(&token, &Jwks { keys: vec![jwk] }, &allowed, expect)
        };
        let ok = id_token_expectations(1500);
        assert!(check(claims(), &ok).is_ok());
        // exp and iat with 60 s of clock skew, each way.
        assert!(check(claims(), &id_token_expectations(2059)).is_ok());
        let err = check(claims(), &id_token_expectations(2061)).unwrap_err();
        assert!(err.to_string().contains("expired"), "{err}");
        assert!(check(claims(), &id_token_expectations(941)).is_ok());
        let err = check(claims(), &id_token_expectations(900)).unwrap_err();
        assert!(err.to_string().contains("future"), "{err}");
        // nbf, which the verifier leaves to us.
        let mut early = claims();
        early["nbf"] = 1600.into();
        assert!(check(early, &ok).is_err());
        // Other audiences beside the client are accepted, with azp naming it.
        let mut several = claims();
        several["aud"] = serde_json::json!(["client", "kubernetes"]);
        several["azp"] = "client".into();
        assert!(check(several.clone(), &ok).is_ok());
        several["azp"] = "other".into();
        let err = check(several, &ok).unwrap_err();
        assert!(err.to_string().contains("authorized party"), "{err}");
        let mut elsewhere = claims();
        elsewhere["aud"] = "other".into();
        let err = check(elsewhere, &ok).unwrap_err();
        assert!(err.to_string().contains("--oidc-client-id"), "{err}");
        let mut foreign = claims();
        foreign["iss"] = "https://other".into();
        let err = check(foreign, &ok).unwrap_err();
        assert!(err.to_string().contains("--oidc-issuer-url"), "{err}");
        let err = check(
            claims(),
            &Expectations {
                nonce: Some("n2"),
                ..ok.clone()
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("nonce"), "{err}");
        // No nonce expected (refresh, password): none checked.
        assert!(check(claims(), &Expectations { nonce: None, ..ok }).is_ok());
    }

    #[test]
    fn id_token_with_an_unusable_key_of_the_same_kid_still_verifies() {
        let (token, jwk) = sign_es256(&claims(), "k1");
        let jwks: Jwks = serde_json::from_value(serde_json::json!({"keys": [
            {"kty": "EC", "kid": "k1", "crv": "P-256", "x": "!!", "y": "!!"},
            {"kty": 7, "kid": ["odd"]},
            jwk,
        ]}))
        .unwrap();
        let c = verify_id_token(
            &token,
            &jwks,
            &["ES256".into()],
            &id_token_expectations(1500),
        )
        .unwrap();
        assert_eq!(c.sub.as_deref(), Some("alice"));
    }

    #[test]
    fn id_token_algorithms_are_limited() {
        let (token, jwk) = sign_es256(&claims(), "k1");
        let jwks = Jwks { keys: vec![jwk] };
        // Not advertised: refused even with a good signature.
        let err = verify_id_token(
            &token,
            &jwks,
            &["RS256".into()],
            &id_token_expectations(1500),
        )
        .unwrap_err();
        assert!(matches!(err, JwtError::Algorithm { .. }), "{err}");
        // HS256 never, even when advertised.
        let payload = b64(claims().to_string().as_bytes());
        let header = b64(br#"{"alg":"HS256"}"#);
        let err = verify_id_token(
            &format!("{header}.{payload}.c2ln"),
            &jwks,
            &["HS256".into()],
            &id_token_expectations(1500),
        )
        .unwrap_err();
        assert!(matches!(err, JwtError::Algorithm { .. }), "{err}");
    }

    #[test]
    fn malformed_tokens() {
        assert!(decode_claims("abc").is_err());
        assert!(decode_claims("a.b").is_err());
        assert!(decode_claims("a.!!!.c").is_err());
        let c = decode_claims(&format!("x.{}.y", b64(br#"{"exp":5,"groups":"g"}"#))).unwrap();
        assert_eq!(c.exp, Some(5));
        assert_eq!(c.group_list(), ["g"]);
    }
}
