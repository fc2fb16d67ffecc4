//! `cargo xtask corpus`: a deterministic audit-log corpus (JSON lines, as the
//! apiserver's log backend writes them) built from the real events in
//! `testdata/audit`, for benchmarks and soak runs.
//!
//! Each real event becomes a template: the values that differ from one request
//! to the next (user, namespace, object name, source IPs, auditID, timestamps,
//! user agent, container images) are cut out of its JSON as slots, and a few
//! variants are rendered once (each audit level up to the captured one, and a
//! 403 Forbidden answer). Writing an event is then copying literal byte runs
//! and slot values into a buffered writer: no JSON tree, no allocation per
//! event. A small fixed PRNG (SplitMix64) drives every choice, so the same seed
//! gives byte-identical output on every machine and toolchain.
//!
//! Events are written in time order over `--span` from `--start` (like a real
//! log), secrets and configmaps only at the Metadata level (as the usual audit
//! policies log them), about 1 % of requests are answered 403, and one rare
//! container image carries the word [`RARE_WORD`], which occurs nowhere else,
//! for free-text needle searches.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use audit_gen::SplitMix64;
use serde_json::{Map, Value};

use crate::workspace::Workspace;

/// A word that occurs only in the image of a rare container (in
/// `requestObject`, and `responseObject` when logged): a free-text needle.
pub const RARE_WORD: &str = "reconciler";

/// Namespaces events are spread over (besides kube-system/kube-public,
/// which keep theirs).
pub const NAMESPACES: &[&str] = &[
    "default",
    "prod",
    "staging",
    "dev",
    "payments",
    "checkout",
    "search",
    "ml-training",
    "monitoring",
    "logging",
    "ingress-nginx",
    "cert-manager",
    "argocd",
    "team-alpha",
    "team-bravo",
    "team-charlie",
    "team-delta",
    "team-echo",
    "data-platform",
    "web",
];

/// Application names object names are made of (`{app}-{5 hex digits}`).
const APPS: &[&str] = &[
    "web",
    "api",
    "frontend",
    "backend",
    "worker",
    "cache",
    "db",
    "queue",
    "auth",
    "gateway",
    "metrics",
    "scheduler",
    "notifier",
    "uploader",
    "indexer",
    "reporter",
    "mailer",
    "router",
    "session",
    "inventory",
];

/// Container images of generated pods; the last one is the rare needle.
const IMAGES: &[&str] = &[
    "nginx:1.27.2",
    "redis:7.4.1",
    "postgres:16.4",
    "busybox:1.36",
    "registry.k8s.io/pause:3.10",
    "ghcr.io/acme/api:2.14.0",
    "ghcr.io/acme/frontend:5.2.1",
    "ghcr.io/acme/worker:1.9.3",
    "quay.io/prometheus/node-exporter:v1.8.2",
    "docker.io/library/python:3.12-slim",
    "docker.io/library/golang:1.23",
    "grafana/grafana:11.3.0",
    "bitnami/kafka:3.8",
    "bitnami/rabbitmq:4.0",
    "elastic/filebeat:8.15.3",
    "ghcr.io/acme/billing:4.1.0",
    "ghcr.io/acme/search-indexer:0.9.8",
    "mcr.microsoft.com/dotnet/aspnet:8.0",
    "public.ecr.aws/acme/checkout:3.3.3",
    "gcr.io/distroless/static:nonroot",
    "ghcr.io/acme/ledger-reconciler:0.7.1",
];

/// One generated user: name, groups, user agent and the addresses it comes from.
struct User {
    name: String,
    /// `{"groups":[…],"username":"…"}`.
    json: String,
    agent: String,
    /// Four `["ip"]` arrays to pick from.
    ips: [String; 4],
}

