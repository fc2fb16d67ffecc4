//! The command: fetch what was asked for and print it. It lives on the
//! binary's side: it prints, asks on the terminal and reports with `anyhow`,
//! over the library's typed pieces.

use std::io::Write as _;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Secret;
use kubectl_kit::OutputFormat;
use kubectl_kit::output::{self, Table};

use kubectl_view_secret::render::{Mode, RenderOptions, render_value};
use kubectl_view_secret::style::Style;
use kubectl_view_secret::values::SecretValues;
use kubectl_view_secret::{cluster, manifest, picker};

use crate::cli::{Cli, ViewArgs};

/// Failures that are about the Secret rather than the cluster.
#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    /// The key asked for does not exist.
    #[error(
        "key {key:?} not found in secret {name:?} (namespace {namespace:?}); its keys are: {}\n  hint: kubectl view-secret {name} KEY -n {namespace}, with KEY one of them",
        keys.join(", ")
    )]
    KeyNotFound {
        /// The key asked for.
        key: String,
        /// The Secret.
        name: String,
        /// Its namespace.
        namespace: String,
        /// The keys it has.
        keys: Vec<String>,
    },
    /// The Secret has no data.
    #[error("secret {name:?} in namespace {namespace:?} is empty: it has no keys to show")]
    Empty {
        /// The Secret.
        name: String,
        /// Its namespace.
        namespace: String,
    },
    /// Nothing to choose from in a namespace.
    #[error(
        "there are no secrets in namespace {namespace:?}; choose another with -n NAMESPACE, or search with -A PREFIX"
    )]
    NoSecrets {
        /// The namespace.
        namespace: String,
    },
    /// `-A PREFIX` found nothing.
    #[error("no secret whose name starts with {prefix:?} in any namespace you can read{}", forbidden_suffix(.forbidden))]
    NothingMatches {
        /// The prefix.
        prefix: String,
        /// Namespaces we could not search.
        forbidden: Vec<String>,
    },
    /// The picker was dismissed.
    #[error("nothing chosen")]
    Cancelled,
}

fn forbidden_suffix(forbidden: &[String]) -> String {
    if forbidden.is_empty() {
        String::new()
    } else {
        format!(
            " (not allowed to list secrets in: {})",
            forbidden.join(", ")
        )
    }
}

/// Prints an informational line on stderr unless `--quiet`.
fn info(args: &ViewArgs, message: &str) {
    if !args.quiet {
        eprintln!("{message}");
    }
}

/// Runs the view for parsed arguments.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let format =
        cli.output
            .require(&[OutputFormat::Table, OutputFormat::Json, OutputFormat::Yaml])?;
    let args = &cli.view;
    let client = cluster::client(&cli.kube, args.as_user.as_deref(), &args.as_group).await?;

    if args.all_namespaces {
        let prefix = args.name.clone().unwrap_or_default();
        let search = cluster::search_all_namespaces(&client, &prefix).await?;
        if !search.forbidden.is_empty() {
            eprintln!(
                "warning: not allowed to list secrets in namespaces: {}",
                search.forbidden.join(", ")
            );
        }
        if search.found.is_empty() {
            return Err(ViewError::NothingMatches {
                prefix,
                forbidden: search.forbidden,
            }
            .into());
        }
        if format != OutputFormat::Table {
            return print_structured(format, &manifest::decoded_list(&search.found));
        }
        let secret = if search.found.len() == 1 {
            search.found.into_iter().next()
        } else {
            choose_secret(args, search.found, true)?
        };
        return match secret {
            Some(secret) => show_secret(args, format, &secret),
            None => Ok(()),
        };
    }

    let namespace = cli.kube.namespace()?;
    let secret = match &args.name {
        Some(name) => cluster::get_secret(&client, &namespace, name).await?,
        None => {
            let secrets = cluster::list_secrets(&client, &namespace).await?;
            if format != OutputFormat::Table {
                return print_structured(format, &manifest::decoded_list(&secrets));
            }
            if secrets.is_empty() {
                return Err(ViewError::NoSecrets { namespace }.into());
            }
            match choose_secret(args, secrets, false)? {
                Some(secret) => secret,
                None => return Ok(()),
            }
        }
    };
    show_secret(args, format, &secret)
}

