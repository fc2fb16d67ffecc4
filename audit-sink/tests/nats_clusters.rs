//! Many clusters on one NATS JetStream stream: the cluster each event is
//! stored as (bound tokens, `?cluster=`), the same answers from every
//! replica, and replicas that index only some clusters (`--index-subjects`).
//! A real 3-node `nats-server` cluster on loopback, real sink replicas.

mod common;
mod nats_support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use audit_gen::{self as testgen, Level};
use common::clusters::{
    assert_other_cluster_refused, assert_stored_as, by_cluster, found, ids, post_as,
};
use common::*;
use nats_support::NatsCluster;

/// One NATS cluster at a time: a 2-core machine.
static ONE_CLUSTER_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const TOKENS: &str = "tok-eu cluster=prod-eu\n\
                      tok-us cluster=prod-us\n\
                      tok-dev cluster=dev\n\
                      tok-any\n";

fn generated(seed: u64, n: usize) -> Vec<String> {
    testgen::events(
        seed,
        n,
        Level::Metadata,
        "2025-08-01T00:00:00Z".parse().unwrap(),
        1_000_000,
    )
}

fn replica(data: &Path, nats: &NatsCluster, tokens: &Path, name: &str, extra: &[&str]) -> SinkProc {
    let urls = nats.urls();
    let mut args = vec![
        "--nats",
        &urls,
        "--replica-name",
        name,
        "--token-file",
        tokens.to_str().unwrap(),
    ];
    args.extend(extra);
    SinkProc::start(data, &args)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_replica_answers_each_clusters_events_exactly() {
    let _serial = ONE_CLUSTER_AT_A_TIME.lock().await;
    let nats = NatsCluster::start();
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens");
    std::fs::write(&tokens, TOKENS).unwrap();
    let a = replica(&dir.path().join("a"), &nats, &tokens, "a", &[]);
    let b = replica(&dir.path().join("b"), &nats, &tokens, "b", &[]);
    let c = client();

    // prod-eu's apiserver through replica a; five of its events claim to
    // be dev's, which a token bound to prod-eu cannot make true.
    let mut eu = generated(1, 30);
    for e in eu.iter_mut().take(5) {
        *e = audit_api::fields::stamp_cluster(e, "dev").unwrap().unwrap();
    }
    assert_eq!(
        post_as(&c, &a.url, Some("tok-eu"), None, &eu)
            .await
            .status(),
        200
    );
    // dev's through replica b.
    let dev = generated(2, 20);
    assert_eq!(
        post_as(&c, &b.url, Some("tok-dev"), None, &dev)
            .await
            .status(),
        200
    );
    // An unbound token names its cluster on the URL, through either replica.
    let staging = generated(3, 12);
    let r = post_as(&c, &b.url, Some("tok-any"), Some("staging"), &staging[..6]).await;
    assert_eq!(r.status(), 200);
    let r = post_as(&c, &a.url, Some("tok-any"), Some("staging"), &staging[6..]).await;
    assert_eq!(r.status(), 200);
    // A bound token asking for another cluster: 403 on either replica,
    // and nothing of it is stored.
    let other = generated(4, 7);
    let urls = [a.url.as_str(), b.url.as_str()];
    assert_other_cluster_refused(&c, &urls, "tok-eu", ("prod-eu", "dev"), &other).await;

    for url in urls {
        wait_total(&c, url, "", 62).await;
    }
    assert_stored_as(
        &c,
        &urls,
        &[("prod-eu", &eu), ("dev", &dev), ("staging", &staging)],
    )
    .await;
    for url in urls {
        let mut prod_or_dev = ids(&eu);
        prod_or_dev.extend(ids(&dev));
        assert_eq!(
            found(&c, url, "cluster:prod-* OR cluster:dev").await,
            prod_or_dev
        );
        assert!(found(&c, url, "").await.is_disjoint(&ids(&other)));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_index_only_the_clusters_of_their_index_subjects() {
    let _serial = ONE_CLUSTER_AT_A_TIME.lock().await;
    let nats = NatsCluster::start();
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens");
    std::fs::write(&tokens, TOKENS).unwrap();
    // Two production clusters on one replica, dev on another.
    let prod = replica(
        &dir.path().join("prod"),
        &nats,
        &tokens,
        "prod",
        &[
            "--index-subjects",
            "kubext.audit.prod-eu",
            "--index-subjects",
            "kubext.audit.prod-us",
        ],
    );
    let dev = replica(
        &dir.path().join("dev"),
        &nats,
        &tokens,
        "dev",
        &["--index-subjects", "kubext.audit.dev"],
    );
    let c = client();
    let (eu, us, dv) = (generated(11, 40), generated(12, 25), generated(13, 30));
    // Any replica takes any cluster's events: ingest is not partitioned.
    assert_eq!(
        post_as(&c, &dev.url, Some("tok-eu"), None, &eu)
            .await
            .status(),
        200
    );
    assert_eq!(
        post_as(&c, &prod.url, Some("tok-us"), None, &us)
            .await
            .status(),
        200
    );
    assert_eq!(
        post_as(&c, &prod.url, Some("tok-dev"), None, &dv)
            .await
            .status(),
        200
    );

    let mut prod_ids = ids(&eu);
    prod_ids.extend(ids(&us));
    wait_total(&c, &prod.url, "", 65).await;
    wait_total(&c, &dev.url, "", 30).await;
    // A replica with every subject, started afterwards, holds them all.
    let all = replica(
        &dir.path().join("all"),
        &nats,
        &tokens,
        "all",
        &["--index-subjects", "kubext.audit.*"],
    );
    wait_total(&c, &all.url, "", 95).await;
    for r in [&prod, &dev, &all] {
        wait_ready(&c, &r.url, Duration::from_secs(60)).await;
    }
    assert_eq!(found(&c, &prod.url, "").await, prod_ids);
    assert_eq!(found(&c, &dev.url, "").await, ids(&dv));
    let mut every = prod_ids.clone();
    every.extend(ids(&dv));
    assert_eq!(found(&c, &all.url, "").await, every);
    assert_eq!(
        by_cluster(&c, &prod.url).await,
        vec![("prod-eu".to_string(), 40), ("prod-us".to_string(), 25)]
    );
    assert_eq!(
        by_cluster(&c, &dev.url).await,
        vec![("dev".to_string(), 30)]
    );
}

#[test]
fn an_index_subject_that_names_no_cluster_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    for (subject, says) in [
        ("audit.prod-eu", "under kubext.audit."),
        ("kubext.audit.prod-*", "a whole token"),
        ("kubext.audit.prod.eu", "one token"),
        ("kubext.audit.", "under kubext.audit."),
    ] {
        // Refused before connecting: nothing listens on this port.
        let out = Command::new(bin())
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .args(["--nats", "nats://127.0.0.1:1", "--replica-name", "x"])
            .args(["--index-subjects", subject])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{subject}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(subject) && err.contains(says),
            "{subject}: {err}"
        );
    }
}
