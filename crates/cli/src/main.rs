//! `edufed`: runs a node (`serve`, `init`), a local demo network of three
//! (`demo`), and is the command-line client of one (`org`, `member`, `token`,
//! `agreement`, `watch`, `report`, `target`, `whoami`).

mod activity;
mod agreement;
mod audit;
mod backup;
mod booking;
mod client;
mod demo;
mod designation;
mod directory;
mod growth;
mod ics;
mod login;
mod mentoring;
mod node;
mod notify;
mod oidc;
mod output;
mod peer;
mod privacy;
mod region;
mod registration;
mod report;
mod resource;
mod route;
mod session;
mod trial;
mod values;
mod watch;
mod zones;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::client::Connection;
use crate::output::Format;

/// edufed: the coordination service of a regional education network.
#[derive(Debug, Parser)]
#[command(name = "edufed", version, about, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,

    #[command(flatten)]
    client: ClientArgs,
}

/// How client subcommands reach a node.
#[derive(Debug, Clone, Args)]
pub struct ClientArgs {
    /// The node's URL: http:// for plain gRPC, https:// for TLS.
    #[arg(
        long,
        global = true,
        env = "EDUFED_SERVER",
        default_value = "http://127.0.0.1:50051"
    )]
    server: String,
    /// An API token, as `edufed token create` prints it; --token-file keeps
    /// it out of the process list.
    #[arg(long, global = true, env = "EDUFED_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// A file holding the bearer token. Without --token or --token-file, the
    /// operator token of ./edufed-data (or $EDUFED_DATA_DIR) is used if present.
    #[arg(long, global = true, env = "EDUFED_TOKEN_FILE")]
    token_file: Option<PathBuf>,
    /// A PEM CA certificate to trust for https:// servers (e.g. a self-signed node).
    #[arg(long, global = true, env = "EDUFED_CA_CERT")]
    ca_cert: Option<PathBuf>,
    /// How to print results: tables for people, JSON for scripts.
    #[arg(long, short = 'o', global = true, value_enum, default_value = "table")]
    output: Format,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a node: gRPC and plain HTTP (/healthz, /metrics) on one port.
    Serve(node::ServeArgs),
    /// Create the node's identity, database and operator token without serving.
    Init(node::InitArgs),
    /// Copy the node's database (while it runs) into one file, with its key
    /// if asked; `edufed backup verify FILE` checks a copy.
    Backup(backup::BackupArgs),
    /// Restore a backup into a new database (SQLite or PostgreSQL, whichever
    /// the copy came from), before starting the node on it.
    Restore(backup::RestoreArgs),
    /// Run a local network of three federated nodes (a university node, a
    /// technopark node and the methodical centre's hub) loaded with the seed
    /// documents' organizations, activities, labs and agreements, and print
    /// what to try.
    Demo(demo::DemoArgs),
    /// Run a simulated region on this machine: a regional hub, a city hub
    /// per city and their schools, universities, technoparks and museums,
    /// each an `edufed serve` process, under a load of writes and faults;
    /// print how soon the regional hub sees a write, each node's memory
    /// and CPU, the hub's catch-up after an outage, and whether every node
    /// converged.
    Region(region::RegionArgs),
    /// Organizations hosted on the node.
    #[command(subcommand)]
    Org(directory::OrgCommand),
    /// People's roles in organizations.
    #[command(subcommand)]
    Member(directory::MemberCommand),
    /// API tokens.
    #[command(subcommand)]
    Token(directory::TokenCommand),
    /// Sign the command line in through the node's identity provider (the
    /// device flow: confirm a code in any browser); the token, good for 12
    /// hours, is kept for this node in your configuration directory.
    Login(login::LoginArgs),
    /// Revoke and forget the token `edufed login` kept for this node.
    Logout,
    /// Issue a one-time link that signs a person in to the web console (or,
    /// with --invitation, one that binds their identity provider's account).
    LoginLink(session::LoginLinkArgs),
    /// People's web console sessions.
    #[command(subcommand)]
    Session(session::SessionCommand),
    /// Notifications: preferences, webhooks, the outbox (status, retry,
    /// test).
    #[command(subcommand)]
    Notify(notify::NotifyCommand),
    /// OpenID Connect sign-in: check the configured issuers, list them, the
    /// accounts bound to people (and unbind one), an organization's
    /// required issuer.
    #[command(subcommand)]
    Oidc(oidc::OidcCommand),
    /// Activities of the network's calendar.
    #[command(subcommand)]
    Activity(Box<activity::ActivityCommand>),
    /// Cohorts registered for activities.
    #[command(subcommand)]
    Registration(registration::RegistrationCommand),
    /// Bookable resources: labs, rooms, equipment, specialists.
    #[command(subcommand)]
    Resource(Box<resource::ResourceCommand>),
    /// Bookings of resources.
    #[command(subcommand)]
    Booking(Box<booking::BookingCommand>),
    /// Busy time of resources.
    Freebusy(booking::FreeBusyArgs),
    /// Free slots across resources.
    #[command(subcommand)]
    Slot(booking::SlotCommand),
    /// iCalendar feeds.
    #[command(subcommand)]
    Ics(ics::IcsCommand),
    /// Network agreements: draft, propose, sign, amend, terminate, report.
    #[command(subcommand)]
    Agreement(Box<agreement::AgreementCommand>),
    /// Mentoring programmes, their pairs and groups, checkpoints and
    /// outcomes.
    #[command(subcommand)]
    Mentoring(Box<mentoring::MentoringCommand>),
    /// The network's bank of professional trials: prepare, review, find.
    #[command(subcommand)]
    Trial(Box<trial::TrialCommand>),
    /// Organizations' designations: resource centres, base sites,
    /// innovation sites with their documents.
    #[command(subcommand)]
    Designation(Box<designation::DesignationCommand>),
    /// Individual learning routes: templates from the network's offerings,
    /// routes assigned to cohorts, enrolled, followed and concluded.
    #[command(subcommand)]
    Route(Box<route::RouteCommand>),
    /// Teachers' professional growth by person, for those who agree: your
    /// agreement, the records, an organization's list.
    #[command(subcommand)]
    Growth(growth::GrowthCommand),
    /// The audit trail: who wrote which record, when, how and from where
    /// (an organization's admins for its records; the operator for all).
    Audit(audit::AuditArgs),
    /// Personal data: the register of what the node keeps, and a person's
    /// erasure on request.
    #[command(subcommand)]
    Privacy(privacy::PrivacyCommand),
    /// Peer nodes, pinned by the fingerprint of their key (operator only).
    #[command(subcommand)]
    Peer(peer::PeerCommand),
    /// Follow a pinned peer's change log into read-only mirrors (operator only).
    Subscribe(peer::SubscribeArgs),
    /// Stop following a peer (operator only).
    Unsubscribe(peer::UnsubscribeArgs),
    /// Stream the node's change log from a cursor.
    Watch(watch::WatchArgs),
    /// The methodical centre's reports: activities, participation,
    /// agreements, resources, indicators.
    Report(report::ReportArgs),
    /// Targets of the network's indicators.
    #[command(subcommand)]
    Target(report::TargetCommand),
    /// Enrolment each organization states per school year.
    #[command(subcommand)]
    Enrolment(report::EnrolmentCommand),
    /// Show who the token belongs to and the roles they hold.
    Whoami,
    /// Ask the node whether it serves (gRPC health: its database answers and
    /// it is not shutting down); exits 0 only when it does. A container's
    /// health check, where there is no curl.
    Health {
        /// One service, e.g. edufed.v1.Calendar; the node as a whole when
        /// not given.
        #[arg(long, default_value = "")]
        service: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if output::closed_pipe(&error) => {
            ExitCode::from(u8::try_from(output::CLOSED_PIPE_EXIT).unwrap_or(1))
        }
        Err(error) => {
            output::print_error(&error);
            ExitCode::FAILURE
        }
    }
}

