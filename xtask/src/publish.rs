//! `cargo xtask publish-index`: the `krew-index/` folder of the current commit as
//! the root of a branch, which is the git repository krew reads as a custom index
//! (`plugins/*.yaml` at its root).
//!
//! It is `git subtree split --prefix krew-index` without needing git-subtree and
//! without touching the working tree: one commit per publication whose tree is
//! `HEAD:krew-index`, on top of the branch's previous commit.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

fn git(root: &Path, args: &[&str]) -> Result<String> {
    let output = Command::new("git")
        .current_dir(root)
        .args(args)
        .output()
        .with_context(|| format!("running git {}", args.join(" ")))?;
    if !output.status.success() {
        bail!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// What [`publish`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Published {
    /// A new commit is on the branch.
    Committed(String),
    /// The branch already had this index.
    Unchanged(String),
}

/// Puts `HEAD:krew-index` on `branch` (created when missing) as a new commit.
pub fn publish(root: &Path, branch: &str) -> Result<Published> {
    let tree = git(root, &["rev-parse", "HEAD:krew-index"])
        .context("krew-index/ is not in the current commit: commit it first")?;
    let head = git(root, &["rev-parse", "--short", "HEAD"])?;
    let reference = format!("refs/heads/{branch}");
    let parent = git(root, &["rev-parse", "--verify", "--quiet", &reference]).ok();
    if let Some(parent) = &parent {
        let parent_tree = git(root, &["rev-parse", &format!("{parent}^{{tree}}")])?;
        if parent_tree == tree {
            return Ok(Published::Unchanged(parent.clone()));
        }
    }
    let message = format!("krew index from {head}");
    let mut args = vec!["commit-tree", tree.as_str(), "-m", message.as_str()];
    if let Some(parent) = &parent {
        args.extend(["-p", parent.as_str()]);
    }
    let commit = git(root, &args)?;
    let mut update = vec!["update-ref", reference.as_str(), commit.as_str()];
    if let Some(parent) = &parent {
        update.push(parent.as_str());
    }
    git(root, &update)?;
    Ok(Published::Committed(commit))
}
