//! Request bodies in Kubernetes' protobuf encoding, which kubectl's typed
//! clients send for built-in kinds (`Content-Type:
//! application/vnd.kubernetes.protobuf`): the `k8s\0` envelope around a
//! `runtime.Unknown`, decoded into the JSON the rest of the server works on.
//! Only the kinds and fields this server acts on are read.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

pub(crate) const CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";
const MAGIC: &[u8] = b"k8s\0";

/// Why a protobuf request body could not be decoded.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DecodeError {
    #[error("the protobuf body lacks the k8s envelope")]
    MissingEnvelope,
    #[error("truncated varint")]
    TruncatedVarint,
    #[error("varint too long")]
    VarintTooLong,
    #[error("field length {0} does not fit in memory")]
    FieldTooLong(u64),
    #[error("truncated field")]
    TruncatedField,
    #[error("truncated message")]
    TruncatedMessage,
    #[error("unsupported wire type {0}")]
    UnsupportedWireType(u64),
    #[error("a string field is not valid UTF-8")]
    InvalidUtf8(#[source] std::string::FromUtf8Error),
    #[error("field {number} ({name}) has an unexpected wire type")]
    UnexpectedWireType { number: u64, name: String },
    #[error("kube-test-server cannot decode {kind} ({api_version}) from protobuf; send JSON")]
    UnsupportedKind { kind: String, api_version: String },
}

enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Other,
}

fn varint(buf: &[u8], pos: &mut usize) -> Result<u64, DecodeError> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *buf.get(*pos).ok_or(DecodeError::TruncatedVarint)?;
        *pos += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(DecodeError::VarintTooLong)
}

fn fields(buf: &[u8]) -> Result<Vec<(u64, Field<'_>)>, DecodeError> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        let key = varint(buf, &mut pos)?;
        let (number, wire) = (key >> 3, key & 7);
        let field = match wire {
            0 => Field::Varint(varint(buf, &mut pos)?),
            1 => {
                pos += 8;
                Field::Other
            }
            2 => {
                let len = varint(buf, &mut pos)?;
                let len = usize::try_from(len).map_err(|_| DecodeError::FieldTooLong(len))?;
                let end = pos
                    .checked_add(len)
                    .filter(|e| *e <= buf.len())
                    .ok_or(DecodeError::TruncatedField)?;
                let bytes = &buf[pos..end];
                pos = end;
                Field::Bytes(bytes)
            }
            5 => {
                pos += 4;
                Field::Other
            }
            w => return Err(DecodeError::UnsupportedWireType(w)),
        };
        out.push((number, field));
    }
    if pos > buf.len() {
        return Err(DecodeError::TruncatedMessage);
    }
    Ok(out)
}

fn string(bytes: &[u8]) -> Result<Value, DecodeError> {
    String::from_utf8(bytes.to_vec())
        .map(Value::String)
        .map_err(DecodeError::InvalidUtf8)
}

/// A `map<string, string>` (`as_base64`: `map<string, bytes>`) entry.
fn map_entry(
    bytes: &[u8],
    as_base64: bool,
    into: &mut Map<String, Value>,
) -> Result<(), DecodeError> {
    let mut key = String::new();
    let mut value = Value::String(String::new());
    for (n, f) in fields(bytes)? {
        if let Field::Bytes(b) = f {
            match n {
                1 => key = String::from_utf8(b.to_vec()).map_err(DecodeError::InvalidUtf8)?,
                2 if as_base64 => value = json!(STANDARD.encode(b)),
                2 => value = string(b)?,
                _ => {}
            }
        }
    }
    into.insert(key, value);
    Ok(())
}

/// A message of strings, maps, nested messages, integers and booleans, given
/// how to read each field number.
#[derive(Clone, Copy)]
enum Kind {
    Str,
    Strings,
    StringMap,
    BytesMap,
    Int,
    Bool,
    Message(&'static [(u64, &'static str, Kind)]),
}

