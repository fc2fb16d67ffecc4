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
