//! Printing results: tables for people, protobuf JSON for scripts.

use chrono_tz::Tz;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};
use edufed_i18n::ru;
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

/// Writes to standard output; when the reader has gone (`edufed org list |
/// head -1`), ends the command quietly, as a tool killed by SIGPIPE would,
/// rather than panicking in `println!`.
pub fn emit(text: std::fmt::Arguments<'_>, newline: bool) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let written = out.write_fmt(text).and_then(|()| {
        if newline {
            out.write_all(b"\n")
        } else {
            Ok(())
        }
    });
    if let Err(error) = written {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(CLOSED_PIPE_EXIT);
        }
        eprintln!("error: cannot write the output: {error}");
        std::process::exit(1);
    }
}

/// The exit status of a command whose output was closed: 128 + SIGPIPE,
/// what a shell reports for a tool the signal ended.
pub const CLOSED_PIPE_EXIT: i32 = 141;

/// Whether `error` is standard output closed under the command.
pub fn closed_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Prints a line to standard output; see [`emit`].
macro_rules! out {
    () => {
        $crate::output::emit(format_args!(""), true)
    };
    ($($arg:tt)*) => {
        $crate::output::emit(format_args!($($arg)*), true)
    };
}

/// Prints to standard output without a newline; see [`emit`].
macro_rules! out_raw {
    ($($arg:tt)*) => {
        $crate::output::emit(format_args!($($arg)*), false)
    };
}

pub(crate) use {out, out_raw};

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

fn utc(ts: Option<&prost_types::Timestamp>) -> Option<chrono::DateTime<chrono::Utc>> {
    ts.and_then(|ts| {
        chrono::DateTime::from_timestamp(ts.seconds, u32::try_from(ts.nanos).unwrap_or(0))
    })
}

/// A timestamp as people in `zone` read it, «сб, 12 дек 2026, 17:00
/// (Томск)», or "—".
pub fn time(ts: Option<&prost_types::Timestamp>, zone: Tz) -> String {
    utc(ts).map_or_else(|| "—".to_owned(), |at| ru().short_instant(at, zone))
}

/// A timestamp to give back on the command line (`--occurrence`): RFC 3339
/// with `zone`'s offset, "2026-12-12T17:00:00+07:00".
pub fn given(ts: Option<&prost_types::Timestamp>, zone: Tz) -> String {
    utc(ts)
        .map(|at| {
            at.with_timezone(&zone)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        })
        .unwrap_or_default()
}

/// A protobuf enum value's name for people, from the catalogue
/// («Подтверждена» for `REGISTRATION_STATE_CONFIRMED`); "—" for none.
pub fn enum_name(value_name: Option<&str>) -> String {
    match value_name {
        Some(name) if ru().has(&edufed_i18n::proto_key(name)) => ru().proto_name(name),
        _ => "—".to_owned(),
    }
}

/// The name of `value` of the protobuf enum `$ty`, as [`enum_name`].
macro_rules! named {
    ($ty:ty, $value:expr) => {
        $crate::output::enum_name(<$ty>::try_from($value).ok().map(|v| v.as_str_name()))
    };
}

pub(crate) use named;

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