const OBJECT_META: &[(u64, &str, Kind)] = &[
    (1, "name", Kind::Str),
    (2, "generateName", Kind::Str),
    (3, "namespace", Kind::Str),
    (5, "uid", Kind::Str),
    (6, "resourceVersion", Kind::Str),
    (11, "labels", Kind::StringMap),
    (12, "annotations", Kind::StringMap),
    (14, "finalizers", Kind::Strings),
];
const SECRET: &[(u64, &str, Kind)] = &[
    (1, "metadata", Kind::Message(OBJECT_META)),
    (2, "data", Kind::BytesMap),
    (3, "type", Kind::Str),
    (4, "stringData", Kind::StringMap),
    (5, "immutable", Kind::Bool),
];
const CONFIG_MAP: &[(u64, &str, Kind)] = &[
    (1, "metadata", Kind::Message(OBJECT_META)),
    (2, "data", Kind::StringMap),
    (3, "binaryData", Kind::BytesMap),
    (4, "immutable", Kind::Bool),
];
const SERVICE_ACCOUNT: &[(u64, &str, Kind)] = &[
    (1, "metadata", Kind::Message(OBJECT_META)),
    (4, "automountServiceAccountToken", Kind::Bool),
];
const METADATA_ONLY: &[(u64, &str, Kind)] = &[(1, "metadata", Kind::Message(OBJECT_META))];
const BOUND_OBJECT_REF: &[(u64, &str, Kind)] = &[
    (1, "kind", Kind::Str),
    (2, "apiVersion", Kind::Str),
    (3, "name", Kind::Str),
    (4, "uid", Kind::Str),
];
const TOKEN_REQUEST: &[(u64, &str, Kind)] = &[
    (1, "metadata", Kind::Message(OBJECT_META)),
    (
        2,
        "spec",
        Kind::Message(&[
            (1, "audiences", Kind::Strings),
            (3, "boundObjectRef", Kind::Message(BOUND_OBJECT_REF)),
            (4, "expirationSeconds", Kind::Int),
        ]),
    ),
];
const RESOURCE_ATTRIBUTES: &[(u64, &str, Kind)] = &[
    (1, "namespace", Kind::Str),
    (2, "verb", Kind::Str),
    (3, "group", Kind::Str),
    (4, "version", Kind::Str),
    (5, "resource", Kind::Str),
    (6, "subresource", Kind::Str),
    (7, "name", Kind::Str),
];
const TOKEN_REVIEW: &[(u64, &str, Kind)] = &[
    (1, "metadata", Kind::Message(OBJECT_META)),
    (
        2,
        "spec",
        Kind::Message(&[(1, "token", Kind::Str), (2, "audiences", Kind::Strings)]),
    ),
];
const SUBJECT_ACCESS_REVIEW: &[(u64, &str, Kind)] = &[
    (1, "metadata", Kind::Message(OBJECT_META)),
    (
        2,
        "spec",
        Kind::Message(&[
            (1, "resourceAttributes", Kind::Message(RESOURCE_ATTRIBUTES)),
            (
                2,
                "nonResourceAttributes",
                Kind::Message(&[(1, "path", Kind::Str), (2, "verb", Kind::Str)]),
            ),
            (3, "user", Kind::Str),
            (4, "groups", Kind::Strings),
            (6, "uid", Kind::Str),
        ]),
    ),
];
const SELF_SUBJECT_ACCESS_REVIEW: &[(u64, &str, Kind)] = &[
    (1, "metadata", Kind::Message(OBJECT_META)),
    (
        2,
        "spec",
        Kind::Message(&[
            (1, "resourceAttributes", Kind::Message(RESOURCE_ATTRIBUTES)),
            (
                2,
                "nonResourceAttributes",
                Kind::Message(&[(1, "path", Kind::Str), (2, "verb", Kind::Str)]),
            ),
        ]),
    ),
];

fn decode_message(bytes: &[u8], schema: &[(u64, &str, Kind)]) -> Result<Value, DecodeError> {
    let mut obj = Map::new();
    for (number, field) in fields(bytes)? {
        let Some((_, name, kind)) = schema.iter().find(|(n, _, _)| *n == number) else {
            continue;
        };
        let name = name.to_string();
        match (kind, field) {
            (Kind::Str, Field::Bytes(b)) => {
                obj.insert(name, string(b)?);
            }
            (Kind::Strings, Field::Bytes(b)) => {
                let list = obj.entry(name).or_insert_with(|| json!([]));
                if let Some(a) = list.as_array_mut() {
                    a.push(string(b)?);
                }
            }
            (Kind::StringMap | Kind::BytesMap, Field::Bytes(b)) => {
                let map = obj.entry(name).or_insert_with(|| json!({}));
                if let Some(m) = map.as_object_mut() {
                    map_entry(b, matches!(kind, Kind::BytesMap), m)?;
                }
            }
            (Kind::Int, Field::Varint(v)) => {
                obj.insert(name, json!(v as i64));
            }
            (Kind::Bool, Field::Varint(v)) => {
                obj.insert(name, json!(v != 0));
            }
            (Kind::Message(inner), Field::Bytes(b)) => {
                obj.insert(name, decode_message(b, inner)?);
            }
            _ => {
                return Err(DecodeError::UnexpectedWireType { number, name });
            }
        }
    }
    Ok(Value::Object(obj))
}

