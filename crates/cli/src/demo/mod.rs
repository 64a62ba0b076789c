//! `edufed demo`: a local network of three real nodes in one process (a
//! university node, a technopark node and the methodical centre's hub), each
//! with its own SQLite data directory, loaded with the organizations,
//! resources, activities and agreements of the seed documents through the
//! nodes' own gRPC APIs, pinned to each other and following each other's
//! change logs. It prints what to try, then serves until Ctrl-C.
//!
//! The seeds give most facts but not all: where the demo needs a value they
//! do not state (a date, a format, a capacity, a signatory), the record says
//! so in its own text, so that nothing assumed passes for a fact.

mod careers;
mod guide;
mod load;
mod mentoring;
mod nodes;
mod past;
mod people;
mod records;
mod seeds;
mod timing;

use std::collections::BTreeMap;
use std::io::{IsTerminal as _, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, anyhow, bail};
use chrono::{NaiveDate, Utc};
use clap::Args;
use edufed_domain::time::Clock;
use tracing_subscriber::EnvFilter;

use self::nodes::{DemoNode, Site, await_mirrors, federate, start_node, stop_all};

/// Arguments of `edufed demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where the nodes keep their data, the tokens and the demo's record
    /// [default: a new directory in the system's temporary directory, kept].
    /// A directory that holds a demo already is reused as it is.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// The university node listens on this loopback port, the technopark
    /// node on the next and the hub on the one after; 0 picks free ports.
    #[arg(long, default_value_t = 50061)]
    base_port: u16,
    /// Exit once the network is ready and the guide is printed, instead of
    /// serving until Ctrl-C.
    #[arg(long)]
    exit_when_ready: bool,
}

/// The file that records a fully loaded demo directory.
const MANIFEST_FILE: &str = "demo.json";
/// The file that marks a demo directory being loaded.
const LOADING_FILE: &str = "loading";
/// The folder of the organizations' admin tokens.
const TOKENS_DIR: &str = "tokens";
/// The folder of agreement contents, as `edufed agreement draft` reads them.
const AGREEMENTS_DIR: &str = "agreements";

/// An organization as loaded.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct LoadedOrg {
    id: String,
    node: String,
    short_name: String,
}

/// What a loaded demo directory records, for the guide and for reuse.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Manifest {
    /// By slug.
    organizations: BTreeMap<String, LoadedOrg>,
    /// The lab the guide books: (id, name).
    lab_id: String,
    lab_name: String,
    /// The cross-node agreement the guide signs, if its node took it.
    agreement_id: Option<String>,
    /// Where its content is, for `edufed agreement draft`.
    agreement_file: PathBuf,
    /// What was loaded, in lines for people.
    summary: Vec<String>,
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

fn token_file(dir: &Path, slug: &str) -> PathBuf {
    dir.join(TOKENS_DIR).join(format!("{slug}.token"))
}

fn init_logging() {
    // Quiet by default, so that the guide stands out; EDUFED_LOG as for
    // serve. Links to peers are left out too, and with them the worker
    // runner's errors (a link going down is one; so would be any worker's):
    // a reused demo's nodes first try their peers' old ports, and the demo
    // reports a link that does not come up itself (as `edufed peer status`
    // does).
    let filter = std::env::var("EDUFED_LOG")
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| {
            EnvFilter::new("warn,edufed_federation::sync=error,edufed_worker=error")
        });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}

/// SIGINT (Ctrl-C) and SIGTERM, registered once.
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> anyhow::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            interrupt: signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?,
            terminate: signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?,
        })
    }

    async fn next(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}

