//! Whole-process cost of `get-token` with a valid cached token — what kubectl
//! pays before every API request — next to the cost of spawning `/bin/true`,
//! measured in the same run.
//!
//! `cargo bench -p kubectl-oidc-login --bench get_token` (runs: `BENCH_RUNS`, default 300).
//! Needs Node.js for the OIDC fixture (one real login fills the cache).
//!
//! `BENCH_BASELINE_BIN=/path/to/an/older/kubectl-oidc_login` times that
//! binary too, interleaved with this one (each with its own cache), and
//! prints the ratio of the medians: a before/after comparison under the same
//! machine load.
//!
//! Both binaries are timed from fresh copies made the same way in one
//! temporary directory, never from where they were built: how a file came
//! to be written changes what mapping it costs. The same bytes run straight
//! from the linker's output took 320–332 page faults per hit where a `cp` of
//! them took 292–299, and about 0.15 ms more CPU: on its own, enough to make
//! a baseline copied aside look faster than a fresh build.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use oidc_test_provider::{ALICE, OidcProvider};

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-oidc_login");
const EXEC_INFO: &str = r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}"#;

fn time(cmd: &mut Command) -> Duration {
    let started = Instant::now();
    let status = cmd.status().expect("the command runs");
    let elapsed = started.elapsed();
    assert!(status.success(), "{cmd:?} failed");
    elapsed
}

fn summary(name: &str, mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    let pick = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    let median = pick(0.5);
    println!(
        "{name:<34} median {:>7.3} ms   p10 {:>7.3} ms   p90 {:>7.3} ms   ({} runs)",
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
    // Fresh copies of both, written alike (see the top of this file).
    let installed = tempfile::tempdir().unwrap();
    let install = |from: &std::ffi::OsStr, name: &str| {
        let to = installed.path().join(name);
        std::fs::copy(from, &to).unwrap_or_else(|e| panic!("copying {from:?}: {e}"));
        to.into_os_string()
    };
    let this_bin = install(BIN.as_ref(), "kubectl-oidc_login");
    let baseline_bin = std::env::var_os("BENCH_BASELINE_BIN")
        .map(|bin| install(&bin, "baseline-kubectl-oidc_login"));
    let provider = OidcProvider::builder()
        .http()
        .start()
        .expect("the OIDC fixture starts");
    let cache = tempfile::tempdir().unwrap();
    let args = [
        "get-token".to_string(),
        format!("--oidc-issuer-url={}", provider.issuer()),
        format!("--oidc-client-id={}", provider.public_client_id()),
        "--oidc-extra-scope=email,groups".to_string(),
        format!("--username={}", ALICE.id),
        format!("--password={}", ALICE.password),
    ];
    let baseline_cache = tempfile::tempdir().unwrap();
    let command = |bin: &std::ffi::OsStr, cache_dir: &std::path::Path| {
        let mut cmd = Command::new(bin);
        cmd.args(&args)
            .arg(format!("--token-cache-dir={}", cache_dir.display()))
            .env("KUBERNETES_EXEC_INFO", EXEC_INFO)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd
    };
    let get_token = || command(&this_bin, cache.path());
    let get_token_baseline = || {
        baseline_bin
            .as_deref()
            .map(|bin| command(bin, baseline_cache.path()))
    };
    // Fill the caches with one real login each.
    time(&mut get_token());
    if let Some(mut cmd) = get_token_baseline() {
        time(&mut cmd);
    }
    let requests_before = provider.stats().unwrap().requests;

    // Warm up the page cache, then interleave them so all see the same machine load.
    for _ in 0..10 {
        time(&mut get_token());
        if let Some(mut cmd) = get_token_baseline() {
            time(&mut cmd);
        }
        time(&mut Command::new("/bin/true"));
    }
    let mut plugin = Vec::with_capacity(runs);
    let mut older = Vec::with_capacity(runs);
    let mut baseline = Vec::with_capacity(runs);
    for round in 0..runs {
        // Alternate which binary goes first: the first spawn of a round is
        // measurably slower on a loaded machine.
        if round % 2 == 1
            && let Some(mut cmd) = get_token_baseline()
        {
            older.push(time(&mut cmd));
        }
        plugin.push(time(&mut get_token()));
        if round % 2 == 0
            && let Some(mut cmd) = get_token_baseline()
        {
            older.push(time(&mut cmd));
        }
        baseline.push(time(&mut Command::new("/bin/true")));
    }
    assert_eq!(
        provider.stats().unwrap().requests,
        requests_before,
        "the cache hits contacted the provider"
    );
    let true_median = summary("spawn /bin/true", baseline);
    let hit_median = summary("get-token, cached token (hit)", plugin);
    println!(
        "get-token over /bin/true: +{:.3} ms",
        (hit_median.as_secs_f64() - true_median.as_secs_f64()) * 1e3
    );
    if !older.is_empty() {
        let older_median = summary("BENCH_BASELINE_BIN, cached (hit)", older);
        println!(
            "this build / BENCH_BASELINE_BIN (medians): {:.3}   over /bin/true: {:.3}",
            hit_median.as_secs_f64() / older_median.as_secs_f64(),
            (hit_median.as_secs_f64() - true_median.as_secs_f64())
                / (older_median.as_secs_f64() - true_median.as_secs_f64())
        );
    }
}
