//! One function per subcommand: read the input, call the library, print.
//! Main output goes to stdout; progress, warnings and notes go to stderr.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use kubectl_kit::completion::{Candidate, Request, Target};
use kubectl_kit::output::{self, Table};
use kubectl_kit::{KitError, KubeFlags, KubeconfigEnv, OutputFormat};
use kubectl_kubeconfig::catalog::{self, Catalog, Problem, Report, Severity};
use kubectl_kubeconfig::generate::{self, Pair, Selection};
use kubectl_kubeconfig::source::{self, CatalogSource, FetchOptions};
use kubectl_kubeconfig::{check as checks, merge as merging, serviceaccount as sa, write};
use serde_json::{Map, Value, json};

use crate::cli::{
    CatalogArgs, CheckArgs, GenerateArgs, MergeArgs, ServiceAccountArgs, ValidateArgs,
};

fn catalog_source(args: &CatalogArgs) -> Result<CatalogSource, KitError> {
    match (&args.catalog, &args.from_configmap) {
        (Some(c), None) => Ok(CatalogSource::from_arg(c)),
        (None, Some(cm)) => CatalogSource::configmap(
            cm,
            args.configmap_key.clone(),
            KubeFlags {
                kubeconfig: args.kubeconfig.clone(),
                context: args.context.clone(),
                ..Default::default()
            },
        ),
        _ => Err(KitError::usage(
            "give the catalog with --catalog FILE|URL or --from-configmap NAMESPACE/NAME",
        )),
    }
}

async fn fetch_catalog(args: &CatalogArgs) -> anyhow::Result<source::Fetched> {
    let options = FetchOptions {
        certificate_authority: args.catalog_certificate_authority.clone(),
        timeout: None,
    };
    Ok(source::fetch(&catalog_source(args)?, &options).await?)
}

fn problem_json(p: &Problem) -> Value {
    json!({
        "severity": match p.severity { Severity::Error => "error", Severity::Warning => "warning" },
        "path": p.path,
        "line": p.position.map(|(l, _)| l),
        "column": p.position.map(|(_, c)| c),
        "message": p.message,
    })
}

fn print_warnings(report: &Report) {
    let mut err = std::io::stderr().lock();
    for line in report.lines() {
        let _ = writeln!(err, "{line}");
    }
}

fn print_value(value: &Value, format: OutputFormat) -> anyhow::Result<()> {
    match format {
        OutputFormat::Json => output::print_json(value)?,
        _ => {
            let text = merging::to_yaml(value)?;
            output::stdout().write_all(text.as_bytes())?;
        }
    }
    Ok(())
}

/// `validate`
pub async fn validate(args: ValidateArgs) -> anyhow::Result<()> {
    let format =
        args.output
            .require(&[OutputFormat::Table, OutputFormat::Json, OutputFormat::Yaml])?;
    let fetched = fetch_catalog(&args.catalog).await?;
    let parsed = catalog::parse(&fetched.text, &fetched.name)?;
    let result = catalog::validate(&parsed, &fetched.base, &fetched.name);
    let report = match &result {
        Ok((_, r)) | Err(r) => r,
    };
    if format != OutputFormat::Table {
        let doc = json!({
            "source": report.source,
            "valid": result.is_ok(),
            "problems": report.problems.iter().map(problem_json).collect::<Vec<_>>(),
        });
        print_value(&doc, format)?;
        if let Err(report) = result {
            bail!(
                "catalog {} has {} errors",
                report.source,
                report.errors().count()
            );
        }
        return Ok(());
    }
    let (catalog, report) = result?;
    print_warnings(&report);
    let contexts: usize = catalog.teams.iter().map(|t| t.clusters.len()).sum();
    writeln!(
        output::stdout(),
        "catalog {} is valid: {} clusters, {} identity providers, {} teams, {} contexts",
        report.source,
        catalog.clusters.len(),
        catalog.identity_providers.len(),
        catalog.teams.len(),
        contexts
    )?;
    Ok(())
}

