//! Every fixture in `testdata/cloud` (shapes from the providers' documented
//! examples) decodes to the same events as the apiserver's own log of them,
//! and what is not an event is reported with its reason.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use audit_api::Event;
use audit_api::envelope::{self, CLUSTER_ANNOTATION, Context, Decoded, Format};
use audit_api::logfile::LogFile;
use base64::Engine as _;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/cloud")
        .join(name)
}

/// Reads a file with the shared reader, detecting its format.
fn read(path: &Path, ctx: &Context) -> (Format, Decoded) {
    let mut file = LogFile::open(path).unwrap();
    let format = file.format(None).unwrap();
    let mut all = Decoded::default();
    while let Some(unit) = file.next_unit().unwrap() {
        let d = envelope::decode(format, &unit.bytes, ctx);
        all.events.extend(d.events);
        all.dead.extend(d.dead);
    }
    (format, all)
}

type Row = (String, String, String, String, String, i64, String);

fn rows(events: &[&Event]) -> Vec<Row> {
    events
        .iter()
        .map(|e| {
            let o = e.object_ref.clone().unwrap_or_default();
            (
                e.audit_id.clone(),
                e.user.username.clone(),
                e.verb.clone(),
                o.resource.unwrap_or_default(),
                o.namespace.unwrap_or_default(),
                e.code().unwrap_or_default(),
                o.name.unwrap_or_default(),
            )
        })
        .collect()
}

fn expected() -> Vec<Row> {
    let (format, d) = read(&fixture("apiserver.log"), &Context::default());
    assert_eq!(format, Format::Apiserver);
    assert_eq!(d.events.len(), 3);
    rows(&d.events.iter().map(|e| &e.event).collect::<Vec<_>>())
}

fn labels(d: &Decoded) -> Vec<&'static str> {
    d.dead.iter().map(|x| x.reason.label()).collect()
}

#[test]
fn eks_files_yield_the_same_events() {
    let ctx = Context {
        cluster: Some("from-flag".into()),
    };
    for name in [
        "eks/filter-log-events.json",
        "eks/filter-log-events.jsonl",
        "eks/s3-export.log",
        "eks/subscription-data-message.json",
    ] {
        let (format, d) = read(&fixture(name), &ctx);
        assert_eq!(format, Format::Eks, "{name}");
        let events: Vec<&Event> = d.events.iter().map(|e| &e.event).collect();
        assert_eq!(rows(&events), expected(), "{name}");
        assert_eq!(labels(&d), ["truncated"], "{name}");
        let want_cluster = if name.contains("subscription") {
            "prod-eu"
        } else {
            "from-flag"
        };
        assert!(
            events
                .iter()
                .all(|e| e.annotations[CLUSTER_ANNOTATION] == want_cluster),
            "{name}"
        );
        // Full events, groups included: EKS carries the apiserver's event.
        assert_eq!(events[0].user.groups, ["ops", "system:authenticated"]);
    }
}

#[test]
fn eks_subscription_payloads_as_delivered() {
    let json = std::fs::read(fixture("eks/subscription-data-message.json")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&json).unwrap();
    let gz = gz.finish().unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&gz);
    for unit in [gz, b64.into_bytes()] {
        assert_eq!(Format::detect(&unit), Some(Format::Eks));
        let d = envelope::decode(Format::Eks, &unit, &Context::default());
        assert_eq!(d.events.len(), 3);
        assert_eq!(labels(&d), ["truncated"]);
    }
    let (_, d) = read(
        &fixture("eks/subscription-control-message.json"),
        &Context::default(),
    );
    assert!(d.events.is_empty());
    assert_eq!(labels(&d), ["control-message"]);
}

#[test]
fn gke_files_yield_the_same_events_on_the_fields_gke_carries() {
    for name in ["gke/gcloud-logging-read.json", "gke/storage-sink.json"] {
        let (format, d) = read(&fixture(name), &Context::default());
        assert_eq!(format, Format::Gke, "{name}");
        let events: Vec<&Event> = d.events.iter().map(|e| &e.event).collect();
        assert_eq!(rows(&events), expected(), "{name}");
        assert_eq!(labels(&d), ["not-kubernetes"], "{name}");
        assert!(events.iter().all(|e| e.user.groups.is_empty()));
        assert!(
            events
                .iter()
                .all(|e| e.annotations[CLUSTER_ANNOTATION] == "gke-prod")
        );
        assert_eq!(
            events[2].annotations["authorization.k8s.io/decision"],
            "forbid"
        );
    }
}

#[test]
fn aks_files_yield_the_same_events() {
    for name in ["aks/PT1H.json", "aks/event-hub-body.json"] {
        let (format, d) = read(&fixture(name), &Context::default());
        assert_eq!(format, Format::Aks, "{name}");
        let events: Vec<&Event> = d.events.iter().map(|e| &e.event).collect();
        assert_eq!(rows(&events), expected(), "{name}");
        assert_eq!(labels(&d), ["other-category", "other-category"], "{name}");
        assert!(
            events
                .iter()
                .all(|e| e.annotations[CLUSTER_ANNOTATION] == "aks-prod")
        );
    }
}
