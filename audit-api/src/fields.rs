//! The canonical query fields and the values an event has for each of them.
//!
//! [`FIELDS`] is the one list of names the query language accepts (with
//! aliases); `kubectl audit` uses it to complete and validate, the sink to
//! build its index schema. [`EventFields`] extracts those values from an
//! [`Event`] so the index and the in-memory matcher agree on what a field is.

use crate::event::Event;

/// A field of the query language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// `user.username`.
    User,
    /// `user.groups` (any of them).
    Group,
    /// `impersonatedUser.username`.
    Impersonated,
    /// `verb`.
    Verb,
    /// `objectRef.resource`.
    Resource,
    /// `objectRef.subresource`.
    Subresource,
    /// `objectRef.namespace`.
    Namespace,
    /// `objectRef.name`.
    Name,
    /// `objectRef.apiGroup` (`core` for the core group).
    ApiGroup,
    /// `objectRef.apiVersion`.
    ApiVersion,
    /// `responseStatus.code`.
    Code,
    /// `stage`.
    Stage,
    /// `level`.
    Level,
    /// `auditID`.
    AuditId,
    /// `userAgent`.
    UserAgent,
    /// `sourceIPs` (any of them).
    Ip,
    /// `annotations`, queried as `annotation:key=value`.
    Annotation,
    /// `requestURI`.
    Uri,
    /// The cluster the event came from: the annotation
    /// [`CLUSTER_ANNOTATION`], [`DEFAULT_CLUSTER`] when absent.
    Cluster,
}

/// The annotation that names the cluster an event came from. The sink sets
/// it on every event it stores (from the ingest credential, `?cluster=` or
/// its `--cluster-name`), overwriting whatever the sender put there.
pub const CLUSTER_ANNOTATION: &str = "audit.kubext.io/cluster";

/// The cluster of an event without [`CLUSTER_ANNOTATION`].
pub const DEFAULT_CLUSTER: &str = "default";

/// Longest cluster name.
pub const MAX_CLUSTER_NAME: usize = 63;

/// Why a cluster name is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid cluster name {name:?}: use 1 to 63 letters, digits, '-' or '_' (e.g. prod-eu)")]
pub struct InvalidClusterName {
    /// The name as given.
    pub name: String,
}

/// Checks a cluster name: 1 to [`MAX_CLUSTER_NAME`] ASCII letters, digits,
/// `-` or `_`. Names are also subject tokens of the replicated log
/// (`kubext.audit.<cluster>`), so dots, wildcards and spaces are refused.
pub fn validate_cluster_name(name: &str) -> Result<(), InvalidClusterName> {
    let ok = !name.is_empty()
        && name.len() <= MAX_CLUSTER_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(InvalidClusterName {
            name: name.to_string(),
        })
    }
}

/// Parses a cluster name given on a command line (`--audit-cluster`,
/// `--cluster-name`): [`validate_cluster_name`], then the owned name.
pub fn parse_cluster_name(name: &str) -> Result<String, InvalidClusterName> {
    validate_cluster_name(name).map(|()| name.to_string())
}

/// Description of one query field.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    /// The field.
    pub field: Field,
    /// Canonical name, used in queries, in the index and in `stats?by=`.
    pub name: &'static str,
    /// Other accepted spellings.
    pub aliases: &'static [&'static str],
    /// Where the value comes from in the event.
    pub source: &'static str,
    /// Example filter.
    pub example: &'static str,
    /// Whether `GET /v1/stats?by=` accepts it.
    pub groupable: bool,
}

