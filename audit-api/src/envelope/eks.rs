//! Amazon EKS: the control plane's audit log in CloudWatch Logs (log group
//! `/aws/eks/<cluster>/cluster`, streams `kube-apiserver-audit-*`), where each
//! log event's `message` is one whole audit Event JSON.
//!
//! Units read here:
//! - `aws logs filter-log-events --output json` output: `{"events":[{"logStreamName",
//!   "timestamp","message","ingestionTime","eventId"}…],"searchedLogStreams",
//!   "nextToken"}`, and each of those events alone (JSON lines, e.g. `jq -c '.events[]'`);
//! - CloudWatch Logs subscription payloads: `{"messageType":"DATA_MESSAGE",
//!   "owner","logGroup","logStream","subscriptionFilters","logEvents":[{"id",
//!   "timestamp","message"}]}`, gzip'd, raw or base64 as Kinesis and Firehose
//!   deliver them; a `CONTROL_MESSAGE` carries no events;
//! - S3 export task lines: an RFC 3339 timestamp, a space, the message.
//!
//! A message CloudWatch cut at 256 KB ends in `[Truncated...]`: it becomes a
//! [`DeadReason::Truncated`] record, never half an event.

use std::collections::BTreeMap;
use std::io::Read as _;

use base64::Engine as _;
use serde_json::Value;

use super::{
    ACCOUNT_ANNOTATION, CLOUD_ANNOTATION, CLUSTER_ANNOTATION, Context, DeadReason, Decoded,
    LOG_GROUP_ANNOTATION, LOG_STREAM_ANNOTATION, parse_unit, str_at,
};

/// The suffix CloudWatch Logs puts on a message it cut at 256 KB.
pub const TRUNCATED_SUFFIX: &str = "[Truncated...]";

/// Prefix of the audit log streams in an EKS cluster's log group.
pub const AUDIT_STREAM_PREFIX: &str = "kube-apiserver-audit";

/// Largest decoded subscription payload accepted (CloudWatch sends at most
/// about 1 MB per payload; this leaves room and bounds a gzip bomb).
const MAX_PAYLOAD: u64 = 64 << 20;

/// Whether `line` is an S3 export line: a timestamp, a space, then a message.
pub fn is_s3_export_line(line: &[u8]) -> bool {
    split_s3_line(line).is_some()
}

fn split_s3_line(line: &[u8]) -> Option<&[u8]> {
    if !line.first()?.is_ascii_digit() {
        return None;
    }
    let space = line.iter().position(|b| *b == b' ')?;
    let stamp = std::str::from_utf8(&line[..space]).ok()?;
    stamp.parse::<jiff::Timestamp>().ok()?;
    Some(line[space + 1..].trim_ascii())
}

/// Whether `unit` is a gzip'd subscription payload, raw or base64.
pub fn is_encoded_payload(unit: &[u8]) -> bool {
    unit.starts_with(&[0x1f, 0x8b]) || unit.starts_with(b"H4sI")
}

/// The cluster in a log group named `/aws/eks/<cluster>/cluster`.
pub fn cluster_of_log_group(group: &str) -> Option<&str> {
    group
        .strip_prefix("/aws/eks/")?
        .strip_suffix("/cluster")
        .filter(|c| !c.is_empty() && !c.contains('/'))
}

/// Decodes one EKS unit (see the module documentation for the shapes).
pub fn decode(unit: &[u8], ctx: &Context) -> Decoded {
    let mut out = Decoded::default();
    let unit = unit.trim_ascii();
    if is_encoded_payload(unit) {
        match decode_payload_bytes(unit) {
            Ok(json) => decode_json(&json, ctx, &mut out),
            Err(e) => out.dead(DeadReason::Malformed(e.with_cause()), "", unit),
        }
        return out;
    }
    if let Some(message) = split_s3_line(unit) {
        message_event(message, None, &base_annotations(ctx), "", &mut out);
        return out;
    }
    decode_json(unit, ctx, &mut out);
    out
}