fn users() -> Vec<User> {
    let mut out = Vec::new();
    let mut add = |name: String, groups: &[String], agent: String, ips: [String; 4]| {
        let groups = groups
            .iter()
            .map(|g| format!("\"{g}\""))
            .collect::<Vec<_>>()
            .join(",");
        out.push(User {
            json: format!("{{\"groups\":[{groups}],\"username\":\"{name}\"}}"),
            name,
            agent,
            ips,
        });
    };
    // Busiest first: controllers and operators, then nodes, then people.
    let service_accounts = [
        (
            "kube-system",
            "replicaset-controller",
            "kube-controller-manager/v1.32.2 (linux/amd64) kubernetes/67a30c0/system:serviceaccount:kube-system:replicaset-controller",
        ),
        (
            "kube-system",
            "deployment-controller",
            "kube-controller-manager/v1.32.2 (linux/amd64) kubernetes/67a30c0/system:serviceaccount:kube-system:deployment-controller",
        ),
        (
            "argocd",
            "argocd-application-controller",
            "argocd-application-controller/v2.13.1 (linux/amd64) kubernetes/$Format",
        ),
        ("monitoring", "prometheus", "Prometheus/2.55.1"),
        (
            "kube-system",
            "namespace-controller",
            "kube-controller-manager/v1.32.2 (linux/amd64) kubernetes/67a30c0/system:serviceaccount:kube-system:namespace-controller",
        ),
        (
            "cert-manager",
            "cert-manager",
            "cert-manager-controller/v1.16.1 (linux/amd64) cert-manager/7e4e3d2",
        ),
        (
            "ingress-nginx",
            "ingress-nginx",
            "nginx-ingress-controller/v1.11.3 (linux/amd64) ingress-nginx/b6b4a8d",
        ),
        ("ml-training", "trainer", "python-requests/2.32.3"),
        (
            "ci",
            "gitlab-runner",
            "gitlab-runner 17.5.2 (17-5-stable; go1.22.7; linux/amd64)",
        ),
        (
            "payments",
            "payments-operator",
            "payments-operator/v0.4.0 (linux/amd64) controller-runtime/v0.19.1",
        ),
    ];
    for (i, (ns, sa, agent)) in service_accounts.iter().enumerate() {
        let groups = [
            "system:serviceaccounts".to_string(),
            format!("system:serviceaccounts:{ns}"),
            "system:authenticated".to_string(),
        ];
        let ips = std::array::from_fn(|k| format!("[\"10.244.{}.{}\"]", i + 1, 10 + 17 * k));
        add(
            format!("system:serviceaccount:{ns}:{sa}"),
            &groups,
            agent.to_string(),
            ips,
        );
    }
    add(
        "system:kube-controller-manager".into(),
        &["system:authenticated".into()],
        "kube-controller-manager/v1.32.2 (linux/amd64) kubernetes/67a30c0/leader-election".into(),
        std::array::from_fn(|_| "[\"::1\"]".to_string()),
    );
    add(
        "system:kube-scheduler".into(),
        &["system:authenticated".into()],
        "kube-scheduler/v1.32.2 (linux/amd64) kubernetes/67a30c0/scheduler".into(),
        std::array::from_fn(|_| "[\"::1\"]".to_string()),
    );
    for n in 1..=12 {
        add(
            format!("system:node:node-{n:02}"),
            &["system:nodes".into(), "system:authenticated".into()],
            "kubelet/v1.32.2 (linux/amd64) kubernetes/67a30c0".into(),
            std::array::from_fn(|_| format!("[\"10.0.1.{}\"]", 10 + n)),
        );
    }
    let people = [
        "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
        "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter",
        "yolanda",
    ];
    for (i, p) in people.iter().enumerate() {
        let team = NAMESPACES[13 + i % 5];
        let groups = [
            format!("oidc:{team}"),
            "oidc:developers".to_string(),
            "system:authenticated".to_string(),
        ];
        let ips = std::array::from_fn(|k| {
            format!("[\"192.168.{}.{}\",\"10.0.0.{}\"]", 20 + i, 30 + k, 2 + k)
        });
        add(
            format!("{p}@example.com"),
            &groups,
            format!(
                "kubectl/v1.{}.{} (linux/amd64) kubernetes/67a30c0",
                29 + i % 4,
                i % 7
            ),
            ips,
        );
    }
    add(
        "system:anonymous".into(),
        &["system:unauthenticated".into()],
        "curl/8.5.0".into(),
        std::array::from_fn(|k| format!("[\"203.0.113.{}\"]", 7 + k)),
    );
    out
}

