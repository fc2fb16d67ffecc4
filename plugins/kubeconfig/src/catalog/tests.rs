//! Catalog parsing and validation against hand-written catalogs.

use std::path::PathBuf;

use base64::Engine as _;

use super::*;

pub(crate) const CA_PEM: &str = include_str!("../../examples/ca/acme-root.pem");

fn load(yaml: &str) -> Result<(Catalog, Report), Report> {
    let parsed = parse(yaml, "test.yaml").expect("parses");
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples");
    validate(&parsed, &BaseDir::Dir(dir), "test.yaml")
}

const GOOD: &str = r#"
apiVersion: kubext.io/v1alpha1
kind: Catalog
metadata:
  name: acme
identityProviders:
  - name: corp
    issuerURL: https://login.acme.example/realms/k8s
    clientID: kubernetes
    extraScopes: [email, groups]
clusters:
  - name: prod-eu
    server: https://api.prod-eu.acme.example:6443
    certificateAuthority:
      file: ca/acme-root.pem
    namespace: default
    labels: {env: prod, region: eu}
  - name: prod-us
    server: https://api.prod-us.acme.example:6443
    labels: {env: prod, region: us}
  - name: dev
    server: https://api.dev.acme.example:6443
    labels: {env: dev, region: eu}
teams:
  - name: payments
    namespace: payments
    clusters:
      - name: dev
        namespace: payments-dev
      - selector: env=prod
"#;

#[test]
fn a_good_catalog_validates() {
    let (catalog, report) = load(GOOD).unwrap();
    assert_eq!(report.problems, vec![]);
    assert_eq!(catalog.name.as_deref(), Some("acme"));
    let team = catalog.team("payments").unwrap();
    assert_eq!(
        team.identity_provider, "corp",
        "the only provider is the default"
    );
    assert_eq!(
        team.clusters,
        vec![
            TeamCluster {
                cluster: "dev".into(),
                namespace: Some("payments-dev".into())
            },
            TeamCluster {
                cluster: "prod-eu".into(),
                namespace: Some("payments".into())
            },
            TeamCluster {
                cluster: "prod-us".into(),
                namespace: Some("payments".into())
            },
        ]
    );
    let prod_eu = catalog.cluster("prod-eu").unwrap();
    assert!(
        prod_eu
            .certificate_authority_pem
            .as_ref()
            .unwrap()
            .starts_with(b"-----BEGIN CERTIFICATE")
    );
}

#[test]
fn listed_order_is_kept_and_explicit_entries_win() {
    let yaml = GOOD.replace(
        "      - name: dev\n        namespace: payments-dev\n      - selector: env=prod\n",
        "      - selector: env=prod\n      - name: prod-eu\n        namespace: pay-eu\n",
    );
    assert_ne!(yaml, GOOD);
    let (catalog, _) = load(&yaml).unwrap();
    let got: Vec<(&str, Option<&str>)> = catalog.teams[0]
        .clusters
        .iter()
        .map(|c| (c.cluster.as_str(), c.namespace.as_deref()))
        .collect();
    assert_eq!(
        got,
        [("prod-eu", Some("pay-eu")), ("prod-us", Some("payments"))]
    );
}

#[test]
fn every_problem_is_reported_with_its_path_and_position() {
    let yaml = r#"apiVersion: kubext.io/v1alpha1
kind: Catalog
naming:
  context: "{cluster}-{region}"
identityProviders:
  - name: corp
    issuerURL: http://login.acme.example
    clientID: kubernetes
  - name: corp
    issuerURL: https://other.example
    clientID: k8s
    grantType: magic
clusters:
  - name: prod-eu
    server: "not a url"
    certificateAuthority:
      file: ca/missing.pem
  - name: prod-eu
    server: https://b.example
    certificateAuthority:
      pem: "hello"
    lables: {env: prod}
teams:
  - name: payments
    identityProvider: corp
    clusters:
      - name: prod-eu
  - name: ops
    identityProvider: corp
    clusters:
      - name: prod-us
      - selector: "env in (prod"
"#;
    let report = load(yaml).unwrap_err();
    let lines = report.lines();
    let text = lines.join("\n");
    let expect = [
        "test.yaml:4:12: naming.context: unknown placeholder {region}",
        "test.yaml:7:16: identityProviders[0].issuerURL: issuer URL \"http://login.acme.example\" must use https",
        "test.yaml:9:11: identityProviders[1].name: duplicate identity provider name \"corp\" (already used by identityProviders[0])",
        "test.yaml:12:16: identityProviders[1].grantType: unknown grant type \"magic\"",
        "test.yaml:15:13: clusters[0].server: server URL \"not a url\" is not a valid URL",
        "test.yaml:17:13: clusters[0].certificateAuthority.file: cannot read CA file",
        "test.yaml:18:11: clusters[1].name: duplicate cluster name \"prod-eu\" (already used by clusters[0])",
        "test.yaml:21:12: clusters[1].certificateAuthority.pem: no PEM certificate found",
        "test.yaml: clusters[1].lables: unknown field (known fields:",
        "test.yaml:31:9: teams[1].clusters[0]: unknown cluster \"prod-us\" (defined: \"prod-eu\")",
        "test.yaml:32:19: teams[1].clusters[1].selector: invalid label selector \"env in (prod\": a '(' is not closed",
    ];
    for want in expect {
        assert!(
            lines.iter().any(|l| l.starts_with(want)),
            "missing {want:?} in\n{text}"
        );
    }
    assert_eq!(report.errors().count(), expect.len(), "{text}");
}

