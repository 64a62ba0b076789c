//! The rows reports read, each decoded in one place.

use chrono::NaiveDate;
use edufed_domain::StorageError;
use edufed_domain::booking::{Blackout, Interval, ResourceDetails};
use edufed_domain::calendar::registration::RegistrationState;
use edufed_domain::calendar::{ActivityKind, Direction};
use edufed_domain::directory::OrgKind;
use edufed_domain::ids::{ActivityId, AgreementId, OrgId, ResourceId};
use edufed_domain::report::{
    ActivityFacts, Enrolment, Indicator, OccurrenceFacts, OrgFacts, RegistrationFacts,
    ResourceFacts, SchoolYear, Target, TargetScope,
};
use edufed_domain::time::TimeZone;
use serde::Deserialize;

use crate::sql::{from_json, instant};

#[derive(sqlx::FromRow)]
pub(super) struct OrgFactsRow {
    id: String,
    short_name: String,
    kind: String,
    city: String,
    time_zone: String,
    home_node: Option<String>,
}

impl TryFrom<OrgFactsRow> for OrgFacts {
    type Error = StorageError;

    fn try_from(row: OrgFactsRow) -> Result<Self, StorageError> {
        Ok(OrgFacts {
            id: OrgId::from_stored(row.id),
            name: row.short_name,
            kind: OrgKind::parse("kind", &row.kind).map_err(StorageError::new)?,
            city: row.city,
            time_zone: TimeZone::parse("time_zone", &row.time_zone).map_err(StorageError::new)?,
            hosted_here: row.home_node.is_none(),
            designations: Vec::new(),
        })
    }
}

/// An occurrence, own or mirrored.
#[derive(sqlx::FromRow)]
pub(super) struct OccurrenceFactsRow {
    activity_id: String,
    occurrence_key: i64,
    start_at: i64,
    end_at: i64,
    cancelled: i64,
}

impl OccurrenceFactsRow {
    /// The occurrence, with the id of its activity.
    pub(super) fn facts(self) -> Result<(String, OccurrenceFacts), StorageError> {
        Ok((
            self.activity_id,
            OccurrenceFacts {
                key: self.occurrence_key,
                start: instant(self.start_at)?,
                end: instant(self.end_at)?,
                cancelled: self.cancelled != 0,
            },
        ))
    }
}

/// An activity, own or mirrored.
#[derive(sqlx::FromRow)]
pub(super) struct ActivityFactsRow {
    pub(super) id: String,
    publisher_id: String,
    kind: String,
    direction: Option<String>,
    agreement_id: Option<String>,
    status: String,
    /// The details, for the kinds teachers grow by only.
    details: Option<String>,
}

/// The audience of stored details; the rest is not read.
#[derive(Deserialize)]
struct StoredDetails {
    audience: StoredAudience,
}

#[derive(Deserialize)]
struct StoredAudience {
    teachers: bool,
}

impl ActivityFactsRow {
    /// The activity with its `occurrences`, in order of start.
    pub(super) fn facts(
        self,
        occurrences: Vec<OccurrenceFacts>,
    ) -> Result<ActivityFacts, StorageError> {
        Ok(ActivityFacts {
            id: ActivityId::from_stored(self.id),
            publisher: OrgId::from_stored(self.publisher_id),
            kind: ActivityKind::parse("kind", &self.kind).map_err(StorageError::new)?,
            direction: self
                .direction
                .map(|d| Direction::parse("direction", &d))
                .transpose()
                .map_err(StorageError::new)?,
            agreement_id: self.agreement_id.map(AgreementId::from_stored),
            cancelled: self.status == "cancelled",
            teachers: match &self.details {
                Some(details) => from_json::<StoredDetails>(details)?.audience.teachers,
                None => false,
            },
            occurrences,
        })
    }
}

/// The grades of a stored cohort; the rest of it is not read.
#[derive(Deserialize)]
struct StoredCohort {
    /// `None` for a group of teachers.
    grades: Option<StoredGrades>,
}

