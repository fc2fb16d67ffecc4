//! Redaction of secrets in audit events, before anything stores them.
//!
//! Audit policies at the `Request` and `RequestResponse` levels put Secret
//! data into events: the `data` and `stringData` of Secrets in
//! `requestObject`/`responseObject` (single objects, lists, patch bodies) and
//! the `kubectl.kubernetes.io/last-applied-configuration` annotation, which
//! holds the same data again; TokenRequest and TokenReview carry bearer
//! tokens. A [`Redactor`] replaces each such value with a marker that keeps
//! the key names and a short keyed hash of the value, so "did the value
//! change?" stays answerable while the value itself is gone:
//!
//! ```text
//! "data": {"password": "redacted:sha256:3f1a9c0b7e2d"}
//! ```
//!
//! Every ingest path (webhook, file import, cloud envelopes) calls
//! [`Redactor::redact_event`] on each event's bytes, and
//! [`Redactor::redact_rejected`] on anything it keeps as a dead letter, once,
//! before the bytes reach the log, the index, the dead-letter log or the
//! follow stream.
//!
//! Operators add their own paths per resource with [`ExtraRule`] (the sink's
//! `--redact configmaps/prod:data`).

use std::borrow::Cow;
use std::fmt;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The annotation `kubectl apply` writes: the whole object as JSON, Secret data included.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Start of every marker that replaced a value.
pub const MARKER_PREFIX: &str = "redacted:sha256:";

/// Hex digits of the keyed hash kept in a marker (48 bits: enough to tell
/// values apart, too few to confirm a guess against many values).
const HASH_HEX: usize = 12;

/// What to redact and the key of the value hashes.
#[derive(Clone)]
pub struct Redactor {
    secrets: bool,
    extra: Vec<ExtraRule>,
    key: Vec<u8>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the hash key.
        f.debug_struct("Redactor")
            .field("secrets", &self.secrets)
            .field("extra", &self.extra)
            .finish_non_exhaustive()
    }
}

/// An operator's extra rule: for events about `resource` (in `group`, in
/// `namespace` when given), the value at `path` in the request and response
/// objects is redacted like Secret data (an object keeps its keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraRule {
    /// Resource (plural, lower case), e.g. `configmaps`.
    pub resource: String,
    /// API group; `None` matches any, `""` is the core group.
    pub group: Option<String>,
    /// Namespace; `None` matches any.
    pub namespace: Option<String>,
    /// Keys from the object's root, e.g. `["data"]` or `["spec", "password"]`.
    pub path: Vec<String>,
}

/// Why an [`ExtraRule`] did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "--redact {text:?}: {problem}; write RESOURCE[.GROUP][/NAMESPACE]:PATH, e.g. configmaps/prod:data or widgets.example.com:spec.password"
)]
pub struct RuleError {
    /// The rule as written.
    pub text: String,
    /// What is wrong with it.
    pub problem: String,
}

impl std::str::FromStr for ExtraRule {
    type Err = RuleError;

    /// Parses `RESOURCE[.GROUP][/NAMESPACE]:PATH` (`PATH` dot-separated).
    fn from_str(text: &str) -> Result<ExtraRule, RuleError> {
        let err = |problem: &str| RuleError {
            text: text.to_string(),
            problem: problem.to_string(),
        };
        let (target, path) = text
            .split_once(':')
            .ok_or_else(|| err("no `:` before the path"))?;
        let (resource, namespace) = match target.split_once('/') {
            Some((r, ns)) if !ns.is_empty() => (r, Some(ns.to_string())),
            Some(_) => return Err(err("empty namespace after `/`")),
            None => (target, None),
        };
        let (resource, group) = match resource.split_once('.') {
            Some((r, g)) => (r, Some(g.to_string())),
            None => (resource, None),
        };
        if resource.is_empty() {
            return Err(err("no resource"));
        }
        let path: Vec<String> = path.split('.').map(str::to_string).collect();
        if path.iter().any(String::is_empty) {
            return Err(err("an empty key in the path"));
        }
        Ok(ExtraRule {
            resource: resource.to_ascii_lowercase(),
            group,
            namespace,
            path,
        })
    }
}

