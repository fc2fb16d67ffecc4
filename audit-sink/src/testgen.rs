//! A deterministic generator of realistic audit events, for tests and
//! benchmarks: the same seed always gives the same events.

use jiff::Timestamp;

/// Which audit level to generate (what bodies events carry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Metadata only (~600 bytes an event).
    Metadata,
    /// Request and response bodies (~1.5–2 KB an event).
    RequestResponse,
}

const USERS: &[&str] = &[
    "alice",
    "bob",
    "carol@example.com",
    "system:serviceaccount:ci:deployer",
    "system:serviceaccount:kube-system:replicaset-controller",
    "system:node:worker-1",
    "system:kube-scheduler",
];
const VERBS: &[&str] = &[
    "get", "list", "watch", "create", "update", "patch", "delete",
];
const RESOURCES: &[(&str, &str)] = &[
    ("pods", ""),
    ("secrets", ""),
    ("configmaps", ""),
    ("deployments", "apps"),
    ("roles", "rbac.authorization.k8s.io"),
    ("leases", "coordination.k8s.io"),
];
const NAMESPACES: &[&str] = &["default", "prod", "staging", "kube-system"];
const CODES: &[i64] = &[200, 200, 200, 201, 403, 404, 409, 500];

/// A small deterministic PRNG (SplitMix64).
pub struct Rng(u64);

impl Rng {
    /// Seeded generator.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    /// Next value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[(self.next_u64() % xs.len() as u64) as usize]
    }
}

/// Generates `n` events starting at `start`, one every `step_micros`,
/// as compact JSON strings (list items: no `kind`/`apiVersion`).
pub fn events(
    seed: u64,
    n: usize,
    level: Level,
    start: Timestamp,
    step_micros: i64,
) -> Vec<String> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|i| {
            let t = Timestamp::from_microsecond(start.as_microsecond() + i as i64 * step_micros).expect("in range");
            let t2 = Timestamp::from_microsecond(t.as_microsecond() + 1500).expect("in range");
            let user = *rng.pick(USERS);
            let verb = *rng.pick(VERBS);
            let (resource, group) = *rng.pick(RESOURCES);
            let ns = *rng.pick(NAMESPACES);
            let code = *rng.pick(CODES);
            let name = format!("obj-{}", rng.next_u64() % 500);
            let id = rng.next_u64();
            let audit_id = format!(
                "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
                (seed as u32) ^ (i as u32),
                id & 0xffff,
                (id >> 16) & 0xfff,
                (id >> 28) & 0xfff,
                (id >> 40) ^ (i as u64)
            );
            let decision = if code == 403 { "forbid" } else { "allow" };
            let ip = format!("10.0.{}.{}", rng.next_u64() % 4, 1 + rng.next_u64() % 200);
            let prefix = if group.is_empty() { "/api/v1".to_string() } else { format!("/apis/{group}/v1") };
            let mut ev = serde_json::json!({
                "level": match level { Level::Metadata => "Metadata", Level::RequestResponse => "RequestResponse" },
                "auditID": audit_id,
                "stage": "ResponseComplete",
                "requestURI": format!("{prefix}/namespaces/{ns}/{resource}/{name}"),
                "verb": verb,
                "user": {"username": user, "groups": ["system:authenticated", if user.starts_with("system:serviceaccount") {"system:serviceaccounts"} else {"developers"}]},
                "sourceIPs": [ip],
                "userAgent": format!("kubectl/v1.32.{} (linux/amd64) kubernetes/abc", i % 4),
                "objectRef": {"resource": resource, "namespace": ns, "name": name, "apiGroup": group, "apiVersion": "v1"},
                "responseStatus": {"metadata": {}, "code": code},
                "requestReceivedTimestamp": t.to_string(),
                "stageTimestamp": t2.to_string(),
                "annotations": {"authorization.k8s.io/decision": decision, "authorization.k8s.io/reason": format!("RBAC: allowed by RoleBinding {ns}-{user}")},
            });
            if level == Level::RequestResponse {
                let body = serde_json::json!({
                    "kind": "ConfigMap", "apiVersion": "v1",
                    "metadata": {"name": name, "namespace": ns, "labels": {"app": format!("app-{}", rng.next_u64() % 50), "tier": "backend"},
                        "annotations": {"owner": user, "revision": (rng.next_u64() % 1000).to_string()}},
                    "data": {"config.yaml": format!("replicas: {}\nimage: registry.example.com/team/app:{}\nfeature_flags: [alpha, beta, gamma]\n", rng.next_u64() % 9, rng.next_u64() % 100),
                             "note": "generated for benchmarks and tests of the audit sink; body text to index"}
                });
                ev["requestObject"] = body.clone();
                ev["responseObject"] = body;
            }
            ev.to_string()
        })
        .collect()
}

/// Wraps list items into an `audit.k8s.io/v1` `EventList` body.
pub fn event_list(items: &[String]) -> String {
    let mut s = String::from(
        r#"{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":["#,
    );
    for (i, e) in items.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(e);
    }
    s.push_str("]}");
    s
}
