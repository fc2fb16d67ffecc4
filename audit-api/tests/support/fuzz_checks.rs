//! The properties the fuzz targets `event_list` and `query` (under `fuzz/`)
//! assert, shared with `tests/fuzz_regressions.rs`, which replays every input
//! the fuzzers found through the same checks.

use std::sync::OnceLock;

use audit_api::EventFields;
use audit_api::event::{DecodedItem, Event, RawEventList, decode_batch};
use audit_api::fields::tokenize;
use audit_api::query::{Pattern, Query, parse_query, quote_value};

/// The body of `POST /v1/events`, decoded exactly as the sink does it.
///
/// No panic; an accepted body is a JSON object with as many items as decoded;
/// every accepted event validates again, has the timestamps the sink keys and
/// partitions on, re-encodes to an equal event, and is found again by a
/// `field:value` query built from each of its values with `quote_value`.
pub fn event_list(body: &[u8]) {
    let Ok(items) = decode_batch(body) else {
        return;
    };
    assert_eq!(
        body.trim_ascii_start().first(),
        Some(&b'{'),
        "accepted a body that is not a JSON object"
    );
    let list = RawEventList::from_slice(body).expect("decode_batch accepted this body");
    assert_eq!(list.items.len(), items.len());
    for DecodedItem { raw, event } in &items {
        let Ok(event) = event else { continue };
        assert_eq!(raw.get().as_bytes().first(), Some(&b'{'));
        event.validate().expect("a decoded event validates");
        let received = event.received_at().expect("validated: received_at");
        event.stage_at().expect("validated: stage_at");
        // The sink partitions by UTC day of the received time.
        let _day = received.as_microsecond().div_euclid(86_400_000_000);
        assert!(!event.dedup_key().is_empty());

        let again = serde_json::to_string(event).expect("an Event serialises");
        assert_eq!(
            Event::from_json(&again).as_ref(),
            Ok(event),
            "re-encoded event differs: {again}"
        );

        let fields = EventFields::from_event(event);
        for (field, value) in &fields.keywords {
            let text = format!("{}:{}", field.name(), quote_value(value));
            let q = parse_query(&text)
                .unwrap_or_else(|e| panic!("query {text:?} built from a value: {e}"));
            assert_eq!(
                q,
                Query::Field {
                    field: *field,
                    pattern: Pattern::Exact(value.clone())
                },
                "{text}"
            );
            assert!(q.matches(&fields), "{text} does not match its own event");
        }
        for (key, value) in &fields.annotations {
            if key.is_empty() {
                continue;
            }
            let q = Query::Annotation {
                key: key.clone(),
                value: Some(Pattern::Exact(value.clone())),
            };
            let text = q.to_string();
            let parsed =
                parse_query(&text).unwrap_or_else(|e| panic!("annotation query {text:?}: {e}"));
            assert_eq!(parsed, q, "{text}");
            assert!(
                parsed.matches(&fields),
                "{text} does not match its own event"
            );
        }
    }
}

const EVENT: &str = r#"{"auditID":"a1","stage":"ResponseComplete","verb":"delete","level":"RequestResponse","requestURI":"/api/v1/namespaces/prod/secrets/db","user":{"username":"system:serviceaccount:ci:deployer","groups":["system:serviceaccounts"]},"sourceIPs":["10.0.0.7"],"userAgent":"kubectl/v1.32 (linux/amd64)","objectRef":{"resource":"secrets","namespace":"prod","name":"db-password","apiVersion":"v1"},"responseStatus":{"code":403},"annotations":{"authorization.k8s.io/decision":"forbid"},"requestObject":{"spec":{"image":"nginx:1.25"}},"requestReceivedTimestamp":"2024-01-01T00:00:00Z"}"#;

fn fields() -> &'static EventFields {
    static FIELDS: OnceLock<EventFields> = OnceLock::new();
    FIELDS.get_or_init(|| EventFields::from_event(&Event::from_json(EVENT).expect("valid event")))
}