impl fmt::Display for ExtraRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.resource)?;
        if let Some(g) = &self.group {
            write!(f, ".{g}")?;
        }
        if let Some(ns) = &self.namespace {
            write!(f, "/{ns}")?;
        }
        write!(f, ":{}", self.path.join("."))
    }
}

/// What the event is about, from its `objectRef`.
#[derive(Default)]
struct Target<'a> {
    resource: &'a str,
    subresource: &'a str,
    group: &'a str,
    namespace: &'a str,
}

impl Redactor {
    /// A redactor of Secret data and tokens (when `secrets`) and of the
    /// `extra` paths, hashing values with `key` (keep it secret and stable:
    /// the same value gives the same marker only under the same key).
    pub fn new(secrets: bool, extra: Vec<ExtraRule>, key: &[u8]) -> Redactor {
        Redactor {
            secrets,
            extra,
            key: key.to_vec(),
        }
    }

    /// Whether Secret data and tokens are redacted (`--no-redact-secrets` turns it off).
    pub fn redacts_secrets(&self) -> bool {
        self.secrets
    }

    /// The marker replacing `value`: its keyed hash, never the value.
    pub fn marker(&self, value: &Value) -> String {
        let mut h = Sha256::new();
        h.update((self.key.len() as u64).to_le_bytes());
        h.update(&self.key);
        match value {
            Value::String(s) => h.update(s.as_bytes()),
            other => h.update(other.to_string().as_bytes()),
        }
        let digest = h.finalize();
        let mut out = String::with_capacity(MARKER_PREFIX.len() + HASH_HEX);
        out.push_str(MARKER_PREFIX);
        for b in &digest[..HASH_HEX / 2] {
            out.push_str(&format!("{b:02x}"));
        }
        out
    }