/// The shared generator's PRNG ([`audit_gen::SplitMix64`]: fixed forever,
/// unlike `rand`'s `StdRng`), its state offset from the seed as it always
/// was, so a seed gives the same corpus as before.
fn corpus_rng(seed: u64) -> SplitMix64 {
    SplitMix64::new(seed ^ 0x6a09_e667_f3bc_c908)
}

/// The values cut out of a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// The whole `user` object (a JSON value).
    User,
    /// The user name inside a string (403 messages).
    UserName,
    /// The whole `sourceIPs` array (a JSON value).
    Ips,
    /// `userAgent`.
    Agent,
    /// `auditID`.
    AuditId,
    /// `requestReceivedTimestamp` (microseconds).
    Received,
    /// `stageTimestamp` (microseconds).
    Stage,
    /// A timestamp with second precision (legacy `timestamp`, `creationTimestamp`).
    Seconds,
    /// The object's namespace.
    Namespace,
    /// The object's name.
    Name,
    /// A container image.
    Image,
}

const SLOTS: [Slot; 11] = [
    Slot::User,
    Slot::UserName,
    Slot::Ips,
    Slot::Agent,
    Slot::AuditId,
    Slot::Received,
    Slot::Stage,
    Slot::Seconds,
    Slot::Namespace,
    Slot::Name,
    Slot::Image,
];

impl Slot {
    /// Whether the slot is a whole JSON value rather than text inside a string.
    fn is_value(self) -> bool {
        matches!(self, Slot::User | Slot::Ips)
    }

    fn marker(self) -> String {
        let i = SLOTS.iter().position(|s| *s == self).expect("listed");
        format!("\u{E000}{}\u{E001}", char::from(b'a' + i as u8))
    }
}

/// Literal bytes or a slot.
#[derive(Debug, Clone)]
enum Part {
    Lit(Vec<u8>),
    Slot(Slot),
}

/// One renderable shape of an event.
#[derive(Debug, Clone)]
struct Variant {
    parts: Vec<Part>,
}

/// Audit levels in increasing order of detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Metadata,
    Request,
    RequestResponse,
}

impl Level {
    fn parse(s: &str) -> Level {
        match s {
            "RequestResponse" => Level::RequestResponse,
            "Request" => Level::Request,
            _ => Level::Metadata,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Level::Metadata => "Metadata",
            Level::Request => "Request",
            Level::RequestResponse => "RequestResponse",
        }
    }
}

/// A real event turned into variants.
#[derive(Debug, Clone)]
pub struct Template {
    /// Where it came from (`file:line`).
    pub source: String,
    /// Captured level.
    max_level: Level,
    /// Allowed (original answer) variants, index = level.
    allowed: Vec<Variant>,
    /// 403 variants, index = level; empty when the template cannot be forbidden.
    forbidden: Vec<Variant>,
    /// stageTimestamp − requestReceivedTimestamp of the original, µs.
    stage_delta: i64,
    /// Whether namespace/name slots exist (namespaced object).
    namespaced: bool,
}

/// The real events, as templates.
pub struct Templates {
    /// One per valid event of the data directory.
    pub templates: Vec<Template>,
    /// Lines skipped because they are not valid audit events (`file:line: reason`).
    pub skipped: Vec<String>,
}

/// The directory of real events in the repository: `testdata/audit`.
pub fn default_data_dir(ws: &Workspace) -> PathBuf {
    ws.root.join("testdata/audit")
}