/// Every query field, in the order the documentation lists them.
pub const FIELDS: &[FieldSpec] = &[
    FieldSpec {
        field: Field::User,
        name: "user",
        aliases: &["username"],
        source: "user.username",
        example: "user:system:serviceaccount:*",
        groupable: true,
    },
    FieldSpec {
        field: Field::Group,
        name: "group",
        aliases: &["groups"],
        source: "user.groups[]",
        example: "group:system:masters",
        groupable: true,
    },
    FieldSpec {
        field: Field::Impersonated,
        name: "impersonated",
        aliases: &["as"],
        source: "impersonatedUser.username",
        example: "impersonated:alice",
        groupable: true,
    },
    FieldSpec {
        field: Field::Verb,
        name: "verb",
        aliases: &[],
        source: "verb",
        example: "verb:delete",
        groupable: true,
    },
    FieldSpec {
        field: Field::Resource,
        name: "resource",
        aliases: &["res"],
        source: "objectRef.resource",
        example: "resource:secrets",
        groupable: true,
    },
    FieldSpec {
        field: Field::Subresource,
        name: "subresource",
        aliases: &["sub"],
        source: "objectRef.subresource",
        example: "subresource:exec",
        groupable: true,
    },
    FieldSpec {
        field: Field::Namespace,
        name: "ns",
        aliases: &["namespace"],
        source: "objectRef.namespace",
        example: "ns:prod",
        groupable: true,
    },
    FieldSpec {
        field: Field::Name,
        name: "name",
        aliases: &[],
        source: "objectRef.name",
        example: "name:web-*",
        groupable: true,
    },
    FieldSpec {
        field: Field::ApiGroup,
        name: "apigroup",
        aliases: &["api-group"],
        source: "objectRef.apiGroup (core group: core)",
        example: "apigroup:rbac.authorization.k8s.io",
        groupable: true,
    },
    FieldSpec {
        field: Field::ApiVersion,
        name: "apiversion",
        aliases: &["api-version"],
        source: "objectRef.apiVersion",
        example: "apiversion:v1",
        groupable: true,
    },
    FieldSpec {
        field: Field::Code,
        name: "code",
        aliases: &["status"],
        source: "responseStatus.code",
        example: "code:4xx",
        groupable: true,
    },
    FieldSpec {
        field: Field::Stage,
        name: "stage",
        aliases: &[],
        source: "stage",
        example: "stage:ResponseComplete",
        groupable: true,
    },
    FieldSpec {
        field: Field::Level,
        name: "level",
        aliases: &[],
        source: "level",
        example: "level:RequestResponse",
        groupable: true,
    },
    FieldSpec {
        field: Field::AuditId,
        name: "auditid",
        aliases: &["id"],
        source: "auditID",
        example: "auditid:14933b4e-7b09-4964-af09-b7987367e1ba",
        groupable: false,
    },
    FieldSpec {
        field: Field::UserAgent,
        name: "ua",
        aliases: &["useragent", "user-agent"],
        source: "userAgent",
        example: "ua:kubectl/*",
        groupable: true,
    },
    FieldSpec {
        field: Field::Ip,
        name: "ip",
        aliases: &["sourceip"],
        source: "sourceIPs[]",
        example: "ip:10.0.0.7",
        groupable: true,
    },
    FieldSpec {
        field: Field::Annotation,
        name: "annotation",
        aliases: &["ann"],
        source: "annotations (key=value)",
        example: "annotation:authorization.k8s.io/decision=forbid",
        groupable: false,
    },
    FieldSpec {
        field: Field::Uri,
        name: "uri",
        aliases: &[],
        source: "requestURI",
        example: "uri:/api/v1/namespaces/prod/*",
        groupable: false,
    },
    FieldSpec {
        field: Field::Cluster,
        name: "cluster",
        aliases: &[],
        source: "annotations[audit.kubext.io/cluster] (default: default)",
        example: "cluster:prod-*",
        groupable: true,
    },
];

/// The fields `stats` can group by, comma-separated, for messages that
/// name the accepted values.
pub fn groupable_names() -> String {
    FIELDS
        .iter()
        .filter(|s| s.groupable)
        .map(|s| s.name)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Field {
    /// Looks a field up by canonical name or alias (case-insensitive).
    pub fn from_name(name: &str) -> Option<Field> {
        let lower = name.to_ascii_lowercase();
        FIELDS
            .iter()
            .find(|s| s.name == lower || s.aliases.contains(&lower.as_str()))
            .map(|s| s.field)
    }

    /// This field's description.
    pub fn spec(self) -> &'static FieldSpec {
        FIELDS
            .iter()
            .find(|s| s.field == self)
            .expect("every field is listed in FIELDS")
    }

    /// Canonical name.
    pub fn name(self) -> &'static str {
        self.spec().name
    }
}

/// Canonical names of all fields, for completion.
pub fn field_names() -> Vec<&'static str> {
    FIELDS.iter().map(|s| s.name).collect()
}

/// Ends each value in [`EventFields::text`]: a phrase matches inside one
/// value (the namespace `search` and the name `indexer-1` side by side are
/// not the phrase `search-indexer`). The index adds the pieces between
/// breaks as separate values of its text field, which keeps them apart.
pub const VALUE_BREAK: char = '\u{1f}';

