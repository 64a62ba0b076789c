//! What reports are computed from: a node's records, own and mirrored, as
//! cohorts and counts.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::{Enrolment, Period, Target};
use crate::agreement::{AgreementKind, State as AgreementState};
use crate::booking::{Blackout, Interval, ResourceKind, WeeklyHours};
use crate::calendar::registration::{RegistrationState, Results};
use crate::calendar::{ActivityKind, Direction};
use crate::directory::OrgKind;
use crate::ids::{ActivityId, AgreementId, OrgId, ResourceId};
use crate::time::TimeZone;

/// An organization as reports see it.
#[derive(Debug, Clone)]
pub struct OrgFacts {
    pub id: OrgId,
    /// Its short name, as reports show it.
    pub name: String,
    pub kind: OrgKind,
    /// As written; a city scope compares it folded.
    pub city: String,
    /// The zone its records' local days and months are read in.
    pub time_zone: TimeZone,
    /// Hosted on this node (not a peer's).
    pub hosted_here: bool,
    /// Its designations, own or shared by its node.
    pub designations: Vec<crate::designations::Designation>,
}

impl OrgFacts {
    /// Its designations standing on `day`, as a report's key names them:
    /// `kind:field`.
    pub fn designations_on(&self, day: chrono::NaiveDate) -> Vec<String> {
        self.designations
            .iter()
            .filter(|d| d.in_force(day))
            .map(|d| format!("{}:{}", d.details.kind, d.details.field))
            .collect()
    }
}

/// An occurrence of an activity.
#[derive(Debug, Clone, Copy)]
pub struct OccurrenceFacts {
    /// Its key: the original start, in microseconds since the Unix epoch.
    pub key: i64,
    /// After any move.
    pub start: DateTime<Utc>,
    /// After any move; an occurrence is held once it has ended.
    pub end: DateTime<Utc>,
    /// Cancelled (alone or with its activity).
    pub cancelled: bool,
}

/// An activity, own or mirrored.
#[derive(Debug, Clone)]
pub struct ActivityFacts {
    pub id: ActivityId,
    pub publisher: OrgId,
    pub kind: ActivityKind,
    pub direction: Option<Direction>,
    /// The agreement it is delivered under.
    pub agreement_id: Option<AgreementId>,
    /// Cancelled as a whole.
    pub cancelled: bool,
    /// Teachers are among its audience (read for the kinds teachers grow
    /// by, [`ActivityKind::TEACHERS_GROWTH`], only).
    pub teachers: bool,
    /// Its occurrences, by start.
    pub occurrences: Vec<OccurrenceFacts>,
}

/// A cohort's registration, own or mirrored.
#[derive(Debug, Clone)]
pub struct RegistrationFacts {
    pub activity_id: ActivityId,
    /// The occurrence's key; `None` for the whole series.
    pub occurrence: Option<i64>,
    /// The registering organization.
    pub org_id: OrgId,
    /// Withdrawn registrations are left out of the facts.
    pub state: RegistrationState,
    /// Pupils registered.
    pub headcount: u32,
    /// The cohort's lowest and highest grade; `None` for teachers.
    pub grades: Option<(u8, u8)>,
    /// Results, once recorded.
    pub results: Option<Results>,
}

/// An agreement, own or mirrored.
#[derive(Debug, Clone)]
pub struct AgreementFacts {
    pub id: AgreementId,
    pub kind: AgreementKind,
    pub state: AgreementState,
    /// The parties to the version in force, else to the latest.
    pub parties: Vec<OrgId>,
    /// Its term, when one is in force.
    pub term: Option<(NaiveDate, NaiveDate)>,
    /// When it came into force (its last signature).
    pub in_force_since: Option<DateTime<Utc>>,
    /// When its term ends.
    pub ends_at: Option<DateTime<Utc>>,
    /// Hours its duties plan, by party.
    pub planned_hours: BTreeMap<OrgId, f64>,
    /// Students the version in force (else the latest) plans.
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
    pub id: ResourceId,
    pub owner: OrgId,
    pub kind: ResourceKind,
    pub name: String,
    /// The zone its hours and blackouts are read in.
    pub time_zone: TimeZone,
    /// Bookable hours per weekday; always bookable when empty.
    pub hours: Vec<WeeklyHours>,
    /// Time taken out of the bookable hours.
    pub blackouts: Vec<Blackout>,
    /// Confirmed booked occurrences.
    pub booked: Vec<Interval>,
}

/// Everything reports are computed from: the records, shared (a copy
/// costs nothing), read at an instant.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The store's time when the facts were read: what has ended by then
    /// was held, what has not is still to come.
    pub as_of: DateTime<Utc>,
    records: std::sync::Arc<Records>,
}

impl std::ops::Deref for Facts {
    type Target = Records;

    fn deref(&self) -> &Records {
        &self.records
    }
}

/// The records reports read, as a store loaded them.
#[derive(Debug, Default)]
pub struct Records {
    /// Organizations known here, peers' included.
    pub orgs: BTreeMap<OrgId, OrgFacts>,
    /// Activities with an occurrence in the window loaded, drafts left out.
    pub activities: Vec<ActivityFacts>,
    /// The cohorts of those activities, withdrawn ones left out.
    pub registrations: Vec<RegistrationFacts>,
    /// Every agreement, own and mirrored.
    pub agreements: Vec<AgreementFacts>,
    /// This node's resources.
    pub resources: Vec<ResourceFacts>,
    /// Stated enrolments.
    pub enrolments: Vec<Enrolment>,
    /// Every target set on this node.
    pub targets: Vec<Target>,
    /// Every mentoring pair, this node's and those peers share, as shared:
    /// organizations, form, state, dates, headcount, result.
    pub pairs: Vec<crate::mentoring::SharedPair>,
    /// Teachers' figures stated on this node, by organization and year.
    pub teacher_figures: Vec<crate::mentoring::TeacherFigures>,
    /// Teachers' growth recorded by person on this node (those who agreed).
    pub growth: Vec<crate::mentoring::GrowthRecord>,
    /// Learning routes of this node's schools, as plans and counts.
    pub routes: Vec<crate::routes::Route>,
}

impl Facts {
    /// `records` read at `as_of`.
    pub fn new(as_of: DateTime<Utc>, records: Records) -> Self {
        Self {
            as_of,
            records: std::sync::Arc::new(records),
        }
    }

    /// The same records read again at `as_of`, shared.
    pub fn at(&self, as_of: DateTime<Utc>) -> Self {
        Self {
            as_of,
            records: self.records.clone(),
        }
    }

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