/// Reads every `*.json`/`*.jsonl` file under `dir` (sorted, recursively) and
/// turns each valid event line into a template; invalid lines are listed in
/// [`Templates::skipped`].
pub fn load_templates(dir: &Path) -> Result<Templates> {
    let mut files = Vec::new();
    collect_files(dir, &mut files)
        .with_context(|| format!("reading the real audit events in {}", dir.display()))?;
    files.sort();
    let mut templates = Vec::new();
    let mut skipped = Vec::new();
    for file in &files {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        let rel = file.strip_prefix(dir).unwrap_or(file).display().to_string();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let source = format!("{rel}:{}", i + 1);
            match template_of(line, source.clone()) {
                Ok(t) => templates.push(t),
                Err(e) => skipped.push(format!("{source}: {e:#}")),
            }
        }
    }
    if templates.is_empty() {
        bail!(
            "no valid audit event in {} ({} files); point --data at a directory of audit JSON lines",
            dir.display(),
            files.len()
        );
    }
    Ok(Templates { templates, skipped })
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_files(&path, out)?;
        } else if path
            .extension()
            .is_some_and(|e| e == "json" || e == "jsonl")
        {
            out.push(path);
        }
    }
    Ok(())
}

fn micros_of(v: Option<&Value>) -> Option<i64> {
    let t: jiff::Timestamp = v?.as_str()?.parse().ok()?;
    Some(t.as_microsecond())
}

fn template_of(line: &str, source: String) -> Result<Template> {
    audit_api::Event::from_json(line).context("not a valid audit event")?;
    let event: Value = serde_json::from_str(line)?;
    let Value::Object(event) = event else {
        bail!("not a JSON object")
    };
    let received = micros_of(event.get("requestReceivedTimestamp"))
        .or_else(|| micros_of(event.get("timestamp")))
        .context("no requestReceivedTimestamp")?;
    let stage = micros_of(event.get("stageTimestamp")).unwrap_or(received);
    let max_level = Level::parse(event.get("level").and_then(Value::as_str).unwrap_or(""));
    let object_ref = event.get("objectRef").and_then(Value::as_object);
    let get = |k: &str| {
        object_ref
            .and_then(|o| o.get(k))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let (namespace, name, resource) = (get("namespace"), get("name"), get("resource"));
    // kube-system and kube-public objects stay where they were captured.
    let namespaced =
        !namespace.is_empty() && namespace != "kube-system" && namespace != "kube-public";
    let ctx = Cut {
        namespace: if namespaced { namespace } else { String::new() },
        name: if namespaced { name } else { String::new() },
    };
    let sensitive = matches!(resource.as_str(), "secrets" | "configmaps");
    let top_level = if sensitive {
        Level::Metadata
    } else {
        max_level
    };
    let stage_name = event.get("stage").and_then(Value::as_str).unwrap_or("");
    let can_forbid = stage_name == "ResponseComplete";
    let mut allowed = Vec::new();
    let mut forbidden = Vec::new();
    for level in [Level::Metadata, Level::Request, Level::RequestResponse] {
        if level > top_level {
            break;
        }
        allowed.push(render(&event, level, false, &ctx)?);
        if can_forbid {
            forbidden.push(render(&event, level, true, &ctx)?);
        }
    }
    let t = Template {
        source,
        max_level: top_level,
        allowed,
        forbidden,
        stage_delta: (stage - received).max(0),
        namespaced,
    };
    // Every variant must render to an event the sink accepts.
    let users = users();
    let mut values = Values::default();
    let mut rng = corpus_rng(0);
    values.fill(&mut rng, &users, &t, 1_700_000_000_000_000);
    for v in t.allowed.iter().chain(&t.forbidden) {
        let mut buf = Vec::new();
        write_variant(&mut buf, v, &values, &users[0])?;
        let text = String::from_utf8(buf)?;
        audit_api::Event::from_json(&text)
            .with_context(|| format!("a variant of {} does not render valid: {text}", t.source))?;
    }
    Ok(t)
}

/// What is cut out of the objects of one template.
struct Cut {
    namespace: String,
    name: String,
}

fn path_with_slots(uri: &str, cut: &Cut) -> String {
    let (path, query) = match uri.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (uri, None),
    };
    let mut out = Vec::new();
    let mut prev = "";
    for seg in path.split('/') {
        if !cut.namespace.is_empty() && prev == "namespaces" && seg == cut.namespace {
            out.push(Slot::Namespace.marker());
        } else if !cut.name.is_empty() && seg == cut.name {
            out.push(Slot::Name.marker());
        } else {
            out.push(seg.to_string());
        }
        prev = seg;
    }
    let mut s = out.join("/");
    if let Some(q) = query {
        s.push('?');
        s.push_str(q);
    }
    s
}

