//! Teachers' professional growth, as each organization states it per
//! school year: how many teachers it has (the denominator of every share),
//! how many are young specialists, and how many completed a qualification
//! course (КПК), an internship, attended the network's seminars, belong to
//! a mentors' association or to the national professional-growth system.
//! Counts only; and, for teachers who agree, records by person, kept on
//! their organization's node and never sent to another.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::ids::{GrowthId, OrgId, PersonId};
use crate::report::SchoolYear;
use crate::stable::string_enum;
use crate::text;

string_enum!(
    /// What a teacher's growth record is of.
    GrowthKind {
        /// A qualification course (КПК), with its hours.
        Course = "course",
        /// An internship (стажировка).
        Internship = "internship",
        /// A seminar, round table or conference of the network attended.
        Seminar = "seminar",
        /// Membership of a mentors' association.
        Association = "association",
        /// Entry into the national system of professional growth.
        GrowthSystem = "growth_system",
    }
);

/// The longest a course or an internship may be, in hours.
pub const MAX_HOURS: u32 = 2_000;

/// A teacher's growth, recorded by person once they agreed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrowthRecord {
    pub id: GrowthId,
    pub org_id: OrgId,
    pub person: PersonId,
    pub kind: GrowthKind,
    /// The course's, internship's or seminar's name, the association's.
    pub title: String,
    /// When it was completed, attended or joined.
    pub on: NaiveDate,
    /// A course's or an internship's hours.
    pub hours: Option<u32>,
    /// Who recorded it: the teacher, or an admin or coordinator.
    pub recorded_by: PersonId,
    pub created_at: DateTime<Utc>,
}

/// A growth record to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGrowthRecord {
    pub org_id: OrgId,
    pub person: PersonId,
    pub kind: GrowthKind,
    pub title: String,
    pub on: NaiveDate,
    pub hours: Option<u32>,
}

impl NewGrowthRecord {
    /// Checks the record: a title, and hours for a course (and at most for
    /// an internship), none for anything else.
    pub fn validate(mut self) -> Result<Self, FieldError> {
        self.title = text::line("title", &self.title, 300)?;
        match (self.kind, self.hours) {
            (GrowthKind::Course, None) => {
                return Err(FieldError::new("hours", "a course states its hours"));
            }
            (GrowthKind::Course | GrowthKind::Internship, Some(hours))
                if hours == 0 || hours > MAX_HOURS =>
            {
                return Err(FieldError::new(
                    "hours",
                    format!("must be 1 to {MAX_HOURS}"),
                ));
            }
            (GrowthKind::Course | GrowthKind::Internship, _) => {}
            (_, Some(_)) => {
                return Err(FieldError::new(
                    "hours",
                    "only a course or an internship has hours",
                ));
            }
            (_, None) => {}
        }
        Ok(self)
    }

    /// The record as stored.
    pub fn record(self, id: GrowthId, recorded_by: PersonId, at: DateTime<Utc>) -> GrowthRecord {
        GrowthRecord {
            id,
            org_id: self.org_id,
            person: self.person,
            kind: self.kind,
            title: self.title,
            on: self.on,
            hours: self.hours,
            recorded_by,
            created_at: at,
        }
    }
}

/// A teacher's agreement to have their growth recorded by person in an
/// organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrowthConsent {
    pub org_id: OrgId,
    pub person: PersonId,
    pub given_at: DateTime<Utc>,
}

/// The most teachers an organization may state.
pub const MAX_TEACHERS: u32 = 100_000;

/// An organization's teachers in a school year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeacherFigures {
    pub org_id: OrgId,
    pub school_year: SchoolYear,
    /// Teachers, 1 to [`MAX_TEACHERS`].
    pub teachers: u32,
    /// Of them, young specialists (in their first three years).
    pub young_teachers: u32,
    /// Teachers who completed a qualification course (КПК).
    pub courses: u32,
    /// The courses' hours, all teachers together.
    pub course_hours: u32,
    /// Teachers who completed an internship (стажировка).
    pub internships: u32,
    /// Teachers who attended the network's seminars and round tables.
    pub seminars: u32,
    /// Members of a mentors' association.
    pub association_members: u32,
    /// Teachers in the national system of professional growth.
    pub growth_system: u32,
    pub updated_at: DateTime<Utc>,
}

impl TeacherFigures {
    /// Checks the counts: teachers within bounds, and no part larger than
    /// the whole.
    pub fn validate(self) -> Result<Self, FieldError> {
        if self.teachers == 0 || self.teachers > MAX_TEACHERS {
            return Err(FieldError::new(
                "teachers",
                format!("must be 1 to {MAX_TEACHERS}"),
            ));
        }
        for (field, count) in [
            ("young_teachers", self.young_teachers),
            ("courses", self.courses),
            ("internships", self.internships),
            ("seminars", self.seminars),
            ("association_members", self.association_members),
            ("growth_system", self.growth_system),
        ] {
            if count > self.teachers {
                return Err(FieldError::new(
                    field,
                    format!("must be at most {}", self.teachers),
                ));
            }
        }
        if self.course_hours > self.courses.saturating_mul(2_000) {
            return Err(FieldError::new(
                "course_hours",
                format!("must be at most {}", self.courses.saturating_mul(2_000)),
            ));
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(kind: GrowthKind, hours: Option<u32>) -> NewGrowthRecord {
        NewGrowthRecord {
            org_id: OrgId::generate(),
            person: PersonId::generate(),
            kind,
            title: "  Формирующее оценивание  ".into(),
            on: NaiveDate::from_ymd_opt(2025, 11, 20).unwrap(),
            hours,
        }
    }

    #[test]
    fn a_course_states_its_hours_and_nothing_else_has_any() {
        let course = new(GrowthKind::Course, Some(72)).validate().unwrap();
        assert_eq!(course.title, "Формирующее оценивание");
        assert_eq!(
            new(GrowthKind::Course, None).validate().unwrap_err().field,
            "hours"
        );
        assert_eq!(
            new(GrowthKind::Course, Some(MAX_HOURS + 1))
                .validate()
                .unwrap_err()
                .field,
            "hours"
        );
        assert!(new(GrowthKind::Internship, None).validate().is_ok());
        assert_eq!(
            new(GrowthKind::Seminar, Some(2))
                .validate()
                .unwrap_err()
                .field,
            "hours"
        );
        let mut untitled = new(GrowthKind::Seminar, None);
        untitled.title = " ".into();
        assert_eq!(untitled.validate().unwrap_err().field, "title");
    }
}
