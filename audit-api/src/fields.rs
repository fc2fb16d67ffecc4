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
];

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

        let mut text = String::new();
        for (f, v) in &kw {
            if !matches!(f, Field::Stage | Field::Level) {
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
    }
}
