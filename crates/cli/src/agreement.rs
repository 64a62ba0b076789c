//! `edufed agreement …`: network agreements, from the draft to the printable page.

use std::collections::HashMap;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use clap::Subcommand;
use edufed_proto::v1 as pb;
use edufed_proto::v1::agreements_client::AgreementsClient;
use edufed_proto::v1::directory_client::DirectoryClient;
use prost_reflect::{DescriptorPool, DynamicMessage};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

use crate::ClientArgs;
use crate::output::{Format, print_json, table, time};

/// `edufed agreement …`
#[derive(Debug, Subcommand)]
pub enum AgreementCommand {
    /// Draft an agreement from a content file (AgreementContent as protobuf JSON).
    Draft {
        /// The initiating organization (id or slug); a party.
        #[arg(long)]
        initiator: String,
        /// The content: protobuf JSON of an AgreementContent; - reads stdin.
        #[arg(long)]
        file: PathBuf,
    },
    /// Replace a draft's content.
    Update {
        /// The agreement's id.
        id: String,
        /// The new content; - reads stdin.
        #[arg(long)]
        file: PathBuf,
        /// Refuse unless the agreement is still at this revision.
        #[arg(long = "expected-revision", value_name = "N")]
        rev: Option<u64>,
    },
    /// Freeze the draft and ask every party to sign.
    Propose {
        /// The agreement's id.
        id: String,
        /// Refuse unless the agreement is still at this revision.
        #[arg(long = "expected-revision", value_name = "N")]
        rev: Option<u64>,
    },
    /// Sign the version awaiting signatures for one party.
    Sign {
        /// The agreement's id.
        id: String,
        /// The party signing (id or slug).
        #[arg(long)]
        org: String,
        /// The version [default: the one awaiting signatures, with the content hash read now].
        #[arg(long)]
        version: Option<u32>,
    },
    /// Decline the version awaiting signatures, with a comment.
    Decline {
        /// The agreement's id.
        id: String,
        /// The party declining (id or slug).
        #[arg(long)]
        org: String,
        /// Why.
        #[arg(long)]
        comment: String,
        /// The version [default: the one awaiting signatures].
        #[arg(long)]
        version: Option<u32>,
    },
    /// Propose an amendment of an agreement in force: new content, signed again.
    Amend {
        /// The agreement's id.
        id: String,
        /// The party proposing it (id or slug).
        #[arg(long)]
        org: String,
        /// The amended content, complete; - reads stdin.
        #[arg(long)]
        file: PathBuf,
        /// Refuse unless the agreement is still at this revision.
        #[arg(long = "expected-revision", value_name = "N")]
        rev: Option<u64>,
    },
    /// End an agreement in force early, with the notice it requires.
    Terminate {
        /// The agreement's id.
        id: String,
        /// The party terminating it (id or slug).
        #[arg(long)]
        org: String,
        /// The first day no longer in force, YYYY-MM-DD [default: the earliest allowed].
        #[arg(long, value_name = "DATE")]
        effective_on: Option<String>,
        /// The grounds.
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// Show an agreement: its terms, parties and signatures.
    Show {
        /// The agreement's id.
        id: String,
    },
    /// List agreements by party, kind, state or expiry.
    List {
        /// Only those this organization (id or slug) is a party to.
        #[arg(long)]
        party: Option<String>,
        /// network_form, cooperation, network_interaction, innovation_site or other; repeatable.
        #[arg(long = "kind")]
        kinds: Vec<String>,
        /// draft, proposed, declined, signed, active, expired or terminated; repeatable.
        #[arg(long = "state")]
        states: Vec<String>,
        /// Only those in force whose term ends within this many days.
        #[arg(long, value_name = "DAYS")]
        expiring_within: Option<u32>,
        /// Agreements per page (1–100).
        #[arg(long, default_value_t = 50)]
        page_size: u32,
        /// Fetch every page, not just the first.
        #[arg(long)]
        all: bool,
    },
    /// Every transition of an agreement, oldest first.
    History {
        /// The agreement's id.
        id: String,
    },
    /// Fetch the printable HTML page of an agreement.
    Render {
        /// The agreement's id.
        id: String,
        /// The version [default: the latest].
        #[arg(long)]
        version: Option<u32>,
        /// Write it to this file instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// What an agreement delivered: hours by part, pledged hours used, cohorts reached.
    Report {
        /// The agreement's id.
        id: String,
    },
}

/// Adds `authorization: Bearer …` when there is a token.
#[derive(Clone)]
pub struct Auth(Option<MetadataValue<Ascii>>);

impl Interceptor for Auth {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

type Authed = InterceptedService<Channel, Auth>;

/// A channel to the node and the caller's bearer token. It mirrors
/// `client::Connection`, which offers no Agreements client and keeps its
/// channel and token to itself; the printable page needs both.
struct Session {
    channel: Channel,
    auth: Auth,
}

impl Session {
    async fn open(args: &ClientArgs) -> anyhow::Result<Self> {
        let bearer = match token(args)? {
            Some(token) => Some(
                format!("Bearer {token}")
                    .parse()
                    .context("the token holds characters a header cannot carry")?,
            ),
            None => None,
        };
        let mut endpoint = Endpoint::from_shared(args.server.clone())
            .with_context(|| format!("{:?} is not a URL", args.server))?
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60));
        if args.server.starts_with("https://") {
            let mut tls = ClientTlsConfig::new().with_webpki_roots();
            if let Some(ca) = &args.ca_cert {
                let pem =
                    std::fs::read(ca).with_context(|| format!("cannot read {}", ca.display()))?;
                tls = tls.ca_certificate(Certificate::from_pem(pem));
            }
            endpoint = endpoint.tls_config(tls)?;
        }
        let channel = endpoint
            .connect()
            .await
            .with_context(|| format!("cannot connect to {}", args.server))?;
        Ok(Self {
            channel,
            auth: Auth(bearer),
        })
    }

    fn agreements(&self) -> AgreementsClient<Authed> {
        AgreementsClient::with_interceptor(self.channel.clone(), self.auth.clone())
    }

    fn directory(&self) -> DirectoryClient<Authed> {
        DirectoryClient::with_interceptor(self.channel.clone(), self.auth.clone())
    }

    /// `GET path` over the node's channel (HTTP/2, TLS as for calls), with
    /// the bearer token; the body of a 200 answer, else the body as the error.
    async fn get_page(&self, path: &str) -> anyhow::Result<Vec<u8>> {
        use tonic::codegen::{Body as _, Service as _};
        let mut request = http::Request::builder().method(http::Method::GET).uri(path);
        if let Some(value) = &self.auth.0 {
            request = request.header(http::header::AUTHORIZATION, value.to_str()?);
        }
        let request = request.body(tonic::body::Body::empty())?;
        let mut channel = self.channel.clone();
        std::future::poll_fn(|cx| channel.poll_ready(cx)).await?;
        let response = channel
            .call(request)
            .await
            .with_context(|| format!("cannot fetch {path}"))?;
        let status = response.status();
        let mut body = std::pin::pin!(response.into_body());
        let mut bytes = Vec::new();
        while let Some(frame) = std::future::poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
            if let Ok(data) = frame?.into_data() {
                bytes.extend_from_slice(&data);
            }
        }
        if status != http::StatusCode::OK {
            let text = String::from_utf8_lossy(&bytes);
            bail!("{} ({status})", text.trim());
        }
        Ok(bytes)
    }
}