/// `generate`
pub async fn generate(args: GenerateArgs) -> anyhow::Result<()> {
    let format =
        args.output
            .require(&[OutputFormat::Table, OutputFormat::Json, OutputFormat::Yaml])?;
    let fetched = fetch_catalog(&args.catalog).await?;
    let (catalog, report) = source::load(&fetched)?;
    print_warnings(&report);
    let mut selection = Selection {
        teams: args.teams.clone(),
        clusters: args.clusters.clone(),
    };
    let interactive = selection.teams.is_empty()
        && selection.clusters.is_empty()
        && !args.all
        && output::stdin_is_tty()
        && output::stderr_is_tty();
    let pairs = if interactive {
        let all = generate::select(&catalog, &selection)?;
        choose(&catalog, all)?
    } else {
        selection.teams.dedup();
        generate::select(&catalog, &selection)?
    };
    let secrets = generate::resolve_secrets(&catalog, &pairs)?;
    if let Some(dir) = &args.output_dir {
        let files = generate::kubeconfigs_per_team(&catalog, &pairs, &secrets);
        let bar = progress_bar(args.progress, files.len() as u64, "teams");
        for (team, doc) in files {
            let path = dir.join(format!("{team}.yaml"));
            bar.set_message(team.to_string());
            write_document(&path, &doc, format)?;
            bar.inc(1);
            bar.suspend(|| {
                eprintln!(
                    "wrote {} ({})",
                    path.display(),
                    count(&doc, "contexts", "context")
                )
            });
        }
        bar.finish_and_clear();
        return Ok(());
    }
    let doc = generate::kubeconfig(&catalog, &pairs, &secrets);
    if let Some(file) = &args.file {
        write_document(file, &doc, format)?;
        eprintln!(
            "wrote {} ({}); use it with --kubeconfig {} or merge it with `kubectl kubeconfig merge {}`",
            file.display(),
            count(&doc, "contexts", "context"),
            file.display(),
            file.display()
        );
        return Ok(());
    }
    print_value(&doc, format)
}

fn count(doc: &Value, section: &str, one: &str) -> String {
    let n = doc[section].as_array().map_or(0, Vec::len);
    format!("{n} {one}{}", if n == 1 { "" } else { "s" })
}