    /// One audit event's JSON: the same bytes when there is nothing to
    /// redact, else the event with every secret value replaced by a marker.
    /// Bytes that are not a JSON object are returned unchanged: the caller
    /// rejects them (and passes them to [`Redactor::redact_rejected`]).
    pub fn redact_event<'a>(&self, raw: &'a [u8]) -> Cow<'a, [u8]> {
        if !self.may_need(raw) {
            return Cow::Borrowed(raw);
        }
        let Ok(mut event) = serde_json::from_slice::<Value>(raw) else {
            return Cow::Borrowed(raw);
        };
        if self.redact_value(&mut event) {
            Cow::Owned(serde_json::to_vec(&event).expect("a JSON value serialises"))
        } else {
            Cow::Borrowed(raw)
        }
    }

    /// Redacts a parsed event in place; whether anything changed.
    pub fn redact_value(&self, event: &mut Value) -> bool {
        let Value::Object(ev) = event else {
            return false;
        };
        let str_at = |o: Option<&Value>, k: &str| -> String {
            o.and_then(|v| v.get(k))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let oref = ev.get("objectRef");
        let (resource, subresource, group, namespace) = (
            str_at(oref, "resource"),
            str_at(oref, "subresource"),
            str_at(oref, "apiGroup"),
            str_at(oref, "namespace"),
        );
        let target = Target {
            resource: &resource,
            subresource: &subresource,
            group: &group,
            namespace: &namespace,
        };
        let mut changed = false;
        for key in ["requestObject", "responseObject"] {
            if let Some(obj) = ev.get_mut(key) {
                changed |= self.redact_object(obj, &target);
            }
        }
        changed
    }

    /// Anything kept as a dead letter (an invalid event, a body that is not
    /// an EventList): JSON is redacted as events are, wherever events may
    /// sit in it; bytes that are not JSON are withheld when they might hold
    /// a secret (only their size and hash are kept).
    pub fn redact_rejected<'a>(&self, raw: &'a [u8]) -> Cow<'a, [u8]> {
        // Broken JSON shows no structure to trust: any `data` key counts too.
        let data_key = self.secrets && raw.windows(4).any(|w| w == b"ata\"");
        if !data_key && !self.may_need(raw) {
            return Cow::Borrowed(raw);
        }
        match serde_json::from_slice::<Value>(raw) {
            Ok(mut v) => {
                if self.redact_anything(&mut v) {
                    Cow::Owned(serde_json::to_vec(&v).expect("a JSON value serialises"))
                } else {
                    Cow::Borrowed(raw)
                }
            }
            Err(_) => {
                let digest = Sha256::digest(raw);
                let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
                Cow::Owned(
                    format!(
                        "(withheld: {} bytes that are not JSON and may hold Secret data or tokens; sha256 {hex}…)",
                        raw.len()
                    )
                    .into_bytes(),
                )
            }
        }
    }

    /// A cheap look at the bytes: could anything in them need redaction?
    /// Escapes (`\u0053ecret`) could hide a name, so any `\u` means yes.
    fn may_need(&self, raw: &[u8]) -> bool {
        let has = |needle: &[u8]| raw.windows(needle.len()).any(|w| w == needle);
        if !self.extra.is_empty() {
            return true;
        }
        self.secrets
            && (has(b"ecret") || has(b"oken") || has(b"\\u") || has(LAST_APPLIED.as_bytes()))
    }

    /// A value that may be an event, a list of events (`items`), an array
    /// of them, or anything else: every object is tried as an event, and
    /// Secret-like objects anywhere are redacted.
    fn redact_anything(&self, v: &mut Value) -> bool {
        let mut changed = false;
        match v {
            Value::Object(m) => {
                if m.contains_key("requestObject") || m.contains_key("responseObject") {
                    changed |= self.redact_value(v);
                    if let Value::Object(m) = v {
                        for (_, x) in m.iter_mut() {
                            changed |= self.redact_anything(x);
                        }
                    }
                } else {
                    changed |= self.redact_object(v, &Target::default());
                    if let Value::Object(m) = v {
                        for (_, x) in m.iter_mut() {
                            changed |= self.redact_anything(x);
                        }
                    }
                }
            }
            Value::Array(a) => {
                for x in a {
                    changed |= self.redact_anything(x);
                }
            }
            _ => {}
        }
        changed
    }

    /// The request or response object of an event about `t`.
    fn redact_object(&self, obj: &mut Value, t: &Target<'_>) -> bool {
        let mut changed = false;
        if self.secrets {
            let core = t.group.is_empty() || t.group == "core";
            if core && t.resource == "secrets" {
                // Every data, stringData and last-applied annotation in it,
                // whatever the shape: object, list, patch, status.
                changed |= self.secret_everywhere(obj);
                // A body that is no JSON (a YAML apply patch kept as text) goes whole.
                if let Value::String(s) = obj
                    && !is_marker(s)
                    && serde_json::from_str::<Value>(s).is_err()
                {
                    changed |= self.whole(obj);
                }
            }
            let tokens = (core && t.resource == "serviceaccounts" && t.subresource == "token")
                || (t.group == "authentication.k8s.io"
                    && matches!(t.resource, "tokenreviews" | "tokenrequests"));
            if tokens {
                changed |= self.tokens_everywhere(obj);
            }
            // Secrets and token objects inside anything else.
            changed |= self.by_kind(obj);
        }
        for rule in &self.extra {
            if rule.applies_to(t) {
                changed |= self.extra_rule(obj, &rule.path);
            }
        }
        changed
    }

    /// Redacts every `data`/`stringData` value and last-applied annotation
    /// in `v`, and the values of JSON-patch operations on them.
    fn secret_everywhere(&self, v: &mut Value) -> bool {
        let mut changed = false;
        match v {
            Value::Object(m) => {
                changed |= self.json_patch_op(m, &[&["data"], &["stringData"]]);
                for (k, x) in m.iter_mut() {
                    if k == "data" || k == "stringData" {
                        changed |= self.keep_keys(x);
                    } else if k == LAST_APPLIED {
                        changed |= self.last_applied(x, &|r, o| r.secret_everywhere(o));
                    } else {
                        changed |= self.secret_everywhere(x);
                    }
                }
            }
            Value::Array(a) => {
                for x in a {
                    changed |= self.secret_everywhere(x);
                }
            }
            Value::String(s) if looks_like_json(s) => {
                // A patch or object sent as a JSON string.
                changed |= self.in_json_string(v, &|r, o| r.secret_everywhere(o));
            }
            _ => {}
        }
        changed
    }

    /// Redacts every `token` value in `v` (TokenRequest status, TokenReview spec).
    fn tokens_everywhere(&self, v: &mut Value) -> bool {
        let mut changed = false;
        match v {
            Value::Object(m) => {
                changed |= self.json_patch_op(m, &[&["spec", "token"], &["status", "token"]]);
                for (k, x) in m.iter_mut() {
                    if k == "token" {
                        changed |= self.whole(x);
                    } else if k == LAST_APPLIED {
                        changed |= self.last_applied(x, &|r, o| r.tokens_everywhere(o));
                    } else {
                        changed |= self.tokens_everywhere(x);
                    }
                }
            }
            Value::Array(a) => {
                for x in a {
                    changed |= self.tokens_everywhere(x);
                }
            }
            _ => {}
        }
        changed
    }

    /// Objects of kind Secret, TokenRequest or TokenReview anywhere in `v`
    /// (lists, admission reviews, events about other resources).
    fn by_kind(&self, v: &mut Value) -> bool {
        let mut changed = false;
        match v {
            Value::Object(m) => {
                let kind = m.get("kind").and_then(Value::as_str).unwrap_or("");
                match kind {
                    "Secret" | "SecretList" => return self.secret_everywhere(v),
                    "TokenRequest" | "TokenReview" => return self.tokens_everywhere(v),
                    _ => {}
                }
                for (k, x) in m.iter_mut() {
                    if k == LAST_APPLIED {
                        changed |= self.last_applied(x, &|r, o| r.by_kind(o));
                    } else {
                        changed |= self.by_kind(x);
                    }
                }
            }
            Value::Array(a) => {
                for x in a {
                    changed |= self.by_kind(x);
                }
            }
            _ => {}
        }
        changed
    }

    /// An operator's path, in the object, in list items, in the
    /// last-applied annotation and in JSON-patch operations on it.
    fn extra_rule(&self, v: &mut Value, path: &[String]) -> bool {
        let mut changed = false;
        match v {
            Value::Object(m) => {
                let p: Vec<&str> = path.iter().map(String::as_str).collect();
                changed |= self.json_patch_op(m, &[&p]);
                if let Some(x) = at_path(m, path) {
                    changed |= self.keep_keys(x);
                }
                if let Some(Value::Array(items)) = m.get_mut("items") {
                    for x in items {
                        changed |= self.extra_rule(x, path);
                    }
                }
                if let Some(Value::Object(ann)) = m
                    .get_mut("metadata")
                    .and_then(|md| md.get_mut("annotations"))
                    && let Some(x) = ann.get_mut(LAST_APPLIED)
                {
                    changed |= self.last_applied(x, &|r, o| r.extra_rule(o, path));
                }
            }
            Value::Array(a) => {
                for x in a {
                    changed |= self.extra_rule(x, path);
                }
            }
            _ => {}
        }
        changed
    }

    /// A JSON-patch operation (`{"op", "path", "value"}`) touching one of
    /// `paths` (or an ancestor of one, whose value then holds it): its value
    /// (and `from`-less copies of it) is redacted.
    fn json_patch_op(&self, m: &mut Map<String, Value>, paths: &[&[&str]]) -> bool {
        let Some(op_path) = m.get("path").and_then(Value::as_str) else {
            return false;
        };
        if !m.contains_key("op") || !m.contains_key("value") {
            return false;
        }
        let segs: Vec<String> = op_path
            .split('/')
            .skip(1)
            .map(|s| s.replace("~1", "/").replace("~0", "~"))
            .collect();
        let touches_last_applied = segs.iter().any(|s| s == LAST_APPLIED);
        let Some(value) = m.get_mut("value") else {
            return false;
        };
        if touches_last_applied {
            return self.whole_or_json(value);
        }
        let mut changed = false;
        for p in paths {
            let n = segs.len().min(p.len());
            if segs[..n]
                .iter()
                .map(String::as_str)
                .ne(p[..n].iter().copied())
            {
                continue;
            }
            if segs.len() >= p.len() {
                // At or below the path: the value is secret through and through.
                changed |= self.keep_keys(value);
            } else {
                // Above it: the value holds the path further down.
                let rest: Vec<String> = p[n..].iter().map(|s| s.to_string()).collect();
                match value {
                    Value::Object(vm) => {
                        if let Some(x) = at_path(vm, &rest) {
                            changed |= self.keep_keys(x);
                        }
                    }
                    // Not an object where one belongs: nothing to keep of it.
                    _ => changed |= self.whole(value),
                }
            }
        }
        changed
    }

    /// A secret value: an object keeps its keys (each value a marker), anything else becomes a marker.
    fn keep_keys(&self, v: &mut Value) -> bool {
        match v {
            Value::Object(m) => {
                let mut changed = false;
                for (_, x) in m.iter_mut() {
                    changed |= self.whole(x);
                }
                changed
            }
            Value::Null => false,
            _ => self.whole(v),
        }
    }

    /// Replaces `v` with its marker (a marker already there stays).
    fn whole(&self, v: &mut Value) -> bool {
        if matches!(v, Value::Null) || v.as_str().is_some_and(is_marker) {
            return false;
        }
        *v = Value::String(self.marker(v));
        true
    }

    /// A value that may be JSON in a string (a patch, an annotation): redact
    /// what it holds when it parses, else replace it whole.
    fn whole_or_json(&self, v: &mut Value) -> bool {
        match v {
            Value::String(_) => {
                self.last_applied(v, &|r, o| r.secret_everywhere(o) | r.tokens_everywhere(o))
            }
            _ => self.secret_everywhere(v) | self.tokens_everywhere(v),
        }
    }

    /// The last-applied annotation: the object it holds is redacted with
    /// `inner`; when it does not parse, it is replaced whole.
    fn last_applied(&self, v: &mut Value, inner: &dyn Fn(&Redactor, &mut Value) -> bool) -> bool {
        match v {
            Value::String(s) => match serde_json::from_str::<Value>(s) {
                Ok(mut o) => {
                    let changed = inner(self, &mut o);
                    if changed {
                        *v = Value::String(o.to_string());
                    }
                    changed
                }
                Err(_) => self.whole(v),
            },
            Value::Null => false,
            other => inner(self, other),
        }
    }

    /// A JSON document inside a string (a patch body logged as a string).
    fn in_json_string(&self, v: &mut Value, inner: &dyn Fn(&Redactor, &mut Value) -> bool) -> bool {
        let Value::String(s) = v else { return false };
        let Ok(mut o) = serde_json::from_str::<Value>(s) else {
            return false;
        };
        if inner(self, &mut o) {
            *v = Value::String(o.to_string());
            true
        } else {
            false
        }
    }
}

