//! The `auditevents` resource as kubectl reads it: lists equal to the sink's
//! own search (paging, field selectors, `q`), get by name, Tables,
//! discovery and OpenAPI, watch, and the 400s of bad parameters.

mod apiserver_support;

use std::time::Duration;

use apiserver_support::*;
use futures_util::StreamExt as _;
use serde_json::{Value, json};

const BASE: &str = "/apis/audit.kubext.io/v1alpha1";
const TABLE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";

/// Every page of a list, following `metadata.continue`.
async fn list_all(a: &Aggregated, c: &reqwest::Client, path: &str, query: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cont = String::new();
    loop {
        let sep = if query.is_empty() { "" } else { "&" };
        let url = format!("{path}?{query}{sep}continue={cont}");
        let (status, page) = a.get_as(c, Some("root"), &["auditors"], &url, None).await;
        assert_eq!(status, 200, "{url}: {page}");
        assert_eq!(page["kind"], "AuditEventList");
        assert_eq!(page["apiVersion"], "audit.kubext.io/v1alpha1");
        out.extend(items(&page));
        match page["metadata"]["continue"].as_str() {
            Some(n) => cont = n.to_string(),
            None => return out,
        }
    }
}

fn events_of(items: &[Value]) -> Vec<Value> {
    items.iter().map(|i| i["event"].clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_page_and_filter_exactly_like_the_sinks_search() {
    let a = Aggregated::start(&[]);
    a.kube
        .allow("auditors", &["get", "list"], &["auditevents"], "*");
    a.ingest(&test_events()).await;
    let c = a.aggregator();
    let prod = format!("{BASE}/namespaces/prod/auditevents");

    // Paging with limit/continue: the same events, in the same order.
    let paged = list_all(&a, &c, &prod, "limit=7").await;
    assert_eq!(events_of(&paged), a.search_all("ns:prod", 7).await);
    assert!(paged.len() > 14, "several pages: {}", paged.len());

    let cases = [
        ("fieldSelector=verb%3Ddelete", "ns:prod verb:delete"),
        (
            "fieldSelector=verb%3D%3Ddelete%2Cuser!%3Dalice",
            "ns:prod verb:delete -user:alice",
        ),
        ("fieldSelector=code%3D403", "ns:prod code:403"),
        (
            "fieldSelector=stage%3DResponseComplete%2Cresource%3Dsecrets",
            "ns:prod stage:ResponseComplete resource:secrets",
        ),
        ("fieldSelector=cluster%3Ddefault", "ns:prod cluster:default"),
        (
            "q=resource%3Asecrets%20OR%20resource%3Apods",
            "ns:prod (resource:secrets OR resource:pods)",
        ),
        (
            "q=code%3A4xx&fieldSelector=verb!%3Dget",
            "ns:prod code:4xx -verb:get",
        ),
        (
            "from=2026-01-05T10:01:00Z&to=2026-01-05T10:02:00Z",
            "ns:prod",
        ),
    ];
    for (query, q) in cases {
        let got = events_of(&list_all(&a, &c, &prod, &format!("limit=50&{query}")).await);
        let mut want = a.search_all(q, 50).await;
        if query.starts_with("from=") {
            want.retain(|e| {
                let t = e["requestReceivedTimestamp"].as_str().unwrap();
                ("2026-01-05T10:01:00".."2026-01-05T10:02:00").contains(&&t[..19])
            });
            assert!(!want.is_empty());
        }
        assert_eq!(got, want, "{query} vs {q}");
    }

    // Across namespaces.
    let all = list_all(
        &a,
        &c,
        &format!("{BASE}/auditevents"),
        "limit=1000&fieldSelector=verb%3Dcreate",
    )
    .await;
    assert_eq!(events_of(&all), a.search_all("verb:create", 1000).await);

    // Items: name = auditID.stage, namespace, creationTimestamp = stageTimestamp, the event unchanged.
    let item = &paged[0];
    let e = &item["event"];
    assert_eq!(
        item["metadata"],
        json!({
            "name": format!("{}.{}", e["auditID"].as_str().unwrap(), e["stage"].as_str().unwrap().to_lowercase()),
            "namespace": "prod",
            "creationTimestamp": e["stageTimestamp"],
        })
    );
    assert_eq!(item["kind"], "AuditEvent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_by_name_and_the_400s_and_404s_read_like_the_apiservers() {
    let a = Aggregated::start(&[]);
    a.kube
        .allow("auditors", &["get", "list"], &["auditevents"], "*");
    a.ingest(&test_events()).await;
    let c = a.aggregator();
    let list = list_all(
        &a,
        &c,
        &format!("{BASE}/namespaces/prod/auditevents"),
        "limit=3",
    )
    .await;
    let item = &list[5];
    let name = item["metadata"]["name"].as_str().unwrap();
    let (status, got) = a
        .get_as(
            &c,
            Some("root"),
            &["auditors"],
            &format!("{BASE}/namespaces/prod/auditevents/{name}"),
            None,
        )
        .await;
    assert_eq!((status, &got), (200, item));
    // A bare auditID names the same request.
    let audit_id = item["event"]["auditID"].as_str().unwrap();
    let (status, got) = a
        .get_as(
            &c,
            Some("root"),
            &["auditors"],
            &format!("{BASE}/namespaces/prod/auditevents/{audit_id}"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(got["event"]["auditID"], audit_id);
    // In another namespace it does not exist.
    let (status, body) = a
        .get_as(
            &c,
            Some("root"),
            &["auditors"],
            &format!("{BASE}/namespaces/staging/auditevents/{name}"),
            None,
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        body["message"],
        format!("auditevents.audit.kubext.io \"{name}\" not found")
    );
    assert_eq!(body["reason"], "NotFound");

    let bad = [
        (
            "fieldSelector=colour%3Dred",
            "field label not supported: colour",
        ),
        (
            "fieldSelector=verb",
            "invalid selector: 'verb'; can't understand 'verb'",
        ),
        (
            "fieldSelector=code%3Dforbidden",
            "invalid field selector value \"forbidden\" for code: use an HTTP status code such as 403",
        ),
        (
            "continue=not-a-cursor",
            "continue key is not valid: use the metadata.continue of the previous page",
        ),
        (
            "labelSelector=app%3Dx",
            "AuditEvents carry no labels: select with fieldSelector (user, verb, resource, name, code, stage, cluster) or q",
        ),
        (
            "since=1h&from=2026-01-01T00:00:00Z",
            "give since or from, not both (both are the lower bound of the time range)",
        ),
    ];
    for (query, message) in bad {
        let (status, body) = a
            .get_as(
                &c,
                Some("root"),
                &["auditors"],
                &format!("{BASE}/namespaces/prod/auditevents?{query}"),
                None,
            )
            .await;
        assert_eq!(
            (status, body),
            (
                400,
                json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                       "message": message, "reason": "BadRequest", "code": 400})
            ),
            "{query}"
        );
    }
    let (status, body) = a
        .get_as(
            &c,
            Some("root"),
            &["auditors"],
            &format!("{BASE}/namespaces/prod/auditevents?q=verb%3A"),
            None,
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("q: invalid query at position"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_gets_a_table_and_the_discovery_it_needs() {
    let a = Aggregated::start(&[]);
    a.kube.allow("auditors", &["list"], &["auditevents"], "*");
    a.ingest(&test_events()).await;
    let c = a.aggregator();

    let (status, table) = a
        .get_as(
            &c,
            Some("root"),
            &["auditors"],
            &format!("{BASE}/namespaces/prod/auditevents?limit=500"),
            Some(TABLE),
        )
        .await;
    assert_eq!(status, 200, "{table}");
    assert_eq!(table["kind"], "Table");
    assert_eq!(table["apiVersion"], "meta.k8s.io/v1");
    let columns: Vec<(&str, u64)> = table["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["priority"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        columns,
        [
            ("Time", 0),
            ("User", 0),
            ("Verb", 0),
            ("Resource", 0),
            ("Object", 0),
            ("Code", 0),
            ("Stage", 1),
            ("Name", 1)
        ]
    );
    let events = a.search_all("ns:prod", 500).await;
    let rows = table["rows"].as_array().unwrap();
    assert_eq!(rows.len(), events.len());
    for (row, e) in rows.iter().zip(&events) {
        let cells = row["cells"].as_array().unwrap();
        assert_eq!(
            cells[0],
            e["requestReceivedTimestamp"].as_str().unwrap()[..19].to_string() + "Z"
        );
        assert_eq!(cells[1], e["user"]["username"]);
        assert_eq!(cells[2], e["verb"]);
        assert_eq!(
            cells[4],
            format!("prod/{}", e["objectRef"]["name"].as_str().unwrap())
        );
        assert_eq!(cells[5], e["responseStatus"]["code"]);
        assert_eq!(row["object"]["kind"], "PartialObjectMetadata");
        assert_eq!(row["object"]["metadata"]["namespace"], "prod");
    }

    // Events of a second cluster add the Cluster column.
    let other: Vec<String> = audit_gen::events(
        99,
        5,
        audit_gen::Level::Metadata,
        "2026-01-05T12:00:00Z".parse().unwrap(),
        1_000_000,
    );
    let r = reqwest::Client::new()
        .post(format!("{}/v1/events?cluster=prod-eu", a.sink_url))
        .body(audit_gen::event_list(&other))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Hang detection only: the commit interval is 100 ms.
    let mut names = Vec::new();
    for _ in 0..200 {
        let (_, t) = a
            .get_as(
                &c,
                Some("root"),
                &["auditors"],
                &format!("{BASE}/auditevents?limit=1000"),
                Some(TABLE),
            )
            .await;
        names = t["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect();
        if t["rows"].as_array().unwrap().len() == 205 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(names.contains(&"Cluster".to_string()), "{names:?}");

    // Discovery.
    let (status, apis) = a.get_as(&c, None, &[], "/apis", None).await;
    assert_eq!(status, 200);
    assert_eq!(apis["kind"], "APIGroupList");
    assert_eq!(apis["groups"][0]["name"], "audit.kubext.io");
    assert_eq!(
        apis["groups"][0]["preferredVersion"]["groupVersion"],
        "audit.kubext.io/v1alpha1"
    );
    let (_, group) = a.get_as(&c, None, &[], "/apis/audit.kubext.io", None).await;
    assert_eq!(group["kind"], "APIGroup");
    let (_, resources) = a.get_as(&c, None, &[], BASE, None).await;
    assert_eq!(resources["kind"], "APIResourceList");
    assert_eq!(resources["groupVersion"], "audit.kubext.io/v1alpha1");
    let r = &resources["resources"][0];
    assert_eq!(
        (
            r["name"].as_str(),
            r["kind"].as_str(),
            r["namespaced"].as_bool()
        ),
        (Some("auditevents"), Some("AuditEvent"), Some(true))
    );
    assert_eq!(r["verbs"], json!(["get", "list", "watch"]));
    let (status, v2) = a.get_as(&c, None, &[], "/openapi/v2", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        v2["definitions"]["io.kubext.audit.v1alpha1.AuditEvent"]["x-kubernetes-group-version-kind"],
        json!([{"group": "audit.kubext.io", "version": "v1alpha1", "kind": "AuditEvent"}])
    );
    let (_, v3) = a.get_as(&c, None, &[], "/openapi/v3", None).await;
    let doc = v3["paths"]["apis/audit.kubext.io/v1alpha1"]["serverRelativeURL"]
        .as_str()
        .unwrap();
    let (status, v3doc) = a.get_as(&c, None, &[], doc, None).await;
    assert_eq!(status, 200);
    assert!(v3doc["components"]["schemas"]["io.kubext.audit.v1alpha1.AuditEventList"].is_object());
    let (status, version) = a.get_as(&c, None, &[], "/version", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        version["gitVersion"],
        format!("v{}", env!("CARGO_PKG_VERSION"))
    );
    // An unknown path is the apiserver's 404.
    let (status, body) = a
        .get_as(
            &c,
            Some("root"),
            &[],
            "/apis/audit.kubext.io/v1alpha1/nothing",
            None,
        )
        .await;
    assert_eq!((status, body["reason"].as_str()), (404, Some("NotFound")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_streams_new_events_of_its_namespace_as_added() {
    let a = Aggregated::start(&[]);
    a.kube
        .allow("team-prod", &["watch"], &["auditevents"], "prod");
    let c = a.aggregator();
    let resp = c
        .get(format!(
            "{}{BASE}/namespaces/prod/auditevents?watch=true&fieldSelector=verb!%3Dget",
            a.api_url
        ))
        .header("X-Remote-User", "alice")
        .header("X-Remote-Group", "team-prod")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let events = test_events();
    a.ingest(&events).await;
    let want = a.search_all("ns:prod -verb:get", 1000).await;
    assert!(!want.is_empty());
    let mut body = resp.bytes_stream();
    let mut buf = Vec::new();
    let mut got: Vec<Value> = Vec::new();
    // Hang detection only: every event is searchable by now.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while got.len() < want.len() {
        let chunk = tokio::time::timeout_at(deadline, body.next())
            .await
            .unwrap_or_else(|_| panic!("{} of {} watch events", got.len(), want.len()))
            .expect("stream open")
            .unwrap();
        buf.extend_from_slice(&chunk);
        while let Some(nl) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=nl).collect();
            let ev: Value = serde_json::from_slice(&line).unwrap();
            assert_eq!(ev["type"], "ADDED", "{ev}");
            assert_eq!(ev["object"]["kind"], "AuditEvent");
            got.push(ev["object"]["event"].clone());
        }
    }
    // The watch delivers in ingest order, search newest first.
    let mut want_sorted = want.clone();
    let key = |e: &Value| {
        (
            e["auditID"].as_str().unwrap().to_string(),
            e["stage"].as_str().unwrap().to_string(),
        )
    };
    want_sorted.sort_by_key(key);
    got.sort_by_key(key);
    assert_eq!(got, want_sorted);

    // Watching another namespace is forbidden like listing it.
    let (status, body) = a
        .get_as(
            &c,
            Some("alice"),
            &["team-prod"],
            &format!("{BASE}/namespaces/staging/auditevents?watch=true"),
            None,
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(
        body["message"],
        "auditevents.audit.kubext.io is forbidden: User \"alice\" cannot watch resource \"auditevents\" in API group \"audit.kubext.io\" in the namespace \"staging\""
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_header_settings_are_read_from_the_clusters_configmap() {
    let a = Aggregated::start_with(
        Settings::ConfigMap {
            username_header: "X-Front-User",
        },
        &[],
    );
    a.kube.allow("erin", &["list"], &["auditevents"], "prod");
    let c = a.aggregator();
    let path = format!("{BASE}/namespaces/prod/auditevents");
    // X-Remote-User is not the header the ConfigMap names.
    assert_eq!(a.get_as(&c, Some("erin"), &[], &path, None).await.0, 401);
    let r = c
        .get(format!("{}{path}", a.api_url))
        .header("X-Front-User", "erin")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The allowed names came from the ConfigMap too.
    let other = a.client(Some(&leaf(&[], "not-the-proxy", &a.front_proxy_ca)));
    let r = other
        .get(format!("{}{path}", a.api_url))
        .header("X-Front-User", "erin")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

/// Stores `items` through the sink's webhook and waits until `total` events are searchable.
async fn ingest_until(a: &Aggregated, items: &[String], total: usize) {
    let r = reqwest::Client::new()
        .post(format!("{}/v1/events", a.sink_url))
        .body(audit_gen::event_list(items))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Hang detection only.
    for _ in 0..600 {
        if a.search_all("", 1000).await.len() >= total {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("events not searchable");
}

/// The lines of a watch that ends by itself (`timeoutSeconds`, or an error).
async fn watch_lines(a: &Aggregated, c: &reqwest::Client, path_and_query: &str) -> Vec<Value> {
    let r = c
        .get(format!("{}{path_and_query}", a.api_url))
        .header("X-Remote-User", "alice")
        .header("X-Remote-Group", "team-prod")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{path_and_query}");
    // Hang detection only: the watch asks the server to end it after seconds.
    let body = tokio::time::timeout(Duration::from_secs(120), r.bytes())
        .await
        .expect("the watch ended")
        .unwrap();
    body.split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect()
}

fn by_id(mut events: Vec<Value>) -> Vec<Value> {
    events.sort_by_key(|e| {
        (
            e["auditID"].as_str().unwrap().to_string(),
            e["stage"].as_str().unwrap().to_string(),
        )
    });
    events
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_from_a_lists_resource_version_gets_what_was_stored_after_it_once() {
    let a = Aggregated::start(&[]);
    a.kube
        .allow("team-prod", &["list", "watch"], &["auditevents"], "prod");
    let c = a.aggregator();
    let first = test_events();
    a.ingest(&first).await;
    let path = format!("{BASE}/namespaces/prod/auditevents");
    let (status, list) = a
        .get_as(
            &c,
            Some("alice"),
            &["team-prod"],
            &format!("{path}?limit=1000"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{list}");
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or_else(|| panic!("no resourceVersion in {list}"))
        .to_string();
    let listed = events_of(&items(&list));
    assert_eq!(
        by_id(listed.clone()),
        by_id(a.search_all("ns:prod", 1000).await)
    );
    // Stored after the list and before the watch; older by their time than
    // the listed ones, so only the position tells them apart.
    let second = audit_gen::events(
        17,
        150,
        audit_gen::Level::Metadata,
        "2026-01-04T10:00:00Z".parse().unwrap(),
        1_000_000,
    );
    ingest_until(&a, &second, first.len() + second.len()).await;
    let lines = watch_lines(
        &a,
        &c,
        &format!("{path}?watch=true&resourceVersion={rv}&timeoutSeconds=3"),
    )
    .await;
    let mut watched = Vec::new();
    let mut last_rv = rv.clone();
    for l in &lines {
        assert_eq!(l["type"], "ADDED", "{l}");
        assert_eq!(l["object"]["metadata"]["namespace"], "prod");
        let this_rv = l["object"]["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .to_string();
        assert_ne!(this_rv, last_rv, "each event has its own resourceVersion");
        last_rv = this_rv;
        watched.push(l["object"]["event"].clone());
    }
    let want: Vec<Value> = second
        .iter()
        .map(|s| serde_json::from_str::<Value>(s).unwrap())
        .filter(|e| e["objectRef"]["namespace"] == "prod")
        .collect();
    assert!(!want.is_empty());
    // Every event stored after the list, once; none of the listed ones.
    assert_eq!(by_id(watched.clone()), by_id(want));
    for e in &watched {
        assert!(!listed.contains(e), "listed and watched: {e}");
    }

    // Watching again from the last event's version: nothing more.
    let lines = watch_lines(
        &a,
        &c,
        &format!("{path}?watch=true&resourceVersion={last_rv}&timeoutSeconds=1"),
    )
    .await;
    assert_eq!(lines, Vec::<Value>::new());
    // resourceVersion=0 (as absent): from now, nothing stored before.
    let lines = watch_lines(
        &a,
        &c,
        &format!("{path}?watch=true&resourceVersion=0&timeoutSeconds=1"),
    )
    .await;
    assert_eq!(lines, Vec::<Value>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_from_a_version_the_sink_cannot_honour_is_told_to_list_again() {
    let a = Aggregated::start(&[]);
    a.kube
        .allow("team-prod", &["list", "watch"], &["auditevents"], "prod");
    let c = a.aggregator();
    let path = format!("{BASE}/namespaces/prod/auditevents");
    let (_, list) = a
        .get_as(&c, Some("alice"), &["team-prod"], &path, None)
        .await;
    let current = list["metadata"]["resourceVersion"].as_str().unwrap();
    // A version of an earlier run of the sink: 410 Expired, as the apiserver.
    let lines = watch_lines(&a, &c, &format!("{path}?watch=true&resourceVersion=1-5")).await;
    assert_eq!(
        lines,
        vec![json!({"type": "ERROR", "object": {
            "kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Failure", "reason": "Expired", "code": 410,
            "message": format!("too old resource version: 1-5 ({current})"),
        }})]
    );
    // Not a version at all: 400 saying where versions come from.
    let (status, body) = a
        .get_as(
            &c,
            Some("alice"),
            &["team-prod"],
            &format!("{path}?watch=true&resourceVersion=yesterday"),
            None,
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["message"],
        "resourceVersion: \"yesterday\" is not one this API handed out: watch from the metadata.resourceVersion of a list, or without one to watch from now"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_front_proxy_ca_in_the_configmap_is_used_without_a_restart() {
    let a = Aggregated::start_with(
        Settings::ConfigMap {
            username_header: "X-Remote-User",
        },
        &[],
    );
    a.kube.allow("erin", &["list"], &["auditevents"], "prod");
    let path = format!("{BASE}/namespaces/prod/auditevents");
    let old = a.aggregator();
    assert_eq!(a.get_as(&old, Some("erin"), &[], &path, None).await.0, 200);
    let new_ca = ca("front-proxy CA, rotated");
    let new = a.client(Some(&leaf(&[], PROXY_CN, &new_ca)));
    assert_eq!(a.get_as(&new, Some("erin"), &[], &path, None).await.0, 401);

    // The kube-apiserver publishes its new front-proxy CA.
    let data = [
        ("requestheader-client-ca-file", new_ca.pem()),
        ("requestheader-allowed-names", format!("[\"{PROXY_CN}\"]")),
        (
            "requestheader-username-headers",
            "[\"X-Remote-User\"]".into(),
        ),
        ("requestheader-group-headers", "[\"X-Remote-Group\"]".into()),
        (
            "requestheader-extra-headers-prefix",
            "[\"X-Remote-Extra-\"]".into(),
        ),
    ];
    a.kube
        .insert_config_map(k8s_openapi::api::core::v1::ConfigMap {
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                name: Some("extension-apiserver-authentication".into()),
                namespace: Some("kube-system".into()),
                ..Default::default()
            },
            data: Some(data.into_iter().map(|(k, v)| (k.to_string(), v)).collect()),
            ..Default::default()
        });
    // Hang detection only: the sink reads the ConfigMap again within a
    // minute, and a few seconds after a certificate it cannot verify.
    let mut tries = 0;
    loop {
        let (status, body) = a.get_as(&new, Some("erin"), &[], &path, None).await;
        if status == 200 {
            assert_eq!(body["kind"], "AuditEventList");
            break;
        }
        assert_eq!(status, 401, "{body}");
        tries += 1;
        assert!(tries < 600, "the rotated CA was not picked up");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // The old CA's certificates are no longer believed.
    assert_eq!(a.get_as(&old, Some("erin"), &[], &path, None).await.0, 401);
}
