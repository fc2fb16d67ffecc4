//! `cargo xtask`: kubext's build automation (release archives, krew manifests, completions).

fn main() -> anyhow::Result<()> {
    anyhow::bail!("no task given; see `cargo xtask --help`")
}
