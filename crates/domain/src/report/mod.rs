//! Network reports for the methodical centre: joint activities held and
//! cancelled, the cohorts that took part and how they placed, agreements by
//! kind and state with planned against delivered figures, resource
//! utilization, and indicators with their targets.
//!
//! Reports are computed from [`Facts`]: everything a node holds, its own
//! records and its mirrors, as cohorts and counts. No report carries a
//! person's name or contact.

mod compute;
pub mod html;

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::agreement::{AgreementKind, State as AgreementState};
use crate::booking::{Blackout, Interval, ResourceKind, WeeklyHours};
use crate::calendar::registration::{RegistrationState, Results};
use crate::calendar::{ActivityKind, Direction};
use crate::directory::OrgKind;
use crate::error::FieldError;
use crate::ids::{ActivityId, AgreementId, OrgId, ResourceId};
use crate::stable::string_enum;
use crate::time::TimeZone;

pub use compute::{activities, agreements, indicators, participation, resources};

/// Why a report, an enrolment or a target was refused.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input broke a rule.
    #[error(transparent)]
    Invalid(#[from] FieldError),
    /// An organization could not be used.
    #[error(transparent)]
    Directory(#[from] crate::directory::Error),
    /// No such target.
    #[error("no {indicator} target for {scope} due {due}")]
    TargetNotFound {
        /// The indicator.
        indicator: Indicator,
        /// For whom, as stored.
        scope: String,
        /// Its date.
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

/// Days `[from, to]`, both included, read in each record's own zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
}

impl Period {
    /// A period of at most [`MAX_PERIOD_DAYS`], `from` not after `to`.
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Self, FieldError> {
        if to < from {
            return Err(FieldError::new("to", format!("{to} is before from {from}")));
        }
        if (to - from).num_days() >= MAX_PERIOD_DAYS {
            return Err(FieldError::new(
                "to",
                format!("a report covers at most {MAX_PERIOD_DAYS} days"),
            ));
        }
        Ok(Self { from, to })
    }

    /// The school year holding `day`.
    pub fn school_year_of(day: NaiveDate) -> Self {
        let year = SchoolYear::of(day);
        year.period()
    }

    /// Whether `day` is within.
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.from <= day && day <= self.to
    }

    /// Days in the period.
    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }

    /// The period of the same length just before this one; a whole school
    /// year's is the school year before.
    pub fn previous(&self) -> Self {
        let year = SchoolYear::of(self.from);
        if *self == year.period() {
            return SchoolYear(year.0 - 1).period();
        }
        let to = self.from.pred_opt().unwrap_or(self.from);
        let from = to - chrono::Duration::days(self.days() - 1);
        Self { from, to }
    }

    /// The school year the period starts in.
    pub fn school_year(&self) -> SchoolYear {
        SchoolYear::of(self.from)
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} – {}", self.from, self.to)
    }
}

/// A school year, 1 September to 31 August, by the year it starts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SchoolYear(pub i32);

impl SchoolYear {
    /// The school year holding `day`.
    pub fn of(day: NaiveDate) -> Self {
        if day.month() >= 9 {
            Self(day.year())
        } else {
            Self(day.year() - 1)
        }
    }

    /// Its days.
    pub fn period(self) -> Period {
        Period {
            from: NaiveDate::from_ymd_opt(self.0, 9, 1).unwrap_or_default(),
            to: NaiveDate::from_ymd_opt(self.0 + 1, 8, 31).unwrap_or_default(),
        }
    }

    /// Parses "2025/26", "2025/2026", "2025-26" or "2025".
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let raw = raw.trim();
        let bad = || {
            FieldError::new(
                field,
                format!(
                    "{} is not a school year like 2025/26",
                    crate::text::excerpt(raw)
                ),
            )
        };
        let (start, end) = match raw.split_once(['/', '-']) {
            Some((start, end)) => (start, Some(end)),
            None => (raw, None),
        };
        let start: i32 = start.parse().map_err(|_| bad())?;
        if !(2000..=2100).contains(&start) {
            return Err(bad());
        }
        if let Some(end) = end {
            let end: i32 = end.parse().map_err(|_| bad())?;
            let next = start + 1;
            if end != next && end != next % 100 {
                return Err(FieldError::new(
                    field,
                    format!("{raw}: a school year ends the year after it starts"),
                ));
            }
        }
        Ok(Self(start))
    }
}

impl fmt::Display for SchoolYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{:02}", self.0, (self.0 + 1) % 100)
    }
}

