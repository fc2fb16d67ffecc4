//! Finding the `get-token` flags of the current kubeconfig context's user, for
//! `whoami` and `logout`.

use anyhow::{anyhow, bail};
use clap::Parser as _;

use crate::cli::{Cli, Command, GetTokenArgs};

/// The user's exec plugin settings.
#[derive(Debug)]
pub struct ContextLogin {
    /// Context name.
    pub context: String,
    /// User name.
    pub user: String,
    /// The `get-token` flags found in the exec stanza.
    pub args: GetTokenArgs,
}

/// Reads the kubeconfig as kubectl would and parses the exec stanza's
/// `get-token` arguments (`command: kubectl` with `args: [oidc-login,
/// get-token, …]`, or `command: kubectl-oidc_login` with `args: [get-token, …]`).
pub fn resolve(kube: &kubectl_kit::KubeFlags) -> anyhow::Result<ContextLogin> {
    let resolved = kube.resolve()?;
    let exec = resolved.user.exec.as_ref().ok_or_else(|| {
        anyhow!(
            "the user {:?} of context {:?} has no exec credential plugin, so it does not log in with kubectl oidc-login",
            resolved.user_name,
            resolved.context_name
        )
    })?;
    let exec_args = exec.args.clone().unwrap_or_default();
    let Some(position) = exec_args.iter().position(|a| a == "get-token") else {
        // Only the command: another plugin's arguments may hold secrets.
        bail!(
            "the user {:?} of context {:?} runs {:?}, not `kubectl oidc-login get-token`",
            resolved.user_name,
            resolved.context_name,
            exec.command.clone().unwrap_or_default()
        );
    };
    let mut argv = vec!["kubectl-oidc_login".to_string(), "get-token".to_string()];
    argv.extend(exec_args[position + 1..].iter().cloned());
    let cli = Cli::try_parse_from(&argv).map_err(|e| {
        anyhow!(
            "cannot read the get-token flags of user {:?} in the kubeconfig: {}",
            resolved.user_name,
            e.to_string().lines().next().unwrap_or_default()
        )
    })?;
    let Some(Command::GetToken(args)) = cli.command else {
        bail!("internal error: get-token flags did not parse as get-token");
    };
    Ok(ContextLogin {
        context: resolved.context_name,
        user: resolved.user_name,
        args: *args,
    })
}
