//! `edufed agreement …`: network agreements, from the draft to the printable page.

use std::collections::HashMap;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow, bail};
use chrono_tz::Tz;
use clap::Subcommand;
use edufed_proto::v1 as pb;
use edufed_proto::v1::agreements_client::AgreementsClient;
use edufed_proto::v1::directory_client::DirectoryClient;
use prost_reflect::DynamicMessage;

use crate::ClientArgs;
use crate::client::{Authed, Connection};
use crate::output::out;
use crate::output::{Format, named, print_json, table, time};
use crate::values::{AgreementKind, AgreementState};
use crate::zones;

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
        /// The agreement's id, as `agreement list` prints it.
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
        /// The agreement's id, as `agreement list` prints it.
        id: String,
        /// Refuse unless the agreement is still at this revision.
        #[arg(long = "expected-revision", value_name = "N")]
        rev: Option<u64>,
    },
    /// Sign the version awaiting signatures for one party.
    Sign {
        /// The agreement's id, as `agreement list` prints it.
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
        /// The agreement's id, as `agreement list` prints it.
        id: String,
        /// The party declining (id or slug).
        #[arg(long)]
        org: String,
        /// Why, shown with the declined version in `agreement show`.
        #[arg(long)]
        comment: String,
        /// The version [default: the one awaiting signatures].
        #[arg(long)]
        version: Option<u32>,
    },
    /// Propose an amendment of an agreement in force: new content, signed again.
    Amend {
        /// The agreement's id, as `agreement list` prints it.
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
        /// The agreement's id, as `agreement list` prints it.
        id: String,
        /// The party terminating it (id or slug).
        #[arg(long)]
        org: String,
        /// The first day no longer in force, YYYY-MM-DD [default: the earliest allowed].
        #[arg(long, value_name = "DATE")]
        effective_on: Option<String>,
        /// The grounds, recorded in the agreement's history.
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// Show an agreement: its terms, parties and signatures.
    Show {
        /// The agreement's id, as `agreement list` prints it.
        id: String,
    },
    /// List agreements by party, kind, state or expiry.
    List {
        /// Only those this organization (id or slug) is a party to.
        #[arg(long)]
        party: Option<String>,
        /// Only agreements of this kind; repeatable.
        #[arg(long = "kind", value_name = "KIND", value_enum, ignore_case = true)]
        kinds: Vec<AgreementKind>,
        /// Only agreements in this state; repeatable.
        #[arg(long = "state", value_name = "STATE", value_enum, ignore_case = true)]
        states: Vec<AgreementState>,
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
        /// The agreement's id, as `agreement list` prints it.
        id: String,
    },
    /// Fetch the printable HTML page of an agreement.
    Render {
        /// The agreement's id, as `agreement list` prints it.
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
        /// The agreement's id, as `agreement list` prints it.
        id: String,
    },
}

/// An `AgreementContent` from protobuf JSON: field names as in the .proto
/// file or in camelCase, enum values by name; unknown fields refused.
fn parse_content(text: &str) -> anyhow::Result<pb::AgreementContent> {
    let name = <pb::AgreementContent as prost::Name>::full_name();
    let descriptor = edufed_api::export::descriptor_pool()
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

fn state_name(state: i32) -> String {
    named!(pb::AgreementState, state)
}

fn kind_name(kind: i32) -> String {
    named!(pb::AgreementKind, kind)
}

/// Hours without needless decimals.
fn hours(h: f64) -> String {
    if h.fract() == 0.0 {
        format!("{h:.0}")
    } else {
        format!("{h:.2}")
    }
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
    out!(
        "agreement {}: {} (revision {})",
        a.id,
        state_name(a.state),
        a.revision
    );
    if a.awaiting_version != 0 {
        out!(
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
    let zone = zones::parse(&a.time_zone);
    let mut lines = vec![
        ("agreement", a.id.clone()),
        ("state", format!("{}{in_force}", state_name(a.state))),
        ("number", c.number.clone()),
        ("title", c.title.clone()),
        ("kind", kind_name(c.kind)),
        (
            "term",
            format!("{} ({})", term(&c), edufed_i18n::ru().city(zone)),
        ),
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
    lines.push(("ends", time(a.ends_at.as_ref(), zone)));
    lines.push(("revision", a.revision.to_string()));
    for (key, value) in lines {
        out!("{key:<10} {value}");
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
                    time(sig.signed_at.as_ref(), zone),
                    if sig.verified { "yes" } else { "no" }
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        t.add_row(vec![
            names.of(&p.org).await,
            named!(pb::PartyRole, p.role),
            format!("{}, {}", s.name, s.position),
            signed,
        ]);
    }
    out!("{t}");
    for v in &a.versions {
        if let Some(d) = &v.declined {
            out!(
                "version {} declined by {} at {}: {}",
                v.number,
                names.of(&d.org_id).await,
                time(d.at.as_ref(), zone),
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
            time(a.ends_at.as_ref(), zones::parse(&a.time_zone)),
        ]);
    }
    out!("{t}");
}

async fn print_history(
    h: &pb::AgreementHistory,
    format: Format,
    names: &mut Names,
    zone: Tz,
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
            time(e.at.as_ref(), zone),
            e.action.clone(),
            e.version.to_string(),
            state_name(e.state),
            e.actor.clone(),
            names.of(&e.org_id).await,
            e.comment.clone(),
        ]);
    }
    out!("{t}");
    Ok(())
}

async fn print_report(
    r: &pb::AgreementReport,
    format: Format,
    names: &mut Names,
    zone: Tz,
) -> anyhow::Result<()> {
    if format == Format::Json {
        return print_json(r);
    }
    out!(
        "agreement {}, version {}, as of {}",
        r.agreement_id,
        r.version,
        time(r.as_of.as_ref(), zone)
    );
    let mut parts = table(&["part", "party", "planned h", "delivered h", "scheduled h"]);
    for p in &r.parts {
        parts.add_row(vec![
            p.part.clone(),
            names.of(&p.org_id).await,
            hours(p.planned_hours),
            hours(p.delivered_hours),
            hours(p.scheduled_hours),
        ]);
    }
    out!("{parts}");
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
                named!(pb::PledgePeriod, p.period)
            ),
            hours(p.pledged_hours),
            hours(p.used_hours),
            hours(p.booked_hours),
            hours(p.pending_hours),
        ]);
    }
    out!("{pledges}");
    let mut reach = table(&["org", "cohorts", "headcount", "attended"]);
    for c in &r.reach {
        reach.add_row(vec![
            names.of(&c.org_id).await,
            c.cohorts.to_string(),
            c.headcount.to_string(),
            c.attended.to_string(),
        ]);
    }
    out!("{reach}");
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
    out!("{totals}");
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

