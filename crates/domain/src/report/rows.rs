//! What each report answers: its rows, one per group, and a total.

use chrono::NaiveDate;
use serde::Serialize;

use super::{Indicator, Key};

/// Activities held and cancelled.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ActivityRow {
    /// The group's values; the dimensions not grouped by are empty.
    pub key: Key,
    /// Activities with an occurrence held (ended, not cancelled).
    pub activities_held: u32,
    /// Activities cancelled as a whole.
    pub activities_cancelled: u32,
    /// Occurrences that ended, not cancelled.
    pub occurrences_held: u32,
    /// Occurrences not yet ended, not cancelled.
    pub occurrences_scheduled: u32,
    /// Occurrences cancelled, alone or with their activity.
    pub occurrences_cancelled: u32,
    /// Hours of occurrences held.
    pub hours_held: f64,
}

/// Cohorts registered and how they placed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ParticipationRow {
    /// The group's values; the dimensions not grouped by are empty.
    pub key: Key,
    /// Confirmed cohorts.
    pub cohorts: u32,
    /// Their pupils.
    pub registered: u32,
    /// Pupils who came, where recorded.
    pub attended: u32,
    /// Of them, those who competed.
    pub participants: u32,
    /// Prize-winners (призёры), winners not included.
    pub prize_winners: u32,
    /// Winners (победители).
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
    /// The group's values; the dimensions not grouped by are empty.
    pub key: Key,
    /// Agreements in the group, whatever their state.
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
    /// The group's values; the dimensions not grouped by are empty.
    pub key: Key,
    /// The resource's name, when grouped by resource.
    pub name: String,
    /// Resources in the group.
    pub resources: u32,
    /// Hours they could be booked in the period: their weekly hours less
    /// blackouts.
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
    /// The value of the target in force: the earliest due on or after the
    /// period's end, else the latest.
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
    /// Over every record in scope, each counted once even when it falls in
    /// several rows.
    pub total: R,
}

/// Resource utilization, with the extremes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourcesReport {
    pub report: Report<ResourceRow>,
    /// Most used resources over the period.
    pub busiest: Vec<ResourceRow>,
    /// Least used resources over the period.
    pub idlest: Vec<ResourceRow>,
}