/// Whether the URL names this machine (where the local operator token may go).
fn is_loopback(server: &str) -> bool {
    let Ok(uri) = server.parse::<http::Uri>() else {
        return false;
    };
    match uri.host() {
        Some("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

/// The token, found as `client::Connection` finds it: `--token`, else
/// `--token-file`, else, for a node on this machine, the local operator token.
fn token(args: &ClientArgs) -> anyhow::Result<Option<String>> {
    if let Some(token) = &args.token {
        return Ok(Some(token.trim().to_owned()));
    }
    let (path, explicit) = match &args.token_file {
        Some(path) => (path.clone(), true),
        None if !is_loopback(&args.server) => return Ok(None),
        None => {
            let data_dir = std::env::var_os("EDUFED_DATA_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("edufed-data"));
            (data_dir.join(edufed_server::OPERATOR_TOKEN_FILE), false)
        }
    };
    match std::fs::read_to_string(&path) {
        Ok(token) if !token.trim().is_empty() => Ok(Some(token.trim().to_owned())),
        Ok(_) if explicit => bail!("the token file {} is empty", path.display()),
        Err(error) if explicit => {
            Err(error).with_context(|| format!("cannot read the token file {}", path.display()))
        }
        _ => Ok(None),
    }
}

fn pool() -> &'static DescriptorPool {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    POOL.get_or_init(|| {
        DescriptorPool::decode(edufed_proto::FILE_DESCRIPTOR_SET)
            .unwrap_or_else(|_| DescriptorPool::new())
    })
}

/// An `AgreementContent` from protobuf JSON: field names as in the .proto
/// file or in camelCase, enum values by name; unknown fields refused.
fn parse_content(text: &str) -> anyhow::Result<pb::AgreementContent> {
    let name = <pb::AgreementContent as prost::Name>::full_name();
    let descriptor = pool()
        .get_message_by_name(&name)
        .with_context(|| format!("the descriptor set has no {name}"))?;
    let mut json = serde_json::Deserializer::from_str(text);
    let message = DynamicMessage::deserialize(descriptor, &mut json)?;
    json.end()?;
    Ok(message.transcode_to::<pb::AgreementContent>()?)
}

/// The content in `path`, or in stdin for `-`.
fn read_content(path: &Path) -> anyhow::Result<pb::AgreementContent> {
    let (name, text) = if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the content from stdin")?;
        ("stdin".to_owned(), text)
    } else {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        (path.display().to_string(), text)
    };
    parse_content(&text)
        .map_err(|error| anyhow!("{name} is not an AgreementContent in protobuf JSON: {error:#}"))
}

