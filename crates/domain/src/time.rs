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
    pub const UTC: TimeZone = TimeZone(chrono_tz::Tz::UTC);

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

/// An instant as people in `zone` read it, for messages: "2026-12-11 17:00
/// Asia/Tomsk".
pub fn local_label(at: DateTime<Utc>, zone: TimeZone) -> String {
    format!(
        "{} {}",
        at.with_timezone(&zone.tz()).format("%Y-%m-%d %H:%M"),
        zone.name()
    )
}

/// The current time, truncated to microseconds, the precision the stores keep,
/// so a value read back equals the value written. Only [`Clock`] reads it:
/// every rule that fires with time reads the node's clock, which a test can
/// set.
fn now() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

/// Where the node reads the time: the system clock, or in tests a clock they
/// set. Rules that fire with time (an agreement's expiry) read this, so a
/// test can move time without waiting or restarting.
#[derive(Clone)]
pub struct Clock(std::sync::Arc<ClockSource>);

enum ClockSource {
    System,
    /// A set time; `None` once released to the system clock.
    Manual(std::sync::Mutex<Option<DateTime<Utc>>>),
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self(std::sync::Arc::new(ClockSource::System))
    }

    /// A clock that shows `at` until it is set or advanced.
    pub fn manual(at: DateTime<Utc>) -> Self {
        Self(std::sync::Arc::new(ClockSource::Manual(
            std::sync::Mutex::new(Some(at)),
        )))
    }

    /// The time now, in microseconds.
    pub fn now(&self) -> DateTime<Utc> {
        match &*self.0 {
            ClockSource::System => now(),
            ClockSource::Manual(at) => {
                match *at.lock().unwrap_or_else(std::sync::PoisonError::into_inner) {
                    Some(at) => {
                        DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
                    }
                    None => now(),
                }
            }
        }
    }

    /// Moves a manual clock to `at`; the system clock ignores it.
    pub fn set(&self, at: DateTime<Utc>) {
        if let ClockSource::Manual(current) = &*self.0 {
            *current
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(at);
        }
    }

    /// Lets a manual clock follow the system clock from now on: the demo
    /// loads a past school year at its dates, then runs in the present.
    pub fn release(&self) {
        if let ClockSource::Manual(current) = &*self.0 {
            *current
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        }
    }

    /// Moves a manual clock forward by `by`.
    pub fn advance(&self, by: chrono::Duration) {
        self.set(self.now() + by);
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.0 {
            ClockSource::System => f.write_str("Clock::System"),
            ClockSource::Manual(_) => write!(f, "Clock::Manual({})", self.now()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_released_clock_follows_the_system_clock() {
        let past = DateTime::parse_from_rfc3339("2025-09-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let clock = Clock::manual(past);
        let shared = clock.clone();
        shared.advance(chrono::Duration::days(1));
        assert_eq!(clock.now(), past + chrono::Duration::days(1));
        clock.release();
        assert!(shared.now() > past + chrono::Duration::days(365));
    }

    #[test]
    fn local_labels_read_in_the_zone() {
        let at = DateTime::parse_from_rfc3339("2026-12-11T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let tomsk = TimeZone::parse("z", "Asia/Tomsk").unwrap();
        assert_eq!(local_label(at, tomsk), "2026-12-11 17:00 Asia/Tomsk");
    }

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