/// Decodes a protobuf request body into JSON with `apiVersion` and `kind`.
pub(crate) fn decode(body: &[u8]) -> Result<Value, DecodeError> {
    let unknown = body
        .strip_prefix(MAGIC)
        .ok_or(DecodeError::MissingEnvelope)?;
    let mut api_version = String::new();
    let mut kind = String::new();
    let mut raw: &[u8] = &[];
    for (number, field) in fields(unknown)? {
        match (number, field) {
            (1, Field::Bytes(type_meta)) => {
                for (n, f) in fields(type_meta)? {
                    if let Field::Bytes(b) = f {
                        match n {
                            1 => api_version = String::from_utf8_lossy(b).into_owned(),
                            2 => kind = String::from_utf8_lossy(b).into_owned(),
                            _ => {}
                        }
                    }
                }
            }
            (2, Field::Bytes(b)) => raw = b,
            _ => {}
        }
    }
    let schema = match (api_version.as_str(), kind.as_str()) {
        ("v1", "Secret") => SECRET,
        ("v1", "ConfigMap") => CONFIG_MAP,
        ("v1", "ServiceAccount") => SERVICE_ACCOUNT,
        ("v1", "Namespace") => METADATA_ONLY,
        ("authentication.k8s.io/v1", "TokenRequest") => TOKEN_REQUEST,
        ("authentication.k8s.io/v1", "SelfSubjectReview") => METADATA_ONLY,
        ("authorization.k8s.io/v1", "SelfSubjectAccessReview") => SELF_SUBJECT_ACCESS_REVIEW,
        ("authentication.k8s.io/v1", "TokenReview") => TOKEN_REVIEW,
        ("authorization.k8s.io/v1", "SubjectAccessReview") => SUBJECT_ACCESS_REVIEW,
        _ => {
            return Err(DecodeError::UnsupportedKind { kind, api_version });
        }
    };
    let mut obj = decode_message(raw, schema)?;
    obj["apiVersion"] = json!(api_version);
    obj["kind"] = json!(kind);
    Ok(obj)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(number: u64, bytes: &[u8]) -> Vec<u8> {
        let mut out = vec![(number << 3 | 2) as u8, bytes.len() as u8];
        out.extend_from_slice(bytes);
        out
    }

    #[test]
    fn decodes_a_token_request() {
        let type_meta = [
            field(1, b"authentication.k8s.io/v1"),
            field(2, b"TokenRequest"),
        ]
        .concat();
        let spec = [field(1, b"aud-a"), vec![4 << 3, 0xb0, 0x09]].concat(); // expirationSeconds = 1200
        let raw = [field(1, &field(1, b"deployer")), field(2, &spec)].concat();
        let body = [MAGIC.to_vec(), field(1, &type_meta), field(2, &raw)].concat();
        let v = decode(&body).unwrap();
        assert_eq!(v["kind"], "TokenRequest");
        assert_eq!(v["metadata"]["name"], "deployer");
        assert_eq!(v["spec"]["audiences"], json!(["aud-a"]));
        assert_eq!(v["spec"]["expirationSeconds"], 1200);
    }

    #[test]
    fn decodes_secret_data_as_base64() {
        let type_meta = [field(1, b"v1"), field(2, b"Secret")].concat();
        let entry = [field(1, b"k"), field(2, b"\x00\xff")].concat();
        let raw = [
            field(1, &field(1, b"s")),
            field(2, &entry),
            field(3, b"Opaque"),
        ]
        .concat();
        let body = [MAGIC.to_vec(), field(1, &type_meta), field(2, &raw)].concat();
        let v = decode(&body).unwrap();
        assert_eq!(v["data"]["k"], "AP8=");
        assert_eq!(v["type"], "Opaque");
    }

    #[test]
    fn rejects_what_it_cannot_read() {
        assert!(matches!(decode(b"{}"), Err(DecodeError::MissingEnvelope)));
        assert!(matches!(
            decode(b"k8s\0\x0a\xff"),
            Err(DecodeError::TruncatedVarint)
        ));
        let type_meta = [field(1, b"v1"), field(2, b"Pod")].concat();
        let body = [MAGIC.to_vec(), field(1, &type_meta)].concat();
        assert_eq!(
            decode(&body).unwrap_err().to_string(),
            "kube-test-server cannot decode Pod (v1) from protobuf; send JSON"
        );
    }
}
