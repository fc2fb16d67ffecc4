//! `stats`: counts grouped by a field, with share, and a histogram over time.

use std::io::Write;

use audit_api::api::StatsParams;
use audit_api::{FIELDS, Field};
use jiff::{SignedDuration, Timestamp};
use kubectl_kit::{KitError, OutputFormat};

use crate::cli::{Cli, StatsArgs};
use crate::filters;
use crate::merge::Sinks;
use crate::render;

/// `kubectl audit stats`.
pub async fn stats(cli: &Cli, args: &StatsArgs) -> anyhow::Result<()> {
    let format = cli.output.require(&[
        OutputFormat::Table,
        OutputFormat::Wide,
        OutputFormat::Json,
        OutputFormat::Yaml,
    ])?;
    let by = group_field(&args.by)?;
    if args.top == 0 {
        return Err(KitError::usage("--top must be at least 1").into());
    }
    let now = Timestamp::now();
    let selection = filters::build(&args.filters, now)?;
    let interval = match (&args.interval, args.histogram) {
        (Some(i), _) => {
            let d = audit_api::time::parse_duration(i)
                .map_err(|e| KitError::usage(format!("--interval: {e}")))?;
            if d.as_secs() < 1 {
                return Err(KitError::usage("--interval must be at least 1s").into());
            }
            Some(audit_api::time::format_duration(d))
        }
        (None, true) => Some(auto_interval(selection.since, selection.until, now)),
        (None, false) => None,
    };
    let sink = Sinks::connect(
        &cli.sink,
        &cli.cluster,
        args.filters.namespace.as_deref(),
        false,
    )
    .await?;
    let stats = sink
        .stats(&StatsParams {
            q: selection.q(),
            since: selection.since_param(),
            until: selection.until_param(),
            by: Some(by.name().to_string()),
            top: Some(args.top),
            interval: interval.clone(),
        })
        .await?;
    let mut out = kubectl_kit::output::stdout();
    render::write_stats(
        &mut out,
        format,
        &stats,
        label(by),
        args.histogram || args.interval.is_some(),
    )?;
    out.flush()?;
    Ok(())
}

/// The canonical field for `--by`, which must be groupable.
fn group_field(by: &str) -> Result<Field, KitError> {
    let groupable: Vec<&str> = FIELDS
        .iter()
        .filter(|f| f.groupable)
        .map(|f| f.name)
        .collect();
    match Field::from_name(by.trim()) {
        Some(f) if f.spec().groupable => Ok(f),
        Some(_) => Err(KitError::usage(format!(
            "--by {by}: events cannot be grouped by this field; use one of {}",
            groupable.join(", ")
        ))),
        None => Err(KitError::usage(format!(
            "--by {by:?} is not a field; use one of {} (e.g. --by user, --by verb, --by resource, --by namespace, --by code)",
            groupable.join(", ")
        ))),
    }
}

/// The column header for a field.
fn label(field: Field) -> &'static str {
    match field {
        Field::Namespace => "namespace",
        Field::UserAgent => "user agent",
        Field::Ip => "source ip",
        Field::ApiGroup => "api group",
        Field::ApiVersion => "api version",
        other => other.name(),
    }
}

/// About 24 buckets over the range, rounded to a readable width.
fn auto_interval(since: Option<Timestamp>, until: Option<Timestamp>, now: Timestamp) -> String {
    let Some(since) = since else {
        return "1h".into();
    };
    let span = until.unwrap_or(now).duration_since(since);
    let target = span.as_secs() / 24;
    const STEPS: &[i64] = &[
        60,
        5 * 60,
        15 * 60,
        30 * 60,
        3600,
        3 * 3600,
        6 * 3600,
        12 * 3600,
        86_400,
        7 * 86_400,
    ];
    let step = STEPS
        .iter()
        .copied()
        .find(|s| *s >= target)
        .unwrap_or(7 * 86_400);
    audit_api::time::format_duration(SignedDuration::from_secs(step))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_accepts_names_and_aliases_of_groupable_fields() {
        assert_eq!(group_field("namespace").unwrap(), Field::Namespace);
        assert_eq!(group_field("user").unwrap(), Field::User);
        assert_eq!(group_field("code").unwrap(), Field::Code);
        assert!(
            group_field("auditid")
                .unwrap_err()
                .to_string()
                .contains("cannot be grouped")
        );
        assert!(
            group_field("colour")
                .unwrap_err()
                .to_string()
                .contains("not a field")
        );
    }

    #[test]
    fn intervals_fit_the_range() {
        let now: Timestamp = "2024-05-01T12:00:00Z".parse().unwrap();
        let ago = |h: i64| now.checked_sub(SignedDuration::from_hours(h)).unwrap();
        assert_eq!(auto_interval(Some(ago(1)), None, now), "5m");
        assert_eq!(auto_interval(Some(ago(24)), None, now), "1h");
        assert_eq!(auto_interval(Some(ago(24 * 7)), None, now), "12h");
        assert_eq!(auto_interval(None, None, now), "1h");
    }
}