/// The zone an agreement's dates are read in; UTC when it cannot be read.
async fn zone_of(client: &mut AgreementsClient<Authed>, id: &str) -> Tz {
    client
        .get_agreement(get(id.to_owned()))
        .await
        .map_or(Tz::UTC, |a| zones::parse(&a.into_inner().time_zone))
}

fn get(id: String) -> pb::GetAgreementRequest {
    pb::GetAgreementRequest { agreement_id: id }
}

/// Runs `edufed agreement …`.
pub async fn agreement(args: &ClientArgs, command: AgreementCommand) -> anyhow::Result<()> {
    use AgreementCommand as C;
    let format = args.output;
    // A content file is read before the node is: its mistakes need no node.
    let content = match &command {
        C::Draft { file, .. } | C::Update { file, .. } | C::Amend { file, .. } => {
            Some(read_content(file)?)
        }
        _ => None,
    };
    let session = Connection::open(args).await?;
    let mut client = session.agreements();
    let directory = session.directory();
    let mut names = Names {
        directory,
        known: HashMap::new(),
    };
    let changed = match command {
        C::Draft { initiator, .. } => {
            let request = pb::DraftAgreementRequest { initiator, content };
            client.draft_agreement(request).await?
        }
        C::Update { id, rev, .. } => {
            let request = pb::UpdateAgreementRequest {
                agreement_id: id,
                content,
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
        C::Amend { id, org, rev, .. } => {
            let request = pb::AmendAgreementRequest {
                agreement_id: id,
                org,
                content,
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
            let mut request = pb::ListAgreementsRequest {
                party: party.unwrap_or_default(),
                kinds: kinds.into_iter().map(i32::from).collect(),
                states: states.into_iter().map(i32::from).collect(),
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
                out!("more agreements: repeat with --all");
            }
            return Ok(());
        }
        C::History { id } => {
            let zone = zone_of(&mut client, &id).await;
            let request = pb::GetAgreementHistoryRequest { agreement_id: id };
            let h = client.get_agreement_history(request).await?.into_inner();
            return print_history(&h, format, &mut names, zone).await;
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
                out!("wrote {} ({} bytes)", file.display(), page.len());
            }
            return Ok(());
        }
        C::Report { id } => {
            let zone = zone_of(&mut client, &id).await;
            let r = client.get_agreement_report(get(id)).await?.into_inner();
            return print_report(&r, format, &mut names, zone).await;
        }
    };
    print_outcome(&changed.into_inner(), format, &mut names).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn content_is_protobuf_json_with_either_field_names_and_enum_names() {
        let c = super::parse_content(
            r#"{"kind": "AGREEMENT_KIND_NETWORK_FORM", "valid_from": "2026-09-01",
                "terminationNoticeDays": 30, "resources": [{"period": "PLEDGE_PERIOD_TERM"}]}"#,
        )
        .unwrap();
        assert_eq!(
            (c.kind, c.termination_notice_days, c.resources[0].period),
            (1, 30, 1)
        );
        let error = super::parse_content(r#"{"titel": "x"}"#).unwrap_err();
        assert!(error.to_string().contains("titel"), "{error}");
        assert!(super::parse_content("{} trailing").is_err());
        assert_eq!(super::path_segment("0193-a/b?"), "0193-a%2Fb%3F");
    }
}
