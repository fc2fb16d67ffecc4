//! `who TYPE/NAME`: every request that touched one object, oldest first.

use std::io::Write;

use audit_api::api::{MAX_LIMIT, SearchParams};
use jiff::Timestamp;
use kubectl_kit::{KitError, OutputFormat};

use crate::cli::{Cli, WhoArgs};
use crate::client::kube_flags;
use crate::filters::{self, term};
use crate::merge::Sinks;
use crate::render::{self, Record};
use crate::resources;

/// `kubectl audit who`.
pub async fn who(cli: &Cli, args: &WhoArgs) -> anyhow::Result<()> {
    let format = cli.output.require(&[
        OutputFormat::Table,
        OutputFormat::Wide,
        OutputFormat::Json,
        OutputFormat::Jsonl,
        OutputFormat::Yaml,
        OutputFormat::Name,
    ])?;
    let (typed_resource, name) = split_object(&args.object)?;
    let resource = resources::resolve(&typed_resource).ok_or_else(|| {
        KitError::usage(format!(
            "{typed_resource:?} is not a resource type: write the object as TYPE/NAME, e.g. deploy/web, secret/db, clusterrole/admin"
        ))
    })?;
    if args.limit == 0 {
        return Err(KitError::usage("--limit must be at least 1").into());
    }
    let namespace = if resource.namespaced {
        Some(match &args.namespace {
            Some(ns) => ns.clone(),
            None => kube_flags(&cli.cluster, None)
                .namespace()
                .unwrap_or_else(|_| "default".into()),
        })
    } else {
        if args.namespace.is_some() {
            tracing::info!("{} are not namespaced: ignoring -n", resource.plural);
        }
        None
    };
    let mut terms = vec![term("resource", &resource.plural), term("name", &name)];
    if let Some(group) = &resource.group {
        terms.push(term("apigroup", group));
    }
    if let Some(ns) = &namespace {
        terms.push(term("ns", ns));
    }
    terms.extend(filters::any_of("cluster", &args.audit_cluster));
    let query = terms.join(" ");
    filters::check_query(&query, "the object")?;
    let (since, until) = filters::time_range(&args.time, Timestamp::now())?;

    let sink = Sinks::connect(&cli.sink, &cli.cluster, namespace.as_deref(), false).await?;
    let mut records: Vec<Record> = Vec::new();
    let mut cursor = None;
    loop {
        let page = sink
            .search(&SearchParams {
                q: Some(query.clone()),
                since: since.map(|t| t.to_string()),
                until: until.map(|t| t.to_string()),
                limit: Some(args.limit.clamp(1, MAX_LIMIT.min(1000))),
                cursor,
            })
            .await?;
        records.extend(page.events.into_iter().map(Record::new));
        cursor = page.next;
        if cursor.is_none() || records.len() >= args.limit {
            break;
        }
    }
    render::sort_oldest_first(&mut records);
    let truncated = records.len() > args.limit;
    records.truncate(args.limit);
    let mut out = kubectl_kit::output::stdout();
    if records.is_empty() && matches!(format, OutputFormat::Table | OutputFormat::Wide) {
        let object = match &namespace {
            Some(ns) => format!("{}/{name} in namespace {ns}", resource.plural),
            None => format!("{}/{name}", resource.plural),
        };
        eprintln!("No events found for {object}.");
        return Ok(());
    }
    render::write_events(&mut out, format, &records)?;
    out.flush()?;
    if truncated || cursor.is_some() {
        eprintln!(
            "Showing the first {} events; narrow the range with --since/--until or raise --limit.",
            records.len()
        );
    }
    Ok(())
}

/// `deploy/web` or `deploy web` → (`deploy`, `web`).
fn split_object(parts: &[String]) -> Result<(String, String), KitError> {
    let usage = || {
        KitError::usage(
            "name the object as TYPE/NAME (e.g. deploy/web) or TYPE NAME (e.g. deploy web)",
        )
    };
    match parts {
        [one] => {
            let (t, n) = one.split_once('/').ok_or_else(usage)?;
            if t.is_empty() || n.is_empty() || n.contains('/') {
                return Err(usage());
            }
            Ok((t.to_string(), n.to_string()))
        }
        [t, n] if !t.contains('/') && !n.contains('/') && !n.is_empty() => {
            Ok((t.clone(), n.clone()))
        }
        _ => Err(usage()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_are_type_slash_name_or_two_words() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            split_object(&v(&["deploy/web"])).unwrap(),
            ("deploy".into(), "web".into())
        );
        assert_eq!(
            split_object(&v(&["secret", "db"])).unwrap(),
            ("secret".into(), "db".into())
        );
        for bad in [
            &["web"][..],
            &["deploy/"],
            &["/web"],
            &["a/b/c"],
            &["deploy/web", "x"],
        ] {
            assert!(split_object(&v(bad)).is_err(), "{bad:?}");
        }
    }
}
