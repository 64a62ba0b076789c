//! `edufed serve` and `edufed init`.

use std::io::IsTerminal as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use edufed_server::{Node, Overrides, Settings};
use tracing_subscriber::EnvFilter;

/// Settings given as flags; each also reads `EDUFED_<NAME>` and the
/// `--config` file, flags winning.
#[derive(Debug, Clone, Args)]
pub struct SettingsArgs {
    /// A TOML file of these settings; flags given win over it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Address for gRPC and HTTP [default: 127.0.0.1:50051].
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// The node's data directory [default: ./edufed-data].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// sqlite://… or postgres://… [default: SQLite in the data directory].
    #[arg(long)]
    database_url: Option<String>,
    /// PEM certificate chain to serve TLS with.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key to serve TLS with.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// PEM CA certificates: require client certificates signed by them.
    #[arg(long)]
    tls_client_ca: Option<PathBuf>,
    /// Allow plaintext on a non-loopback address.
    #[arg(long)]
    insecure: bool,
    /// How logs are written to stderr.
    #[arg(long, value_enum, default_value = "text")]
    log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    /// Lines for people.
    Text,
    /// One JSON object a line, for a log collector.
    Json,
}

impl SettingsArgs {
    pub(crate) fn settings(&self) -> anyhow::Result<Settings> {
        let flags = Overrides {
            listen: self.listen,
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            tls_cert: self.tls_cert.clone(),
            tls_key: self.tls_key.clone(),
            tls_client_ca: self.tls_client_ca.clone(),
            insecure: self.insecure.then_some(true),
        };
        Settings::load(self.config.as_deref(), &flags)
    }

    fn init_logging(&self) {
        // EDUFED_LOG (or RUST_LOG) in tracing's filter syntax, "info" by default.
        let filter = std::env::var("EDUFED_LOG")
            .ok()
            .and_then(|f| EnvFilter::try_new(f).ok())
            .or_else(|| EnvFilter::try_from_default_env().ok())
            .unwrap_or_else(|| EnvFilter::new("info"));
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(std::io::stderr);
        let _ = match self.log_format {
            LogFormat::Text => builder.try_init(),
            LogFormat::Json => builder.json().try_init(),
        };
    }
}

/// Arguments of `edufed serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    settings: SettingsArgs,
}

/// Arguments of `edufed init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    #[command(flatten)]
    settings: SettingsArgs,
    /// Issue a new operator token even if the node exists (the old ones stay
    /// valid until revoked).
    #[arg(long)]
    rotate_operator_token: bool,
    /// Also create a self-signed TLS certificate for the node (server and
    /// client use), for serving and for mutual TLS with peers.
    #[arg(long)]
    self_signed_cert: bool,
    /// A DNS name or IP address the certificate covers, besides localhost
    /// and 127.0.0.1; repeatable.
    #[arg(long = "cert-name", requires = "self_signed_cert")]
    cert_names: Vec<String>,
}

fn print_report(report: &edufed_server::InitReport) {
    if report.created {
        println!("created node {}", report.node_id);
    } else {
        println!("node {}", report.node_id);
    }
    println!("  data directory: {}", report.data_dir.display());
    println!("  database:       {}", report.database);
    if let Some(path) = &report.operator_token_file {
        println!(
            "  operator token written to {} (keep it secret)",
            path.display()
        );
    }
}

/// Runs a node until SIGINT or SIGTERM; a second signal exits at once.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    args.settings.init_logging();
    let settings = args.settings.settings()?;
    // Listen for signals before the node says it serves, so that a signal
    // sent as soon as it does is a graceful stop, not a kill.
    let mut signals = Signals::new()?;
    let (node, report) = Node::start(settings).await?;
    print_report(&report);
    println!("serving gRPC and HTTP on {}", node.url());

    let shutdown = node.shutdown_token();
    tokio::spawn(async move {
        signals.next().await;
        tracing::info!("shutting down; send the signal again to exit at once");
        shutdown.cancel();
        signals.next().await;
        tracing::warn!("second signal: exiting without draining");
        std::process::exit(130);
    });
    node.wait().await
}

/// Creates the node's identity and database without serving.
pub async fn init(args: InitArgs) -> anyhow::Result<()> {
    args.settings.init_logging();
    let settings = args.settings.settings()?;
    let report = edufed_server::initialize(&settings, args.rotate_operator_token).await?;
    print_report(&report);
    if !report.created && report.operator_token_file.is_none() && !args.self_signed_cert {
        println!("  already initialized; --rotate-operator-token issues a new operator token");
    }
    if args.self_signed_cert {
        let (cert, key) = edufed_server::self_signed_certificate(&settings, &args.cert_names)?;
        println!("  TLS certificate written to {}", cert.display());
        println!("  TLS key written to {} (keep it secret)", key.display());
        println!(
            "  serve with --tls-cert {} --tls-key {}; peers list the certificate in their peer_ca",
            cert.display(),
            key.display()
        );
    }
    Ok(())
}

/// SIGINT and SIGTERM, registered once.
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> anyhow::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    async fn next(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}
