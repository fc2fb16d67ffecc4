//! How long the server takes to start and stop, and to answer over TLS.
//! Run with `cargo bench -p kube-test-server` (a plain bench binary: prints
//! median and p99 of each measurement).

use std::time::{Duration, Instant};

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube_test_server::{KubeTestServer, User};

fn report(what: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let median = samples[samples.len() / 2];
    let p99 = samples[(samples.len() * 99 / 100).min(samples.len() - 1)];
    println!(
        "{what:<45} n={:<5} median {:>9.3} ms   p99 {:>9.3} ms",
        samples.len(),
        median.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3
    );
}

fn secret(i: usize) -> Secret {
    Secret {
        metadata: ObjectMeta {
            name: Some(format!("secret-{i:04}")),
            namespace: Some("bench".into()),
            ..Default::default()
        },
        data: Some([("value".to_string(), ByteString(vec![b'x'; 64]))].into()),
        ..Default::default()
    }
}

fn main() {
    let starts: Vec<Duration> = (0..30)
        .map(|_| {
            let t = Instant::now();
            drop(KubeTestServer::start());
            t.elapsed()
        })
        .collect();
    report("start + drop (certificates, runtime, thread)", starts);

    let server = KubeTestServer::start();
    server.add_token("bench", User::new("bench"));
    server.allow_all("bench");
    for i in 0..1000 {
        server.insert_secret(secret(i));
    }
    let http = reqwest::blocking::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(server.ca_pem().as_bytes()).unwrap())
        .no_proxy()
        .build()
        .unwrap();
    let get_url = format!(
        "{}/api/v1/namespaces/bench/secrets/secret-0500",
        server.url()
    );
    let list_url = format!("{}/api/v1/namespaces/bench/secrets", server.url());
    let timed = |url: &str, n: usize| -> Vec<Duration> {
        (0..n)
            .map(|_| {
                let t = Instant::now();
                let resp = http.get(url).bearer_auth("bench").send().unwrap();
                assert!(resp.status().is_success());
                resp.bytes().unwrap();
                t.elapsed()
            })
            .collect()
    };
    timed(&get_url, 20);
    report("GET one secret (keep-alive TLS)", timed(&get_url, 1000));
    report("LIST 1000 secrets", timed(&list_url, 50));
    server.clear_requests();
}