#[test]
fn ca_forms_and_bad_pem() {
    let data = base64::engine::general_purpose::STANDARD.encode(CA_PEM);
    let yaml = [
            "apiVersion: kubext.io/v1alpha1".to_string(),
            "kind: Catalog".into(),
            "identityProviders: [{name: i, issuerURL: 'https://i.example', clientID: c}]".into(),
            "clusters:".into(),
            format!("  - {{name: a, server: 'https://a.example', certificateAuthority: {{data: {data}}}}}"),
            "  - {name: b, server: 'https://b.example', certificateAuthority: {data: '!!notbase64'}}".into(),
            "  - {name: c, server: 'https://c.example', certificateAuthority: {file: x, pem: y}}".into(),
            "  - {name: d, server: 'https://d.example', certificateAuthority: {pem: \"-----BEGIN PRIVATE KEY-----\\nAAAA\\n-----END PRIVATE KEY-----\\n\"}}".into(),
            "teams: [{name: t, clusters: [{name: a}]}]".into(),
        ]
        .join("\n");
    let report = load(&yaml).unwrap_err();
    let text = report.lines().join("\n");
    assert!(
        text.contains("clusters[1].certificateAuthority.data: data is not valid base64"),
        "{text}"
    );
    assert!(text.contains("clusters[2].certificateAuthority: give exactly one of file, pem or data (found file, pem)"), "{text}");
    assert!(
        text.contains("clusters[3].certificateAuthority.pem: PEM block 1 is a \"PRIVATE KEY\""),
        "{text}"
    );
    assert_eq!(report.errors().count(), 3, "{text}");
}

#[test]
fn colliding_names_are_reported() {
    let yaml = r#"apiVersion: kubext.io/v1alpha1
kind: Catalog
naming:
  context: "{cluster}"
  user: "oidc"
identityProviders:
  - {name: a, issuerURL: "https://a.example", clientID: c}
  - {name: b, issuerURL: "https://b.example", clientID: c}
clusters:
  - {name: one, server: "https://one.example"}
teams:
  - {name: x, identityProvider: a, clusters: [{name: one}]}
  - {name: y, identityProvider: b, clusters: [{name: one}]}
"#;
    let report = load(yaml).unwrap_err();
    let text = report.lines().join("\n");
    assert!(text.contains("test.yaml:4:12: naming.context: template \"{cluster}\" gives context \"one\" to both team \"x\""), "{text}");
    assert!(text.contains("test.yaml:5:9: naming.user: template \"oidc\" gives user \"oidc\" to identity providers \"a\" and \"b\""), "{text}");
}

#[test]
fn warnings_do_not_stop_the_catalog() {
    let yaml = r#"apiVersion: kubext.io/v1alpha1
kind: Catalog
identityProviders:
  - {name: a, issuerURL: "https://a.example", clientID: c, extraScopes: [openid, email]}
clusters:
  - {name: one, server: "https://one.example", labels: {env: dev}}
teams:
  - {name: x, clusters: [{name: one}, {selector: env=prod}]}
"#;
    let (_, report) = load(yaml).unwrap();
    let text = report.lines().join("\n");
    assert_eq!(report.warnings().count(), 2, "{text}");
    assert!(
        text.contains("selector \"env=prod\" matches no cluster"),
        "{text}"
    );
}

#[test]
fn unreadable_yaml_is_a_parse_error() {
    assert!(
        parse("a: [", "x.yaml")
            .unwrap_err()
            .to_string()
            .contains("x.yaml")
    );
    assert!(
        parse("", "x.yaml")
            .unwrap_err()
            .to_string()
            .contains("empty")
    );
    assert!(
        parse("- a", "x.yaml")
            .unwrap_err()
            .to_string()
            .contains("not a mapping")
    );
    let err = parse("clusters: 3", "x.yaml").unwrap_err().to_string();
    assert!(err.contains("x.yaml"), "{err}");
}

#[test]
fn relative_files_need_a_catalog_file() {
    let yaml = "apiVersion: kubext.io/v1alpha1\nkind: Catalog\nidentityProviders: [{name: i, issuerURL: 'https://i.example', clientID: c}]\n\
clusters: [{name: a, server: 'https://a.example', certificateAuthority: {file: ca.pem}}]\nteams: [{name: t, clusters: [{name: a}]}]\n";
    let parsed = parse(yaml, "https://x/catalog.yaml").unwrap();
    let report = validate(&parsed, &BaseDir::None, "https://x/catalog.yaml").unwrap_err();
    assert!(
        report.lines()[0].contains("cannot be resolved for a catalog read from a URL"),
        "{report}"
    );
}
