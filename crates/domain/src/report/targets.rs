//! The figures stated by hand: the indicators and the targets set for
//! them, and organizations' enrolments.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::SchoolYear;
use crate::error::FieldError;
use crate::ids::OrgId;
use crate::stable::string_enum;

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
        /// Mentoring pairs and groups working in the period.
        MentoringPairs = "mentoring_pairs",
        /// Pairs joining people of more than one organization, as a share
        /// of the pairs, percent.
        MentoringCrossing = "mentoring_crossing",
        /// Young teachers mentored, as a share of the young teachers the
        /// organization states, percent.
        YoungTeachersMentored = "young_teachers_mentored",
        /// Teachers who completed a qualification course (КПК), as a share
        /// of the teachers stated, percent.
        TeachersCourses = "teachers_courses",
        /// Teachers who attended the network's seminars, as a share of the
        /// teachers stated, percent.
        TeachersSeminars = "teachers_seminars",
        /// Teachers in the national system of professional growth, as a
        /// share of the teachers stated, percent.
        TeachersGrowthSystem = "teachers_growth_system",
        /// Professional trials taken per pupil of the cohorts on learning
        /// routes in the school year (pupil-visits of trials attended over
        /// the cohorts' pupils).
        TrialsPerPupil = "trials_per_pupil",
        /// Leavers of grades 9 and 11 on routes who chose a profile, as a
        /// share of those leavers, percent.
        LeaversOriented = "leavers_oriented",
        /// Leavers of grades 9 and 11 on routes going on in their route's
        /// profile, as a share of those leavers, percent.
        LeaversContinuing = "leavers_continuing",
    }
);

impl Indicator {
    /// Whether the value is a percentage.
    pub fn is_share(self) -> bool {
        !matches!(
            self,
            Indicator::ActivitiesHeld
                | Indicator::AgreementsSigned
                | Indicator::ParticipantsPerActivity
                | Indicator::MentoringPairs
                | Indicator::TrialsPerPupil
        )
    }

    /// The target a network holds it to unless one is set: ten trials per
    /// pupil («Билет в будущее»), nine leavers in ten oriented to a profile
    /// (Gymnasium 44's programme).
    pub fn standard_target(self) -> Option<f64> {
        match self {
            Indicator::TrialsPerPupil => Some(crate::routes::TRIALS_PER_PUPIL_TARGET),
            Indicator::LeaversOriented => Some(90.0),
            _ => None,
        }
    }

    /// The unit in words.
    pub fn unit(self) -> &'static str {
        match self {
            Indicator::NetworkCoverage
            | Indicator::WinnersShare
            | Indicator::MentoringCrossing
            | Indicator::YoungTeachersMentored
            | Indicator::TeachersCourses
            | Indicator::TeachersSeminars
            | Indicator::TeachersGrowthSystem
            | Indicator::LeaversOriented
            | Indicator::LeaversContinuing => "%",
            Indicator::TrialsPerPupil => "trials per pupil",
            Indicator::MentoringPairs => "pairs and groups",
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
            Indicator::MentoringPairs => "Mentoring pairs and groups working",
            Indicator::MentoringCrossing => "Mentoring pairs joining organizations",
            Indicator::YoungTeachersMentored => "Young teachers with a mentor",
            Indicator::TeachersCourses => "Teachers who completed a qualification course",
            Indicator::TeachersSeminars => "Teachers at the network's seminars",
            Indicator::TeachersGrowthSystem => {
                "Teachers in the national system of professional growth"
            }
            Indicator::TrialsPerPupil => "Professional trials per pupil on a learning route",
            Indicator::LeaversOriented => "Leavers of grades 9 and 11 who chose a profile",
            Indicator::LeaversContinuing => "Leavers going on in their route's profile",
        }
    }
}

/// Whom a target is set for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TargetScope {
    Organization(OrgId),
    /// A city, folded as [`crate::text::fold`] folds it.
    City(String),
    /// Every organization this node knows.
    Network,
}

impl TargetScope {
    /// The stored form: `org:<id>`, `city:<folded>` or `network`.
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
    pub indicator: Indicator,
    pub scope: TargetScope,
    /// The day by which the value should be reached.
    pub due: NaiveDate,
    /// The value, in the indicator's unit (percent for shares).
    pub value: f64,
    /// Why, or where it comes from (e.g. the programme of development).
    pub note: String,
    /// When it was last set, by the node's clock.
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
    pub org_id: OrgId,
    pub school_year: SchoolYear,
    /// Students enrolled, 1 to [`MAX_STUDENTS`].
    pub students: u32,
    /// When it was last stated, by the node's clock.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
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
