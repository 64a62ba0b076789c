//! `edufed audit`: the audit trail, newest first, in the caller's time.

use clap::Args;
use edufed_i18n::ru;
use edufed_proto::v1 as pb;

use crate::client::Connection;
use crate::output::out;
use crate::output::{Format, instant, print_json, table, time};
use crate::zones::Zones;

/// Which entries to show.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only the entries of this organization's records (id or slug).
    #[arg(long = "org", default_value = "")]
    organization: String,
    /// Only this kind of record: booking, registration, agreement,
    /// activity, growth_record…
    #[arg(long, default_value = "")]
    kind: String,
    /// Only this record's entries, by its id.
    #[arg(long, default_value = "")]
    record: String,
    /// Only this person's writes, by their id.
    #[arg(long, default_value = "")]
    person: String,
    /// Entries from this time on (RFC 3339 or a date).
    #[arg(long)]
    since: Option<String>,
    /// Entries before this time (RFC 3339 or a date).
    #[arg(long)]
    until: Option<String>,
    /// At most this many entries.
    #[arg(long, default_value_t = 50)]
    limit: u32,
}

/// Runs `edufed audit`.
pub async fn audit(conn: Connection, args: AuditArgs, format: Format) -> anyhow::Result<()> {
    let mut client = conn.audit();
    let mut request = pb::ListAuditEntriesRequest {
        organization: args.organization,
        record_kind: args.kind,
        record_id: args.record,
        person_id: args.person,
        since: args.since.as_deref().map(instant).transpose()?,
        until: args.until.as_deref().map(instant).transpose()?,
        page_size: 0,
        page_token: String::new(),
    };
    let limit = usize::try_from(args.limit.max(1)).unwrap_or(usize::MAX);
    let mut found = pb::ListAuditEntriesResponse::default();
    loop {
        let left = limit - found.entries.len();
        request.page_size = u32::try_from(left.min(1000)).unwrap_or(1000);
        let page = client
            .list_audit_entries(request.clone())
            .await?
            .into_inner();
        found.entries.extend(page.entries);
        found.next_page_token = page.next_page_token;
        if found.next_page_token.is_empty() || found.entries.len() >= limit {
            break;
        }
        request.page_token = found.next_page_token.clone();
    }
    if format == Format::Json {
        return print_json(&found);
    }
    let mut zones = Zones::new(&conn);
    let zone = zones.caller().await;
    let mut t = table(&[
        "when", "who", "call", "record", "version", "how", "from", "id",
    ]);
    for e in &found.entries {
        let who = if e.actor_name.is_empty() {
            e.actor.clone()
        } else {
            e.actor_name.clone()
        };
        let mut call = ru().audit_call(&e.method);
        if !e.forwarded_to.is_empty() {
            call = format!("{call} → {}", short_node(&e.forwarded_to));
        }
        let how = match e.credential.split_once(':') {
            Some(("peer", node)) => format!("узел {}", short_node(node)),
            Some(("token", _)) => "токен".to_owned(),
            Some(("session", _)) => "консоль".to_owned(),
            _ => "—".to_owned(),
        };
        t.add_row(vec![
            time(e.at.as_ref(), zone),
            who,
            call,
            format!(
                "{} {}",
                ru().audit_record(&e.record_kind),
                match e.record_kind.as_str() {
                    "resource" => zones.resource_name(&e.record_id).await,
                    "organization" => zones.organization_name(&e.record_id).await,
                    _ => e.record_id.clone(),
                }
            ),
            e.version.map(|v| v.to_string()).unwrap_or_default(),
            how,
            e.address.clone(),
            e.id.clone(),
        ]);
    }
    out!("{t}");
    if !found.next_page_token.is_empty() {
        out!("(more: raise --limit, or narrow with --since/--until)");
    }
    Ok(())
}

/// A node id as tables show it: its first 12 characters.
fn short_node(node: &str) -> String {
    node.chars().take(12).collect()
}
