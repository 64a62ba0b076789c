//! Time zones and instants as the domain sees them.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// An IANA time zone, e.g. `Asia/Tomsk`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeZone(chrono_tz::Tz);

impl TimeZone {
    /// Parses an IANA zone name; `field` names the input field on error.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(FieldError::new(field, "is required"));
        }
        chrono_tz::Tz::from_str(name).map(Self).map_err(|_| {
            FieldError::new(
                field,
                format!("unknown IANA time zone {}", crate::text::excerpt(name)),
            )
        })
    }

    /// The zone for chrono arithmetic.
    pub fn tz(self) -> chrono_tz::Tz {
        self.0
    }

    /// The IANA name.
    pub fn name(self) -> &'static str {
        self.0.name()
    }
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl TryFrom<String> for TimeZone {
    type Error = FieldError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse("time_zone", &value)
    }
}

impl From<TimeZone> for String {
    fn from(zone: TimeZone) -> Self {
        zone.name().to_owned()
    }
}

/// The current time, truncated to microseconds, the precision the stores keep,
/// so a value read back equals the value written.
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_real_zones_and_refuses_others() {
        assert_eq!(
            TimeZone::parse("time_zone", "Asia/Tomsk").unwrap().name(),
            "Asia/Tomsk"
        );
        let err = TimeZone::parse("time_zone", "Mars/Olympus").unwrap_err();
        assert_eq!(err.field, "time_zone");
        assert!(err.reason.contains("Mars/Olympus"));
    }
}