/// The search query parser, as the sink runs it on the `q` parameter.
///
/// No panic (nor stack overflow); an error's position lies within the query;
/// a parsed query prints to text that parses back to an equal query, and
/// printing that again gives the same text; evaluating it does not panic.
pub fn query(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let q = match parse_query(text) {
        Ok(q) => q,
        Err(e) => {
            let len = text.chars().count();
            assert!(
                e.position <= len,
                "error position {} beyond the query ({len} chars)",
                e.position
            );
            let _ = e.caret(text);
            return;
        }
    };
    let printed = q.to_string();
    let again = parse_query(&printed)
        .unwrap_or_else(|e| panic!("{text:?} printed as {printed:?}, which does not parse: {e}"));
    assert_eq!(again, q, "{text:?} printed as {printed:?}");
    assert_eq!(again.to_string(), printed, "printing is not canonical");
    let _ = q.matches(fields());
    free_text_is_a_phrase(&q);
}

/// A free-text term means its words side by side, in order: it matches a
/// text holding the term (for `word*`, holding a longer last word), and no
/// text where other words stand between its words.
fn free_text_is_a_phrase(q: &Query) {
    let text = |t: String| EventFields {
        text: t,
        ..EventFields::default()
    };
    let (term, typed) = match q {
        Query::Text { text, .. } => (text.clone(), text.clone()),
        Query::TextPrefix(p) => (p.clone(), format!("{p}z9")),
        _ => return,
    };
    let words = tokenize(&term);
    assert!(
        q.matches(&text(format!("before {typed} after"))),
        "{q:?} does not match a text holding it"
    );
    if words.len() >= 2 && !words.iter().any(|w| w == "filler") {
        let apart = words.join(" filler ");
        assert!(
            !q.matches(&text(apart.clone())),
            "{q:?} matches its words apart: {apart:?}"
        );
    }
}

/// Bytes read one at a time to decide the shape of a generated event.
struct Choices<'a> {
    data: &'a [u8],
    pos: usize,
    secrets: usize,
}

impl Choices<'_> {
    fn next(&mut self, n: u8) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b % n
    }

    /// A fresh secret value: letters only this generator writes.
    fn secret(&mut self) -> serde_json::Value {
        self.secrets += 1;
        serde_json::Value::String(format!("QQSECRETVALUEQQ{}", self.secrets))
    }

    /// A Secret's `data`/`stringData` map with 0–2 keys.
    fn data_map(&mut self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        for i in 0..self.next(3) {
            m.insert(format!("key{i}"), self.secret());
        }
        serde_json::Value::Object(m)
    }

    /// A Secret object, maybe with a last-applied annotation holding another.
    fn secret_object(&mut self, depth: u8) -> serde_json::Value {
        let mut o =
            serde_json::json!({"kind": "Secret", "apiVersion": "v1", "metadata": {"name": "s"}});
        if self.next(2) == 0 {
            o["data"] = self.data_map();
        }
        if self.next(2) == 0 {
            o["stringData"] = self.data_map();
        }
        if depth < 2 && self.next(2) == 0 {
            let inner = self.secret_object(depth + 1).to_string();
            o["metadata"]["annotations"] =
                serde_json::json!({ audit_api::redact::LAST_APPLIED: inner });
        }
        o
    }

    /// What a request or response about secrets may carry.
    fn secret_body(&mut self, depth: u8) -> serde_json::Value {
        match self.next(if depth < 2 { 8 } else { 4 }) {
            0 => self.secret_object(depth),
            1 => serde_json::json!({"data": self.data_map(), "stringData": self.data_map()}),
            2 => {
                let path = ["/data/key0", "/data", "/stringData/key1", "", "/stringData"]
                    [self.next(5) as usize];
                // The value fits the path: a whole object at the root,
                // a map or a value below it.
                let value = match (path, self.next(2)) {
                    ("", _) => self.secret_object(depth),
                    (_, 0) => self.secret(),
                    _ => self.data_map(),
                };
                serde_json::json!([{"op": "add", "path": path, "value": value},
                                   {"op": "test", "path": "/metadata/name", "value": "s"}])
            }
            3 => {
                let inner = self.secret_object(depth).to_string();
                serde_json::json!([{"op": "replace",
                    "path": "/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration",
                    "value": inner}])
            }
            4 => {
                let items: Vec<_> = (0..self.next(3))
                    .map(|_| self.secret_object(depth))
                    .collect();
                serde_json::json!({"kind": "SecretList", "items": items})
            }
            5 => serde_json::Value::String(self.secret_body(depth + 1).to_string()),
            6 => serde_json::json!({"spec": {"nested": [self.secret_body(depth + 1)]}}),
            _ => serde_json::json!({"kind": "Status", "details": {"data": self.data_map()}}),
        }
    }
}

