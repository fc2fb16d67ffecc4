//! `validate` end to end: one report names every problem of a broken catalog.

mod common;

use common::*;

/// One of each kind of mistake, each on a line we know.
const BROKEN: &str = r#"apiVersion: kubext.io/v1alpha1
kind: Catalog
naming:
  context: "{cluster}-{squad}"
identityProviders:
  - name: corp
    issuerURL: http://login.acme.example
    clientID: kubernetes
    grantType: magic-link
  - name: corp
    issuerURL: https://other.acme.example
    clientID: k8s
clusters:
  - name: prod-us
    server: "api.prod-us.acme.example:6443"
    certificateAuthority:
      file: ca/does-not-exist.pem
  - name: prod-us
    server: https://api2.acme.example
    certificateAuthority:
      pem: |
        -----BEGIN CERTIFICATE-----
        bm90IGEgY2VydGlmaWNhdGU=
        -----END CERTIFICATE-----
    proxyURL: ftp://proxy.acme.example
teams:
  - name: payments
    identityProvider: corp
    clusters:
      - name: prod-us
  - name: ops
    identityProvider: okta
    clusters:
      - name: prod-eu
      - selector: "env in (prod"
    namepsace: ops
"#;

#[test]
fn one_report_names_every_problem() {
    let home = tempfile::tempdir().unwrap();
    let catalog = home.path().join("broken.yaml");
    std::fs::write(&catalog, BROKEN).unwrap();
    std::fs::create_dir(home.path().join("ca")).unwrap();
    let out = plugin(home.path())
        .args(["validate", "--catalog"])
        .arg(&catalog)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    let src = catalog.display().to_string();
    let expected = [
        format!("{src}: teams[1].namepsace: unknown field"),
        format!("{src}:4:12: naming.context: unknown placeholder {{squad}}"),
        format!(
            "{src}:7:16: identityProviders[0].issuerURL: issuer URL \"http://login.acme.example\" must use https"
        ),
        format!("{src}:9:16: identityProviders[0].grantType: unknown grant type \"magic-link\""),
        format!(
            "{src}:10:11: identityProviders[1].name: duplicate identity provider name \"corp\""
        ),
        format!(
            "{src}:15:13: clusters[0].server: server URL \"api.prod-us.acme.example:6443\" must use https"
        ),
        format!(
            "{src}:17:13: clusters[0].certificateAuthority.file: cannot read CA file {}",
            home.path().join("ca/does-not-exist.pem").display()
        ),
        format!(
            "{src}:18:11: clusters[1].name: duplicate cluster name \"prod-us\" (already used by clusters[0])"
        ),
        format!(
            "{src}:22:9: clusters[1].certificateAuthority.pem: PEM block 1 is not a valid X.509 certificate"
        ),
        format!(
            "{src}:25:15: clusters[1].proxyURL: proxy URL \"ftp://proxy.acme.example\" must use http, https or socks5"
        ),
        format!("{src}:32:23: teams[1].identityProvider: unknown identity provider \"okta\""),
        format!(
            "{src}:34:9: teams[1].clusters[0]: unknown cluster \"prod-eu\" (defined: \"prod-us\")"
        ),
        format!(
            "{src}:35:19: teams[1].clusters[1].selector: invalid label selector \"env in (prod\": a '(' is not closed"
        ),
    ];
    let lines: Vec<&str> = err.lines().map(str::trim).collect();
    for want in &expected {
        assert!(
            lines.iter().any(|l| l.starts_with(want.as_str())),
            "missing {want:?} in\n{err}"
        );
    }
    assert!(
        err.starts_with(&format!(
            "error: catalog {src} has {} errors and 0 warnings",
            expected.len()
        )),
        "{err}"
    );
    assert_eq!(stdout(&out), "", "nothing on stdout for an invalid catalog");

    // The same as JSON, for CI annotations.
    let out = plugin(home.path())
        .args(["validate", "-o", "json", "--catalog"])
        .arg(&catalog)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doc = parse(&stdout(&out));
    assert_eq!(doc["valid"], false);
    let problems = doc["problems"].as_array().unwrap();
    assert_eq!(problems.len(), expected.len());
    let unknown_cluster = problems
        .iter()
        .find(|p| p["path"] == "teams[1].clusters[0]")
        .unwrap();
    assert_eq!(unknown_cluster["line"], 34);
    assert_eq!(unknown_cluster["severity"], "error");
}

#[test]
fn the_sample_catalog_is_valid() {
    let home = tempfile::tempdir().unwrap();
    let out = plugin(home.path())
        .args(["validate", "--catalog"])
        .arg(examples().join("catalog.yaml"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).ends_with("is valid: 3 clusters, 3 identity providers, 4 teams, 9 contexts\n"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn yaml_that_cannot_be_read_says_where() {
    let home = tempfile::tempdir().unwrap();
    let catalog = home.path().join("bad.yaml");
    std::fs::write(&catalog, "apiVersion: kubext.io/v1alpha1\nclusters: [\n").unwrap();
    let out = plugin(home.path())
        .args(["validate", "--catalog"])
        .arg(&catalog)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("bad.yaml is not readable YAML"), "{err}");
    assert!(err.contains("line 2 column 11"), "{err}");

    let out = plugin(home.path())
        .args(["validate", "--catalog", "/nonexistent/catalog.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cannot read catalog /nonexistent/catalog.yaml"),
        "{}",
        stderr(&out)
    );
}