impl ExtraRule {
    fn applies_to(&self, t: &Target<'_>) -> bool {
        let group = if t.group == "core" { "" } else { t.group };
        t.resource == self.resource
            && self.group.as_deref().is_none_or(|g| g == group)
            && self.namespace.as_deref().is_none_or(|ns| ns == t.namespace)
    }
}

/// Whether `s` is a marker this module wrote.
pub fn is_marker(s: &str) -> bool {
    s.strip_prefix(MARKER_PREFIX)
        .is_some_and(|h| h.len() == HASH_HEX && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A string that may hold a JSON document: an object, an array, or
/// another string (a body encoded twice).
fn looks_like_json(s: &str) -> bool {
    matches!(s.trim_start().as_bytes().first(), Some(b'{' | b'[' | b'"'))
}

fn at_path<'v>(m: &'v mut Map<String, Value>, path: &[String]) -> Option<&'v mut Value> {
    let (first, rest) = path.split_first()?;
    let v = m.get_mut(first)?;
    if rest.is_empty() {
        return Some(v);
    }
    match v {
        Value::Object(inner) => at_path(inner, rest),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn r() -> Redactor {
        Redactor::new(true, vec![], b"test key")
    }

    fn event(resource: &str, verb: &str, req: Value, resp: Value) -> Value {
        json!({
            "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "RequestResponse",
            "auditID": "a", "stage": "ResponseComplete", "verb": verb,
            "requestURI": "/api/v1/namespaces/prod/secrets/db",
            "user": {"username": "alice"},
            "objectRef": {"resource": resource, "namespace": "prod", "name": "db", "apiVersion": "v1"},
            "requestObject": req, "responseObject": resp,
            "requestReceivedTimestamp": "2024-01-01T00:00:00Z",
        })
    }

    fn redacted(v: &Value) -> String {
        let raw = serde_json::to_vec(v).unwrap();
        String::from_utf8(r().redact_event(&raw).into_owned()).unwrap()
    }

    #[test]
    fn secret_data_in_objects_lists_and_annotations() {
        let last = json!({"apiVersion":"v1","kind":"Secret","data":{"password":"TEFTVEFQUExJRUQ="},"stringData":{"user":"lastapplieduser"}}).to_string();
        let secret = json!({"kind":"Secret","apiVersion":"v1",
            "metadata":{"name":"db","annotations":{LAST_APPLIED: last}},
            "data":{"password":"c2VjcmV0dmFsdWU="},"stringData":{"token":"plainstringdata"}});
        let list = json!({"kind":"SecretList","items":[secret.clone(), {"kind":"Secret","data":{"k":"bGlzdGl0ZW0="}}]});
        let out = redacted(&event("secrets", "create", secret.clone(), list));
        for value in [
            "c2VjcmV0dmFsdWU=",
            "plainstringdata",
            "bGlzdGl0ZW0=",
            "TEFTVEFQUExJRUQ=",
            "lastapplieduser",
        ] {
            assert!(!out.contains(value), "{value} survived: {out}");
        }
        for key in [
            "\"password\"",
            "\"token\"",
            "\"k\"",
            "\\\"password\\\"",
            "\\\"user\\\"",
        ] {
            assert!(out.contains(key), "{key} lost: {out}");
        }
        let m = r().marker(&json!("c2VjcmV0dmFsdWU="));
        assert!(out.contains(&m), "{out}");
        assert!(is_marker(&m));
        // Same value, same marker; another value, another marker; another key, another marker.
        assert_eq!(m, r().marker(&json!("c2VjcmV0dmFsdWU=")));
        assert_ne!(m, r().marker(&json!("b3RoZXI=")));
        assert_ne!(
            m,
            Redactor::new(true, vec![], b"other").marker(&json!("c2VjcmV0dmFsdWU="))
        );
    }

    #[test]
    fn patches_of_every_kind() {
        let merge = json!({"data":{"password":"bWVyZ2VwYXRjaA=="}});
        let out = redacted(&event("secrets", "patch", merge, Value::Null));
        assert!(
            !out.contains("bWVyZ2VwYXRjaA==") && out.contains("password"),
            "{out}"
        );
        let jp = json!([
            {"op":"add","path":"/data/password","value":"anNvbnBhdGNo"},
            {"op":"replace","path":"/data","value":{"k":"d2hvbGVkYXRh"}},
            {"op":"add","path":"","value":{"stringData":{"k":"rootvalue"}}},
            {"op":"add","path":"/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration","value":"{\"data\":{\"k\":\"YW5ub3RhdGlvbg==\"}}"},
            {"op":"test","path":"/metadata/name","value":"db"}
        ]);
        let out = redacted(&event("secrets", "patch", jp, Value::Null));
        for value in [
            "anNvbnBhdGNo",
            "d2hvbGVkYXRh",
            "rootvalue",
            "YW5ub3RhdGlvbg==",
        ] {
            assert!(!out.contains(value), "{value} survived: {out}");
        }
        assert!(out.contains("\"db\""), "{out}");
    }

    #[test]
    fn bodies_encoded_as_strings_once_or_twice() {
        let body = json!({"kind":"Secret","data":{"k":"dHdpY2VlbmNvZGVk"}}).to_string();
        let twice = Value::String(Value::String(body.clone()).to_string());
        for req in [
            Value::String(body),
            twice,
            json!("apiVersion: v1\nkind: Secret\nstringData:\n  k: yamlvalue\n"),
        ] {
            let out = redacted(&event("secrets", "patch", req, Value::Null));
            assert!(
                !out.contains("dHdpY2VlbmNvZGVk") && !out.contains("yamlvalue"),
                "{out}"
            );
        }
        // A root replaced by something that is not an object goes whole.
        let jp = json!([{"op":"replace","path":"","value":"cm9vdHN0cmluZw=="}]);
        assert!(
            !redacted(&event("secrets", "patch", jp, Value::Null)).contains("cm9vdHN0cmluZw==")
        );
    }

    #[test]
    fn tokens() {
        let tr = event(
            "serviceaccounts",
            "create",
            json!({"kind":"TokenRequest","spec":{"audiences":["x"]}}),
            json!({"kind":"TokenRequest","status":{"token":"eyJhbGciOiJSUzI1NiJ9.tokenrequest","expirationTimestamp":"2024-01-01T01:00:00Z"}}),
        );
        let mut tr = tr;
        tr["objectRef"]["subresource"] = json!("token");
        let out = redacted(&tr);
        assert!(
            !out.contains("tokenrequest") && out.contains("expirationTimestamp"),
            "{out}"
        );
        let mut review = event(
            "tokenreviews",
            "create",
            json!({"kind":"TokenReview","spec":{"token":"reviewedtokenvalue"}}),
            json!({"kind":"TokenReview","spec":{"token":"reviewedtokenvalue"},"status":{"authenticated":true}}),
        );
        review["objectRef"]["apiGroup"] = json!("authentication.k8s.io");
        let out = redacted(&review);
        assert!(
            !out.contains("reviewedtokenvalue") && out.contains("authenticated"),
            "{out}"
        );
    }

    #[test]
    fn secrets_inside_other_events_and_escaped_kinds() {
        // A Secret in a List answer of another resource, kind written with an escape.
        let raw = br#"{"kind":"Event","auditID":"a","stage":"ResponseComplete","verb":"list","requestURI":"/x","user":{"username":"u"},"objectRef":{"resource":"things"},"responseObject":{"kind":"List","items":[{"kind":"\u0053ecret","data":{"k":"aGlkZGVu"}}]},"requestReceivedTimestamp":"2024-01-01T00:00:00Z"}"#;
        let out = r().redact_event(raw);
        assert!(!String::from_utf8_lossy(&out).contains("aGlkZGVu"));
    }

    #[test]
    fn nothing_to_redact_keeps_the_bytes() {
        let raw = br#"{"kind":"Event","verb":"get","objectRef":{"resource":"pods"},"requestObject":{"data":{"k":"v"}}}"#;
        assert!(matches!(r().redact_event(raw), Cow::Borrowed(_)));
        let off = Redactor::new(false, vec![], b"k");
        let secret = serde_json::to_vec(&event(
            "secrets",
            "create",
            json!({"data":{"k":"dmFsdWU="}}),
            Value::Null,
        ))
        .unwrap();
        assert!(String::from_utf8_lossy(&off.redact_event(&secret)).contains("dmFsdWU="));
    }

    #[test]
    fn extra_rules() {
        let rule: ExtraRule = "configmaps/prod:data".parse().unwrap();
        assert_eq!(rule.to_string(), "configmaps/prod:data");
        let red = Redactor::new(true, vec![rule], b"k");
        let cm = |ns: &str| {
            let mut e = event(
                "configmaps",
                "update",
                json!({"kind":"ConfigMap","data":{"db.conf":"password=configvalue"}}),
                Value::Null,
            );
            e["objectRef"]["namespace"] = json!(ns);
            serde_json::to_vec(&e).unwrap()
        };
        assert!(!String::from_utf8_lossy(&red.redact_event(&cm("prod"))).contains("configvalue"));
        assert!(String::from_utf8_lossy(&red.redact_event(&cm("dev"))).contains("configvalue"));
        let w: ExtraRule = "widgets.example.com:spec.password".parse().unwrap();
        assert_eq!(w.group.as_deref(), Some("example.com"));
        assert_eq!(w.path, ["spec", "password"]);
        for bad in [
            "configmaps",
            ":data",
            "configmaps/:data",
            "configmaps:data..x",
        ] {
            let e = bad.parse::<ExtraRule>().unwrap_err();
            assert!(
                e.to_string().contains("RESOURCE[.GROUP][/NAMESPACE]:PATH"),
                "{e}"
            );
        }
    }

    #[test]
    fn rejected_bodies() {
        let body = br#"{"kind":"EventList","items":[{"kind":"Event","objectRef":{"resource":"secrets"},"requestObject":{"data":{"k":"ZGVhZGxldHRlcg=="}}}]}"#;
        assert!(!String::from_utf8_lossy(&r().redact_rejected(body)).contains("ZGVhZGxldHRlcg=="));
        let garbage = br#"{"kind":"EventList","items":[{"data":{"k":"bm90anNvbg=="}"#;
        let out = r().redact_rejected(garbage);
        assert!(!String::from_utf8_lossy(&out).contains("bm90anNvbg=="));
        assert!(String::from_utf8_lossy(&out).contains("withheld"));
    }
}
