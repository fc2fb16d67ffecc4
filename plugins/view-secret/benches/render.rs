//! How long the interpretation takes, on inputs of realistic and large size.
//! Run with `cargo bench -p kubectl-view-secret --bench render`; prints the
//! median time per operation over several rounds.

use std::hint::black_box;
use std::io::Write as _;
use std::time::{Duration, Instant};

use base64::Engine as _;
use jiff::Timestamp;
use kubectl_view_secret::render::{Mode, RenderOptions, render_value};
use kubectl_view_secret::style::Style;
use kubectl_view_secret::{certs, helm};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};

fn median_per_op(name: &str, iterations: u32, mut op: impl FnMut()) {
    let mut rounds: Vec<Duration> = (0..7)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iterations {
                op();
            }
            start.elapsed() / iterations
        })
        .collect();
    rounds.sort();
    println!("{name:<52} {:>12.1?} per op", rounds[3]);
}

fn ca_bundle(count: usize) -> String {
    (0..count)
        .map(|i| {
            let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
            params
                .distinguished_name
                .push(DnType::CommonName, format!("Bench CA {i}"));
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            params
                .self_signed(&KeyPair::generate().unwrap())
                .unwrap()
                .pem()
        })
        .collect()
}

fn helm_payload(values_entries: usize) -> Vec<u8> {
    let values: serde_json::Map<String, serde_json::Value> = (0..values_entries)
        .map(|i| (format!("key{i}"), serde_json::json!({"enabled": true, "replicas": i, "image": format!("registry.example.com/app-{i}:1.0.{i}")})))
        .collect();
    let manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n".repeat(values_entries);
    let json = serde_json::to_vec(&serde_json::json!({
        "name": "bench", "namespace": "default", "version": 1,
        "info": {"status": "deployed"},
        "chart": {"metadata": {"name": "bench", "version": "1.0.0"}},
        "config": values, "manifest": manifest
    }))
    .unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&json).unwrap();
    base64::engine::general_purpose::STANDARD
        .encode(gz.finish().unwrap())
        .into_bytes()
}

fn main() {
    let opts = RenderOptions {
        mode: Mode::Interpreted,
        show_passwords: false,
        show_values: true,
        style: Style::plain(),
        now: Timestamp::now(),
    };
    let one = ca_bundle(1);
    let many = ca_bundle(150);
    median_per_op("certificate: analyze + render, 1 cert", 200, || {
        black_box(render_value(
            "kubernetes.io/tls",
            "tls.crt",
            one.as_bytes(),
            &opts,
        ));
    });
    median_per_op(
        "certificate: analyze + render, 150-cert CA bundle",
        5,
        || {
            black_box(render_value("Opaque", "ca.crt", many.as_bytes(), &opts));
        },
    );
    let small = helm_payload(20);
    let large = helm_payload(20_000);
    println!(
        "(helm payloads: {} and {} bytes stored)",
        small.len(),
        large.len()
    );
    median_per_op(
        "helm: decode + parse + render with values, small",
        200,
        || {
            black_box(render_value(
                helm::HELM_SECRET_TYPE,
                "release",
                &small,
                &opts,
            ));
        },
    );
    median_per_op(
        "helm: decode + parse + render with values, large",
        3,
        || {
            black_box(render_value(
                helm::HELM_SECRET_TYPE,
                "release",
                &large,
                &opts,
            ));
        },
    );
    let blob: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    median_per_op("binary: detect + hex summary, 1 MB", 20, || {
        black_box(render_value("Opaque", "blob", &blob, &opts));
    });
    let _ = certs::RENEW_WARNING_DAYS;
}