/// The queryable values of one event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventFields {
    /// Keyword values per field (multi-valued fields have several).
    pub keywords: Vec<(Field, String)>,
    /// `responseStatus.code`.
    pub code: Option<i64>,
    /// Annotations as (key, value).
    pub annotations: Vec<(String, String)>,
    /// Free text: requestURI, names, user agent, request and response objects,
    /// each value ended by [`VALUE_BREAK`] (a phrase never spans two of them).
    pub text: String,
}

impl EventFields {
    /// Extracts the field values of `event`.
    pub fn from_event(event: &Event) -> EventFields {
        let mut kw: Vec<(Field, String)> = Vec::new();
        let mut push = |f: Field, v: Option<&str>| {
            if let Some(v) = v
                && !v.is_empty()
            {
                kw.push((f, v.to_string()));
            }
        };
        push(Field::User, Some(&event.user.username));
        for g in &event.user.groups {
            push(Field::Group, Some(g));
        }
        if let Some(imp) = &event.impersonated_user {
            push(Field::Impersonated, Some(&imp.username));
        }
        push(Field::Verb, Some(&event.verb));
        if let Some(o) = &event.object_ref {
            push(Field::Resource, o.resource.as_deref());
            push(Field::Subresource, o.subresource.as_deref());
            push(Field::Namespace, o.namespace.as_deref());
            push(Field::Name, o.name.as_deref());
            let group = match o.api_group.as_deref() {
                None | Some("") => "core",
                Some(g) => g,
            };
            if o.resource.is_some() {
                push(Field::ApiGroup, Some(group));
            }
            push(Field::ApiVersion, o.api_version.as_deref());
        }
        push(Field::Stage, Some(&event.stage));
        push(Field::Level, Some(&event.level));
        push(Field::AuditId, Some(&event.audit_id));
        push(Field::UserAgent, event.user_agent.as_deref());
        for ip in &event.source_ips {
            push(Field::Ip, Some(ip));
        }
        push(Field::Uri, Some(&event.request_uri));
        push(Field::Cluster, Some(event_cluster(event)));

        let mut text = String::new();
        for (f, v) in &kw {
            // The cluster is in the text already (as an annotation value) when set.
            if !matches!(f, Field::Stage | Field::Level | Field::Cluster) {
                text.push_str(v);
                text.push(VALUE_BREAK);
            }
        }
        for v in event.annotations.values() {
            text.push_str(v);
            text.push(VALUE_BREAK);
        }
        for obj in [&event.request_object, &event.response_object]
            .into_iter()
            .flatten()
        {
            append_json_text(obj, &mut text);
            text.push(VALUE_BREAK);
        }
        EventFields {
            keywords: kw,
            code: event.code(),
            annotations: event
                .annotations
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            text,
        }
    }

    /// The values of `field` (empty when the event has none).
    pub fn values(&self, field: Field) -> impl Iterator<Item = &str> {
        self.keywords
            .iter()
            .filter(move |(f, _)| *f == field)
            .map(|(_, v)| v.as_str())
    }
}

/// The cluster `event` came from ([`Field::Cluster`]).
pub fn event_cluster(event: &Event) -> &str {
    event
        .annotations
        .get(CLUSTER_ANNOTATION)
        .map(String::as_str)
        .filter(|c| !c.is_empty())
        .unwrap_or(DEFAULT_CLUSTER)
}

/// Sets [`CLUSTER_ANNOTATION`] of one event's JSON object to `cluster`,
/// replacing any value the sender gave it; every other member keeps its
/// bytes and order. For [`DEFAULT_CLUSTER`] the annotation is removed
/// instead (absent means the default), so a sink with no cluster settings
/// stores events as it received them. `None` when nothing needs to change.
/// Fails when `raw` is not a JSON object or its `annotations` is neither an
/// object nor null (such an event is invalid anyway).
pub fn stamp_cluster(raw: &str, cluster: &str) -> Result<Option<String>, serde_json::Error> {
    stamp(raw, cluster, false)
}

/// Like [`stamp_cluster`], but an event that already names a valid cluster
/// keeps it; only events naming none (or an invalid one) get `fallback`.
/// For senders that may write as any cluster (an ingest credential bound to
/// none, an import of files whose records name their clusters).
pub fn stamp_cluster_unless_named(
    raw: &str,
    fallback: &str,
) -> Result<Option<String>, serde_json::Error> {
    stamp(raw, fallback, true)
}

