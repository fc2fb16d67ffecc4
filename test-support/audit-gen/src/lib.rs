//! One deterministic generator of synthetic audit events, shared by the
//! sink's tests and benchmarks, `cargo xtask soak` and `cargo xtask corpus`:
//! the same seed always gives the same events, on every machine.
//!
//! It is a dependency of tests, benchmarks and xtask only; no shipped binary
//! links it. [`SplitMix64`] is the one PRNG every generated stream draws from
//! (fixed forever, unlike `rand`'s `StdRng`, whose stream may change between
//! versions); [`event`] builds one realistic event from it, [`events`] a
//! stream of them in time order, [`event_list`] the `EventList` body the
//! apiserver's webhook sends.

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

/// SplitMix64: a tiny, fast PRNG whose stream is fixed forever, so
/// generated events, soaks and corpora stay reproducible.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator whose state starts at `seed`.
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0), without modulo bias.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A number in `lo..=hi`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// A float in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// One element of `xs` (non-empty), chosen by the next value modulo its length.
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[(self.next_u64() % xs.len() as u64) as usize]
    }
}

/// The `i`-th event of the stream seeded with `seed`, received at `t`, as a
/// JSON value (a list item: no `kind`/`apiVersion`): a user, verb, resource,
/// namespace, name and answer drawn from `rng`, with an `auditID` unique in
/// the stream, and request/response bodies at [`Level::RequestResponse`].
pub fn event(
    rng: &mut SplitMix64,
    seed: u64,
    i: usize,
    level: Level,
    t: Timestamp,
) -> serde_json::Value {
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
    let prefix = if group.is_empty() {
        "/api/v1".to_string()
    } else {
        format!("/apis/{group}/v1")
    };
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
    ev
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
    let mut rng = SplitMix64::new(seed);
    (0..n)
        .map(|i| {
            let t = Timestamp::from_microsecond(start.as_microsecond() + i as i64 * step_micros)
                .expect("in range");
            event(&mut rng, seed, i, level, t).to_string()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_of_a_seed_never_changes() {
        // Tests and recorded benchmark figures rely on these exact events.
        let start: Timestamp = "2024-05-01T10:00:00Z".parse().unwrap();
        let first: serde_json::Value =
            serde_json::from_str(&events(1, 1, Level::Metadata, start, 1)[0]).unwrap();
        assert_eq!(first["auditID"], "00000001-3ca5-4736-86cd-000000e099ec");
        assert_eq!(first["user"]["username"], "carol@example.com");
        assert_eq!(first["objectRef"]["name"], "obj-48");
        assert_eq!(
            first["requestURI"],
            "/api/v1/namespaces/kube-system/pods/obj-48"
        );
        let full = events(1, 3, Level::RequestResponse, start, 1_000);
        assert_eq!(full, events(1, 3, Level::RequestResponse, start, 1_000));
        assert!(full.iter().all(|e| e.contains("\"requestObject\"")));
    }

    #[test]
    fn below_and_between_stay_in_range() {
        let mut rng = SplitMix64::new(9);
        for _ in 0..10_000 {
            assert!(rng.below(7) < 7);
            assert!((3..=5).contains(&rng.between(3, 5)));
            assert!((0.0..1.0).contains(&rng.unit()));
        }
    }
}
