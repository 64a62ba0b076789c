//! Conversions between the wire types of `edufed.v1` and the domain, one
//! module per service. Input is parsed into typed domain commands whose
//! errors name the field by its path from the request's root
//! (`details.title`); output goes through [`ToProto`].

pub(crate) mod agreement;
pub(crate) mod booking;
pub(crate) mod calendar;
pub(crate) mod designations;
pub(crate) mod directory;
pub(crate) mod growth;
pub(crate) mod mentoring;
pub(crate) mod routes;
pub(crate) mod trials;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use edufed_domain::FieldError;
use edufed_domain::calendar::Recurrence;
use edufed_domain::directory::OrgRef;
use edufed_domain::text;

/// Turns a domain value into its wire form.
pub(crate) trait ToProto {
    type Proto;
    fn to_proto(&self) -> Self::Proto;
}

pub(crate) fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

/// Maps a protobuf enum onto a domain enum by name: `ACTIVITY_KIND_OLYMPIAD`
/// is `olympiad`. A test checks every domain value round-trips.
macro_rules! enum_map {
    ($to_domain:ident, $to_proto:ident, $pb:ty, $prefix:literal, $domain:ty) => {
        #[allow(dead_code, reason = "not every enum is read from the wire")]
        pub(crate) fn $to_domain(field: &str, raw: i32) -> Result<Option<$domain>, FieldError> {
            let value = <$pb>::try_from(raw)
                .map_err(|_| FieldError::new(field, format!("unknown value {raw}")))?;
            let name = value
                .as_str_name()
                .trim_start_matches($prefix)
                .to_ascii_lowercase();
            if name == "unspecified" {
                return Ok(None);
            }
            <$domain>::parse(field, &name).map(Some)
        }

        #[allow(dead_code, reason = "not every enum is written to the wire")]
        pub(crate) fn $to_proto(value: $domain) -> i32 {
            let name = format!("{}{}", $prefix, value.as_str().to_ascii_uppercase());
            <$pb>::from_str_name(&name).map_or(0, |v| v as i32)
        }
    };
}

pub(crate) use enum_map;

/// The version a request says it saw; 0 skips the check.
pub(crate) fn expected(version: u64) -> Option<u64> {
    (version != 0).then_some(version)
}

/// A required enum value.
pub(crate) fn required<T>(field: &str, value: Option<T>) -> Result<T, FieldError> {
    value.ok_or_else(|| FieldError::new(field, "is required"))
}

/// A local date-time: `2024-09-03T14:00`, with optional seconds, or a date
/// alone (midnight).
pub(crate) fn local(field: &str, raw: &str) -> Result<NaiveDateTime, FieldError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    for format in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(raw, format) {
            return Ok(t);
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        return Ok(d.and_time(chrono::NaiveTime::MIN));
    }
    Err(FieldError::new(
        field,
        format!(
            "{} is not a local date-time like 2024-09-03T14:00",
            text::excerpt(raw)
        ),
    ))
}

/// A local date-time as sent back.
pub(crate) fn local_out(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// An instant from the wire.
pub(crate) fn instant(
    field: &str,
    ts: Option<&prost_types::Timestamp>,
) -> Result<Option<DateTime<Utc>>, FieldError> {
    ts.map(|ts| {
        DateTime::from_timestamp(ts.seconds, u32::try_from(ts.nanos).unwrap_or(u32::MAX))
            .ok_or_else(|| FieldError::new(field, "is not a valid timestamp"))
    })
    .transpose()
}

/// A date, "YYYY-MM-DD"; `field` names the input on error.
pub(crate) fn date(field: &str, raw: &str) -> Result<chrono::NaiveDate, FieldError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
        FieldError::new(
            field,
            format!("{} is not a date (YYYY-MM-DD)", text::excerpt(raw)),
        )
    })
}

/// A recurrence as the wire states it at `path`: the rule and local EXDATEs
/// and RDATEs (a booking has no RDATEs).
pub(crate) fn recurrence(
    path: &str,
    rule: &str,
    exdates: &[String],
    rdates: &[String],
) -> Result<Recurrence, FieldError> {
    let dates = |name: &str, values: &[String]| {
        let field = format!("{path}.{name}");
        values
            .iter()
            .map(|d| local(&field, d))
            .collect::<Result<Vec<_>, _>>()
    };
    Ok(Recurrence {
        rule: rule.to_owned(),
        exdates: dates("exdates", exdates)?,
        rdates: dates("rdates", rdates)?,
    })
}

/// An organization named by id or slug.
pub(crate) fn org_ref(field: &str, raw: &str) -> Result<OrgRef, FieldError> {
    OrgRef::parse(field, raw)
}
