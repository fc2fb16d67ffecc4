//! Whole-process time of `kubectl view-secret` against the API test server —
//! what a person waits for — beside spawning `/bin/true` and beside what one
//! would type without the plugin (`kubectl get secret -o jsonpath=…`, still
//! base64), all measured in the same run, interleaved so that each sees the
//! same machine load.
//!
//! `cargo bench -p kubectl-view-secret --bench process` (runs: `BENCH_RUNS`,
//! default 300). Needs `kubectl` on `PATH`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube_test_server::{KubeTestServer, KubeconfigOpts, User};

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-view_secret");

/// Runs `cmd`, checks it succeeded and printed `expect`, returns its wall time.
fn time(cmd: &mut Command, expect: &str) -> Duration {
    let started = Instant::now();
    let out = cmd.output().expect("the command runs");
    let elapsed = started.elapsed();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        expect,
        "{cmd:?}"
    );
    elapsed
}

fn summary(name: &str, mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    let pick = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    let median = pick(0.5);
    println!(
        "{name:<48} median {:>8.3} ms   p10 {:>8.3} ms   p90 {:>8.3} ms   ({} runs)",
        median.as_secs_f64() * 1e3,
        pick(0.1).as_secs_f64() * 1e3,
        pick(0.9).as_secs_f64() * 1e3,
        samples.len()
    );
    median
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not run us as a bench.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);

    let server = KubeTestServer::start();
    server.insert_secret(Secret {
        metadata: ObjectMeta {
            name: Some("db-credentials".into()),
            namespace: Some("prod".into()),
            ..Default::default()
        },
        type_: Some("Opaque".into()),
        data: Some(
            [
                ("username".to_string(), ByteString(b"admin".to_vec())),
                ("password".to_string(), ByteString(b"hunter2".to_vec())),
            ]
            .into(),
        ),
        ..Default::default()
    });
    server.add_token("alice-token", User::new("alice"));
    server.allow("alice", &["get", "list"], &["secrets"], "prod");
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = server.write_kubeconfig(
        dir.path(),
        &KubeconfigOpts::token("alice-token").namespace("prod"),
    );

    // kubectl finds the plugin on PATH, as after `cargo xtask install` or krew.
    let bin_dir = dir.path().join("bin");
    std::fs::create_dir(&bin_dir).unwrap();
    std::fs::copy(BIN, bin_dir.join("kubectl-view_secret")).unwrap();
    let path = format!("{}:/usr/local/bin:/usr/bin:/bin", bin_dir.display());
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let env = |cmd: &mut Command| {
        cmd.env("PATH", &path)
            .env("HOME", &home)
            .env("KUBECONFIG", &kubeconfig)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
    };
    let plugin = || {
        let mut cmd = Command::new(bin_dir.join("kubectl-view_secret"));
        cmd.args(["db-credentials", "password"]);
        env(&mut cmd);
        cmd
    };
    let kubectl_plugin = || {
        let mut cmd = Command::new("kubectl");
        cmd.args(["view-secret", "db-credentials", "password"]);
        env(&mut cmd);
        cmd
    };
    let kubectl_get = || {
        let mut cmd = Command::new("kubectl");
        cmd.args([
            "get",
            "secret",
            "db-credentials",
            "-o",
            "jsonpath={.data.password}",
        ]);
        env(&mut cmd);
        cmd
    };
    let bin_true = || Command::new("/bin/true");
    let encoded = "aHVudGVyMg==";
    assert!(Path::new("/bin/true").exists());

    // Warm up (page cache, kubectl's discovery cache), then interleave.
    for _ in 0..10 {
        time(&mut plugin(), "hunter2");
        time(&mut kubectl_plugin(), "hunter2");
        time(&mut kubectl_get(), encoded);
        time(&mut bin_true(), "");
    }
    let (mut t_true, mut t_plugin, mut t_kubectl_plugin, mut t_get) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        t_true.push(time(&mut bin_true(), ""));
        t_plugin.push(time(&mut plugin(), "hunter2"));
        t_kubectl_plugin.push(time(&mut kubectl_plugin(), "hunter2"));
        t_get.push(time(&mut kubectl_get(), encoded));
    }
    let base = summary("spawn /bin/true", t_true);
    let direct = summary("kubectl-view_secret db-credentials password", t_plugin);
    let via = summary(
        "kubectl view-secret db-credentials password",
        t_kubectl_plugin,
    );
    let get = summary("kubectl get secret -o jsonpath=… (base64)", t_get);
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "over /bin/true: plugin +{:.3} ms, through kubectl +{:.3} ms, kubectl get +{:.3} ms",
        ms(direct) - ms(base),
        ms(via) - ms(base),
        ms(get) - ms(base)
    );
    println!(
        "kubectl view-secret / kubectl get secret: {:.2}",
        ms(via) / ms(get)
    );
}
