//! Printing results: tables for people, protobuf JSON for scripts.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};
use tonic_types::StatusExt as _;

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned tables.
    Table,
    /// Canonical protobuf JSON, field names as in the .proto files.
    Json,
}

pub use edufed_api::export::to_json;

/// Prints a message as pretty JSON.
pub fn print_json<M: prost::Message + prost::Name>(message: &M) -> anyhow::Result<()> {
    use std::io::Write as _;
    writeln!(std::io::stdout().lock(), "{}", to_json(message, true))?;
    Ok(())
}

/// A table with a header row.
pub fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.iter().copied());
    table
}

/// A timestamp as RFC 3339 in UTC, or "—".
pub fn time(ts: Option<&prost_types::Timestamp>) -> String {
    ts.and_then(|ts| {
        chrono::DateTime::from_timestamp(ts.seconds, u32::try_from(ts.nanos).unwrap_or(0))
    })
    .map(|t| t.format("%Y-%m-%d %H:%M:%SZ").to_string())
    .unwrap_or_else(|| "—".to_owned())
}

/// An instant given on the command line: RFC 3339, or a date (midnight UTC).
pub fn instant(raw: &str) -> anyhow::Result<prost_types::Timestamp> {
    use anyhow::Context as _;
    let at = match chrono::DateTime::parse_from_rfc3339(raw.trim()) {
        Ok(t) => t.with_timezone(&chrono::Utc),
        Err(_) => chrono::NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
            .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc())
            .with_context(|| {
                format!("{raw:?} is not a time like 2025-09-02T09:00:00Z or a date")
            })?,
    };
    Ok(prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    })
}

/// Prints an error: a node's status with its code, message and the fields
/// at fault; anything else with its causes.
pub fn print_error(error: &anyhow::Error) {
    if let Some(status) = error.downcast_ref::<tonic::Status>() {
        eprintln!("error: {:?}: {}", status.code(), status.message());
        if let Some(bad) = status.get_error_details().bad_request() {
            for violation in &bad.field_violations {
                eprintln!("  field {}: {}", violation.field, violation.description);
            }
        }
        return;
    }
    eprintln!("error: {error}");
    for cause in error.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
}