/// Why a subscription payload could not be turned into JSON bytes.
#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    /// Not gzip, not JSON, and not valid base64 either.
    #[error("a subscription payload is neither gzip nor base64")]
    NotBase64(#[source] base64::DecodeError),
    /// Valid base64, but what it encodes is neither gzip nor JSON.
    #[error("the base64 record is not a gzip'd CloudWatch Logs payload")]
    NotGzip,
    /// The gzip stream is corrupt or cut short.
    #[error("the gzip'd subscription payload does not decode")]
    Gzip(#[source] std::io::Error),
    /// The decompressed payload exceeds the bound that stops a gzip bomb.
    #[error("the subscription payload decodes to more than {limit} bytes")]
    TooLarge {
        /// The largest decoded size accepted, in bytes.
        limit: u64,
    },
}

impl PayloadError {
    /// The message followed by its cause, as a dead record's reason shows it.
    fn with_cause(&self) -> String {
        match std::error::Error::source(self) {
            Some(cause) => format!("{self}: {cause}"),
            None => self.to_string(),
        }
    }
}

/// Turns a subscription payload as delivered (gzip, or base64 of gzip, or
/// plain JSON) into its JSON bytes.
pub fn decode_payload_bytes(data: &[u8]) -> Result<Vec<u8>, PayloadError> {
    let data = data.trim_ascii();
    let gz: Vec<u8> = if data.starts_with(&[0x1f, 0x8b]) {
        data.to_vec()
    } else if data.starts_with(b"{") {
        return Ok(data.to_vec());
    } else {
        base64::engine::general_purpose::STANDARD
            .decode(data)
            .map_err(PayloadError::NotBase64)?
    };
    if !gz.starts_with(&[0x1f, 0x8b]) {
        if gz.trim_ascii_start().starts_with(b"{") {
            return Ok(gz);
        }
        return Err(PayloadError::NotGzip);
    }
    let mut json = Vec::new();
    flate2::read::MultiGzDecoder::new(&gz[..])
        .take(MAX_PAYLOAD + 1)
        .read_to_end(&mut json)
        .map_err(PayloadError::Gzip)?;
    if json.len() as u64 > MAX_PAYLOAD {
        return Err(PayloadError::TooLarge { limit: MAX_PAYLOAD });
    }
    Ok(json)
}

fn base_annotations(ctx: &Context) -> BTreeMap<&'static str, String> {
    let mut ann = BTreeMap::new();
    ann.insert(CLOUD_ANNOTATION, "eks".to_string());
    if let Some(c) = &ctx.cluster {
        ann.insert(CLUSTER_ANNOTATION, c.clone());
    }
    ann
}

fn decode_json(unit: &[u8], ctx: &Context, out: &mut Decoded) {
    let Some(value) = parse_unit(unit, "a CloudWatch Logs record", out) else {
        return;
    };
    let base = base_annotations(ctx);
    if let Some(kind) = value.get("messageType") {
        return subscription(&value, kind, base, unit, out);
    }
    if let Some(events) = value.get("events") {
        let Some(events) = events.as_array() else {
            return out.dead(
                DeadReason::Malformed("`events` is not an array".into()),
                "",
                unit,
            );
        };
        for (i, e) in events.iter().enumerate() {
            log_event(e, &base, format!("events[{i}]"), out);
        }
        return;
    }
    if value.get("message").is_some() {
        return log_event(&value, &base, String::new(), out);
    }
    out.dead(
        DeadReason::Malformed(
            "not a CloudWatch Logs record: expected `events`, `message` or `messageType`".into(),
        ),
        "",
        unit,
    );
}