fn redactor() -> &'static audit_api::redact::Redactor {
    static R: OnceLock<audit_api::redact::Redactor> = OnceLock::new();
    R.get_or_init(|| audit_api::redact::Redactor::new(true, vec![], b"fuzz key"))
}

/// Redaction (`audit_api::redact`), as every ingest path runs it.
///
/// The input decides the shape of an event holding Secret data and tokens
/// in every position the apiserver writes them (Secrets, lists, merge and
/// JSON patches, patch bodies as strings, last-applied annotations,
/// TokenRequest/TokenReview, Secrets inside other answers, escaped kinds);
/// after redaction no byte of a secret value is left and the result is JSON
/// (that key names are kept is asserted by the unit and sink tests). The raw input is also redacted as an event
/// and as a dead letter: no panic, and anything changed is JSON or withheld.
pub fn redaction(data: &[u8]) {
    let _ = redactor().redact_event(data);
    let _ = redactor().redact_rejected(data);

    let mut c = Choices {
        data,
        pos: 0,
        secrets: 0,
    };
    let (resource, subresource, group, req, resp) = match c.next(5) {
        0 | 1 => ("secrets", "", "", c.secret_body(0), c.secret_body(0)),
        2 => (
            "serviceaccounts",
            "token",
            "",
            serde_json::json!({"kind": "TokenRequest", "spec": {"audiences": ["a"]}}),
            serde_json::json!({"kind": "TokenRequest", "status": {"token": c.secret(), "expirationTimestamp": "2024-01-01T00:00:00Z"}}),
        ),
        3 => (
            "tokenreviews",
            "",
            "authentication.k8s.io",
            serde_json::json!({"kind": "TokenReview", "spec": {"token": c.secret()}}),
            serde_json::json!({"kind": "TokenReview", "spec": {"token": c.secret()}, "status": {"authenticated": true}}),
        ),
        _ => (
            "things",
            "",
            "example.com",
            serde_json::json!({"kind": "List", "items": [c.secret_object(0)]}),
            serde_json::json!({"kind": "List", "items": [{"kind": "TokenReview", "spec": {"token": c.secret()}}]}),
        ),
    };
    let event = serde_json::json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "RequestResponse",
        "auditID": "a", "stage": "ResponseComplete", "verb": "patch", "requestURI": "/x",
        "user": {"username": "u"},
        "objectRef": {"resource": resource, "subresource": subresource, "apiGroup": group, "namespace": "n"},
        "requestObject": req, "responseObject": resp,
        "requestReceivedTimestamp": "2024-01-01T00:00:00Z",
    });
    let mut raw = serde_json::to_string(&event).expect("serialises");
    if c.next(2) == 0 {
        raw = raw.replace("\"Secret", "\"\\u0053ecret");
    }
    let out = redactor().redact_event(raw.as_bytes());
    let text = String::from_utf8_lossy(&out);
    assert!(
        !text.contains("SECRETVALUE"),
        "a secret value survived redaction:\n{raw}\n->\n{text}"
    );
    let back: serde_json::Value = serde_json::from_slice(&out).expect("the redacted event is JSON");
    assert_eq!(back["objectRef"], event["objectRef"]);
}