/// Cuts namespaces, names, links, creation times and (when `images`) container
/// images out of an object body.
fn cut_object(v: &mut Value, cut: &Cut, images: bool) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                match (k.as_str(), &*x) {
                    ("namespace", Value::String(s))
                        if !cut.namespace.is_empty() && *s == cut.namespace =>
                    {
                        *x = Value::String(Slot::Namespace.marker());
                    }
                    ("name", Value::String(s)) if !cut.name.is_empty() && *s == cut.name => {
                        *x = Value::String(Slot::Name.marker());
                    }
                    ("selfLink", Value::String(s)) => {
                        *x = Value::String(path_with_slots(s, cut));
                    }
                    ("image", Value::String(_)) if images => {
                        *x = Value::String(Slot::Image.marker())
                    }
                    ("creationTimestamp", Value::String(_)) => {
                        *x = Value::String(Slot::Seconds.marker());
                    }
                    _ => cut_object(x, cut, images),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| cut_object(x, cut, images)),
        _ => {}
    }
}

fn render(event: &Map<String, Value>, level: Level, forbid: bool, cut: &Cut) -> Result<Variant> {
    let mut e = event.clone();
    let text = |s: Slot| Value::String(s.marker());
    e.insert("level".into(), Value::String(level.name().into()));
    e.insert("auditID".into(), text(Slot::AuditId));
    e.insert("user".into(), text(Slot::User));
    e.insert("sourceIPs".into(), text(Slot::Ips));
    e.insert("userAgent".into(), text(Slot::Agent));
    e.insert("requestReceivedTimestamp".into(), text(Slot::Received));
    e.insert("stageTimestamp".into(), text(Slot::Stage));
    if e.contains_key("timestamp") {
        e.insert("timestamp".into(), text(Slot::Seconds));
    }
    if let Some(Value::Object(m)) = e.get_mut("metadata")
        && m.contains_key("creationTimestamp")
    {
        m.insert("creationTimestamp".into(), text(Slot::Seconds));
    }
    if let Some(Value::String(uri)) = e.get("requestURI") {
        let uri = path_with_slots(uri, cut);
        e.insert("requestURI".into(), Value::String(uri));
    }
    if let Some(Value::Object(o)) = e.get_mut("objectRef") {
        if !cut.namespace.is_empty() {
            o.insert("namespace".into(), text(Slot::Namespace));
        }
        if !cut.name.is_empty() && o.contains_key("name") {
            o.insert("name".into(), text(Slot::Name));
        }
    }
    if level < Level::Request {
        e.remove("requestObject");
    }
    if level < Level::RequestResponse {
        e.remove("responseObject");
    }
    // Images vary only where the request carries them, so that the rare
    // image's word is always inside requestObject (and then perhaps also in
    // the responseObject echoing it), never in a response alone.
    let images = e.contains_key("requestObject");
    for k in ["requestObject", "responseObject"] {
        if let Some(v) = e.get_mut(k) {
            cut_object(v, cut, images);
        }
    }
    if forbid {
        let o = event.get("objectRef").and_then(Value::as_object);
        let get = |k: &str| {
            o.and_then(|o| o.get(k))
                .and_then(Value::as_str)
                .unwrap_or("")
        };
        let resource = get("resource");
        let group = get("apiGroup");
        let verb = event.get("verb").and_then(Value::as_str).unwrap_or("get");
        let what = if o.is_some_and(|o| o.contains_key("name")) {
            format!(
                "{resource} \"{}\"",
                if cut.name.is_empty() {
                    get("name").to_string()
                } else {
                    Slot::Name.marker()
                }
            )
        } else {
            resource.to_string()
        };
        let place = if cut.namespace.is_empty() {
            if get("namespace").is_empty() {
                "at the cluster scope".to_string()
            } else {
                format!("in the namespace \"{}\"", get("namespace"))
            }
        } else {
            format!("in the namespace \"{}\"", Slot::Namespace.marker())
        };
        let message = format!(
            "{what} is forbidden: User \"{}\" cannot {verb} resource \"{resource}\" in API group \"{group}\" {place}",
            Slot::UserName.marker()
        );
        e.insert(
            "responseStatus".into(),
            serde_json::json!({"code": 403, "message": message, "metadata": {}, "reason": "Forbidden", "status": "Failure"}),
        );
        if e.contains_key("responseObject") {
            e.insert(
                "responseObject".into(),
                serde_json::json!({"apiVersion": "v1", "code": 403, "details": {"kind": resource}, "kind": "Status", "message": message, "metadata": {}, "reason": "Forbidden", "status": "Failure"}),
            );
        }
        let annotations = e
            .entry("annotations")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(a) = annotations {
            a.insert(
                "authorization.k8s.io/decision".into(),
                Value::String("forbid".into()),
            );
            a.insert(
                "authorization.k8s.io/reason".into(),
                Value::String(String::new()),
            );
        }
    }
    let json = serde_json::to_string(&Value::Object(e))?;
    Ok(Variant {
        parts: split_parts(&json)?,
    })
}

