//! The aggregated API's authentication and authorization, against the real
//! sink: identity headers count only from the verified front proxy, and a
//! SubjectAccessReview to the (test) cluster decides what a user may list.

mod apiserver_support;

use apiserver_support::*;
use serde_json::json;

const BASE: &str = "/apis/audit.kubext.io/v1alpha1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_headers_count_only_from_a_verified_front_proxy_certificate() {
    let a = Aggregated::start(&[]);
    a.kube.allow_all("alice");
    let path = format!("{BASE}/namespaces/prod/auditevents");
    let unauthorized = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "Unauthorized", "reason": "Unauthorized", "code": 401,
    });

    // No client certificate at all, headers claiming to be alice.
    let anonymous = a.client(None);
    assert_eq!(
        a.get_as(&anonymous, Some("alice"), &["system:masters"], &path, None)
            .await,
        (401, unauthorized.clone())
    );
    // The allowed CN, but from another CA.
    let other_ca = ca("front-proxy CA");
    let forged = a.client(Some(&leaf(&[], PROXY_CN, &other_ca)));
    assert_eq!(
        a.get_as(&forged, Some("alice"), &[], &path, None).await,
        (401, unauthorized.clone())
    );
    // The right CA, but a CN not in --requestheader-allowed-names.
    let intruder = a.client(Some(&leaf(&[], "some-other-client", &a.front_proxy_ca)));
    assert_eq!(
        a.get_as(&intruder, Some("alice"), &[], &path, None).await,
        (401, unauthorized.clone())
    );
    // The aggregator without a user: nobody, not anonymous.
    let aggregator = a.aggregator();
    assert_eq!(
        a.get_as(&aggregator, None, &[], &path, None).await,
        (401, unauthorized.clone())
    );
    // Discovery also needs the front proxy.
    assert_eq!(a.get_as(&anonymous, None, &[], BASE, None).await.0, 401);
    assert_eq!(
        a.reviews(),
        0,
        "nothing unauthenticated reached the authorizer"
    );

    let (status, body) = a.get_as(&aggregator, Some("alice"), &[], &path, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["kind"], "AuditEventList");
    // Health needs nothing: the aggregator's and kubelet's probes.
    assert_eq!(
        a.get_as(&anonymous, None, &[], "/healthz", None).await.0,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_namespace_reader_lists_that_namespace_only_and_gets_the_apiservers_403_elsewhere() {
    let a = Aggregated::start(&[]);
    a.kube.allow(
        "team-prod",
        &["get", "list", "watch"],
        &["auditevents"],
        "prod",
    );
    a.ingest(&test_events()).await;
    let agg = a.aggregator();

    let (status, list) = a
        .get_as(
            &agg,
            Some("alice"),
            &["team-prod"],
            &format!("{BASE}/namespaces/prod/auditevents?limit=1000"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{list}");
    let got = items(&list);
    let want = a.search_all("ns:prod", 1000).await;
    assert!(!want.is_empty());
    assert_eq!(
        got.iter().map(|i| i["event"].clone()).collect::<Vec<_>>(),
        want
    );
    for i in &got {
        assert_eq!(i["metadata"]["namespace"], "prod");
        assert_eq!(i["event"]["objectRef"]["namespace"], "prod");
    }

    let (status, body) = a
        .get_as(
            &agg,
            Some("alice"),
            &["team-prod"],
            &format!("{BASE}/namespaces/staging/auditevents"),
            None,
        )
        .await;
    assert_eq!(
        (status, body),
        (
            403,
            json!({
                "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "auditevents.audit.kubext.io is forbidden: User \"alice\" cannot list resource \"auditevents\" in API group \"audit.kubext.io\" in the namespace \"staging\"",
                "reason": "Forbidden",
                "details": {"group": "audit.kubext.io", "kind": "auditevents"},
                "code": 403,
            })
        )
    );
    let (status, body) = a
        .get_as(
            &agg,
            Some("alice"),
            &["team-prod"],
            &format!("{BASE}/auditevents"),
            None,
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(
        body["message"],
        "auditevents.audit.kubext.io is forbidden: User \"alice\" cannot list resource \"auditevents\" in API group \"audit.kubext.io\" at the cluster scope"
    );

    // The cluster-wide grant lists every namespace.
    a.kube.allow("auditors", &["list"], &["auditevents"], "*");
    let (status, all) = a
        .get_as(
            &agg,
            Some("carol"),
            &["auditors"],
            &format!("{BASE}/auditevents?limit=1000"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        items(&all)
            .iter()
            .map(|i| i["event"].clone())
            .collect::<Vec<_>>(),
        a.search_all("", 1000).await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_are_cached_allowed_and_denied_each_for_its_own_ttl() {
    // Allowed answers kept an hour, denied ones not at all.
    let a = Aggregated::start(&[
        "--authorization-webhook-cache-authorized-ttl",
        "1h",
        "--authorization-webhook-cache-unauthorized-ttl",
        "0s",
    ]);
    let agg = a.aggregator();
    let path = format!("{BASE}/namespaces/prod/auditevents");
    assert_eq!(a.get_as(&agg, Some("dave"), &[], &path, None).await.0, 403);
    assert_eq!(a.get_as(&agg, Some("dave"), &[], &path, None).await.0, 403);
    assert_eq!(
        a.reviews(),
        2,
        "denied answers are not cached with a 0s TTL"
    );

    a.kube.allow("dave", &["list"], &["auditevents"], "prod");
    assert_eq!(a.get_as(&agg, Some("dave"), &[], &path, None).await.0, 200);
    assert_eq!(a.get_as(&agg, Some("dave"), &[], &path, None).await.0, 200);
    assert_eq!(a.reviews(), 3, "the allowed answer is reused");
    // Another group is another subject: asked again.
    assert_eq!(
        a.get_as(&agg, Some("dave"), &["ops"], &path, None).await.0,
        200
    );
    assert_eq!(a.reviews(), 4);
}

#[test]
fn start_up_refuses_what_cannot_work_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("front-proxy-ca.crt");
    std::fs::write(&not_pem, "not a certificate").unwrap();
    let run = |args: &[&str]| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_audit-sink"))
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--api-listen",
                "127.0.0.1:0",
            ])
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .args(args)
            .env_remove("KUBERNETES_SERVICE_HOST")
            .output()
            .unwrap();
        assert!(!o.status.success());
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let err = run(&[]);
    assert!(
        err.contains("--api-tls-cert") && err.contains("--api-tls-key"),
        "{err}"
    );
    let cert = dir.path().join("none.pem");
    let cert = cert.to_str().unwrap();
    let ca = not_pem.to_str().unwrap();
    let err = run(&[
        "--api-tls-cert",
        cert,
        "--api-tls-key",
        cert,
        "--requestheader-client-ca-file",
        ca,
    ]);
    assert!(
        err.contains(&format!(
            "the request-header CA from {ca} holds no PEM certificate"
        )),
        "{err}"
    );
    let err = run(&["--api-tls-cert", cert, "--api-tls-key", cert]);
    assert!(
        err.contains("no --authentication-kubeconfig given and not running in a cluster")
            && err.contains("--requestheader-client-ca-file"),
        "{err}"
    );
    let err = run(&[
        "--api-tls-cert",
        cert,
        "--api-tls-key",
        cert,
        "--requestheader-group-headers",
        "X-Groups",
    ]);
    assert!(err.contains("--requestheader-client-ca-file"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_about_cluster_scoped_objects_take_the_cluster_wide_get() {
    let a = Aggregated::start(&[]);
    a.kube
        .allow("team-prod", &["get", "list"], &["auditevents"], "prod");
    a.kube.allow("auditors", &["get"], &["auditevents"], "*");
    // Events about nodes: no namespace.
    let events: Vec<String> = test_events()
        .into_iter()
        .take(20)
        .map(|s| {
            let mut e: serde_json::Value = serde_json::from_str(&s).unwrap();
            let o = e["objectRef"].as_object_mut().unwrap();
            o.remove("namespace");
            o.insert("resource".into(), json!("nodes"));
            o.remove("apiGroup");
            e.to_string()
        })
        .collect();
    let namespaced = test_events()
        .into_iter()
        .skip(20)
        .take(20)
        .collect::<Vec<_>>();
    a.ingest(&[events.clone(), namespaced.clone()].concat())
        .await;
    let agg = a.aggregator();
    let node_event: serde_json::Value = serde_json::from_str(&events[3]).unwrap();
    let audit_id = node_event["auditID"].as_str().unwrap();
    let stage = node_event["stage"].as_str().unwrap().to_ascii_lowercase();
    let name = format!("{audit_id}.{stage}");
    let path = format!("{BASE}/auditevents/{name}");

    let (status, got) = a
        .get_as(&agg, Some("root"), &["auditors"], &path, None)
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["event"], node_event);
    assert_eq!(got["metadata"]["name"], name.as_str());
    assert_eq!(got["metadata"].get("namespace"), None);

    // A reader of one namespace gets the apiserver's 403 at the cluster scope.
    let (status, body) = a
        .get_as(&agg, Some("alice"), &["team-prod"], &path, None)
        .await;
    assert_eq!(
        (status, body),
        (
            403,
            json!({
                "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": format!("auditevents.audit.kubext.io \"{name}\" is forbidden: User \"alice\" cannot get resource \"auditevents\" in API group \"audit.kubext.io\" at the cluster scope"),
                "reason": "Forbidden",
                "details": {"group": "audit.kubext.io", "kind": "auditevents", "name": name},
                "code": 403,
            })
        )
    );

    // An event with a namespace is not found at the cluster scope: it is
    // read under its namespace.
    let prod: serde_json::Value = namespaced
        .iter()
        .map(|s| serde_json::from_str::<serde_json::Value>(s).unwrap())
        .find(|e| e["objectRef"]["namespace"] == "prod")
        .expect("an event in prod");
    let id = prod["auditID"].as_str().unwrap();
    let (status, body) = a
        .get_as(
            &agg,
            Some("root"),
            &["auditors"],
            &format!("{BASE}/auditevents/{id}"),
            None,
        )
        .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(
        body["message"],
        format!("auditevents.audit.kubext.io \"{id}\" not found")
    );
    let (status, got) = a
        .get_as(
            &agg,
            Some("alice"),
            &["team-prod"],
            &format!("{BASE}/namespaces/prod/auditevents/{id}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["event"]["auditID"], id);
}