#[derive(Deserialize)]
struct StoredGrades {
    min: u8,
    max: u8,
}

/// A registration of this node's.
#[derive(sqlx::FromRow)]
pub(super) struct RegistrationFactsRow {
    pub(super) id: String,
    pub(super) activity_id: String,
    occurrence_key: Option<i64>,
    org_id: String,
    state: String,
    headcount: i64,
    /// The cohort, JSON: only its grades are read.
    cohort: String,
    results: Option<String>,
}

impl TryFrom<RegistrationFactsRow> for RegistrationFacts {
    type Error = StorageError;

    fn try_from(row: RegistrationFactsRow) -> Result<Self, StorageError> {
        let cohort: StoredCohort = from_json(&row.cohort)?;
        Ok(RegistrationFacts {
            activity_id: ActivityId::from_stored(row.activity_id),
            occurrence: row.occurrence_key,
            org_id: OrgId::from_stored(row.org_id),
            state: RegistrationState::parse("state", &row.state).map_err(StorageError::new)?,
            headcount: u32::try_from(row.headcount).unwrap_or(0),
            grades: cohort.grades.map(|g| (g.min, g.max)),
            results: row.results.as_deref().map(from_json).transpose()?,
        })
    }
}

/// A confirmed booked occurrence.
#[derive(sqlx::FromRow)]
pub(super) struct BookedRow {
    resource_id: String,
    start_at: i64,
    end_at: i64,
}

impl BookedRow {
    /// The time booked, with the id of its resource.
    pub(super) fn interval(self) -> Result<(String, Interval), StorageError> {
        Ok((
            self.resource_id,
            (instant(self.start_at)?, instant(self.end_at)?),
        ))
    }
}

/// A resource of this node's.
#[derive(sqlx::FromRow)]
pub(super) struct ResourceFactsRow {
    pub(super) id: String,
    owner_id: String,
    details: String,
    blackouts: String,
}

impl ResourceFactsRow {
    /// The resource with its confirmed `booked` time.
    pub(super) fn facts(self, booked: Vec<Interval>) -> Result<ResourceFacts, StorageError> {
        let details: ResourceDetails = from_json(&self.details)?;
        let blackouts: Vec<Blackout> = from_json(&self.blackouts)?;
        Ok(ResourceFacts {
            booked,
            id: ResourceId::from_stored(self.id),
            owner: OrgId::from_stored(self.owner_id),
            kind: details.kind,
            name: details.name,
            time_zone: details.time_zone,
            hours: details.hours,
            blackouts,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct EnrolmentRow {
    org_id: String,
    school_year: i64,
    students: i64,
    updated_at: i64,
}

impl TryFrom<EnrolmentRow> for Enrolment {
    type Error = StorageError;

    fn try_from(row: EnrolmentRow) -> Result<Self, StorageError> {
        Ok(Enrolment {
            org_id: OrgId::from_stored(row.org_id),
            school_year: SchoolYear(i32::try_from(row.school_year).unwrap_or(0)),
            students: u32::try_from(row.students).unwrap_or(0),
            updated_at: instant(row.updated_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct TargetRow {
    indicator: String,
    /// As [`TargetScope::stored`] writes it.
    scope: String,
    /// "YYYY-MM-DD".
    due: String,
    value: f64,
    note: String,
    updated_at: i64,
}

impl TargetRow {
    /// The target; none for a scope this version does not know.
    pub(super) fn target(self) -> Result<Option<Target>, StorageError> {
        let Some(scope) = TargetScope::from_stored(&self.scope) else {
            return Ok(None);
        };
        Ok(Some(Target {
            indicator: Indicator::parse("indicator", &self.indicator).map_err(StorageError::new)?,
            scope,
            due: self.due.parse::<NaiveDate>().map_err(StorageError::new)?,
            value: self.value,
            note: self.note,
            updated_at: instant(self.updated_at)?,
        }))
    }
}