/// Splits rendered JSON at the slot markers.
fn split_parts(json: &str) -> Result<Vec<Part>> {
    let mut parts = Vec::new();
    let mut lit = String::new();
    let mut rest = json;
    while let Some(start) = rest.find('\u{E000}') {
        lit.push_str(&rest[..start]);
        let after = &rest[start + '\u{E000}'.len_utf8()..];
        let id = after.chars().next().context("truncated slot marker")?;
        let slot = *SLOTS
            .get((id as u32).wrapping_sub(u32::from(b'a')) as usize)
            .context("unknown slot marker")?;
        let after = after[id.len_utf8()..]
            .strip_prefix('\u{E001}')
            .context("unterminated slot marker")?;
        rest = after;
        if slot.is_value() {
            // The marker stood for a whole value: drop the quotes around it.
            if !lit.ends_with('"') || !rest.starts_with('"') {
                bail!("slot {slot:?} is not a whole JSON value");
            }
            lit.pop();
            rest = &rest[1..];
        }
        if !lit.is_empty() {
            parts.push(Part::Lit(std::mem::take(&mut lit).into_bytes()));
        }
        parts.push(Part::Slot(slot));
    }
    lit.push_str(rest);
    lit.push('\n');
    parts.push(Part::Lit(lit.into_bytes()));
    Ok(parts)
}

/// Formats microseconds since the epoch as RFC 3339 (`…T…ffffffZ`), caching the date.
#[derive(Default)]
struct Clock {
    day: i64,
    date: [u8; 10],
    valid: bool,
}

impl Clock {
    fn date(&mut self, day: i64) -> [u8; 10] {
        if !self.valid || day != self.day {
            let t =
                jiff::Timestamp::from_second(day * 86_400).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
            let s = t.strftime("%Y-%m-%d").to_string();
            self.date.copy_from_slice(&s.as_bytes()[..10]);
            self.day = day;
            self.valid = true;
        }
        self.date
    }

    /// `YYYY-MM-DDTHH:MM:SS.ffffffZ` (27 bytes) or, without micros, `…:SSZ` (20 bytes).
    fn format(&mut self, micros: i64, with_micros: bool, out: &mut Vec<u8>) {
        out.clear();
        let secs = micros.div_euclid(1_000_000);
        let frac = micros.rem_euclid(1_000_000);
        let day = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        out.extend_from_slice(&self.date(day));
        let two = |out: &mut Vec<u8>, n: i64| {
            out.push(b'0' + (n / 10) as u8);
            out.push(b'0' + (n % 10) as u8);
        };
        out.push(b'T');
        two(out, sod / 3600);
        out.push(b':');
        two(out, sod / 60 % 60);
        out.push(b':');
        two(out, sod % 60);
        if with_micros {
            out.push(b'.');
            let mut d = 100_000;
            while d > 0 {
                out.push(b'0' + (frac / d % 10) as u8);
                d /= 10;
            }
        }
        out.push(b'Z');
    }
}

