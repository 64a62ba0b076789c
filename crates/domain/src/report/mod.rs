//! Network reports for the methodical centre: joint activities held and
//! cancelled, the cohorts that took part and how they placed, agreements by
//! kind and state with planned against delivered figures, resource
//! utilization, and indicators with their targets.
//!
//! Reports are computed from [`Facts`]: everything a node holds, its own
//! records and its mirrors, as cohorts and counts. No report carries a
//! person's name or contact. What a report is asked for is in `query` and
//! `period`, what it answers in `rows`, and the figures stated by hand
//! (enrolments, targets) in `targets`.

mod compute;
mod facts;
mod mentoring;
mod period;
mod query;
mod routes;
mod rows;
mod targets;

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::error::FieldError;
use crate::time::TimeZone;

pub use compute::{activities, agreements, indicators, participation, resources};
pub use facts::{
    ActivityFacts, AgreementFacts, Facts, OccurrenceFacts, OrgFacts, Records, RegistrationFacts,
    ResourceFacts,
};
pub use mentoring::{MentoringKey, MentoringReport, MentoringRow, TeacherRow, mentoring};
pub use period::{Period, SchoolYear};
pub use query::{Dimension, Key, Query, ReportKind, Scope};
pub use rows::{
    ActivityRow, AgreementRow, IndicatorRow, ParticipationRow, Report, ResourceRow, ResourcesReport,
};
pub use targets::{Enrolment, Indicator, MAX_STUDENTS, Target, TargetScope};

/// Why a report, an enrolment or a target was refused.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input broke a rule.
    #[error(transparent)]
    Invalid(#[from] FieldError),
    /// An organization could not be used.
    #[error(transparent)]
    Directory(#[from] crate::directory::Error),
    /// No target is set for that indicator, scope and date.
    #[error("no {indicator} target for {scope} due {due}")]
    TargetNotFound {
        indicator: Indicator,
        /// As [`TargetScope::stored`] writes it.
        scope: String,
        due: NaiveDate,
    },
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] crate::error::StorageError),
}

impl crate::error::ServiceError for Error {
    fn error_code(&self) -> crate::error::ErrorCode {
        match self {
            Error::Invalid(_) => crate::error::ErrorCode::InvalidArgument,
            Error::Directory(e) => e.error_code(),
            Error::TargetNotFound { .. } => crate::error::ErrorCode::NotFound,
            Error::Storage(e) => e.error_code(),
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            Error::Invalid(e) => Some(&e.field),
            Error::Directory(e) => e.field(),
            _ => None,
        }
    }
}

/// The longest period a report covers.
pub const MAX_PERIOD_DAYS: i64 = 5 * 366;
/// The most days ahead "expiring soon" looks.
pub const MAX_EXPIRING_DAYS: u32 = 3 * 366;
/// Resources listed as busiest and as idlest.
pub const EXTREMES: usize = 5;

/// Rounds to two decimals, for figures people read.
pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// "YYYY-MM" of a local date.
pub fn month_of(day: NaiveDate) -> String {
    format!("{:04}-{:02}", day.year(), day.month())
}

/// The local day of `at` in `zone`.
pub fn local_day(at: DateTime<Utc>, zone: TimeZone) -> NaiveDate {
    at.with_timezone(&zone.tz()).date_naive()
}

/// A grade range as "8" or "8-9".
pub fn grade_label(grades: Option<(u8, u8)>) -> String {
    let Some(grades) = grades else {
        return "teachers".into();
    };
    if grades.0 == grades.1 {
        grades.0.to_string()
    } else {
        format!("{}-{}", grades.0, grades.1)
    }
}
