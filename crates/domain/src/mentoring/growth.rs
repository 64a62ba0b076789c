//! Teachers' professional growth, as each organization states it per
//! school year: how many teachers it has (the denominator of every share),
//! how many are young specialists, and how many completed a qualification
//! course (КПК), an internship, attended the network's seminars, belong to
//! a mentors' association or to the national professional-growth system.
//! Counts only.

use chrono::{DateTime, Utc};

use crate::error::FieldError;
use crate::ids::OrgId;
use crate::report::SchoolYear;

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