/// Whose records a report covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The organizations this node hosts.
    Node,
    /// One organization.
    Organization(OrgId),
    /// The organizations of a city (folded).
    City(String),
    /// Every organization the node knows, its peers' included.
    Network,
}

impl Scope {
    /// Whether the organization is within.
    pub fn admits(&self, org: &OrgFacts) -> bool {
        match self {
            Scope::Node => org.hosted_here,
            Scope::Organization(id) => &org.id == id,
            Scope::City(city) => crate::text::fold(&org.city) == *city,
            Scope::Network => true,
        }
    }

    /// The scope in words.
    pub fn describe(&self, facts: &Facts) -> String {
        match self {
            Scope::Node => "this node's organizations".to_owned(),
            Scope::Organization(id) => facts.org_name(id),
            Scope::City(city) => format!("city {city}"),
            Scope::Network => "the whole network".to_owned(),
        }
    }
}

string_enum!(
    /// What rows are grouped by.
    Dimension {
        /// The organization a row is about: the publisher of activities,
        /// the registering school of cohorts, a party of agreements, the
        /// owner of resources.
        Organization = "organization",
        /// The activity's publisher (participation only).
        Publisher = "publisher",
        /// The activity's direction.
        Direction = "direction",
        /// The activity's, agreement's or resource's kind.
        Kind = "kind",
        /// The month, "YYYY-MM", local.
        Month = "month",
        /// The cohort's grades (participation only).
        Grade = "grade",
        /// The agreement's state (agreements only).
        State = "state",
        /// The resource (resources only).
        Resource = "resource",
    }
);

/// Which report; for the dimensions each allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    /// [`activities`].
    Activities,
    /// [`participation`].
    Participation,
    /// [`agreements`].
    Agreements,
    /// [`resources`].
    Resources,
}