/// Per-event slot values, reused from event to event.
#[derive(Default)]
struct Values {
    user: usize,
    ips: usize,
    audit_id: Vec<u8>,
    received: Vec<u8>,
    stage: Vec<u8>,
    seconds: Vec<u8>,
    namespace: &'static str,
    name: Vec<u8>,
    image: &'static str,
    clock: Clock,
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl Values {
    fn fill(&mut self, rng: &mut SplitMix64, users: &[User], t: &Template, received: i64) {
        // Busy controllers first in the list: a skewed choice makes them frequent.
        let u = rng.unit();
        self.user = ((u * u * users.len() as f64) as usize).min(users.len() - 1);
        self.ips = rng.below(4) as usize;
        let (a, b) = (rng.next_u64(), rng.next_u64());
        self.audit_id.clear();
        for (i, nibble) in (0..32)
            .map(|i| {
                let word = if i < 16 { a } else { b };
                (word >> ((i % 16) * 4)) & 0xf
            })
            .enumerate()
        {
            if matches!(i, 8 | 12 | 16 | 20) {
                self.audit_id.push(b'-');
            }
            // A version-4 UUID: version nibble 4, variant 8..b.
            let n = match i {
                12 => 4,
                16 => 8 | (nibble & 3),
                _ => nibble,
            };
            self.audit_id.push(HEX[n as usize]);
        }
        self.clock.format(received, true, &mut self.received);
        let stage = received + t.stage_delta;
        self.clock.format(stage, true, &mut self.stage);
        self.clock.format(received, false, &mut self.seconds);
        if t.namespaced {
            let ns = rng.unit();
            self.namespace = NAMESPACES
                [((ns * ns * NAMESPACES.len() as f64) as usize).min(NAMESPACES.len() - 1)];
            self.name.clear();
            let app = APPS[rng.below(APPS.len() as u64) as usize];
            let id = rng.below(1 << 16);
            let _ = write!(self.name, "{app}-{id:05x}");
            self.image = IMAGES[rng.below(IMAGES.len() as u64) as usize];
        }
    }
}

fn write_variant(
    out: &mut impl Write,
    v: &Variant,
    values: &Values,
    user: &User,
) -> io::Result<()> {
    for part in &v.parts {
        match part {
            Part::Lit(b) => out.write_all(b)?,
            Part::Slot(s) => out.write_all(match s {
                Slot::User => user.json.as_bytes(),
                Slot::UserName => user.name.as_bytes(),
                Slot::Ips => user.ips[values.ips].as_bytes(),
                Slot::Agent => user.agent.as_bytes(),
                Slot::AuditId => &values.audit_id,
                Slot::Received => &values.received,
                Slot::Stage => &values.stage,
                Slot::Seconds => &values.seconds,
                Slot::Namespace => values.namespace.as_bytes(),
                Slot::Name => &values.name,
                Slot::Image => values.image.as_bytes(),
            })?,
        }
    }
    Ok(())
}

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// Number of events.
    pub events: u64,
    /// PRNG seed.
    pub seed: u64,
    /// First `requestReceivedTimestamp`, µs since the epoch.
    pub start_micros: i64,
    /// Time span the events cover, µs.
    pub span_micros: i64,
}