/// Whether `dir` holds a loaded demo (`Some`), or may take a new one (`None`).
fn existing(dir: &Path) -> anyhow::Result<Option<Manifest>> {
    let path = dir.join(MANIFEST_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let manifest = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a demo's record", path.display()))?;
            Ok(Some(manifest))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            // Nodes that started but were never loaded are fine to load now;
            // a load that began and did not finish cannot be resumed.
            if dir.join(LOADING_FILE).exists() {
                bail!(
                    "{} holds a demo whose loading did not finish; remove it or give another --dir",
                    dir.display()
                );
            }
            Ok(None)
        }
        Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// A new directory in the system's temporary directory.
fn fresh_dir() -> anyhow::Result<PathBuf> {
    let base = std::env::temp_dir();
    for _ in 0..16 {
        let dir = base.join(format!("edufed-demo-{:08x}", rand::random::<u32>()));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(error) => {
                return Err(error).with_context(|| format!("cannot create {}", dir.display()));
            }
        }
    }
    bail!("cannot find a free directory name in {}", base.display())
}

/// Loads (or finds loaded), federates, waits for the mirrors, and returns the guide.
async fn prepare(
    dir: &Path,
    nodes: &[DemoNode],
    found: Option<Manifest>,
    clock: &Clock,
    today: NaiveDate,
) -> anyhow::Result<String> {
    let started = Instant::now();
    let manifest = match found {
        Some(manifest) => {
            federate(nodes).await?;
            manifest
        }
        None => {
            let marker = dir.join(LOADING_FILE);
            write_private(&marker, "")?;
            let manifest = load::load(dir, nodes, clock, today).await?;
            std::fs::remove_file(&marker)
                .with_context(|| format!("cannot remove {}", marker.display()))?;
            manifest
        }
    };
    let mirrored = await_mirrors(
        &nodes[Site::University.index()],
        &nodes[Site::Hub.index()],
        &manifest.organizations,
    )
    .await?;
    let invitations = people::invitations(dir, nodes).await?;
    tracing::info!(elapsed_ms = started.elapsed().as_millis(), "demo ready");
    guide::guide(dir, nodes, &manifest, mirrored, &invitations, today)
}

/// Runs `edufed demo`.
pub async fn demo(args: DemoArgs) -> anyhow::Result<()> {
    init_logging();
    let mut signals = Signals::new()?;
    let dir = match &args.dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            dir.clone()
        }
        None => fresh_dir()?,
    };
    let dir =
        std::fs::canonicalize(&dir).with_context(|| format!("cannot resolve {}", dir.display()))?;
    let found = existing(&dir)?;
    if found.is_some() {
        println!("reusing the demo in {}", dir.display());
    } else {
        println!("starting a demo network in {}", dir.display());
    }

    // A fresh demo loads its past at its dates: the nodes share one clock,
    // which the loading sets back and then lets go to the present.
    let clock = if found.is_none() {
        Clock::manual(Utc::now())
    } else {
        Clock::system()
    };
    let mut nodes = Vec::new();
    for site in Site::ALL {
        match start_node(&dir, site, args.base_port, &clock).await {
            Ok(node) => nodes.push(node),
            Err(error) => {
                stop_all(nodes).await;
                return Err(error);
            }
        }
    }

    let today = Utc::now().date_naive();
    let ready = tokio::select! {
        ready = prepare(&dir, &nodes, found, &clock, today) => ready,
        () = signals.next() => Err(anyhow!("interrupted before the demo was ready")),
    };
    let guide = match ready {
        Ok(guide) => guide,
        Err(error) => {
            stop_all(nodes).await;
            return Err(error);
        }
    };
    print!("{guide}");
    if args.exit_when_ready {
        println!();
        println!("ready; stopping the nodes (--exit-when-ready)");
    } else {
        println!();
        println!("Serving; press Ctrl-C to stop the nodes (the directory stays for next time).");
        std::io::stdout().flush().ok();
        signals.next().await;
        println!("stopping the nodes; press Ctrl-C again to exit at once");
        tokio::spawn(async move {
            signals.next().await;
            std::process::exit(130);
        });
    }
    std::io::stdout().flush().ok();
    stop_all(nodes).await;
    Ok(())
}