impl ReportKind {
    /// The dimensions rows may be grouped by.
    pub fn allowed(self) -> &'static [Dimension] {
        use Dimension::*;
        match self {
            ReportKind::Activities => &[Organization, Direction, Kind, Month],
            ReportKind::Participation => &[Organization, Publisher, Direction, Kind, Month, Grade],
            ReportKind::Agreements => &[Organization, Kind, State],
            ReportKind::Resources => &[Resource, Organization, Kind, Month],
        }
    }

    /// The grouping when none is asked for.
    pub fn default_grouping(self) -> &'static [Dimension] {
        use Dimension::*;
        match self {
            ReportKind::Activities => &[Organization, Direction, Kind, Month],
            ReportKind::Participation => &[Organization, Direction, Kind, Grade],
            ReportKind::Agreements => &[Kind, State],
            ReportKind::Resources => &[Resource],
        }
    }

    /// `requested`, checked, or the default; `field` names the input.
    pub fn grouping(
        self,
        field: &str,
        requested: &[Dimension],
    ) -> Result<Vec<Dimension>, FieldError> {
        if requested.is_empty() {
            return Ok(self.default_grouping().to_vec());
        }
        let mut out = Vec::new();
        for d in requested {
            if !self.allowed().contains(d) {
                return Err(FieldError::new(
                    field,
                    format!(
                        "this report is not grouped by {d}; it takes {}",
                        self.allowed()
                            .iter()
                            .map(|d| d.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            if !out.contains(d) {
                out.push(*d);
            }
        }
        Ok(out)
    }
}

/// What a report is asked for.
#[derive(Debug, Clone)]
pub struct Query {
    /// The days.
    pub period: Period,
    /// Whose records.
    pub scope: Scope,
    /// Rows grouped by these, in this order.
    pub group_by: Vec<Dimension>,
    /// "Expiring soon" looks this many days ahead of `as_of` (agreements).
    pub expiring_within_days: u32,
}

/// What a row is grouped by; a dimension not grouped by is empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Key {
    /// Organization id.
    pub organization: String,
    /// Publisher's id.
    pub publisher: String,
    /// Direction.
    pub direction: String,
    /// Kind.
    pub kind: String,
    /// "YYYY-MM".
    pub month: String,
    /// Grades, "8" or "8-9".
    pub grade: String,
    /// Agreement state.
    pub state: String,
    /// Resource id.
    pub resource: String,
}

impl Key {
    /// The key with only the dimensions of `group_by` kept.
    pub fn project(&self, group_by: &[Dimension]) -> Key {
        let keep = |d: Dimension, v: &String| {
            if group_by.contains(&d) {
                v.clone()
            } else {
                String::new()
            }
        };
        Key {
            organization: keep(Dimension::Organization, &self.organization),
            publisher: keep(Dimension::Publisher, &self.publisher),
            direction: keep(Dimension::Direction, &self.direction),
            kind: keep(Dimension::Kind, &self.kind),
            month: keep(Dimension::Month, &self.month),
            grade: keep(Dimension::Grade, &self.grade),
            state: keep(Dimension::State, &self.state),
            resource: keep(Dimension::Resource, &self.resource),
        }
    }

    /// The value of one dimension.
    pub fn get(&self, d: Dimension) -> &str {
        match d {
            Dimension::Organization => &self.organization,
            Dimension::Publisher => &self.publisher,
            Dimension::Direction => &self.direction,
            Dimension::Kind => &self.kind,
            Dimension::Month => &self.month,
            Dimension::Grade => &self.grade,
            Dimension::State => &self.state,
            Dimension::Resource => &self.resource,
        }
    }
}

string_enum!(
    /// The indicators the network reports.
    Indicator {
        /// Students covered by network-form programmes as a share of the
        /// organization's enrolment, percent.
        NetworkCoverage = "network_coverage",
        /// Winners and prize-winners as a share of participants, percent.
        WinnersShare = "winners_share",
        /// Joint activities held (an occurrence held in the period).
        ActivitiesHeld = "activities_held",
        /// Agreements that came into force in the period.
        AgreementsSigned = "agreements_signed",
        /// Pupils registered per activity held.
        ParticipantsPerActivity = "participants_per_activity",
    }
);

impl Indicator {
    /// Whether the value is a percentage.
    pub fn is_share(self) -> bool {
        matches!(self, Indicator::NetworkCoverage | Indicator::WinnersShare)
    }

    /// The unit in words.
    pub fn unit(self) -> &'static str {
        match self {
            Indicator::NetworkCoverage | Indicator::WinnersShare => "%",
            Indicator::ActivitiesHeld => "activities",
            Indicator::AgreementsSigned => "agreements",
            Indicator::ParticipantsPerActivity => "pupils per activity",
        }
    }

    /// Its name for people.
    pub fn title(self) -> &'static str {
        match self {
            Indicator::NetworkCoverage => "Students covered by network-form programmes",
            Indicator::WinnersShare => "Winners and prize-winners among participants",
            Indicator::ActivitiesHeld => "Joint activities held",
            Indicator::AgreementsSigned => "Network agreements signed",
            Indicator::ParticipantsPerActivity => "Pupils registered per activity held",
        }
    }
}

/// Whom a target is set for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TargetScope {
    /// One organization.
    Organization(OrgId),
    /// A city (folded).
    City(String),
    /// The whole network.
    Network,
}

impl TargetScope {
    /// The stored form: "org:<id>", "city:<folded>", "network".
    pub fn stored(&self) -> String {
        match self {
            TargetScope::Organization(id) => format!("org:{id}"),
            TargetScope::City(city) => format!("city:{city}"),
            TargetScope::Network => "network".to_owned(),
        }
    }

    /// Reads the stored form.
    pub fn from_stored(raw: &str) -> Option<Self> {
        if raw == "network" {
            return Some(TargetScope::Network);
        }
        if let Some(id) = raw.strip_prefix("org:") {
            return Some(TargetScope::Organization(OrgId::from_stored(id.to_owned())));
        }
        raw.strip_prefix("city:")
            .map(|c| TargetScope::City(c.to_owned()))
    }
}

/// A value an indicator should reach by a date.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The indicator.
    pub indicator: Indicator,
    /// For whom.
    pub scope: TargetScope,
    /// By when.
    pub due: NaiveDate,
    /// The value, in the indicator's unit (percent for shares).
    pub value: f64,
    /// Why, or where it comes from (e.g. the programme of development).
    pub note: String,
    /// Set at.
    pub updated_at: DateTime<Utc>,
}

impl Target {
    /// Checks the value against the indicator.
    pub fn validate(mut self) -> Result<Self, FieldError> {
        if !self.value.is_finite() || self.value < 0.0 {
            return Err(FieldError::new("value", "must be a number at least 0"));
        }
        if self.indicator.is_share() && self.value > 100.0 {
            return Err(FieldError::new(
                "value",
                format!("{} is a percentage, at most 100", self.indicator),
            ));
        }
        if self.value > 1e9 {
            return Err(FieldError::new("value", "at most 1000000000"));
        }
        self.note = crate::text::optional_line("note", &self.note, 300)?.unwrap_or_default();
        Ok(self)
    }
}