fn subscription(
    value: &Value,
    kind: &Value,
    mut ann: BTreeMap<&'static str, String>,
    unit: &[u8],
    out: &mut Decoded,
) {
    match kind.as_str() {
        Some("DATA_MESSAGE") => {}
        Some("CONTROL_MESSAGE") => return out.dead(DeadReason::ControlMessage, "", unit),
        _ => {
            return out.dead(
                DeadReason::Malformed(format!("unknown messageType {kind}")),
                "",
                unit,
            );
        }
    }
    if let Some(group) = str_at(value, &["logGroup"]) {
        ann.insert(LOG_GROUP_ANNOTATION, group.to_string());
        if let Some(cluster) = cluster_of_log_group(group) {
            ann.insert(CLUSTER_ANNOTATION, cluster.to_string());
        }
    }
    if let Some(owner) = str_at(value, &["owner"]) {
        ann.insert(ACCOUNT_ANNOTATION, owner.to_string());
    }
    let stream = str_at(value, &["logStream"]);
    let Some(events) = value.get("logEvents").and_then(Value::as_array) else {
        return out.dead(
            DeadReason::Malformed("DATA_MESSAGE without a `logEvents` array".into()),
            "",
            unit,
        );
    };
    for (i, e) in events.iter().enumerate() {
        let location = format!("logEvents[{i}]");
        let Some(message) = e.get("message").and_then(Value::as_str) else {
            out.dead(
                DeadReason::Malformed("log event without a string `message`".into()),
                location,
                e.to_string(),
            );
            continue;
        };
        message_event(message.as_bytes(), stream, &ann, location, out);
    }
}

fn log_event(
    e: &Value,
    base: &BTreeMap<&'static str, String>,
    location: String,
    out: &mut Decoded,
) {
    let Some(message) = e.get("message").and_then(Value::as_str) else {
        return out.dead(
            DeadReason::Malformed("log event without a string `message`".into()),
            location,
            e.to_string(),
        );
    };
    let stream = str_at(e, &["logStreamName"]);
    message_event(message.as_bytes(), stream, base, location, out);
}

