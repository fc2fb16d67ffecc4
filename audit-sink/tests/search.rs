//! Replays the real audit events of testdata/audit and generated ones
//! through the webhook endpoint, then queries them back by every field.

mod common;

use std::collections::{HashMap, HashSet};

use audit_api::fields::EventFields;
use audit_api::{Event, parse_query};
use audit_gen::{self as testgen, Level};
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_and_generated_events_are_searchable_by_every_field() {
    let dir = tempfile::tempdir().unwrap();
    let sink = SinkProc::start(&dir.path().join("data"), &[]);
    let c = client();

    // The real events: one EventList, exactly as read (the invalid placeholder included).
    let real = real_event_lines();
    let items: Vec<String> = real.iter().map(|(_, l)| l.clone()).collect();
    let r = post_list(&c, &sink.url, &items).await;
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    let invalid = items
        .iter()
        .filter(|l| Event::from_json(l).is_err())
        .count();
    assert_eq!(invalid, 1, "the data set holds one invalid placeholder");
    assert_eq!(body["rejected"], 1);
    assert_eq!(body["accepted"].as_u64().unwrap() as usize, items.len() - 1);

    // Generated events in batches of 400, both levels.
    let start: jiff::Timestamp = "2024-03-01T08:00:00Z".parse().unwrap();
    let mut generated = testgen::events(7, 2000, Level::Metadata, start, 20_000_000);
    generated.extend(testgen::events(
        8,
        800,
        Level::RequestResponse,
        start,
        45_000_000,
    ));
    for batch in generated.chunks(audit_api::DEFAULT_BATCH_SIZE) {
        let r = post_list(&c, &sink.url, batch).await;
        assert_eq!(r.status(), 200);
    }

    // Expected results, computed independently of the index with the shared
    // matcher, over the events as stored: Secret data redacted (the markers'
    // hashes differ with the key, and no query below looks for them).
    let redactor = audit_api::redact::Redactor::new(true, vec![], b"expectations");
    let mut unique: HashMap<String, (Event, String)> = HashMap::new();
    for line in items.iter().chain(generated.iter()) {
        let line = &String::from_utf8(redactor.redact_event(line.as_bytes()).into_owned()).unwrap();
        if let Ok(e) = Event::from_json(line) {
            unique.entry(e.dedup_key()).or_insert((e, line.clone()));
        }
    }
    let fields: Vec<(EventFields, &Event)> = unique
        .values()
        .map(|(e, _)| (EventFields::from_event(e), e))
        .collect();
    let expect = |q: &str| -> u64 {
        let q = parse_query(q).unwrap();
        fields.iter().filter(|(f, _)| q.matches(f)).count() as u64
    };
    wait_total(&c, &sink.url, "", unique.len() as u64).await;

    let real_first = Event::from_json(&items[0]).unwrap();
    let queries = [
        "user:minikube-user".to_string(),
        "user:system:serviceaccount:*".to_string(),
        "user:system:serviceaccount:*:deployer".to_string(),
        "group:system:masters".to_string(),
        "verb:delete".to_string(),
        "verb:create resource:pods".to_string(),
        "resource:secrets ns:prod".to_string(),
        "resource:clusterroles".to_string(),
        "subresource:exec OR subresource:attach".to_string(),
        "ns:kube-system".to_string(),
        "namespace:default -verb:create".to_string(),
        "name:obj-1*".to_string(),
        "name:nginx-deployment-*-phvq7".to_string(),
        "apigroup:rbac.authorization.k8s.io".to_string(),
        "apigroup:core".to_string(),
        "apiversion:v1".to_string(),
        "code:403".to_string(),
        "code:4xx".to_string(),
        "code:>=400".to_string(),
        "code:200..201".to_string(),
        "stage:ResponseStarted".to_string(),
        "level:Metadata".to_string(),
        "level:RequestResponse".to_string(),
        format!("auditid:{}", real_first.audit_id),
        "ua:kubectl/*".to_string(),
        "ua:\"kubectl/v1.32.1 (linux/amd64) kubernetes/abc\"".to_string(),
        "ip:192.168.99.1".to_string(),
        "ip:10.0.1.*".to_string(),
        "annotation:authorization.k8s.io/decision=forbid".to_string(),
        "annotation:authorization.k8s.io/decision".to_string(),
        "uri:/apis/apps/*".to_string(),
        "nginx".to_string(),
        "privileged".to_string(),
        "\"feature_flags alpha\"".to_string(),
        "regist*".to_string(),
        "(verb:update OR verb:patch) -user:alice".to_string(),
        "NOT code:2xx".to_string(),
    ];
    for q in &queries {
        let want = expect(q);
        let got = stats(&c, &sink.url, q).await.total;
        assert_eq!(got, want, "query {q:?}");
    }
    // the checks above must not be vacuous
    for q in [
        "user:minikube-user",
        "verb:delete",
        "code:403",
        "subresource:exec OR subresource:attach",
        "nginx",
        "annotation:authorization.k8s.io/decision=forbid",
        "level:RequestResponse",
        "ip:192.168.99.1",
    ] {
        assert!(expect(q) > 0, "{q} matches something");
    }

    // Search returns the original bytes of real events, newest first, with working pagination.
    let r: serde_json::Value = c
        .get(format!("{}/v1/search", sink.url))
        .query(&[("q", format!("auditid:{}", real_first.audit_id))])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let raw_body = c
        .get(format!("{}/v1/search", sink.url))
        .query(&[(
            "q",
            format!("auditid:{} stage:{}", real_first.audit_id, real_first.stage),
        )])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        raw_body.contains(items[0].as_str()),
        "event returned exactly as received"
    );
    assert!(!r["events"].as_array().unwrap().is_empty());

    let all = search_all(&c, &sink.url, "", 333).await;
    assert_eq!(all.len(), unique.len());
    let times: Vec<jiff::Timestamp> = all
        .iter()
        .map(|v| {
            Event::from_json(&v.to_string())
                .unwrap()
                .received_at()
                .unwrap()
        })
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
    let keys: HashSet<String> = all
        .iter()
        .map(|v| Event::from_json(&v.to_string()).unwrap().dedup_key())
        .collect();
    assert_eq!(keys.len(), all.len(), "pagination returns each event once");

    // Time range: since/until filter on requestReceivedTimestamp.
    let r: serde_json::Value = c
        .get(format!("{}/v1/stats", sink.url))
        .query(&[
            ("since", "2024-03-01T09:00:00Z"),
            ("until", "2024-03-01T10:00:00Z"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let lo: jiff::Timestamp = "2024-03-01T09:00:00Z".parse().unwrap();
    let hi: jiff::Timestamp = "2024-03-01T10:00:00Z".parse().unwrap();
    let want = fields
        .iter()
        .filter(|(_, e)| {
            let t = e.received_at().unwrap();
            t >= lo && t < hi
        })
        .count() as u64;
    assert!(want > 0);
    assert_eq!(r["total"].as_u64().unwrap(), want);
    let r = c
        .get(format!("{}/v1/stats", sink.url))
        .query(&[("since", "1h")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["total"],
        0,
        "nothing in the last hour"
    );

    // Stats by field and histogram agree with the data.
    let s: audit_api::StatsResponse = c
        .get(format!("{}/v1/stats", sink.url))
        .query(&[("by", "verb"), ("top", "3"), ("interval", "1d")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut by_verb: HashMap<&str, u64> = HashMap::new();
    for (_, e) in &fields {
        *by_verb.entry(e.verb.as_str()).or_default() += 1;
    }
    assert_eq!(s.counts.len(), 3);
    for fc in &s.counts {
        assert_eq!(by_verb[fc.value.as_str()], fc.count, "{}", fc.value);
    }
    assert_eq!(
        s.histogram.iter().map(|b| b.count).sum::<u64>(),
        unique.len() as u64
    );
    let s: audit_api::StatsResponse = c
        .get(format!("{}/v1/stats", sink.url))
        .query(&[("by", "code"), ("q", "code:4xx")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        s.counts.iter().map(|c| c.count).sum::<u64>(),
        expect("code:4xx")
    );
    assert!(
        s.counts.iter().all(|c| c.value.starts_with('4')),
        "{:?}",
        s.counts
    );

    // A histogram interval that does not parse, or is under a second, is
    // refused with what to write instead.
    for (interval, says) in [
        ("fast", "write a number with a unit such as 500ms"),
        ("500ms", "shorter than a second; write 1s or more"),
    ] {
        let r = c
            .get(format!("{}/v1/stats", sink.url))
            .query(&[("interval", interval)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{interval}");
        let e: audit_api::ErrorBody = r.json().await.unwrap();
        assert_eq!(e.reason, "bad_request");
        assert!(e.error.starts_with("interval: "), "{}", e.error);
        assert!(e.error.contains(says), "{interval}: {}", e.error);
    }

    // A bad query says where and what was expected.
    let r = c
        .get(format!("{}/v1/search", sink.url))
        .query(&[("q", "verb:get usr:alice")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let e: audit_api::ErrorBody = r.json().await.unwrap();
    assert_eq!(e.reason, "bad_query");
    assert_eq!(e.position, Some(9));
    assert!(e.expected.unwrap().contains("user"));
}