/// The number of students an organization states for a school year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolment {
    /// The organization.
    pub org_id: OrgId,
    /// The school year.
    pub school_year: SchoolYear,
    /// Students enrolled.
    pub students: u32,
    /// Stated at.
    pub updated_at: DateTime<Utc>,
}

/// The most students an organization may state.
pub const MAX_STUDENTS: u32 = 1_000_000;

impl Enrolment {
    /// Checks the count.
    pub fn validate(self) -> Result<Self, FieldError> {
        if self.students == 0 || self.students > MAX_STUDENTS {
            return Err(FieldError::new(
                "students",
                format!("must be 1 to {MAX_STUDENTS}"),
            ));
        }
        Ok(self)
    }
}

/// An organization as reports see it.
#[derive(Debug, Clone)]
pub struct OrgFacts {
    /// Id.
    pub id: OrgId,
    /// Short name.
    pub name: String,
    /// Kind.
    pub kind: OrgKind,
    /// City.
    pub city: String,
    /// Zone.
    pub time_zone: TimeZone,
    /// Hosted on this node (not a peer's).
    pub hosted_here: bool,
}

/// An occurrence of an activity.
#[derive(Debug, Clone, Copy)]
pub struct OccurrenceFacts {
    /// Its key (original start, microseconds).
    pub key: i64,
    /// From.
    pub start: DateTime<Utc>,
    /// Until.
    pub end: DateTime<Utc>,
    /// Cancelled (alone or with its activity).
    pub cancelled: bool,
}

/// An activity, own or mirrored.
#[derive(Debug, Clone)]
pub struct ActivityFacts {
    /// Id.
    pub id: ActivityId,
    /// Its publisher.
    pub publisher: OrgId,
    /// Kind.
    pub kind: ActivityKind,
    /// Direction.
    pub direction: Option<Direction>,
    /// The agreement it is delivered under.
    pub agreement_id: Option<AgreementId>,
    /// Cancelled as a whole.
    pub cancelled: bool,
    /// Its occurrences, by start.
    pub occurrences: Vec<OccurrenceFacts>,
}

/// A cohort's registration, own or mirrored.
#[derive(Debug, Clone)]
pub struct RegistrationFacts {
    /// The activity.
    pub activity_id: ActivityId,
    /// The occurrence's key; `None` for the whole series.
    pub occurrence: Option<i64>,
    /// The registering organization.
    pub org_id: OrgId,
    /// State.
    pub state: RegistrationState,
    /// Pupils.
    pub headcount: u32,
    /// Grades.
    pub grades: (u8, u8),
    /// Results, once recorded.
    pub results: Option<Results>,
}

/// An agreement, own or mirrored.
#[derive(Debug, Clone)]
pub struct AgreementFacts {
    /// Id.
    pub id: AgreementId,
    /// Kind.
    pub kind: AgreementKind,
    /// State.
    pub state: AgreementState,
    /// Its parties.
    pub parties: Vec<OrgId>,
    /// Its term, when one is in force.
    pub term: Option<(NaiveDate, NaiveDate)>,
    /// When it came into force (its last signature).
    pub in_force_since: Option<DateTime<Utc>>,
    /// When its term ends.
    pub ends_at: Option<DateTime<Utc>>,
    /// Hours its duties plan, by party.
    pub planned_hours: BTreeMap<OrgId, f64>,
    /// Students it plans.
    pub planned_students: Option<u32>,
}

impl AgreementFacts {
    /// The facts of an agreement this node holds in full.
    pub fn of(agreement: &crate::agreement::Agreement) -> Option<Self> {
        let effective = agreement.effective()?;
        let in_force = agreement.in_force();
        let mut planned_hours: BTreeMap<OrgId, f64> = BTreeMap::new();
        for duty in &effective.content.duties {
            *planned_hours.entry(duty.org_id.clone()).or_default() += f64::from(duty.hours);
        }
        Some(Self {
            id: agreement.id.clone(),
            kind: effective.content.kind,
            state: agreement.lifecycle.state(),
            parties: effective
                .content
                .parties
                .iter()
                .map(|p| p.org_id.clone())
                .collect(),
            term: in_force.map(|v| (v.content.valid_from, v.content.valid_to)),
            in_force_since: in_force.and_then(|v| v.signatures.iter().map(|s| s.signed_at).max()),
            ends_at: agreement.lifecycle.ends_at(),
            planned_hours,
            planned_students: effective.content.planned_students,
        })
    }
}

