//! How long the pure work takes for a large organisation: parse + validate a
//! catalog, generate every context, plan a merge. Prints the median of many
//! runs of each (run with `cargo bench -p kubectl-kubeconfig`).

use std::hint::black_box;
use std::time::{Duration, Instant};

use kubectl_kubeconfig::catalog::{self, BaseDir};
use kubectl_kubeconfig::{generate, merge};

const CLUSTERS: usize = 500;
const TEAMS: usize = 200;
const IDPS: usize = 20;

fn big_catalog() -> String {
    let ca = include_str!("../examples/ca/acme-root.pem");
    let pem: String = ca.lines().map(|l| format!("        {l}\n")).collect();
    let mut s = String::from("apiVersion: kubext.io/v1alpha1\nkind: Catalog\nidentityProviders:\n");
    for i in 0..IDPS {
        s.push_str(&format!(
            "  - name: idp-{i}\n    issuerURL: https://login-{i}.example/realms/k8s\n    clientID: kubernetes\n    extraScopes: [email, groups]\n"
        ));
    }
    s.push_str("clusters:\n");
    for i in 0..CLUSTERS {
        s.push_str(&format!(
            "  - name: cluster-{i}\n    server: https://api.cluster-{i}.example:6443\n    certificateAuthority:\n      pem: |\n{pem}    labels: {{env: {}, region: r{}}}\n",
            if i % 3 == 0 { "prod" } else { "dev" },
            i % 10
        ));
    }
    s.push_str("teams:\n");
    for i in 0..TEAMS {
        s.push_str(&format!(
            "  - name: team-{i}\n    identityProvider: idp-{}\n    namespace: team-{i}\n    clusters:\n      - selector: \"region in (r{}, r{}),env=prod\"\n      - name: cluster-{}\n",
            i % IDPS,
            i % 10,
            (i + 1) % 10,
            i % CLUSTERS
        ));
    }
    s
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn measure<T>(name: &str, n: usize, mut f: impl FnMut() -> T) {
    black_box(f());
    let runs: Vec<Duration> = (0..n)
        .map(|_| {
            let start = Instant::now();
            black_box(f());
            start.elapsed()
        })
        .collect();
    println!(
        "{name:<58} median {:>9.3} ms over {n} runs",
        median(runs).as_secs_f64() * 1000.0
    );
}

fn main() {
    let text = big_catalog();
    println!(
        "catalog: {CLUSTERS} clusters (each with an inline CA), {IDPS} identity providers, {TEAMS} teams, {} KiB",
        text.len() / 1024
    );
    measure("parse + validate", 20, || {
        let parsed = catalog::parse(&text, "bench.yaml").unwrap();
        catalog::validate(&parsed, &BaseDir::None, "bench.yaml").unwrap()
    });
    let parsed = catalog::parse(&text, "bench.yaml").unwrap();
    let (catalog, _) = catalog::validate(&parsed, &BaseDir::None, "bench.yaml").unwrap();
    let pairs = generate::select(&catalog, &generate::Selection::default()).unwrap();
    let doc = generate::kubeconfig(&catalog, &pairs, &Default::default());
    println!("contexts generated for every team: {}", pairs.len());
    measure("generate every context", 20, || {
        generate::kubeconfig(&catalog, &pairs, &Default::default())
    });
    let yaml = merge::to_yaml(&doc).unwrap();
    println!("kubeconfig: {} KiB of YAML", yaml.len() / 1024);
    measure("serialise it to YAML", 20, || merge::to_yaml(&doc).unwrap());
    let target = merge::parse_document(&yaml, "target").unwrap();
    measure("parse it back", 20, || {
        merge::parse_document(&yaml, "target").unwrap()
    });
    measure(
        "plan merging it into itself (everything unchanged)",
        20,
        || merge::plan(&target, &target, false),
    );
    let half: serde_json::Map<String, serde_json::Value> = {
        let mut m = target.clone();
        for section in ["clusters", "users", "contexts"] {
            if let Some(list) = m.get_mut(section).and_then(|v| v.as_array_mut()) {
                list.truncate(list.len() / 2);
            }
        }
        m
    };
    measure("plan merging it into a file holding half of it", 20, || {
        merge::plan(&half, &target, false)
    });
}
