//! `generate` end to end: snapshots of the sample catalog's kubeconfigs, read
//! back by the real kubectl and the kube crate, and used against kube-test-server.

mod common;

use common::*;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube_test_server::{KubeTestServer, KubeconfigOpts, User};

const CI_SECRET: &str = "example-ci-secret";

fn generate_sample(home: &std::path::Path, args: &[&str]) -> std::process::Output {
    let catalog = examples().join("catalog.yaml");
    plugin(home)
        .env("ACME_CI_CLIENT_SECRET", CI_SECRET)
        .arg("generate")
        .arg("--catalog")
        .arg(&catalog)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn sample_catalog_kubeconfigs_match_their_snapshots() {
    let home = tempfile::tempdir().unwrap();
    let out = generate_sample(home.path(), &["--all"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let dir = home.path().join("teams");
    let per_team = generate_sample(home.path(), &["--output-dir", dir.to_str().unwrap()]);
    assert!(per_team.status.success(), "{}", stderr(&per_team));
    insta::with_settings!({snapshot_path => "../examples/snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("all-teams", stdout(&out));
        for team in ["payments", "platform", "vendor-x", "deploy-bot"] {
            let path = dir.join(format!("{team}.yaml"));
            insta::assert_snapshot!(team, std::fs::read_to_string(&path).unwrap());
        }
    });
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "deploy-bot.yaml",
            "payments.yaml",
            "platform.yaml",
            "vendor-x.yaml"
        ]
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("payments.yaml"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn kubectl_reads_the_generated_kubeconfig_as_written() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("acme.yaml");
    let out = generate_sample(home.path(), &["--all", "-f", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("9 contexts"), "{}", stderr(&out));
    let ours = read(&file);

    let view = kubectl(&file, home.path(), None)
        .args(["config", "view", "--raw", "-o", "json"])
        .output()
        .unwrap();
    assert!(view.status.success(), "{}", stderr(&view));
    let theirs = parse(&stdout(&view));
    for section in ["clusters", "users", "contexts"] {
        let sorted = |doc: &serde_json::Value| {
            let mut v = names(doc, section);
            v.sort();
            v
        };
        // kubectl prints entries sorted by name.
        assert_eq!(sorted(&theirs), sorted(&ours), "{section}");
        for name in names(&ours, section) {
            let key = &section[..section.len() - 1];
            assert_contained(
                &entry(&ours, section, &name)[key],
                &entry(&theirs, section, &name)[key],
                &format!("{section}/{name}"),
            );
        }
    }
    assert_eq!(theirs["current-context"], "prod-eu-1-payments");

    let contexts = kubectl(&file, home.path(), None)
        .args(["config", "get-contexts", "-o", "name"])
        .output()
        .unwrap();
    assert!(contexts.status.success(), "{}", stderr(&contexts));
    let mut listed: Vec<String> = stdout(&contexts).lines().map(str::to_string).collect();
    listed.sort();
    let mut expected = names(&ours, "contexts");
    expected.sort();
    assert_eq!(listed, expected);

    // The kube crate reads it too, exec stanza included.
    let kc = kube::config::Kubeconfig::read_from(&file).unwrap();
    let user = kc.auth_infos.iter().find(|u| u.name == "oidc-ci").unwrap();
    let exec = user.auth_info.as_ref().unwrap().exec.as_ref().unwrap();
    assert_eq!(exec.command.as_deref(), Some("kubectl"));
    assert_eq!(
        exec.api_version.as_deref(),
        Some("client.authentication.k8s.io/v1")
    );
    assert_eq!(
        exec.interactive_mode,
        Some(kube::config::ExecInteractiveMode::IfAvailable)
    );
    let args = exec.args.as_ref().unwrap();
    assert_eq!(&args[..2], ["oidc-login", "get-token"]);
    assert!(
        args.contains(&format!("--oidc-client-secret={CI_SECRET}")),
        "{args:?}"
    );
    assert!(
        args.contains(&"--grant-type=client-credentials".to_string()),
        "{args:?}"
    );
    let cluster = kc
        .clusters
        .iter()
        .find(|c| c.name == "prod-us-1")
        .unwrap()
        .cluster
        .clone()
        .unwrap();
    assert_eq!(
        cluster.tls_server_name.as_deref(),
        Some("api.prod-us-1.acme.example")
    );
    assert_eq!(
        cluster.proxy_url.as_deref(),
        Some("http://proxy.us.acme.example:3128")
    );
}

/// Every field we wrote is read back with the same value (kubectl may add
/// defaults of its own, such as `env: null`).
fn assert_contained(ours: &serde_json::Value, theirs: &serde_json::Value, path: &str) {
    match ours {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                assert_contained(v, &theirs[k], &format!("{path}.{k}"));
            }
        }
        _ => assert_eq!(ours, theirs, "kubectl reads {path} differently"),
    }
}

fn generate_for_server(server: &KubeTestServer, home: &std::path::Path) -> std::path::PathBuf {
    let catalog = home.join("catalog.yaml");
    std::fs::write(
        &catalog,
        catalog_for_server(&server.url(), &server.ca_pem()),
    )
    .unwrap();
    let file = home.join("generated.yaml");
    let out = plugin(home)
        .args(["generate", "--team", "dev", "--catalog"])
        .arg(&catalog)
        .arg("-f")
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    file
}

#[test]
fn kubectl_runs_the_exec_stanza_against_the_test_server() {
    let server = KubeTestServer::start();
    server.add_token(
        "id-token-of-alice",
        User::new("alice@example.test").with_groups(["devs"]),
    );
    let home = tempfile::tempdir().unwrap();
    let file = generate_for_server(&server, home.path());
    let bin = bin_dir(home.path());
    fake_oidc_login(&bin, "id-token-of-alice");

    let version = kubectl(&file, home.path(), Some(&bin))
        .args(["--context", "test-dev", "get", "--raw", "/version"])
        .output()
        .unwrap();
    assert!(version.status.success(), "{}", stderr(&version));
    assert_eq!(parse(&stdout(&version))["gitVersion"], "v1.33.4");

    let whoami = kubectl(&file, home.path(), Some(&bin))
        .args(["auth", "whoami", "-o", "json"])
        .output()
        .unwrap();
    assert!(whoami.status.success(), "{}", stderr(&whoami));
    let review = parse(&stdout(&whoami));
    assert_eq!(
        review["status"]["userInfo"]["username"],
        "alice@example.test"
    );

    // kubectl ran `kubectl oidc-login get-token` with the identity provider's settings.
    let args = std::fs::read_to_string(bin.join("args")).unwrap();
    assert_eq!(
        args.lines().collect::<Vec<_>>(),
        [
            "get-token",
            "--oidc-issuer-url=https://login.example.test/realms/k8s",
            "--oidc-client-id=kubernetes",
            "--oidc-extra-scope=email",
        ]
    );
    let info = parse(&std::fs::read_to_string(bin.join("exec-info")).unwrap());
    assert_eq!(info["apiVersion"], "client.authentication.k8s.io/v1");
    assert_eq!(
        info["spec"]["interactive"], false,
        "no terminal in the test"
    );

    // The generated context uses the team's namespace.
    let ns = kubectl(&file, home.path(), None)
        .args([
            "config",
            "view",
            "--minify",
            "-o",
            "jsonpath={.contexts[0].context.namespace}",
        ])
        .output()
        .unwrap();
    assert_eq!(stdout(&ns), "apps");
}

#[tokio::test]
async fn the_kube_crate_connects_with_the_generated_cluster_entry() {
    let server = KubeTestServer::start();
    let home = tempfile::tempdir().unwrap();
    let file = generate_for_server(&server, home.path());
    let kc = kube::config::Kubeconfig::read_from(&file).unwrap();
    let options = kube::config::KubeConfigOptions {
        context: Some("test-dev".into()),
        ..Default::default()
    };
    let config = kube::Config::from_custom_kubeconfig(kc, &options)
        .await
        .unwrap();
    assert_eq!(config.default_namespace, "apps");
    assert_eq!(config.tls_server_name.as_deref(), Some("localhost"));
    assert_eq!(
        config.cluster_url.to_string().trim_end_matches('/'),
        server.url()
    );
    // /version needs no credential: this proves the CA and server name work for kube too.
    kubectl_kit::install_crypto_provider();
    let mut anonymous = config.clone();
    anonymous.auth_info = Default::default();
    let client = kube::Client::try_from(anonymous).unwrap();
    let info = client.apiserver_version().await.unwrap();
    assert_eq!(info.git_version, "v1.33.4");
}

#[test]
fn the_catalog_can_come_from_a_configmap() {
    let server = KubeTestServer::start();
    server.add_token(
        "admin-token",
        User::new("admin").with_groups(["system:masters"]),
    );
    server.insert_namespace("platform");
    server.insert_config_map(ConfigMap {
        metadata: ObjectMeta {
            name: Some("kubeconfig-catalog".into()),
            namespace: Some("platform".into()),
            ..Default::default()
        },
        data: Some(
            [(
                "catalog.yaml".to_string(),
                catalog_for_server(&server.url(), &server.ca_pem()),
            )]
            .into(),
        ),
        ..Default::default()
    });
    let home = tempfile::tempdir().unwrap();
    let admin = server.write_kubeconfig(home.path(), &KubeconfigOpts::token("admin-token"));
    let out = plugin(home.path())
        .args([
            "generate",
            "--from-configmap",
            "platform/kubeconfig-catalog",
            "--team",
            "dev",
            "-o",
            "json",
        ])
        .arg("--kubeconfig")
        .arg(&admin)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let doc = parse(&stdout(&out));
    assert_eq!(names(&doc, "contexts"), ["test-dev"]);
    assert_eq!(
        entry(&doc, "clusters", "test")["cluster"]["server"],
        server.url()
    );

    let missing = plugin(home.path())
        .args(["validate", "--from-configmap", "platform/nope"])
        .arg("--kubeconfig")
        .arg(&admin)
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("configmaps \"nope\" not found"),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn selection_errors_are_clear() {
    let home = tempfile::tempdir().unwrap();
    let out = generate_sample(home.path(), &["--team", "marketing"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("team \"marketing\" is not in the catalog (teams: payments, platform, vendor-x, deploy-bot)"),
        "{}",
        stderr(&out)
    );
    let out = plugin(home.path()).args(["generate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "no catalog is a usage error");
    let out = plugin(home.path())
        .env_remove("ACME_CI_CLIENT_SECRET")
        .args(["generate", "--team", "deploy-bot", "--catalog"])
        .arg(examples().join("catalog.yaml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("ACME_CI_CLIENT_SECRET is not set"),
        "{}",
        stderr(&out)
    );
}