/// A resource of this node with its bookings.
#[derive(Debug, Clone)]
pub struct ResourceFacts {
    /// Id.
    pub id: ResourceId,
    /// Owner.
    pub owner: OrgId,
    /// Kind.
    pub kind: ResourceKind,
    /// Name.
    pub name: String,
    /// Zone.
    pub time_zone: TimeZone,
    /// Bookable hours per weekday; always bookable when empty.
    pub hours: Vec<WeeklyHours>,
    /// Blackouts.
    pub blackouts: Vec<Blackout>,
    /// Confirmed booked occurrences.
    pub booked: Vec<Interval>,
}

/// Everything reports are computed from.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// As of when.
    pub as_of: DateTime<Utc>,
    /// Organizations known here.
    pub orgs: BTreeMap<OrgId, OrgFacts>,
    /// Activities (not drafts).
    pub activities: Vec<ActivityFacts>,
    /// Registrations.
    pub registrations: Vec<RegistrationFacts>,
    /// Agreements.
    pub agreements: Vec<AgreementFacts>,
    /// Resources.
    pub resources: Vec<ResourceFacts>,
    /// Stated enrolments.
    pub enrolments: Vec<Enrolment>,
    /// Targets.
    pub targets: Vec<Target>,
}

impl Facts {
    /// An organization's short name, or its id when unknown.
    pub fn org_name(&self, id: &OrgId) -> String {
        self.orgs
            .get(id)
            .map(|o| o.name.clone())
            .unwrap_or_else(|| id.to_string())
    }

    /// The instants a store loads to cover `period` in any zone: a day's
    /// margin on each side.
    pub fn window(period: &Period) -> (DateTime<Utc>, DateTime<Utc>) {
        let start = period.from.pred_opt().unwrap_or(period.from);
        let end = period
            .to
            .succ_opt()
            .and_then(|d| d.succ_opt())
            .unwrap_or(period.to);
        (
            start.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc(),
            end.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc(),
        )
    }
}

/// Activities held and cancelled.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ActivityRow {
    /// The group.
    pub key: Key,
    /// Activities with an occurrence held (ended, not cancelled).
    pub activities_held: u32,
    /// Activities cancelled as a whole.
    pub activities_cancelled: u32,
    /// Occurrences held.
    pub occurrences_held: u32,
    /// Occurrences still to come.
    pub occurrences_scheduled: u32,
    /// Occurrences cancelled.
    pub occurrences_cancelled: u32,
    /// Hours of occurrences held.
    pub hours_held: f64,
}

/// Cohorts registered and how they placed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ParticipationRow {
    /// The group.
    pub key: Key,
    /// Confirmed cohorts.
    pub cohorts: u32,
    /// Their pupils.
    pub registered: u32,
    /// Pupils who came, where recorded.
    pub attended: u32,
    /// Of them, those who competed.
    pub participants: u32,
    /// Prize-winners.
    pub prize_winners: u32,
    /// Winners.
    pub winners: u32,
    /// Cohorts with results recorded.
    pub cohorts_with_results: u32,
    /// Cohorts waiting for seats.
    pub waitlisted_cohorts: u32,
    /// Their pupils.
    pub waitlisted: u32,
}

/// Agreements by kind and state.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AgreementRow {
    /// The group.
    pub key: Key,
    /// Agreements.
    pub agreements: u32,
    /// Of them, come into force in the period.
    pub signed_in_period: u32,
    /// In force and ending within the days asked.
    pub expiring_soon: u32,
    /// Hours their duties plan over their terms.
    pub planned_hours: f64,
    /// Hours held in the period by activities under them.
    pub delivered_hours: f64,
    /// Hours still to come in the period.
    pub scheduled_hours: f64,
    /// Students they plan.
    pub planned_students: u32,
    /// Pupils of the cohorts registered under them in the period.
    pub students_reached: u32,
    /// Of them, who came, where recorded.
    pub attended: u32,
}

/// Booked over bookable hours.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ResourceRow {
    /// The group.
    pub key: Key,
    /// The resource's name, when grouped by resource.
    pub name: String,
    /// Resources.
    pub resources: u32,
    /// Hours it could be booked.
    pub bookable_hours: f64,
    /// Hours booked (confirmed).
    pub booked_hours: f64,
    /// Booked over bookable, percent; 0 when nothing was bookable.
    pub utilization: f64,
    /// Bookings with a confirmed occurrence in the period.
    pub bookings: u32,
}

