//! Free text means what people type: a term with `-`, `.`, `/`, `:` or `_`
//! inside finds the events holding those words side by side, in order, as a
//! plain filter over the raw event lines does, and not every event that has
//! the words somewhere.

mod common;

use std::collections::{BTreeSet, HashMap};

use audit_api::Event;
use common::*;

/// The words of `s`: runs of letters and digits, lower-cased. Used on whole
/// raw lines, the way `rg -i -w` treats everything else as a separator.
fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Whether the raw line holds the term's words next to each other, in order;
/// with `prefix`, the last of them only as the start of a word.
fn line_has(line: &str, term: &str, prefix: bool) -> bool {
    let want = words(term);
    let have = words(line);
    have.windows(want.len()).any(|w| {
        let n = want.len() - 1;
        w[..n] == want[..n]
            && if prefix {
                w[n].starts_with(&want[n])
            } else {
                w[n] == want[n]
            }
    })
}

/// Whether every word of the term occurs somewhere in the line (what a
/// search for the term used to mean).
fn line_has_anywhere(line: &str, term: &str) -> bool {
    let have = words(line);
    words(term).iter().all(|w| have.contains(w))
}

/// The real events of `testdata/audit` in the repository.
fn real_lines() -> Vec<String> {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/audit/falco_k8s_audit");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("the real audit events in {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(f)
                .unwrap()
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

fn key(e: &Event) -> String {
    e.dedup_key()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hyphenated_dotted_and_quoted_terms_match_a_plain_filter_over_the_raw_events() {
    let dir = tempfile::tempdir().unwrap();
    let sink = SinkProc::start(&dir.path().join("data"), &[]);
    let c = client();

    let mut raw: HashMap<String, String> = HashMap::new();
    let lines = real_lines();
    for l in &lines {
        if let Ok(e) = Event::from_json(l) {
            raw.entry(key(&e)).or_insert_with(|| l.clone());
        }
    }
    assert_eq!(post_list(&c, &sink.url, &lines).await.status(), 200);
    wait_total(&c, &sink.url, "", raw.len() as u64).await;

    // (query as typed, the term, whether it ends in a word prefix)
    let cases = [
        ("kube-system", "kube-system", false),
        ("system-node", "system-node", false),
        (
            "rbac.authorization.k8s.io",
            "rbac.authorization.k8s.io",
            false,
        ),
        ("minikube-user", "minikube-user", false),
        ("default-token-g2sp7", "default-token-g2sp7", false),
        ("192.168.99.1", "192.168.99.1", false),
        (
            "node.kubernetes.io/not-ready",
            "node.kubernetes.io/not-ready",
            false,
        ),
        ("replicaset-controller", "replicaset-controller", false),
        ("pod_template-hash", "pod_template-hash", false),
        (
            "\"system:serviceaccount:kube-system\"",
            "system:serviceaccount:kube-system",
            false,
        ),
        ("\"kube-system\"", "kube-system", false),
        ("nginx-deployment-79*", "nginx-deployment-79", true),
        ("kube-sys*", "kube-sys", true),
        ("rbac.authorization.k8*", "rbac.authorization.k8", true),
        ("192.168.9*", "192.168.9", true),
        ("some-reader-b*", "some-reader-b", true),
    ];
    let mut narrower = 0;
    for (q, term, prefix) in cases {
        let want: BTreeSet<String> = raw
            .iter()
            .filter(|(_, l)| line_has(l, term, prefix))
            .map(|(k, _)| k.clone())
            .collect();
        assert!(!want.is_empty(), "{q}: the data holds the term");
        let got: Vec<String> = search_all(&c, &sink.url, q, 7)
            .await
            .iter()
            .map(|v| key(&Event::from_json(&v.to_string()).unwrap()))
            .collect();
        let got_set: BTreeSet<String> = got.iter().cloned().collect();
        assert_eq!(got_set.len(), got.len(), "{q}: each event once");
        assert_eq!(got_set, want, "{q}: the sink's answer vs the raw filter");
        let anywhere = raw.values().filter(|l| line_has_anywhere(l, term)).count();
        if anywhere > want.len() {
            narrower += 1;
        }
    }
    // The words of some terms do occur apart in other events: those must
    // not be found (kube-system, rbac.authorization.k8s.io, system-node).
    assert!(narrower >= 3, "only {narrower} terms have scattered words");

    // Words out of order are not the phrase.
    let reversed = search_all(&c, &sink.url, "system-kube", 50).await;
    let want = raw
        .values()
        .filter(|l| line_has(l, "system-kube", false))
        .count();
    assert_eq!(reversed.len(), want);
    assert!(want < 12);
}
