//! `edufed watch`: follows the change log, reconnecting from its cursor.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;
use edufed_proto::v1 as pb;
use tonic::Code;

use crate::client::Connection;
use chrono_tz::Tz;

use crate::output::{Format, named, time, to_json};
use crate::zones::Zones;

/// Arguments of `edufed watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Print entries after this sequence [default: the cursor file's, else 0].
    #[arg(long)]
    from: Option<u64>,
    /// Only entries of this kind (organization, person, membership, api_token); repeatable.
    #[arg(long = "kind")]
    kinds: Vec<String>,
    /// Keep the cursor in this file: read at start, rewritten after every
    /// entry is printed and every heartbeat, so a restarted watch resumes
    /// where it stopped (an entry printed just before a kill may print again).
    #[arg(long)]
    cursor_file: Option<PathBuf>,
    /// Seconds between heartbeats (1–300).
    #[arg(long, default_value_t = 15)]
    heartbeat: u32,
    /// Print heartbeats too.
    #[arg(long)]
    show_heartbeats: bool,
    /// Exit after the first heartbeat, once the backlog has been printed.
    #[arg(long)]
    until_caught_up: bool,
}

fn read_cursor(path: &Path) -> anyhow::Result<Option<u64>> {
    match std::fs::read_to_string(path) {
        Ok(text) => text
            .trim()
            .parse()
            .map(Some)
            .with_context(|| format!("{} does not hold a cursor", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

fn write_cursor(path: &Path, cursor: u64) -> anyhow::Result<()> {
    let temp = path.with_extension("tmp");
    std::fs::write(&temp, format!("{cursor}\n"))?;
    std::fs::rename(&temp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// Streams the log, reconnecting with backoff when the node goes away.
pub async fn watch(conn: Connection, args: WatchArgs, format: Format) -> anyhow::Result<()> {
    let mut cursor = match (args.from, &args.cursor_file) {
        (Some(from), _) => from,
        (None, Some(path)) => read_cursor(path)?.unwrap_or(0),
        (None, None) => 0,
    };
    let mut client = conn.change_feed();
    let zone = match format {
        Format::Table => Zones::new(&conn).caller().await,
        Format::Json => Tz::UTC,
    };
    // Failed reconnections since the stream last delivered a message.
    let mut attempt: u32 = 0;
    loop {
        let request = pb::WatchRequest {
            after_sequence: cursor,
            entity_kinds: args.kinds.clone(),
            heartbeat_seconds: args.heartbeat,
            snapshot: false,
        };
        // Why the stream ended: the node's status, or none when the
        // connection just went away (the node ends streams only with one).
        let status: Option<tonic::Status> = match client.watch(request).await {
            Ok(response) => {
                let mut stream = response.into_inner();
                loop {
                    match stream.message().await {
                        Ok(Some(message)) => {
                            attempt = 0;
                            match message.event {
                                Some(pb::watch_response::Event::Entry(entry)) => {
                                    print_entry(&entry, format, zone)?;
                                    cursor = entry.sequence;
                                }
                                Some(pb::watch_response::Event::Heartbeat(beat)) => {
                                    if args.show_heartbeats {
                                        print_heartbeat(&beat, format, zone)?;
                                    }
                                    cursor = cursor.max(beat.latest_sequence);
                                    if let Some(path) = &args.cursor_file {
                                        write_cursor(path, cursor)?;
                                    }
                                    if args.until_caught_up {
                                        return Ok(());
                                    }
                                    continue;
                                }
                                None => continue,
                            }
                            if let Some(path) = &args.cursor_file {
                                write_cursor(path, cursor)?;
                            }
                        }
                        Ok(None) => break None,
                        Err(status) => break Some(status),
                    }
                }
            }
            Err(status) => Some(status),
        };
        let why = match &status {
            None => "the stream ended",
            Some(status)
                if matches!(
                    status.code(),
                    Code::Unavailable | Code::Unknown | Code::Cancelled
                ) =>
            {
                status.message()
            }
            Some(status) => return Err(status.clone().into()),
        };
        attempt = attempt.saturating_add(1);
        let wait = edufed_worker::backoff(attempt);
        eprintln!(
            "watch interrupted ({why}); reconnecting after sequence {cursor} in {:.1} s",
            wait.as_secs_f64()
        );
        tokio::time::sleep(wait).await;
    }
}

fn print_entry(entry: &pb::ChangeEntry, format: Format, zone: Tz) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => writeln!(out, "{}", to_json(entry, false))?,
        Format::Table => {
            let op = named!(pb::ChangeOperation, entry.operation);
            let kind = format!("entity-kind-{}", entry.entity_kind.replace('_', "-"));
            let kind = if edufed_i18n::ru().has(&kind) {
                edufed_i18n::ru().text(&kind)
            } else {
                entry.entity_kind.clone()
            };
            writeln!(
                out,
                "{:>8}  {}  {:<12} {:<7} {}  by {}",
                entry.sequence,
                time(entry.time.as_ref(), zone),
                kind,
                op,
                entry.entity_id,
                entry.actor
            )?;
        }
    }
    out.flush()?;
    Ok(())
}

fn print_heartbeat(beat: &pb::Heartbeat, format: Format, zone: Tz) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => writeln!(out, "{{\"heartbeat\":{}}}", to_json(beat, false))?,
        Format::Table => writeln!(
            out,
            "{:>8}  {}  heartbeat",
            beat.latest_sequence,
            time(beat.time.as_ref(), zone)
        )?,
    }
    out.flush()?;
    Ok(())
}