fn write_document(path: &Path, doc: &Value, format: OutputFormat) -> anyhow::Result<()> {
    let text = match format {
        OutputFormat::Json => serde_json::to_string_pretty(doc)? + "\n",
        _ => merging::to_yaml(doc)?,
    };
    write::write_atomic(path, text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Asks which contexts to generate (on a terminal only).
fn choose<'a>(catalog: &'a Catalog, all: Vec<Pair<'a>>) -> anyhow::Result<Vec<Pair<'a>>> {
    let width = all
        .iter()
        .map(|p| generate::entry_names(catalog, p).context.len())
        .max()
        .unwrap_or(0);
    let labels: Vec<String> = all
        .iter()
        .map(|p| {
            let names = generate::entry_names(catalog, p);
            let server = catalog
                .cluster(&p.cluster.cluster)
                .map(|c| c.server.as_str())
                .unwrap_or_default();
            format!(
                "{:<width$}   (team {}, {}{})",
                names.context,
                p.team.name,
                server,
                p.cluster
                    .namespace
                    .as_deref()
                    .map(|n| format!(", namespace {n}"))
                    .unwrap_or_default()
            )
        })
        .collect();
    let chosen = if output::stderr_color_enabled() {
        dialoguer::MultiSelect::with_theme(&dialoguer::theme::ColorfulTheme::default())
            .with_prompt("Contexts to generate (space selects, enter confirms)")
            .items(&labels)
            .interact_opt()
    } else {
        dialoguer::MultiSelect::new()
            .with_prompt("Contexts to generate (space selects, enter confirms)")
            .items(&labels)
            .interact_opt()
    }
    .context("interactive selection failed; pass --team or --cluster instead")?;
    let chosen = chosen.unwrap_or_default();
    if chosen.is_empty() {
        bail!("nothing selected; select with space, or pass --team, --cluster or --all");
    }
    Ok(chosen.into_iter().map(|i| all[i].clone()).collect())
}

fn progress_bar(wanted: bool, len: u64, unit: &str) -> indicatif::ProgressBar {
    if !wanted || !output::stderr_is_tty() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{bar:30}} {{pos}}/{{len}} {unit} {{msg}}"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// The file `merge` writes into: `--into`, else the first `$KUBECONFIG` path,
/// else `~/.kube/config`.
fn merge_target(into: Option<&PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(p) = into {
        return Ok(p.clone());
    }
    let env = KubeconfigEnv::from_process();
    if let Some(first) = env
        .kubeconfig
        .as_ref()
        .and_then(|v| std::env::split_paths(v).find(|p| !p.as_os_str().is_empty()))
    {
        return Ok(first);
    }
    let home = env
        .home
        .context("no --into, no $KUBECONFIG and no home directory: pass --into FILE")?;
    Ok(home.join(".kube").join("config"))
}

/// `merge`
pub fn merge(args: MergeArgs) -> anyhow::Result<()> {
    let target = merge_target(args.into.as_ref())?;
    let (source_text, source_name) = if args.source.as_os_str() == "-" {
        (
            std::io::read_to_string(std::io::stdin()).context("cannot read stdin")?,
            "<stdin>".to_string(),
        )
    } else {
        (
            std::fs::read_to_string(&args.source)
                .with_context(|| format!("cannot read {}", args.source.display()))?,
            args.source.display().to_string(),
        )
    };
    let source = merging::parse_document(&source_text, &source_name)?;
    let target_name = target.display().to_string();
    let existing = match std::fs::read_to_string(&target) {
        Ok(text) => Some(merging::parse_document(&text, &target_name)?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("cannot read {target_name}")),
    };
    let plan = merging::plan(
        existing.as_ref().unwrap_or(&Map::new()),
        &source,
        args.overwrite,
    );
    write!(output::stdout(), "{plan}")?;
    if plan.refused() {
        bail!(plan.conflict_message(&source_name, &target_name));
    }
    let (added, changed, unchanged, kept) = plan.summary();
    let summary = format!(
        "{added} added, {} changed, {unchanged} unchanged, {kept} kept",
        if args.overwrite { changed } else { 0 }
    );
    if args.dry_run {
        eprintln!("dry run: {target_name} not written ({summary})");
        return Ok(());
    }
    if existing.is_some() && !plan.changes_target() {
        eprintln!("{target_name} already has everything in {source_name}; nothing written");
        return Ok(());
    }
    let text = merging::to_yaml(&plan.merged).context("cannot serialise the merged kubeconfig")?;
    if existing.is_some() {
        let backup = write::backup(&target, jiff::Timestamp::now())
            .with_context(|| format!("cannot back up {target_name}; nothing was written"))?;
        eprintln!("backup of the previous file: {}", backup.display());
    }
    write::write_atomic(&target, text.as_bytes())
        .with_context(|| format!("cannot write {target_name}; it was left as it was"))?;
    eprintln!("merged {source_name} into {target_name}: {summary}");
    Ok(())
}

/// `serviceaccount`
pub async fn serviceaccount(args: ServiceAccountArgs) -> anyhow::Result<()> {
    let format =
        args.output
            .require(&[OutputFormat::Table, OutputFormat::Json, OutputFormat::Yaml])?;
    let request = sa::Request {
        name: args.name.clone(),
        duration: args.duration,
        bound_to_secret: args.bound_to_secret,
        audiences: args.audiences.clone(),
    };
    let issued = sa::issue(&args.kube, &request).await?;
    let doc = Value::Object(issued.kubeconfig.clone());
    if let Some(file) = &args.file {
        write_document(file, &doc, format)?;
        eprintln!("wrote {}", file.display());
    } else {
        print_value(&doc, format)?;
    }
    let left = issued.expires.as_second() - jiff::Timestamp::now().as_second();
    eprintln!(
        "token for serviceaccount {}/{} expires at {} (in {})",
        issued.namespace,
        args.name,
        issued.expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
        output::human_duration(std::time::Duration::from_secs(left.max(0) as u64))
    );
    if let Some(secret) = &issued.bound_secret {
        eprintln!(
            "the token is bound to secret {}/{secret}: `kubectl delete secret {secret} -n {}` revokes it",
            issued.namespace, issued.namespace
        );
    }
    Ok(())
}

/// `check`
pub async fn check(args: CheckArgs) -> anyhow::Result<()> {
    let format = args.output.require(&[
        OutputFormat::Table,
        OutputFormat::Wide,
        OutputFormat::Json,
        OutputFormat::Yaml,
    ])?;
    let kubeconfig = args.kube.load_kubeconfig()?;
    let known: Vec<String> = kubeconfig.contexts.iter().map(|c| c.name.clone()).collect();
    let mut contexts = args.contexts.clone();
    if let Some(c) = &args.kube.context {
        contexts.push(c.clone());
    }
    if contexts.is_empty() {
        contexts = known.clone();
    }
    for c in &contexts {
        if !known.contains(c) {
            return Err(KitError::usage(format!(
                "context {c:?} is not in the kubeconfig (contexts: {})",
                known.join(", ")
            ))
            .into());
        }
    }
    if contexts.is_empty() {
        bail!("the kubeconfig has no contexts to check");
    }
    let bar = progress_bar(args.progress, contexts.len() as u64, "contexts");
    let tick = bar.clone();
    let results = checks::check_all(
        &args.kube,
        &contexts,
        args.timeout,
        args.parallel,
        move |r| {
            tick.set_message(r.context.clone());
            tick.inc(1);
        },
    )
    .await;
    bar.finish_and_clear();
    match format {
        OutputFormat::Json | OutputFormat::Yaml => {
            let doc = serde_json::to_value(&results)?;
            print_value(&doc, format)?;
        }
        _ => {
            let mut table =
                Table::new(["CONTEXT", "SERVER", "VERSION", "USER", "GROUPS", "RESULT"]);
            for r in &results {
                table.row([
                    r.context.clone(),
                    r.server.clone(),
                    r.version.clone().unwrap_or_else(|| "-".into()),
                    r.user.clone().unwrap_or_else(|| "-".into()),
                    if r.groups.is_empty() {
                        "-".into()
                    } else {
                        r.groups.join(",")
                    },
                    r.outcome.describe(),
                ]);
            }
            output::stdout().write_all(table.render().as_bytes())?;
        }
    }
    let failed = results.iter().filter(|r| !r.outcome.is_ok()).count();
    if failed > 0 {
        bail!("{failed} of {} contexts failed the check", results.len());
    }
    Ok(())
}

/// Dynamic completion: team and cluster names from `--catalog` for `--team`/`--cluster`.
pub fn complete(request: &Request) -> Option<Vec<Candidate>> {
    let Target::FlagValue { id } = request.target() else {
        return None;
    };
    if id != "teams" && id != "clusters" {
        return None;
    }
    let path = request.value_of("catalog")?;
    if path.starts_with("https://") || path == "-" {
        return None;
    }
    let fetched = source::Fetched {
        text: std::fs::read_to_string(path).ok()?,
        name: path.to_string(),
        base: catalog::BaseDir::Dir(
            Path::new(path)
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default(),
        ),
    };
    let parsed = catalog::parse(&fetched.text, &fetched.name).ok()?;
    let catalog = match catalog::validate(&parsed, &fetched.base, &fetched.name) {
        Ok((c, _)) => c,
        Err(_) => return None,
    };
    Some(if id == "teams" {
        catalog
            .teams
            .iter()
            .map(|t| Candidate::with_help(&t.name, format!("{} clusters", t.clusters.len())))
            .collect()
    } else {
        catalog
            .clusters
            .iter()
            .map(|c| Candidate::with_help(&c.name, &c.server))
            .collect()
    })
}