const KINDS: &str = "network_form, cooperation, network_interaction, innovation_site, other";
const STATES: &str = "draft, proposed, declined, signed, active, expired, terminated";

/// Lowercase names given on the command line as enum values.
fn enum_values(
    raw: &[String],
    prefix: &str,
    from_name: fn(&str) -> Option<i32>,
    known: &str,
) -> anyhow::Result<Vec<i32>> {
    raw.iter()
        .map(|r| {
            let name = format!(
                "{prefix}{}",
                r.trim().to_ascii_uppercase().replace('-', "_")
            );
            match from_name(&name) {
                Some(v) if v != 0 => Ok(v),
                _ => bail!("unknown {r:?}: one of {known}"),
            }
        })
        .collect()
}

/// An enum value's name without its prefix, lowercase.
macro_rules! label {
    ($ty:ty, $value:expr, $prefix:literal) => {
        <$ty>::try_from($value).map_or(String::new(), |v| {
            v.as_str_name()
                .trim_start_matches($prefix)
                .to_ascii_lowercase()
        })
    };
}

fn kind_value(name: &str) -> Option<i32> {
    pb::AgreementKind::from_str_name(name).map(|v| v as i32)
}

fn state_value(name: &str) -> Option<i32> {
    pb::AgreementState::from_str_name(name).map(|v| v as i32)
}

fn state_name(state: i32) -> String {
    label!(pb::AgreementState, state, "AGREEMENT_STATE_")
}

fn kind_name(kind: i32) -> String {
    label!(pb::AgreementKind, kind, "AGREEMENT_KIND_")
}

