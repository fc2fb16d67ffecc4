//! What the xtask integration tests share: the workspace, and dev builds of its binaries.

#![allow(dead_code)]

use std::path::PathBuf;

use xtask::binaries::{BINARIES, Binary};
use xtask::workspace::{Profile, Workspace, cargo, run};

/// The workspace these tests belong to.
pub fn workspace() -> Workspace {
    Workspace::locate().expect("cargo metadata works")
}

/// Builds (dev profile) every kubext binary present in the workspace; returns
/// the binaries and their folder. Cargo makes this a no-op when they are fresh.
pub fn dev_binaries(ws: &Workspace) -> (Vec<&'static Binary>, PathBuf) {
    let present = ws.present(BINARIES);
    assert!(
        !present.is_empty(),
        "no kubext binary is in the workspace yet"
    );
    let dir = ws
        .build(&present, Profile::Dev, None)
        .expect("the workspace's binaries build");
    (present, dir)
}

/// Builds the `kubectl-kubext_demo` example (a plugin wired like kubext's) and returns its path.
pub fn demo_plugin(ws: &Workspace) -> PathBuf {
    run(cargo().current_dir(&ws.root).args([
        "build",
        "-p",
        "xtask",
        "--example",
        "kubectl-kubext_demo",
    ]))
    .expect("the demo plugin builds");
    ws.target_dir.join("debug/examples/kubectl-kubext_demo")
}