fn stamp(raw: &str, cluster: &str, keep_named: bool) -> Result<Option<String>, serde_json::Error> {
    let members: Members<'_> = serde_json::from_str(raw)?;
    let remove = cluster == DEFAULT_CLUSTER;
    let mut annotations = None;
    for (k, v) in &members.0 {
        if k == "annotations" {
            let inner: Option<Members<'_>> = serde_json::from_str(v.get())?;
            annotations = Some(inner.unwrap_or_default());
        }
    }
    let ours: Vec<_> = annotations
        .iter()
        .flat_map(|a| a.0.iter())
        .filter(|(k, _)| k == CLUSTER_ANNOTATION)
        .collect();
    let named = (ours.len() == 1)
        .then(|| serde_json::from_str::<&str>(ours[0].1.get()).ok())
        .flatten();
    if keep_named && named.is_some_and(|n| validate_cluster_name(n).is_ok()) {
        return Ok(None);
    }
    let already = if remove {
        ours.is_empty()
    } else {
        ours.len() == 1 && serde_json::from_str::<&str>(ours[0].1.get()).is_ok_and(|c| c == cluster)
    };
    if already {
        return Ok(None);
    }
    let mut out = String::with_capacity(raw.len() + CLUSTER_ANNOTATION.len() + cluster.len() + 32);
    let write_annotations = |out: &mut String, existing: &Members<'_>| {
        out.push('{');
        let mut first = true;
        for (k, v) in existing.0.iter().filter(|(k, _)| k != CLUSTER_ANNOTATION) {
            if !first {
                out.push(',');
            }
            first = false;
            push_json_str(out, k);
            out.push(':');
            out.push_str(v.get());
        }
        if !remove {
            if !first {
                out.push(',');
            }
            push_json_str(out, CLUSTER_ANNOTATION);
            out.push(':');
            push_json_str(out, cluster);
        }
        out.push('}');
    };
    out.push('{');
    for (i, (k, v)) in members.0.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_str(&mut out, k);
        out.push(':');
        match (&annotations, k == "annotations") {
            (Some(existing), true) => write_annotations(&mut out, existing),
            _ => out.push_str(v.get()),
        }
    }
    if annotations.is_none() {
        if !members.0.is_empty() {
            out.push(',');
        }
        out.push_str("\"annotations\":");
        write_annotations(&mut out, &Members::default());
    }
    out.push('}');
    Ok(Some(out))
}

fn push_json_str(out: &mut String, s: &str) {
    // Serialising a &str into a String cannot fail.
    out.push_str(&serde_json::to_string(s).unwrap_or_default());
}

/// The members of a JSON object in document order, values unparsed.
#[derive(Default)]
struct Members<'a>(Vec<(std::borrow::Cow<'a, str>, &'a serde_json::value::RawValue)>);

impl<'de> serde::Deserialize<'de> for Members<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Members<'de>, A::Error> {
                let mut out = Vec::new();
                while let Some(k) = map.next_key::<Key<'de>>()? {
                    out.push((k.0, map.next_value()?));
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// An object key, borrowed when it has no escapes.
struct Key<'a>(std::borrow::Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(V)
    }
}

fn append_json_text(v: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match v {
        Value::String(s) => {
            out.push_str(s);
            out.push(' ');
        }
        Value::Array(a) => a.iter().for_each(|x| append_json_text(x, out)),
        Value::Object(m) => {
            for (k, x) in m {
                out.push_str(k);
                out.push(' ');
                append_json_text(x, out);
            }
        }
        Value::Number(n) => {
            out.push_str(&n.to_string());
            out.push(' ');
        }
        Value::Bool(_) | Value::Null => {}
    }
}