/// `edufed health`: SERVING exits 0; anything else says what and fails.
async fn health(conn: Connection, service: String) -> anyhow::Result<()> {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_check_response::ServingStatus;
    let answer = conn
        .health()
        .check(HealthCheckRequest {
            service: service.clone(),
        })
        .await
        .map_err(|status| {
            anyhow::anyhow!(
                "the node answered {:?}: {}",
                status.code(),
                status.message()
            )
        })?
        .into_inner();
    let status = ServingStatus::try_from(answer.status).unwrap_or(ServingStatus::Unknown);
    output::out!("{}", status.as_str_name());
    anyhow::ensure!(
        status == ServingStatus::Serving,
        "the node is not serving{}",
        if service.is_empty() {
            String::new()
        } else {
            format!(" {service}")
        }
    );
    Ok(())
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => node::serve(args).await,
        Command::Init(args) => node::init(args).await,
        Command::Health { service } => {
            let conn = Connection::anonymous(&cli.client).await?;
            health(conn, service).await
        }
        Command::Backup(args) => backup::backup(args).await,
        Command::Restore(args) => backup::restore(args).await,
        Command::Demo(args) => demo::demo(args).await,
        Command::Region(args) => region::region(args).await,
        Command::Org(command) => {
            let conn = Connection::open(&cli.client).await?;
            directory::org(conn, command, cli.client.output).await
        }
        Command::Member(command) => {
            let conn = Connection::open(&cli.client).await?;
            directory::member(conn, command, cli.client.output).await
        }
        Command::Token(command) => {
            let conn = Connection::open(&cli.client).await?;
            directory::token(conn, command, cli.client.output).await
        }
        Command::Activity(command) => {
            let conn = Connection::open(&cli.client).await?;
            activity::activity(conn, *command, cli.client.output).await
        }
        Command::Registration(command) => {
            let conn = Connection::open(&cli.client).await?;
            registration::registration(conn, command, cli.client.output).await
        }
        Command::Resource(command) => {
            let conn = Connection::open(&cli.client).await?;
            resource::resource(conn, *command, cli.client.output).await
        }
        Command::Booking(command) => {
            let conn = Connection::open(&cli.client).await?;
            booking::booking(conn, *command, cli.client.output).await
        }
        Command::Freebusy(args) => {
            let conn = Connection::open(&cli.client).await?;
            booking::freebusy(conn, args, cli.client.output).await
        }
        Command::Slot(command) => {
            let conn = Connection::open(&cli.client).await?;
            booking::slot(conn, command, cli.client.output).await
        }
        Command::Ics(command) => {
            let conn = Connection::open(&cli.client).await?;
            ics::ics(conn, &cli.client.server, command).await
        }
        Command::Agreement(command) => agreement::agreement(&cli.client, *command).await,
        Command::Mentoring(command) => {
            let conn = Connection::open(&cli.client).await?;
            mentoring::mentoring(conn, *command, cli.client.output).await
        }
        Command::Trial(command) => {
            let conn = Connection::open(&cli.client).await?;
            trial::trial(conn, *command, cli.client.output).await
        }
        Command::Route(command) => {
            let conn = Connection::open(&cli.client).await?;
            route::route(conn, *command, cli.client.output).await
        }
        Command::Designation(command) => {
            let conn = Connection::open(&cli.client).await?;
            designation::designation(conn, *command, cli.client.output).await
        }
        Command::Growth(command) => {
            let conn = Connection::open(&cli.client).await?;
            growth::growth(conn, command, cli.client.output).await
        }
        Command::Audit(args) => {
            let conn = Connection::open(&cli.client).await?;
            audit::audit(conn, args, cli.client.output).await
        }
        Command::Privacy(command) => {
            let conn = Connection::open(&cli.client).await?;
            privacy::privacy(conn, command, cli.client.output).await
        }
        Command::Peer(command) => {
            let conn = Connection::open(&cli.client).await?;
            peer::peer(conn, command, cli.client.output).await
        }
        Command::Subscribe(args) => {
            let conn = Connection::open(&cli.client).await?;
            peer::subscribe(conn, args, cli.client.output).await
        }
        Command::Unsubscribe(args) => {
            let conn = Connection::open(&cli.client).await?;
            peer::unsubscribe(conn, args).await
        }
        Command::Watch(args) => {
            let conn = Connection::open(&cli.client).await?;
            watch::watch(conn, args, cli.client.output).await
        }
        Command::Report(args) => {
            let conn = Connection::open(&cli.client).await?;
            report::report(conn, args, cli.client.output).await
        }
        Command::Target(command) => {
            let conn = Connection::open(&cli.client).await?;
            report::target(conn, command, cli.client.output).await
        }
        Command::Enrolment(command) => {
            let conn = Connection::open(&cli.client).await?;
            report::enrolment(conn, command, cli.client.output).await
        }
        Command::Login(args) => login::login(&cli.client, args, cli.client.output).await,
        Command::Logout => login::logout(&cli.client).await,
        Command::LoginLink(args) => {
            let conn = Connection::open(&cli.client).await?;
            session::login_link(conn, args, cli.client.output).await
        }
        Command::Session(command) => {
            let conn = Connection::open(&cli.client).await?;
            session::session(conn, command, cli.client.output).await
        }
        Command::Oidc(command) => oidc::oidc(&cli.client, command).await,
        Command::Notify(command) => {
            let conn = Connection::open(&cli.client).await?;
            notify::notify(conn, command, cli.client.output).await
        }
        Command::Whoami => {
            let conn = Connection::open(&cli.client).await?;
            directory::whoami(conn, cli.client.output).await
        }
    }
}