/// Hours without needless decimals.
fn hours(h: f64) -> String {
    if h.fract() == 0.0 {
        format!("{h:.0}")
    } else {
        format!("{h:.2}")
    }
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// The version a reader cares about: the one in force, else the latest.
fn current(a: &pb::Agreement) -> Option<&pb::AgreementVersion> {
    a.versions
        .iter()
        .find(|v| a.in_force_version != 0 && v.number == a.in_force_version)
        .or(a.versions.last())
}

fn term(c: &pb::AgreementContent) -> String {
    format!("{} – {}", c.valid_from, c.valid_to)
}

/// Organization ids as their slugs, looked up once each; the id when the
/// lookup fails.
struct Names {
    directory: DirectoryClient<Authed>,
    known: HashMap<String, String>,
}

impl Names {
    fn new(session: &Session) -> Self {
        Self {
            directory: session.directory(),
            known: HashMap::new(),
        }
    }

    async fn of(&mut self, id: &str) -> String {
        if id.is_empty() {
            return String::new();
        }
        if let Some(name) = self.known.get(id) {
            return name.clone();
        }
        let name = self
            .directory
            .get_organization(pb::GetOrganizationRequest {
                organization: id.to_owned(),
            })
            .await
            .map(|o| o.into_inner().slug)
            .unwrap_or_else(|_| id.to_owned());
        self.known.insert(id.to_owned(), name.clone());
        name
    }

    async fn all(&mut self, ids: &[String]) -> String {
        let mut names = Vec::with_capacity(ids.len());
        for id in ids {
            names.push(self.of(id).await);
        }
        names.join(", ")
    }
}

/// What a change left: the state, and who has yet to sign.
async fn print_outcome(a: &pb::Agreement, format: Format, names: &mut Names) -> anyhow::Result<()> {
    if format == Format::Json {
        return print_json(a);
    }
    println!(
        "agreement {}: {} (revision {})",
        a.id,
        state_name(a.state),
        a.revision
    );
    if a.awaiting_version != 0 {
        println!(
            "version {} awaits signatures of: {}",
            a.awaiting_version,
            names.all(&a.awaiting_parties).await
        );
    }
    Ok(())
}

async fn print_agreement(
    a: &pb::Agreement,
    format: Format,
    names: &mut Names,
) -> anyhow::Result<()> {
    if format == Format::Json {
        return print_json(a);
    }
    let shown = current(a).cloned().unwrap_or_default();
    let c = shown.content.clone().unwrap_or_default();
    let in_force = if a.in_force_version != 0 {
        format!(" (version {} in force)", a.in_force_version)
    } else {
        String::new()
    };
    let mut lines = vec![
        ("agreement", a.id.clone()),
        ("state", format!("{}{in_force}", state_name(a.state))),
        ("number", c.number.clone()),
        ("title", c.title.clone()),
        ("kind", kind_name(c.kind)),
        ("term", format!("{} ({})", term(&c), a.time_zone)),
        ("initiator", names.of(&a.initiator_id).await),
    ];
    if a.awaiting_version != 0 {
        let hash = a
            .versions
            .iter()
            .find(|v| v.number == a.awaiting_version)
            .map(|v| v.content_hash.clone())
            .unwrap_or_default();
        lines.push((
            "awaiting",
            format!("version {} (content hash {hash})", a.awaiting_version),
        ));
        lines.push(("to sign", names.all(&a.awaiting_parties).await));
    }
    lines.push(("ends", time(a.ends_at.as_ref())));
    lines.push(("revision", a.revision.to_string()));
    for (key, value) in lines {
        println!("{key:<10} {value}");
    }

    // The parties of the version shown, then any an amendment adds.
    let mut parties = c.parties.clone();
    if let Some(awaiting) = a
        .versions
        .iter()
        .find(|v| v.number == a.awaiting_version)
        .and_then(|v| v.content.as_ref())
    {
        for p in &awaiting.parties {
            if !parties.iter().any(|q| q.org == p.org) {
                parties.push(p.clone());
            }
        }
    }
    let mut t = table(&["party", "role", "signatory", "signed"]);
    for p in &parties {
        let s = p.signatory.clone().unwrap_or_default();
        let signed = a
            .versions
            .iter()
            .flat_map(|v| &v.signatures)
            .filter(|sig| sig.org_id == p.org)
            .map(|sig| {
                format!(
                    "v{} {}, verified: {}",
                    sig.version,
                    time(sig.signed_at.as_ref()),
                    yes_no(sig.verified)
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        t.add_row(vec![
            names.of(&p.org).await,
            label!(pb::PartyRole, p.role, "PARTY_ROLE_"),
            [s.name, s.position]
                .into_iter()
                .filter(|x| !x.is_empty())
                .collect::<Vec<_>>()
                .join(", "),
            if signed.is_empty() {
                "—".to_owned()
            } else {
                signed
            },
        ]);
    }
    println!("{t}");
    for v in &a.versions {
        if let Some(d) = &v.declined {
            println!(
                "version {} declined by {} at {}: {}",
                v.number,
                names.of(&d.org_id).await,
                time(d.at.as_ref()),
                d.comment
            );
        }
    }
    Ok(())
}

fn print_list(list: &[pb::Agreement]) {
    let mut t = table(&["id", "state", "kind", "number", "title", "term", "ends"]);
    for a in list {
        let c = current(a)
            .and_then(|v| v.content.clone())
            .unwrap_or_default();
        t.add_row(vec![
            a.id.clone(),
            state_name(a.state),
            kind_name(c.kind),
            c.number.clone(),
            c.title.clone(),
            term(&c),
            time(a.ends_at.as_ref()),
        ]);
    }
    println!("{t}");
}

async fn print_history(
    h: &pb::AgreementHistory,
    format: Format,
    names: &mut Names,
) -> anyhow::Result<()> {
    if format == Format::Json {
        return print_json(h);
    }
    let mut t = table(&[
        "seq", "at", "action", "version", "state", "actor", "org", "comment",
    ]);
    for e in &h.events {
        t.add_row(vec![
            e.seq.to_string(),
            time(e.at.as_ref()),
            e.action.clone(),
            e.version.to_string(),
            state_name(e.state),
            e.actor.clone(),
            names.of(&e.org_id).await,
            e.comment.clone(),
        ]);
    }
    println!("{t}");
    Ok(())
}

async fn print_report(
    r: &pb::AgreementReport,
    format: Format,
    names: &mut Names,
) -> anyhow::Result<()> {
    if format == Format::Json {
        return print_json(r);
    }
    println!(
        "agreement {}, version {}, as of {}",
        r.agreement_id,
        r.version,
        time(r.as_of.as_ref())
    );
    let mut parts = table(&["part", "party", "planned h", "delivered h", "scheduled h"]);
    for p in &r.parts {
        parts.add_row(vec![
            if p.part.is_empty() {
                "(no part)".to_owned()
            } else {
                p.part.clone()
            },
            names.of(&p.org_id).await,
            hours(p.planned_hours),
            hours(p.delivered_hours),
            hours(p.scheduled_hours),
        ]);
    }
    println!("{parts}");
    let mut pledges = table(&[
        "party",
        "resource",
        "per period",
        "pledged h",
        "used h",
        "booked h",
        "pending h",
    ]);
    for p in &r.pledges {
        let resource = if p.resource_id.is_empty() {
            p.description.clone()
        } else {
            format!("{} ({})", p.description, p.resource_id)
        };
        pledges.add_row(vec![
            names.of(&p.org_id).await,
            resource,
            format!(
                "{} h / {}",
                p.hours_per_period,
                label!(pb::PledgePeriod, p.period, "PLEDGE_PERIOD_")
            ),
            hours(p.pledged_hours),
            hours(p.used_hours),
            hours(p.booked_hours),
            hours(p.pending_hours),
        ]);
    }
    println!("{pledges}");
    let mut reach = table(&["org", "cohorts", "headcount", "attended"]);
    for c in &r.reach {
        reach.add_row(vec![
            names.of(&c.org_id).await,
            c.cohorts.to_string(),
            c.headcount.to_string(),
            c.attended.to_string(),
        ]);
    }
    println!("{reach}");
    let planned = if r.planned_students == 0 {
        String::new()
    } else {
        format!(" (planned students: {})", r.planned_students)
    };
    let mut totals = table(&["total", ""]);
    for (key, value) in [
        ("cohorts", r.cohorts.to_string()),
        ("headcount", format!("{}{planned}", r.headcount)),
        ("attended", r.attended.to_string()),
        ("activities held", r.activities_held.to_string()),
        ("occurrences held", r.occurrences_held.to_string()),
        ("occurrences cancelled", r.occurrences_cancelled.to_string()),
        ("bookings used", r.bookings_used.to_string()),
    ] {
        totals.add_row(vec![key.to_owned(), value]);
    }
    println!("{totals}");
    Ok(())
}

/// An agreement id as one URL path segment.
fn path_segment(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The version awaiting signatures, and its content hash, as read now.
async fn awaiting(
    client: &mut AgreementsClient<Authed>,
    agreement: &str,
) -> anyhow::Result<(u32, String)> {
    let a = client
        .get_agreement(get(agreement.to_owned()))
        .await?
        .into_inner();
    if a.awaiting_version == 0 {
        bail!(
            "agreement {agreement} is {}: no version awaits signatures",
            state_name(a.state)
        );
    }
    let hash = a
        .versions
        .iter()
        .find(|v| v.number == a.awaiting_version)
        .map(|v| v.content_hash.clone())
        .unwrap_or_default();
    Ok((a.awaiting_version, hash))
}

fn get(id: String) -> pb::GetAgreementRequest {
    pb::GetAgreementRequest { agreement_id: id }
}

/// Runs `edufed agreement …`.
pub async fn agreement(args: &ClientArgs, command: AgreementCommand) -> anyhow::Result<()> {
    use AgreementCommand as C;
    let format = args.output;
    let session = Session::open(args).await?;
    let mut client = session.agreements();
    let mut names = Names::new(&session);
    let changed = match command {
        C::Draft { initiator, file } => {
            let content = Some(read_content(&file)?);
            let request = pb::DraftAgreementRequest { initiator, content };
            client.draft_agreement(request).await?
        }
        C::Update { id, file, rev } => {
            let request = pb::UpdateAgreementRequest {
                agreement_id: id,
                content: Some(read_content(&file)?),
                expected_revision: rev.unwrap_or(0),
            };
            client.update_agreement(request).await?
        }
        C::Propose { id, rev } => {
            let request = pb::ProposeAgreementRequest {
                agreement_id: id,
                expected_revision: rev.unwrap_or(0),
            };
            client.propose_agreement(request).await?
        }
        C::Sign { id, org, version } => {
            // Sign exactly what was read: the node refuses if the hash moved.
            let (version, content_hash) = match version {
                Some(v) => (v, String::new()),
                None => awaiting(&mut client, &id).await?,
            };
            let request = pb::SignAgreementRequest {
                agreement_id: id,
                org,
                version,
                content_hash,
            };
            client.sign_agreement(request).await?
        }
        C::Decline {
            id,
            org,
            comment,
            version,
        } => {
            let version = match version {
                Some(v) => v,
                None => awaiting(&mut client, &id).await?.0,
            };
            let request = pb::DeclineAgreementRequest {
                agreement_id: id,
                org,
                version,
                comment,
            };
            client.decline_agreement(request).await?
        }
        C::Amend { id, org, file, rev } => {
            let request = pb::AmendAgreementRequest {
                agreement_id: id,
                org,
                content: Some(read_content(&file)?),
                expected_revision: rev.unwrap_or(0),
            };
            client.amend_agreement(request).await?
        }
        C::Terminate {
            id,
            org,
            effective_on,
            comment,
        } => {
            let request = pb::TerminateAgreementRequest {
                agreement_id: id,
                org,
                effective_on: effective_on.unwrap_or_default(),
                comment,
            };
            client.terminate_agreement(request).await?
        }
        C::Show { id } => {
            let a = client.get_agreement(get(id)).await?.into_inner();
            return print_agreement(&a, format, &mut names).await;
        }
        C::List {
            party,
            kinds,
            states,
            expiring_within,
            page_size,
            all,
        } => {
            let kinds = enum_values(&kinds, "AGREEMENT_KIND_", kind_value, KINDS)?;
            let states = enum_values(&states, "AGREEMENT_STATE_", state_value, STATES)?;
            let mut request = pb::ListAgreementsRequest {
                party: party.unwrap_or_default(),
                kinds,
                states,
                expiring_within_days: expiring_within.unwrap_or(0),
                page_size,
                page_token: String::new(),
            };
            let mut found = pb::ListAgreementsResponse::default();
            loop {
                let page = client.list_agreements(request.clone()).await?.into_inner();
                found.agreements.extend(page.agreements);
                found.next_page_token = page.next_page_token;
                if !all || found.next_page_token.is_empty() {
                    break;
                }
                request.page_token = found.next_page_token.clone();
            }
            if format == Format::Json {
                return print_json(&found);
            }
            print_list(&found.agreements);
            if !found.next_page_token.is_empty() {
                println!("more agreements: repeat with --all");
            }
            return Ok(());
        }
        C::History { id } => {
            let h = client.get_agreement_history(get(id)).await?.into_inner();
            return print_history(&h, format, &mut names).await;
        }
        C::Render { id, version, out } => {
            let mut path = format!("/agreements/{}.html", path_segment(&id));
            if let Some(v) = version {
                path.push_str(&format!("?version={v}"));
            }
            let page = session.get_page(&path).await?;
            let Some(file) = out else {
                let mut stdout = std::io::stdout().lock();
                stdout.write_all(&page)?;
                return Ok(stdout.flush()?);
            };
            std::fs::write(&file, &page)
                .with_context(|| format!("cannot write {}", file.display()))?;
            if format == Format::Table {
                println!("wrote {} ({} bytes)", file.display(), page.len());
            }
            return Ok(());
        }
        C::Report { id } => {
            let r = client.get_agreement_report(get(id)).await?.into_inner();
            return print_report(&r, format, &mut names).await;
        }
    };
    print_outcome(&changed.into_inner(), format, &mut names).await
}

#[cfg(test)]
mod tests {
    use super::{parse_content, path_segment};

    #[test]
    fn content_accepts_proto_and_camel_case_names_and_enum_names() {
        let c = parse_content(
            r#"{"kind": "AGREEMENT_KIND_NETWORK_FORM", "valid_from": "2026-09-01",
                "validTo": "2027-05-31", "terminationNoticeDays": 30,
                "resources": [{"org": "x", "hours": 70, "period": "PLEDGE_PERIOD_TERM"}]}"#,
        )
        .unwrap();
        assert_eq!(c.kind, 1);
        assert_eq!(c.valid_from, "2026-09-01");
        assert_eq!(c.valid_to, "2027-05-31");
        assert_eq!(c.termination_notice_days, 30);
        assert_eq!(c.resources[0].period, 1);
    }

    #[test]
    fn content_refuses_unknown_fields_and_values() {
        let error = parse_content(r#"{"titel": "x"}"#).unwrap_err().to_string();
        assert!(error.contains("titel"), "{error}");
        assert!(parse_content(r#"{"kind": "AGREEMENT_KIND_NOPE"}"#).is_err());
        assert!(parse_content("{} trailing").is_err());
    }

    #[test]
    fn ids_are_one_path_segment() {
        assert_eq!(path_segment("0193-ab_c"), "0193-ab_c");
        assert_eq!(path_segment("a/b?c"), "a%2Fb%3Fc");
    }
}