/// One indicator for one organization or the whole scope.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndicatorRow {
    /// The indicator.
    pub indicator: Indicator,
    /// The organization; empty for the whole scope.
    pub organization: String,
    /// The value; `None` when its denominator is 0 or unknown.
    pub value: Option<f64>,
    /// What was counted.
    pub numerator: f64,
    /// Out of what (enrolment, participants, activities); 1 for counts.
    pub denominator: f64,
    /// The value over the previous period.
    pub previous: Option<f64>,
    /// Value minus previous.
    pub trend: Option<f64>,
    /// The target in force.
    pub target: Option<f64>,
    /// The target's date.
    pub target_due: Option<NaiveDate>,
    /// Target minus value: how far there is still to go.
    pub gap: Option<f64>,
}

/// A report: its rows and a total over every record (each counted once).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report<R> {
    /// Rows, ordered by their key.
    pub rows: Vec<R>,
    /// Over everything.
    pub total: R,
}

/// Resource utilization, with the extremes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourcesReport {
    /// Rows and total.
    pub report: Report<ResourceRow>,
    /// Most used resources over the period.
    pub busiest: Vec<ResourceRow>,
    /// Least used resources over the period.
    pub idlest: Vec<ResourceRow>,
}

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
pub fn grade_label(grades: (u8, u8)) -> String {
    if grades.0 == grades.1 {
        grades.0.to_string()
    } else {
        format!("{}-{}", grades.0, grades.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn school_years_parse_and_print() {
        assert_eq!(SchoolYear::parse("y", "2025/26").unwrap(), SchoolYear(2025));
        assert_eq!(
            SchoolYear::parse("y", "2025-2026").unwrap(),
            SchoolYear(2025)
        );
        assert_eq!(SchoolYear::parse("y", "2025").unwrap(), SchoolYear(2025));
        assert_eq!(SchoolYear::parse("y", "2025/27").unwrap_err().field, "y");
        assert!(SchoolYear::parse("y", "soon").is_err());
        assert_eq!(SchoolYear(2025).to_string(), "2025/26");
        assert_eq!(SchoolYear(2099).to_string(), "2099/00");
        assert_eq!(SchoolYear::of(d(2026, 8, 31)), SchoolYear(2025));
        assert_eq!(SchoolYear::of(d(2026, 9, 1)), SchoolYear(2026));
    }

    #[test]
    fn previous_periods() {
        let year = SchoolYear(2025).period();
        assert_eq!(year.previous(), SchoolYear(2024).period());
        let march = Period::new(d(2026, 3, 1), d(2026, 3, 31)).unwrap();
        assert_eq!(
            march.previous(),
            Period::new(d(2026, 1, 29), d(2026, 2, 28)).unwrap()
        );
        assert_eq!(
            Period::new(d(2026, 3, 2), d(2026, 3, 1)).unwrap_err().field,
            "to"
        );
    }

    #[test]
    fn grouping_is_checked() {
        assert_eq!(
            ReportKind::Agreements.grouping("group_by", &[]).unwrap(),
            vec![Dimension::Kind, Dimension::State]
        );
        let err = ReportKind::Agreements
            .grouping("group_by", &[Dimension::Month])
            .unwrap_err();
        assert_eq!(err.field, "group_by");
        let key = Key {
            organization: "o".into(),
            month: "2026-01".into(),
            ..Key::default()
        };
        assert_eq!(key.project(&[Dimension::Month]).organization, "");
        assert_eq!(key.project(&[Dimension::Month]).month, "2026-01");
    }

    #[test]
    fn targets_are_bounded() {
        let target = Target {
            indicator: Indicator::NetworkCoverage,
            scope: TargetScope::Network,
            due: d(2026, 8, 31),
            value: 120.0,
            note: String::new(),
            updated_at: Utc::now(),
        };
        assert_eq!(target.clone().validate().unwrap_err().field, "value");
        assert!(
            Target {
                value: 15.0,
                ..target
            }
            .validate()
            .is_ok()
        );
        for scope in [
            TargetScope::Network,
            TargetScope::City("томск".into()),
            TargetScope::Organization(OrgId::from_stored("x".into())),
        ] {
            assert_eq!(TargetScope::from_stored(&scope.stored()), Some(scope));
        }
    }
}