fn message_event(
    message: &[u8],
    stream: Option<&str>,
    ann: &BTreeMap<&'static str, String>,
    location: impl Into<String>,
    out: &mut Decoded,
) {
    let location = location.into();
    if let Some(s) = stream
        && !s.starts_with(AUDIT_STREAM_PREFIX)
    {
        return out.dead(DeadReason::OtherStream(s.to_string()), location, message);
    }
    if message
        .trim_ascii_end()
        .ends_with(TRUNCATED_SUFFIX.as_bytes())
    {
        return out.dead(DeadReason::Truncated, location, message);
    }
    match stream {
        Some(s) => {
            let mut ann = ann.clone();
            ann.insert(LOG_STREAM_ANNOTATION, s.to_string());
            out.event(message, &ann, location);
        }
        None => out.event(message, ann, location),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;
    use crate::envelope::{Format, decode as decode_any};

    const EVENT: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"e1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods/web","verb":"get","user":{"username":"alice"},"objectRef":{"resource":"pods","namespace":"default","name":"web","apiVersion":"v1"},"responseStatus":{"code":200},"requestReceivedTimestamp":"2024-05-01T10:00:00.000000Z","stageTimestamp":"2024-05-01T10:00:00.100000Z"}"#;

    fn payload(kind: &str, messages: &[&str]) -> String {
        let events: Vec<Value> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| serde_json::json!({"id": i.to_string(), "timestamp": 1714557600000i64, "message": m}))
            .collect();
        serde_json::json!({
            "messageType": kind,
            "owner": "123456789012",
            "logGroup": "/aws/eks/prod-eu/cluster",
            "logStream": "kube-apiserver-audit-0123",
            "subscriptionFilters": ["kubext"],
            "logEvents": events,
        })
        .to_string()
    }

    fn gzip(b: &[u8]) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b).unwrap();
        gz.finish().unwrap()
    }

    #[test]
    fn subscription_payload_names_the_cluster_and_provenance() {
        let json = payload("DATA_MESSAGE", &[EVENT]);
        for unit in [
            json.clone().into_bytes(),
            gzip(json.as_bytes()),
            base64::engine::general_purpose::STANDARD
                .encode(gzip(json.as_bytes()))
                .into_bytes(),
        ] {
            assert_eq!(Format::detect(&unit), Some(Format::Eks));
            let d = decode_any(Format::Eks, &unit, &Context::default());
            assert!(d.dead.is_empty(), "{:?}", d.dead);
            let a = &d.events[0].event.annotations;
            assert_eq!(a[CLUSTER_ANNOTATION], "prod-eu");
            assert_eq!(a[CLOUD_ANNOTATION], "eks");
            assert_eq!(a[LOG_GROUP_ANNOTATION], "/aws/eks/prod-eu/cluster");
            assert_eq!(a[LOG_STREAM_ANNOTATION], "kube-apiserver-audit-0123");
            assert_eq!(a[ACCOUNT_ANNOTATION], "123456789012");
            assert_eq!(d.events[0].event.audit_id, "e1");
        }
    }

    #[test]
    fn control_messages_and_truncated_messages_are_dead() {
        let d = decode(
            payload("CONTROL_MESSAGE", &[]).as_bytes(),
            &Context::default(),
        );
        assert!(d.events.is_empty());
        assert_eq!(d.dead[0].reason, DeadReason::ControlMessage);

        let cut = format!("{}[Truncated...]", &EVENT[..100]);
        let d = decode(
            payload("DATA_MESSAGE", &[EVENT, &cut]).as_bytes(),
            &Context::default(),
        );
        assert_eq!(d.events.len(), 1);
        assert_eq!(d.dead.len(), 1);
        assert_eq!(d.dead[0].reason, DeadReason::Truncated);
        assert_eq!(d.dead[0].location, "logEvents[1]");
        assert_eq!(d.dead[0].bytes, cut.as_bytes());
    }

    #[test]
    fn filter_log_events_output_takes_the_cluster_from_the_context() {
        let out = serde_json::json!({
            "events": [
                {"logStreamName": "kube-apiserver-audit-a", "timestamp": 1, "message": EVENT, "ingestionTime": 2, "eventId": "1"},
                {"logStreamName": "authenticator-a", "timestamp": 1, "message": "time=... msg=access granted", "ingestionTime": 2, "eventId": "2"}
            ],
            "searchedLogStreams": [],
            "nextToken": "x"
        })
        .to_string();
        let ctx = Context {
            cluster: Some("from-flag".into()),
        };
        let d = decode(out.as_bytes(), &ctx);
        assert_eq!(d.events.len(), 1);
        assert_eq!(
            d.events[0].event.annotations[CLUSTER_ANNOTATION],
            "from-flag"
        );
        assert_eq!(d.dead[0].reason.label(), "other-stream");
        assert_eq!(d.dead[0].location, "events[1]");
    }

    #[test]
    fn s3_export_lines_carry_the_message_after_the_timestamp() {
        let line = format!("2024-05-01T10:00:00.123Z {EVENT}");
        let d = decode(line.as_bytes(), &Context::default());
        assert_eq!(d.events.len(), 1);
        assert!(
            !d.events[0]
                .event
                .annotations
                .contains_key(CLUSTER_ANNOTATION)
        );
    }

    #[test]
    fn log_group_names_give_the_cluster() {
        assert_eq!(cluster_of_log_group("/aws/eks/a-b/cluster"), Some("a-b"));
        assert_eq!(cluster_of_log_group("/aws/lambda/x"), None);
        assert_eq!(cluster_of_log_group("/aws/eks//cluster"), None);
    }

    #[test]
    fn undecodable_payload_is_malformed() {
        let d = decode(b"H4sI!!!!", &Context::default());
        assert_eq!(d.dead[0].reason.label(), "malformed");
        let why = d.dead[0].reason.to_string();
        assert!(
            why.starts_with("malformed: a subscription payload is neither gzip nor base64: "),
            "{why}"
        );
    }

    #[test]
    fn payload_errors_say_which_step_failed() {
        let not_gzip = base64::engine::general_purpose::STANDARD.encode(b"plain text");
        assert!(matches!(
            decode_payload_bytes(not_gzip.as_bytes()),
            Err(PayloadError::NotGzip)
        ));
        let mut cut = gzip(payload("DATA_MESSAGE", &[EVENT]).as_bytes());
        cut.truncate(cut.len() / 2);
        let err = decode_payload_bytes(&cut).unwrap_err();
        assert!(matches!(err, PayloadError::Gzip(_)), "{err:?}");
        assert!(std::error::Error::source(&err).is_some());
    }
}