/// Writes `spec.events` events as JSON lines to `out` (deterministic for a given
/// spec and templates). Returns the bytes written.
pub fn generate(templates: &[Template], spec: &Spec, out: &mut impl Write) -> io::Result<u64> {
    let users = users();
    let mut rng = corpus_rng(spec.seed);
    let mut values = Values::default();
    let mut counter = CountingWriter {
        inner: out,
        bytes: 0,
    };
    let step = spec.span_micros as f64 / spec.events.max(1) as f64;
    for i in 0..spec.events {
        let t = &templates[rng.below(templates.len() as u64) as usize];
        // Time order with jitter inside each event's own slot of the span.
        let received = spec.start_micros + (i as f64 * step + rng.unit() * step) as i64;
        // Levels as audit policies usually log: mostly Metadata, some bodies.
        let level = match rng.below(100) {
            0..50 => Level::Metadata,
            50..80 => Level::Request,
            _ => Level::RequestResponse,
        }
        .min(t.max_level);
        let forbid = !t.forbidden.is_empty() && rng.below(100) == 0;
        values.fill(&mut rng, &users, t, received);
        let variants = if forbid { &t.forbidden } else { &t.allowed };
        let v = &variants[(level as usize).min(variants.len() - 1)];
        write_variant(&mut counter, v, &values, &users[values.user])?;
    }
    Ok(counter.bytes)
}

struct CountingWriter<'a, W> {
    inner: &'a mut W,
    bytes: u64,
}

impl<W: Write> Write for CountingWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.inner.write_all(buf)?;
        self.bytes += buf.len() as u64;
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Writes a corpus file (gzip'd when the name ends in `.gz`). Returns the bytes
/// of JSON written (before compression).
pub fn write_file(templates: &[Template], spec: &Spec, path: &Path) -> Result<u64> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let buffered = BufWriter::with_capacity(1 << 20, file);
    let written = if path.extension().is_some_and(|e| e == "gz") {
        let mut gz = flate2::write::GzEncoder::new(buffered, flate2::Compression::fast());
        let n = generate(templates, spec, &mut gz)?;
        gz.finish()?.flush()?;
        n
    } else {
        let mut w = buffered;
        let n = generate(templates, spec, &mut w)?;
        w.flush()?;
        n
    };
    Ok(written)
}

/// Default first timestamp of a corpus.
pub const DEFAULT_START: &str = "2026-11-02T00:00:00Z";

/// Arguments of `cargo xtask corpus`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Number of events to write.
    #[arg(long, value_name = "N", default_value_t = 5_000_000)]
    pub events: u64,
    /// Seed: the same seed (and other flags) gives byte-identical output.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
    /// Output file (JSON lines; gzip'd when it ends in `.gz`).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// requestReceivedTimestamp of the first event (RFC 3339).
    #[arg(long, value_name = "TIME", default_value = DEFAULT_START)]
    pub start: String,
    /// Time span the events cover (e.g. `7d`, `36h`).
    #[arg(long, value_name = "DURATION", default_value = "7d")]
    pub span: String,
    /// Directory of real audit events to multiply (default: testdata/audit).
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
}

impl Args {
    /// The generation parameters.
    pub fn spec(&self) -> Result<Spec> {
        let start: jiff::Timestamp = self.start.parse().with_context(|| {
            format!(
                "--start {:?}: expected an RFC 3339 time such as {DEFAULT_START}",
                self.start
            )
        })?;
        let span = audit_api::time::parse_duration(&self.span)
            .map_err(|e| anyhow::anyhow!("--span {:?}: {e}", self.span))?;
        let span_micros = i64::try_from(span.as_micros()).context("--span is too long")?;
        if span_micros <= 0 {
            bail!("--span must be positive");
        }
        Ok(Spec {
            events: self.events,
            seed: self.seed,
            start_micros: start.as_microsecond(),
            span_micros,
        })
    }
}

/// Runs `cargo xtask corpus`.
pub fn run(ws: &Workspace, args: Args) -> Result<()> {
    let spec = args.spec()?;
    let dir = args.data.clone().unwrap_or_else(|| default_data_dir(ws));
    let t = load_templates(&dir)?;
    for s in &t.skipped {
        eprintln!("skipped {s}");
    }
    let started = std::time::Instant::now();
    let bytes = write_file(&t.templates, &spec, &args.out)?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "wrote {} events ({bytes} bytes of JSON, {:.0} events/s) to {} from {} real events (seed {})",
        spec.events,
        spec.events as f64 / secs.max(1e-9),
        args.out.display(),
        t.templates.len(),
        spec.seed
    );
    Ok(())
}