/// Picks one of several Secrets on a terminal; elsewhere lists them and says how to choose.
fn choose_secret(
    args: &ViewArgs,
    secrets: Vec<Secret>,
    with_namespace: bool,
) -> anyhow::Result<Option<Secret>> {
    let label = |s: &Secret| {
        let name = s.metadata.name.clone().unwrap_or_default();
        if with_namespace {
            format!(
                "{}/{name}",
                s.metadata.namespace.clone().unwrap_or_default()
            )
        } else {
            name
        }
    };
    if picker::interactive() {
        let items: Vec<String> = secrets.iter().map(label).collect();
        let prompt = format!("{} secrets: choose one", secrets.len());
        return match picker::pick(&prompt, &items)? {
            Some(i) => Ok(secrets.into_iter().nth(i)),
            None => Err(ViewError::Cancelled.into()),
        };
    }
    let mut headers = vec!["name", "type", "data", "age"];
    if with_namespace {
        headers.insert(0, "namespace");
    }
    let mut table = Table::new(headers);
    for s in &secrets {
        let mut row = vec![
            s.metadata.name.clone().unwrap_or_default(),
            s.type_.clone().unwrap_or_else(|| "Opaque".into()),
            s.data.as_ref().map_or(0, |d| d.len()).to_string(),
            s.metadata
                .creation_timestamp
                .as_ref()
                .map(|t| output::human_age(t.0))
                .unwrap_or_else(|| "<unknown>".into()),
        ];
        if with_namespace {
            row.insert(0, s.metadata.namespace.clone().unwrap_or_default());
        }
        table.row(row);
    }
    output::stdout().write_all(table.render().as_bytes())?;
    if with_namespace {
        info(
            args,
            "several secrets match: choose one with `kubectl view-secret -n NAMESPACE NAME [KEY]`",
        );
    } else {
        info(
            args,
            "choose a secret with `kubectl view-secret NAME [KEY]`",
        );
    }
    Ok(None)
}

fn print_structured(format: OutputFormat, value: &serde_json::Value) -> anyhow::Result<()> {
    match format {
        OutputFormat::Yaml => output::print_yaml(value)?,
        _ => output::print_json(value)?,
    }
    Ok(())
}

fn render_options(args: &ViewArgs) -> RenderOptions {
    let mode = if args.raw {
        Mode::Raw
    } else if args.interpret || output::stdout_is_tty() {
        Mode::Interpreted
    } else {
        Mode::Decoded
    };
    RenderOptions {
        mode,
        show_passwords: args.show_passwords,
        show_values: args.values,
        style: Style::for_stdout(),
        now: Timestamp::now(),
    }
}

/// Shows one Secret: a key, all keys, the only key, or the choice of keys.
fn show_secret(args: &ViewArgs, format: OutputFormat, secret: &Secret) -> anyhow::Result<()> {
    let values = SecretValues::from_secret(secret);
    tracing::debug!(
        namespace = %values.namespace,
        name = %values.name,
        secret_type = %values.secret_type,
        keys = ?values.keys(),
        "fetched secret"
    );
    if let Some(key) = &args.key
        && !values.entries.contains_key(key)
    {
        return Err(ViewError::KeyNotFound {
            key: key.clone(),
            name: values.name.clone(),
            namespace: values.namespace.clone(),
            keys: values.keys().iter().map(|k| k.to_string()).collect(),
        }
        .into());
    }
    if format != OutputFormat::Table {
        return print_structured(
            format,
            &manifest::decoded_secret(secret, args.key.as_deref()),
        );
    }
    if values.is_empty() {
        return Err(ViewError::Empty {
            name: values.name,
            namespace: values.namespace,
        }
        .into());
    }
    let opts = render_options(args);
    if args.all {
        return print_all(args, &values, &opts);
    }
    let key = match &args.key {
        Some(key) => key.clone(),
        None if values.entries.len() == 1 => {
            let key = values.keys()[0].to_string();
            info(args, &format!("Viewing only available key: {key}"));
            key
        }
        None => {
            let keys: Vec<String> = values.keys().iter().map(|k| k.to_string()).collect();
            if !picker::interactive() {
                let mut out = output::stdout();
                for key in &keys {
                    writeln!(out, "{key}")?;
                }
                drop(out);
                info(
                    args,
                    &format!(
                        "secret {:?} has {} keys: choose one with `kubectl view-secret {} KEY`, or show all with --all",
                        values.name,
                        keys.len(),
                        values.name
                    ),
                );
                return Ok(());
            }
            let mut items = keys.clone();
            items.push("(all keys)".to_string());
            let prompt = format!(
                "Secret {:?} has {} keys: choose one",
                values.name,
                keys.len()
            );
            match picker::pick(&prompt, &items)? {
                Some(i) if i == keys.len() => return print_all(args, &values, &opts),
                Some(i) => keys[i].clone(),
                None => return Err(ViewError::Cancelled.into()),
            }
        }
    };
    print_one(args, &values, &key, &opts)
}

fn print_one(
    args: &ViewArgs,
    values: &SecretValues,
    key: &str,
    opts: &RenderOptions,
) -> anyhow::Result<()> {
    let rendered = render_value(&values.secret_type, key, &values.entries[key], opts);
    for note in &rendered.notes {
        info(args, note);
    }
    let mut out = output::stdout();
    out.write_all(&rendered.bytes)?;
    // A terminal gets a final newline; a pipe or file gets the value's exact bytes.
    if output::stdout_is_tty() && !rendered.bytes.ends_with(b"\n") {
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

fn print_all(args: &ViewArgs, values: &SecretValues, opts: &RenderOptions) -> anyhow::Result<()> {
    let mut out = output::stdout();
    for (key, value) in &values.entries {
        let rendered = render_value(&values.secret_type, key, value, opts);
        for note in &rendered.notes {
            info(args, &format!("{key}: {note}"));
        }
        out.write_all(key.as_bytes())?;
        out.write_all(b"='")?;
        out.write_all(&rendered.bytes)?;
        out.write_all(b"'\n")?;
    }
    out.flush()?;
    Ok(())
}
