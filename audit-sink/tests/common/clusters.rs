//! Which cluster events are stored as: the same checks on one sink
//! (`cluster.rs`) and on every replica of a fleet (`nats_clusters.rs`).

use std::collections::HashSet;

use super::search_all;

/// Posts `items` as an `EventList` to `url`'s webhook, with a bearer token
/// and `?cluster=` when given.
pub async fn post_as(
    c: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    cluster: Option<&str>,
    items: &[String],
) -> reqwest::Response {
    let mut r = c
        .post(format!("{url}/v1/events"))
        .header("content-type", "application/json")
        .body(audit_gen::event_list(items));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    if let Some(cl) = cluster {
        r = r.query(&[("cluster", cl)]);
    }
    r.send().await.expect("post")
}

/// The cluster a stored event is annotated with.
pub fn cluster_of(event: &serde_json::Value) -> &str {
    event["annotations"]["audit.kubext.io/cluster"]
        .as_str()
        .unwrap_or_else(|| panic!("no cluster annotation in {event}"))
}

/// The auditIDs of events given as JSON texts.
pub fn ids(events: &[String]) -> HashSet<String> {
    events
        .iter()
        .map(|e| {
            let v: serde_json::Value = serde_json::from_str(e).unwrap();
            v["auditID"].as_str().unwrap().to_string()
        })
        .collect()
}

/// The auditIDs of stored events, each found once.
fn unique_ids(events: &[serde_json::Value], url: &str, q: &str) -> HashSet<String> {
    let mut out = HashSet::new();
    for e in events {
        let id = e["auditID"].as_str().unwrap().to_string();
        assert!(
            out.insert(id.clone()),
            "{id} found twice on {url} for {q:?}"
        );
    }
    out
}

/// The auditIDs `q` finds on `url`, each found once.
pub async fn found(c: &reqwest::Client, url: &str, q: &str) -> HashSet<String> {
    unique_ids(&search_all(c, url, q, 500).await, url, q)
}

/// The counts of `stats --by cluster` on `url`, sorted.
pub async fn by_cluster(c: &reqwest::Client, url: &str) -> Vec<(String, u64)> {
    let r = c
        .get(format!("{url}/v1/stats"))
        .query(&[("by", "cluster")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let stats: audit_api::StatsResponse = r.json().await.unwrap();
    let mut by: Vec<(String, u64)> = stats
        .counts
        .iter()
        .map(|b| (b.value.clone(), b.count))
        .collect();
    by.sort();
    by
}

/// A token bound to `bound` asking (`?cluster=`) to write as `asked`: 403
/// naming both, on every sink of `urls`.
pub async fn assert_other_cluster_refused(
    c: &reqwest::Client,
    urls: &[&str],
    token: &str,
    (bound, asked): (&str, &str),
    items: &[String],
) {
    for url in urls {
        let r = post_as(c, url, Some(token), Some(asked), items).await;
        assert_eq!(r.status(), 403, "{url}");
        let e: audit_api::ErrorBody = r.json().await.unwrap();
        assert!(
            e.error.contains(bound) && e.error.contains(asked),
            "{}",
            e.error
        );
    }
}

/// On every sink of `urls`: each cluster of `want` holds exactly its
/// events (found once each, annotated with it, paging through small
/// pages), nothing is stored as the default cluster, and `stats --by
/// cluster` counts exactly these clusters.
pub async fn assert_stored_as(c: &reqwest::Client, urls: &[&str], want: &[(&str, &[String])]) {
    for url in urls {
        for (cluster, events) in want {
            let q = format!("cluster:{cluster}");
            let stored = search_all(c, url, &q, 7).await;
            assert!(
                stored.iter().all(|e| cluster_of(e) == *cluster),
                "{q} on {url}"
            );
            assert_eq!(unique_ids(&stored, url, &q), ids(events), "{q} on {url}");
        }
        assert!(found(c, url, "cluster:default").await.is_empty(), "{url}");
        let mut counts: Vec<(String, u64)> = want
            .iter()
            .map(|(cluster, events)| (cluster.to_string(), events.len() as u64))
            .collect();
        counts.sort();
        assert_eq!(by_cluster(c, url).await, counts, "{url}");
    }
}