/// Splits free text into lower-case alphanumeric words, the way the sink's
/// full-text index does (each character lowered on its own, as its
/// tokenizer does: `str::to_lowercase` would write a final `Σ` as `ς`).
pub fn tokenize(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().flat_map(char::to_lowercase).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases() {
        assert_eq!(Field::from_name("namespace"), Some(Field::Namespace));
        assert_eq!(Field::from_name("NS"), Some(Field::Namespace));
        assert_eq!(Field::from_name("nope"), None);
        for s in FIELDS {
            assert_eq!(Field::from_name(s.name), Some(s.field));
            assert_eq!(s.field.name(), s.name);
        }
    }

    #[test]
    fn extracts_values() {
        let e = Event::from_json(r#"{"auditID":"a","stage":"ResponseComplete","verb":"get","level":"Metadata","requestURI":"/api/v1/namespaces/prod/secrets/db","user":{"username":"alice","groups":["dev","ops"]},"objectRef":{"resource":"secrets","namespace":"prod","name":"db","apiVersion":"v1"},"responseStatus":{"code":403},"requestReceivedTimestamp":"2024-01-01T00:00:00Z"}"#).unwrap();
        let f = EventFields::from_event(&e);
        assert_eq!(f.values(Field::Group).collect::<Vec<_>>(), ["dev", "ops"]);
        assert_eq!(f.values(Field::ApiGroup).collect::<Vec<_>>(), ["core"]);
        assert_eq!(f.code, Some(403));
        assert!(tokenize(&f.text).contains(&"alice".to_string()));
        assert_eq!(f.values(Field::Cluster).collect::<Vec<_>>(), ["default"]);
    }

    #[test]
    fn the_cluster_comes_from_its_annotation() {
        let e = Event::from_json(r#"{"auditID":"a","stage":"ResponseComplete","verb":"get","level":"Metadata","requestURI":"/","user":{"username":"u"},"annotations":{"audit.kubext.io/cluster":"prod-eu"},"requestReceivedTimestamp":"2024-01-01T00:00:00Z"}"#).unwrap();
        let f = EventFields::from_event(&e);
        assert_eq!(f.values(Field::Cluster).collect::<Vec<_>>(), ["prod-eu"]);
        assert_eq!(Field::from_name("cluster"), Some(Field::Cluster));
        assert!(Field::Cluster.spec().groupable);
    }

    #[test]
    fn stamping_sets_the_cluster_and_keeps_everything_else() {
        let plain = r#"{"kind":"Event","auditID":"a","user":{"username":"u"}}"#;
        let s = stamp_cluster(plain, "prod").unwrap().unwrap();
        assert_eq!(
            s,
            r#"{"kind":"Event","auditID":"a","user":{"username":"u"},"annotations":{"audit.kubext.io/cluster":"prod"}}"#
        );
        // A forged value is replaced; other annotations keep their order.
        let forged =
            r#"{"annotations":{"z":"1","audit.kubext.io/cluster":"prod","a":"2"},"auditID":"a"}"#;
        let s = stamp_cluster(forged, "dev").unwrap().unwrap();
        assert_eq!(
            s,
            r#"{"annotations":{"z":"1","a":"2","audit.kubext.io/cluster":"dev"},"auditID":"a"}"#
        );
        // Already right: nothing to rewrite.
        assert_eq!(stamp_cluster(&s, "dev").unwrap(), None);
        let null = r#"{"annotations":null}"#;
        assert_eq!(
            stamp_cluster(null, "x").unwrap().unwrap(),
            r#"{"annotations":{"audit.kubext.io/cluster":"x"}}"#
        );
        assert_eq!(
            stamp_cluster("{}", "x").unwrap().unwrap(),
            r#"{"annotations":{"audit.kubext.io/cluster":"x"}}"#
        );
        let escaped = r#"{"a\"b":"\u00e9","annotations":{}}"#;
        let s = stamp_cluster(escaped, "x").unwrap().unwrap();
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["a\"b"], "é");
        assert_eq!(v["annotations"]["audit.kubext.io/cluster"], "x");
        // A sender free to name its cluster keeps a valid one.
        assert_eq!(stamp_cluster_unless_named(forged, "dev").unwrap(), None);
        assert_eq!(
            stamp_cluster_unless_named(plain, "dev").unwrap(),
            stamp_cluster(plain, "dev").unwrap()
        );
        let invalid = r#"{"annotations":{"audit.kubext.io/cluster":"a.b"}}"#;
        assert_eq!(
            stamp_cluster_unless_named(invalid, "dev").unwrap().unwrap(),
            r#"{"annotations":{"audit.kubext.io/cluster":"dev"}}"#
        );
        // The default cluster is the annotation's absence.
        assert_eq!(stamp_cluster(plain, DEFAULT_CLUSTER).unwrap(), None);
        assert_eq!(
            stamp_cluster(forged, DEFAULT_CLUSTER).unwrap().unwrap(),
            r#"{"annotations":{"z":"1","a":"2"},"auditID":"a"}"#
        );
        for bad in ["[]", "1", r#"{"annotations":[1]}"#, "{"] {
            assert!(stamp_cluster(bad, "x").is_err(), "{bad}");
        }
    }

    #[test]
    fn cluster_names() {
        for ok in ["default", "prod-eu", "a", "dev_2", &"x".repeat(63)] {
            assert_eq!(validate_cluster_name(ok), Ok(()), "{ok}");
        }
        for bad in ["", "prod.eu", "prod*", "a b", "ä", &"x".repeat(64)] {
            let e = validate_cluster_name(bad).unwrap_err();
            assert!(e.to_string().contains("letters, digits"), "{e}");
        }
    }
}
