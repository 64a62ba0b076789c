//! The region's nodes as `edufed serve` processes of this binary: started,
//! stopped, killed, restarted on their port, backed up and restored, and
//! their resident memory and CPU read from `/proc`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

use super::layout::NodeSpec;

/// One node's process and where it keeps its data.
pub struct Process {
    pub spec: NodeSpec,
    pub dir: PathBuf,
    /// Where it listens, the same after a restart.
    pub addr: String,
    pub node_id: String,
    pub operator: String,
    child: Option<Child>,
}

/// This binary running `subcommand` for the node: its settings in the
/// environment, its data directory after the subcommand's own arguments.
fn edufed(spec: &NodeSpec, dir: &Path, subcommand: &[&str]) -> anyhow::Result<Command> {
    let mut command = Command::new(std::env::current_exe().context("the running binary")?);
    for (key, _) in std::env::vars() {
        if key.starts_with("EDUFED_") {
            command.env_remove(key);
        }
    }
    command
        .env("EDUFED_LOG", "warn")
        .env("EDUFED_NODE_NAME", &spec.name)
        // Every node and the load generator share the loopback address,
        // which a node would otherwise take for one client.
        .env("EDUFED_MAX_CONNECTIONS_PER_ADDRESS", "0")
        .env("EDUFED_ANONYMOUS_RATE_LIMIT_PER_SECOND", "0")
        .env("EDUFED_FAILED_AUTH_PER_MINUTE", "0")
        .args(subcommand)
        .arg("--data-dir")
        .arg(dir)
        .kill_on_drop(true);
    if let Some(url) = &spec.postgres {
        command.env("EDUFED_DATABASE_URL", url);
    }
    Ok(command)
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl Process {
    /// Initializes the node's data directory under `root`.
    pub async fn init(spec: NodeSpec, root: &Path) -> anyhow::Result<Self> {
        let dir = root.join(format!("node-{:03}", spec.index));
        std::fs::create_dir_all(&dir)?;
        let output = edufed(&spec, &dir, &["init"])?.output().await?;
        if !output.status.success() {
            bail!(
                "edufed init for {} failed: {}",
                spec.name,
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        let node_id = stdout
            .lines()
            .find_map(|l| {
                l.strip_prefix("created node ")
                    .or_else(|| l.strip_prefix("node "))
            })
            .context("edufed init named no node")?
            .trim()
            .to_owned();
        let operator = std::fs::read_to_string(dir.join("operator.token"))
            .context("the operator token")?
            .trim()
            .to_owned();
        Ok(Self {
            spec,
            dir,
            addr: format!("127.0.0.1:{}", free_port()?),
            node_id,
            operator,
            child: None,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    /// Starts `edufed serve` and waits until it serves.
    pub async fn start(&mut self) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("node.log"))?;
        let mut child = edufed(&self.spec, &self.dir, &["serve", "--listen", &self.addr])?
            .stdout(Stdio::piped())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()?;
        let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
        let served = tokio::time::timeout(Duration::from_secs(120), async {
            while let Some(line) = lines.next_line().await? {
                if line.starts_with("serving gRPC and HTTP on ") {
                    return Ok(());
                }
            }
            bail!("it exited; see {}", self.dir.join("node.log").display())
        })
        .await;
        match served {
            Ok(Ok(())) => {}
            Ok(Err(error)) => bail!("{} did not start: {error}", self.spec.name),
            Err(_) => bail!("{} did not start within two minutes", self.spec.name),
        }
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        self.child = Some(child);
        Ok(())
    }

    /// Stops the node with SIGTERM and waits for it to exit.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        if let Some(pid) = child.id() {
            std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()?;
        }
        match tokio::time::timeout(Duration::from_secs(30), child.wait()).await {
            Ok(status) => {
                status?;
            }
            Err(_) => child.kill().await?,
        }
        Ok(())
    }

    /// Kills the node with SIGKILL, as a crash or a power cut would.
    pub async fn kill(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill().await?;
        }
        Ok(())
    }

    /// Copies the running node's database into `file`.
    pub async fn backup(&self, file: &Path) -> anyhow::Result<()> {
        let file = file.to_string_lossy();
        self.offline(&["backup", "--out", &file]).await
    }

    /// Replaces the stopped node's database with the copy in `file`.
    pub async fn restore(&self, file: &Path) -> anyhow::Result<()> {
        if self.spec.postgres.is_some() {
            bail!("the region restores nodes on SQLite only");
        }
        for suffix in ["", "-wal", "-shm"] {
            let path = self.dir.join(format!("edufed.db{suffix}"));
            if path.exists() {
                std::fs::remove_file(&path)?;
            }
        }
        let file = file.to_string_lossy();
        self.offline(&["restore", &file]).await
    }

    async fn offline(&self, args: &[&str]) -> anyhow::Result<()> {
        let output = edufed(&self.spec, &self.dir, args)?.output().await?;
        if !output.status.success() {
            bail!(
                "edufed {} for {} failed: {}",
                args[0],
                self.spec.name,
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    }
}

/// A process's memory (bytes): resident, the anonymous part of it (the
/// rest is the binary's and the database's mapped pages) and its
/// proportional share (each page shared with other processes counted by
/// its share), and the CPU time it used so far.
pub fn usage(pid: u32) -> Option<(Memory, Duration)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib = |field: &str| -> Option<u64> {
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()
    };
    let (rss, anon) = (kib("VmRSS:")?, kib("RssAnon:")?);
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let pss: u64 = rollup
        .lines()
        .find_map(|l| l.strip_prefix("Pss:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command's closing parenthesis; utime and stime
    // are the 14th and 15th of the line.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // Linux reports CPU time in clock ticks of 1/100 s.
    let memory = Memory {
        rss: rss * 1024,
        anon: anon * 1024,
        pss: pss * 1024,
    };
    Some((memory, Duration::from_millis(ticks * 10)))
}

/// A process's memory, in bytes, or the most of each seen.
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    pub rss: u64,
    pub anon: u64,
    pub pss: u64,
}

impl Memory {
    fn max(self, other: Memory) -> Memory {
        Memory {
            rss: self.rss.max(other.rss),
            anon: self.anon.max(other.anon),
            pss: self.pss.max(other.pss),
        }
    }
}

/// Per node, the most memory seen and the CPU used over a phase.
#[derive(Debug, Clone, Default)]
pub struct Phase {
    pub started: Option<Instant>,
    pub ended: Option<Instant>,
    /// By node: (the most memory seen, CPU used in the phase, the
    /// process's CPU time at the last sample).
    pub nodes: Vec<Option<(Memory, Duration, Duration)>>,
}

impl Phase {
    pub fn sample(&mut self, index: usize, pid: u32) {
        let Some((memory, cpu)) = usage(pid) else {
            return;
        };
        if self.nodes.len() <= index {
            self.nodes.resize(index + 1, None);
        }
        let now = Instant::now();
        self.started.get_or_insert(now);
        self.ended = Some(now);
        match &mut self.nodes[index] {
            Some((max, used, last)) => {
                *max = max.max(memory);
                // A restarted process counts its CPU time from zero again.
                *used += if cpu >= *last { cpu - *last } else { cpu };
                *last = cpu;
            }
            slot @ None => *slot = Some((memory, Duration::ZERO, cpu)),
        }
    }

    /// (the most memory seen, mean share of one core) of node `index`.
    pub fn of(&self, index: usize) -> Option<(Memory, f64)> {
        let (max, used, _) = self.nodes.get(index).copied().flatten()?;
        let span = self.ended?.duration_since(self.started?).as_secs_f64();
        let cpu = if span > 0.0 {
            used.as_secs_f64() / span
        } else {
            0.0
        };
        Some((max, cpu))
    }
}
