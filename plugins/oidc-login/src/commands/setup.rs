//! `setup`: a first login, then everything needed to wire the provider into
//! a kubeconfig and a kube-apiserver.

use std::fmt::Write as _;
use std::io::Write as _;

use crate::adapters::exec_credential::ExecInfo;
use crate::cli::SetupArgs;
use crate::commands::with_provider;
use crate::flow::{self, Terminal};
use crate::settings::Settings;

/// Flags of `setup` that must not be copied into the kubeconfig.
const SETUP_ONLY: [&str; 2] = ["-v", "--v"];

/// `arg` as one shell word; a `--flag=value` keeps its `--flag=` bare so the
/// printed command reads like the flags as typed.
fn quote(arg: &str) -> String {
    match arg.split_once('=') {
        Some((flag, value)) if flag.starts_with("--") && shell_words::quote(flag) == flag => {
            format!("{flag}={}", shell_words::quote(value))
        }
        _ => shell_words::quote(arg).into_owned(),
    }
}

/// `arg` as kubectl's `--exec-arg` reads it: that flag takes comma-separated
/// values (a CSV record), so an argument with a comma, a double quote or a
/// line break becomes one quoted CSV field.
fn exec_arg_value(arg: &str) -> String {
    if arg.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", arg.replace('"', "\"\""))
    } else {
        arg.to_string()
    }
}

/// The get-token flags for the kubeconfig: the setup flags as given.
fn exec_flags(raw: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut skip_next = false;
    for arg in raw {
        if skip_next {
            skip_next = false;
            continue;
        }
        if SETUP_ONLY.contains(&arg.as_str()) {
            skip_next = true;
            continue;
        }
        if SETUP_ONLY.iter().any(|f| arg.starts_with(&format!("{f}="))) {
            continue;
        }
        out.push(arg.clone());
    }
    // `--flag value` pairs become `--flag=value` so each is one --exec-arg.
    let mut joined: Vec<String> = Vec::new();
    for arg in out {
        match joined.last_mut() {
            Some(last)
                if last.starts_with("--") && !last.contains('=') && !arg.starts_with('-') =>
            {
                last.push('=');
                last.push_str(&arg);
            }
            _ => joined.push(arg),
        }
    }
    joined
}

/// Runs `setup`. `raw` are the arguments after `setup`, as typed.
pub fn run(args: &SetupArgs, raw: &[String]) -> anyhow::Result<()> {
    let settings = Settings::from_args(&args.provider, &args.login)?;
    let info = ExecInfo::from_env().map_err(anyhow::Error::msg)?;
    eprintln!("Authentication in progress...");
    let tokens = with_provider(&settings, async |provider| {
        flow::login(
            &settings,
            provider,
            Terminal {
                may_prompt: info.may_prompt(),
                browser_without_terminal: true,
            },
        )
        .await
    })?;
    let claims = crate::adapters::jwt::decode_claims(&tokens.token).unwrap_or_default();
    let claims_json =
        crate::adapters::jwt::decode_claims_json(&tokens.token).unwrap_or(serde_json::Value::Null);

    let username_claim = if claims.email.is_some() {
        "email"
    } else {
        "sub"
    };
    let user = match username_claim {
        "email" => claims.email.clone().unwrap_or_default(),
        _ => format!(
            "{}#{}",
            settings.issuer,
            claims.sub.clone().unwrap_or_default()
        ),
    };
    let has_groups = claims.groups.is_some();

    let mut out = String::new();
    writeln!(out, "## Authenticated with the OpenID Connect provider\n")?;
    writeln!(out, "You got a token with the following claims:\n")?;
    writeln!(
        out,
        "```\n{}\n```\n",
        serde_json::to_string_pretty(&claims_json)?
    )?;

    writeln!(out, "## Set up the kube-apiserver\n")?;
    writeln!(out, "Add these flags to kube-apiserver:\n\n```")?;
    writeln!(out, "--oidc-issuer-url={}", settings.issuer)?;
    writeln!(out, "--oidc-client-id={}", settings.client_id)?;
    writeln!(out, "--oidc-username-claim={username_claim}")?;
    if has_groups {
        writeln!(out, "--oidc-groups-claim=groups")?;
    }
    if !settings.http.ca_files.is_empty() || !settings.http.ca_data.is_empty() {
        writeln!(out, "--oidc-ca-file=/path/to/the/provider-ca.pem")?;
    }
    writeln!(out, "```\n")?;

    writeln!(out, "## Give yourself a role\n")?;
    writeln!(
        out,
        "```\nkubectl create clusterrolebinding oidc-cluster-admin --clusterrole=cluster-admin --user={}\n```\n",
        quote(&user)
    )?;
    writeln!(out, "or apply:\n\n```yaml")?;
    writeln!(
        out,
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: oidc-cluster-admin\n\
         roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: cluster-admin\nsubjects:\n\
         - apiGroup: rbac.authorization.k8s.io\n  kind: User\n  name: {}",
        serde_json::to_string(&user)?
    )?;
    writeln!(out, "```\n")?;

    writeln!(out, "## Set up the kubeconfig\n")?;
    writeln!(out, "```")?;
    writeln!(out, "kubectl config set-credentials oidc \\")?;
    writeln!(
        out,
        "  --exec-api-version=client.authentication.k8s.io/v1 \\"
    )?;
    writeln!(out, "  --exec-interactive-mode=IfAvailable \\")?;
    writeln!(out, "  --exec-command=kubectl \\")?;
    writeln!(out, "  --exec-arg=oidc-login \\")?;
    write!(out, "  --exec-arg=get-token")?;
    for flag in exec_flags(raw) {
        write!(out, " \\\n  --exec-arg={}", quote(&exec_arg_value(&flag)))?;
    }
    writeln!(out, "\n```\n")?;
    writeln!(
        out,
        "Then check it: `kubectl --user=oidc auth whoami` or `kubectl oidc-login whoami --user=oidc`."
    )?;

    let mut stdout = kubectl_kit::output::stdout();
    stdout.write_all(out.as_bytes())?;
    stdout.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_flags_become_exec_args() {
        let raw: Vec<String> = [
            "--oidc-issuer-url",
            "https://i",
            "--oidc-client-id=c",
            "-v",
            "2",
            "--skip-open-browser",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            exec_flags(&raw),
            [
                "--oidc-issuer-url=https://i",
                "--oidc-client-id=c",
                "--skip-open-browser"
            ]
        );
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("--x=https://i"), "--x=https://i");
        assert_eq!(quote("--x=a=b c"), "--x='a=b c'");
        assert_eq!(
            quote(r#"--browser-command="C:\b" 'x'"#),
            r#"--browser-command='"C:\b" '\''x'\'''"#
        );
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
        assert_eq!(exec_arg_value("--x=a"), "--x=a");
        assert_eq!(exec_arg_value("--x=a,b"), r#""--x=a,b""#);
        assert_eq!(exec_arg_value(r#"--x="a" b"#), r#""--x=""a"" b""#);
    }
}
