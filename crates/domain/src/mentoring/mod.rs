//! Mentoring across organizations (Распоряжение Минпросвещения Р-145):
//! programmes, the pairs and groups in them, their checkpoints and
//! outcomes.
//!
//! A programme belongs to one organization (its owner), optionally under a
//! network agreement, with partner organizations whose people mentor or
//! are mentored. A pair's mentor is an adult named with their position and
//! organization, or, in peer mentoring, a pupil's code; its mentees are
//! colleagues, cohorts of a school, or pupils' pseudonymous codes. A child
//! is never named: a pupil is a code the school keeps the key to outside
//! edufed, and a code is kept only on the node of the pupil's school.
//! What leaves the node about a pair ([`SharedPair`]) is its
//! organizations, form, state, dates and outcome.

mod decide;
mod growth;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

pub use self::decide::{Close, Transition};
pub use self::growth::{
    GrowthConsent, GrowthKind, GrowthRecord, MAX_HOURS, MAX_TEACHERS, NewGrowthRecord,
    TeacherFigures,
};
use crate::calendar::GradeRange;
use crate::error::{ErrorCode, FieldError, ServiceError, StorageError};
use crate::ids::{AgreementId, AssessmentId, OrgId, PairId, PersonId, ProgrammeId};
use crate::stable::string_enum;
use crate::text;

/// The longest title of a programme.
pub const MAX_TITLE: usize = 200;
/// The longest goals, comments and reasons.
pub const MAX_TEXT: usize = 4_000;
/// Partner organizations of one programme, at most.
pub const MAX_PARTNERS: usize = 50;
/// Criteria of a programme's monitoring card, at most.
pub const MAX_CRITERIA: usize = 12;
/// Mentees of one pair or group, at most.
pub const MAX_MENTEES: usize = 40;
/// The highest point of a criterion's scale.
pub const MAX_SCALE: u8 = 10;
/// The longest pupil's code.
pub const MAX_CODE: usize = 32;
/// Pairs and groups of one programme, at most: its register is one list.
pub const MAX_PAIRS: usize = 500;

string_enum!(
    /// The form of mentoring (the Ministry's methodology, and the seeds'
    /// networks).
    MentoringForm {
        /// «учитель – учитель».
        TeacherTeacher = "teacher_teacher",
        /// «молодой учитель – опытный учитель».
        YoungTeacher = "young_teacher",
        /// A teacher mentoring a student of a teachers' university.
        TeacherStudent = "teacher_student",
        /// «студент – ученик».
        StudentPupil = "student_pupil",
        /// «ученик – ученик».
        PupilPupil = "pupil_pupil",
        /// «учитель – ученик».
        TeacherPupil = "teacher_pupil",
        /// «работодатель – ученик».
        EmployerPupil = "employer_pupil",
        /// «работодатель – студент».
        EmployerStudent = "employer_student",
        /// «лидер – проектная команда».
        LeaderProjectTeam = "leader_project_team",
        /// «учитель – проектная команда».
        TeacherProjectTeam = "teacher_project_team",
        /// Reverse mentoring: the younger teaches the elder.
        Reverse = "reverse",
        /// Another form, named by the programme.
        Other = "other",
    }
);

impl MentoringForm {
    /// Whether the mentees are children (pupils), who are never named.
    pub fn mentees_are_pupils(self) -> bool {
        matches!(
            self,
            Self::StudentPupil
                | Self::PupilPupil
                | Self::TeacherPupil
                | Self::EmployerPupil
                | Self::LeaderProjectTeam
                | Self::TeacherProjectTeam
        )
    }
}

string_enum!(
    /// Where a pair or group stands.
    PairState {
        /// Formed, not yet meeting.
        Planned = "planned",
        /// Meeting.
        Active = "active",
        /// Came to its end; its outcome is recorded.
        Completed = "completed",
        /// Ended before its term, with a reason.
        EndedEarly = "ended_early",
    }
);

string_enum!(
    /// Whether a pair reached its goal.
    OutcomeResult as MentoringResult {
        Met = "met",
        Partly = "partly",
        NotMet = "not_met",
    }
);

/// A criterion of a programme's monitoring card («карта мониторинга»),
/// scored from 1 to its scale at each checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Criterion {
    /// A short key, unique in the programme (`success`, `satisfaction`).
    pub key: String,
    /// What is assessed, for people.
    pub title: String,
    /// The highest score, 2 to [`MAX_SCALE`].
    pub scale: u8,
}

/// A mentoring programme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Programme {
    pub id: ProgrammeId,
    /// The organization that runs it; its node keeps the programme.
    pub owner: OrgId,
    #[serde(flatten)]
    pub details: ProgrammeDetails,
    /// Increases on every change.
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a programme's owner says of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgrammeDetails {
    pub title: String,
    pub form: MentoringForm,
    /// The form's name when it is [`MentoringForm::Other`].
    pub form_label: Option<String>,
    /// The organizations whose people mentor or are mentored, besides the
    /// owner.
    pub partners: Vec<OrgId>,
    /// The network agreement it runs under, if any.
    pub agreement: Option<AgreementId>,
    /// The term.
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub goals: String,
    /// The person who coordinates it: assesses pairs and records outcomes.
    pub coordinator: PersonId,
    /// The monitoring card.
    pub criteria: Vec<Criterion>,
}

impl ProgrammeDetails {
    /// Checks the fields of their own; the store checks that the
    /// organizations, the agreement and the coordinator exist.
    pub fn validate(mut self, owner: &OrgId) -> Result<Self, FieldError> {
        self.title = text::line("title", &self.title, MAX_TITLE)?;
        self.form_label = match (self.form, &self.form_label) {
            (MentoringForm::Other, Some(label)) => {
                Some(text::line("form_label", label, MAX_TITLE)?)
            }
            (MentoringForm::Other, None) => {
                return Err(FieldError::new(
                    "form_label",
                    "names the form when it is another",
                ));
            }
            (_, Some(label)) => text::optional_line("form_label", label, MAX_TITLE)?,
            (_, None) => None,
        };
        if self.partners.len() > MAX_PARTNERS {
            return Err(FieldError::new(
                "partners",
                format!("at most {MAX_PARTNERS} entries"),
            ));
        }
        for (i, partner) in self.partners.iter().enumerate() {
            if partner == owner || self.partners[..i].contains(partner) {
                return Err(FieldError::new(
                    format!("partners[{i}]"),
                    "names an organization twice",
                ));
            }
        }
        if self.ends_on < self.starts_on {
            return Err(FieldError::new("ends_on", "must not come before starts_on"));
        }
        self.goals = text::paragraph("goals", &self.goals, MAX_TEXT)?;
        if self.criteria.len() > MAX_CRITERIA {
            return Err(FieldError::new(
                "criteria",
                format!("at most {MAX_CRITERIA} entries"),
            ));
        }
        let mut criteria: Vec<Criterion> = Vec::with_capacity(self.criteria.len());
        for (i, criterion) in self.criteria.into_iter().enumerate() {
            let field = format!("criteria[{i}]");
            let key = key(&format!("{field}.key"), &criterion.key)?;
            if criteria.iter().any(|c| c.key == key) {
                return Err(FieldError::new(
                    format!("{field}.key"),
                    "names a criterion twice",
                ));
            }
            if !(2..=MAX_SCALE).contains(&criterion.scale) {
                return Err(FieldError::new(
                    format!("{field}.scale"),
                    format!("must be 2 to {MAX_SCALE}"),
                ));
            }
            criteria.push(Criterion {
                key,
                title: text::line(&format!("{field}.title"), &criterion.title, MAX_TITLE)?,
                scale: criterion.scale,
            });
        }
        self.criteria = criteria;
        Ok(self)
    }
}

impl Programme {
    /// The owner and the partners: the organizations whose admins and
    /// coordinators read its closed register.
    pub fn organizations(&self) -> Vec<OrgId> {
        std::iter::once(self.owner.clone())
            .chain(self.details.partners.iter().cloned())
            .collect()
    }

    /// Whether `org` takes part.
    pub fn includes(&self, org: &OrgId) -> bool {
        &self.owner == org || self.details.partners.contains(org)
    }
}

/// A criterion's key: lowercase Latin letters, digits and `_`, 1–32.
fn key(field: &str, raw: &str) -> Result<String, FieldError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    if value.len() > 32
        || !value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(FieldError::new(
            field,
            "must be 1 to 32 lowercase Latin letters, digits or _",
        ));
    }
    Ok(value.to_owned())
}

/// An adult in a pair: a mentor, or a colleague mentored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adult {
    pub name: String,
    pub position: String,
    pub org_id: OrgId,
    /// Their person on this node, when they have one.
    pub person_id: Option<PersonId>,
}

/// Who mentors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Mentor {
    /// A teacher, a student, an employer's specialist, a project leader.
    Adult(Adult),
    /// A pupil mentoring pupils, by their school's code.
    Pupil(Pupil),
}

/// A pupil, by the pseudonymous code their school keeps the key to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pupil {
    /// The pupil's school.
    pub org_id: OrgId,
    pub code: String,
}

/// Who is mentored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Mentee {
    /// A colleague: a young teacher, a student.
    Colleague(Adult),
    /// A group of a school's pupils, by grades and size.
    Cohort {
        org_id: OrgId,
        grades: GradeRange,
        headcount: u32,
    },
    /// One pupil, by code.
    Pupil(Pupil),
}

impl Mentee {
    /// The organization the mentee is of.
    pub fn org_id(&self) -> &OrgId {
        match self {
            Mentee::Colleague(adult) => &adult.org_id,
            Mentee::Cohort { org_id, .. } | Mentee::Pupil(Pupil { org_id, .. }) => org_id,
        }
    }

    /// How many people it is.
    pub fn headcount(&self) -> u32 {
        match self {
            Mentee::Cohort { headcount, .. } => *headcount,
            _ => 1,
        }
    }
}

impl Mentor {
    /// The organization the mentor is of.
    pub fn org_id(&self) -> &OrgId {
        match self {
            Mentor::Adult(adult) => &adult.org_id,
            Mentor::Pupil(pupil) => &pupil.org_id,
        }
    }
}

impl Adult {
    /// Checks an adult's fields; `field` is where they came from.
    pub fn validate(mut self, field: &str) -> Result<Self, FieldError> {
        self.name = text::line(&format!("{field}.name"), &self.name, 200)?;
        self.position = text::line(&format!("{field}.position"), &self.position, 200)?;
        Ok(self)
    }
}

impl Pupil {
    /// Checks that the code is a code and not a name or a contact.
    pub fn validate(mut self, field: &str) -> Result<Self, FieldError> {
        self.code = pupil_code(&format!("{field}.code"), &self.code)?;
        Ok(self)
    }
}

/// A pupil's pseudonymous code: 2 to [`MAX_CODE`] Latin letters, digits,
/// `-` or `_`, with a digit in it, and not a phone number. A name, an
/// e-mail or a phone number is refused, so that none is ever stored.
pub fn pupil_code(field: &str, raw: &str) -> Result<String, FieldError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let shaped = value.len() >= 2
        && value.len() <= MAX_CODE
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && digits > 0;
    if !shaped || digits >= 10 {
        return Err(FieldError::new(
            field,
            "must be a pupil's code of 2 to 32 Latin letters, digits, - or _ with a digit in it, \
             never a name, an e-mail or a phone number",
        ));
    }
    Ok(value.to_owned())
}

/// How a pair ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub result: OutcomeResult,
    pub comment: String,
    /// For career guidance: the profile or field chosen.
    pub profile: Option<String>,
}

impl Outcome {
    /// Checks the texts.
    pub fn validate(mut self, field: &str) -> Result<Self, FieldError> {
        self.comment = text::paragraph(&format!("{field}.comment"), &self.comment, MAX_TEXT)?;
        self.profile = match &self.profile {
            Some(profile) => text::optional_line(&format!("{field}.profile"), profile, 200)?,
            None => None,
        };
        Ok(self)
    }
}

/// A pair or group: one mentor and their mentees in a programme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pair {
    pub id: PairId,
    pub programme_id: ProgrammeId,
    /// The programme's owner.
    pub owner: OrgId,
    /// The programme's form.
    pub form: MentoringForm,
    pub mentor: Mentor,
    pub mentees: Vec<Mentee>,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub state: PairState,
    /// Why it ended early.
    pub reason: Option<String>,
    pub outcome: Option<Outcome>,
    /// Checkpoints assessed so far.
    pub assessments: u32,
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Pair {
    /// The mentor's and the mentees' organizations, each once, the
    /// mentor's first.
    pub fn organizations(&self) -> Vec<OrgId> {
        let mut orgs = vec![self.mentor.org_id().clone()];
        for mentee in &self.mentees {
            if !orgs.contains(mentee.org_id()) {
                orgs.push(mentee.org_id().clone());
            }
        }
        orgs
    }

    /// Whether the pair joins people of more than one organization.
    pub fn crosses_organizations(&self) -> bool {
        self.organizations().len() > 1
    }

    /// What other nodes are told of the pair: never a name or a code.
    pub fn shared(&self) -> SharedPair {
        SharedPair {
            id: self.id.clone(),
            programme_id: self.programme_id.clone(),
            owner: self.owner.clone(),
            form: self.form,
            organizations: self.organizations(),
            mentees: self.mentees.iter().map(Mentee::headcount).sum(),
            mentees_by_org: {
                let mut by_org: Vec<(OrgId, u32)> = Vec::new();
                for mentee in &self.mentees {
                    match by_org.iter_mut().find(|(org, _)| org == mentee.org_id()) {
                        Some((_, count)) => *count += mentee.headcount(),
                        None => by_org.push((mentee.org_id().clone(), mentee.headcount())),
                    }
                }
                by_org
            },
            starts_on: self.starts_on,
            ends_on: self.ends_on,
            state: self.state,
            outcome: self.outcome.as_ref().map(|o| SharedOutcome {
                result: o.result,
                profile: o.profile.clone(),
            }),
            assessments: self.assessments,
        }
    }
}

/// A pair as other nodes and the change log see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedPair {
    pub id: PairId,
    pub programme_id: ProgrammeId,
    pub owner: OrgId,
    pub form: MentoringForm,
    /// The mentor's organization first, then the mentees'.
    pub organizations: Vec<OrgId>,
    /// How many people are mentored.
    pub mentees: u32,
    /// How many of them each organization's are, where that is known.
    #[serde(default)]
    pub mentees_by_org: Vec<(OrgId, u32)>,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub state: PairState,
    pub outcome: Option<SharedOutcome>,
    pub assessments: u32,
}

/// An outcome as other nodes see it: without the comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedOutcome {
    pub result: OutcomeResult,
    pub profile: Option<String>,
}

/// A pair to form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPair {
    pub mentor: Mentor,
    pub mentees: Vec<Mentee>,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
}

impl NewPair {
    /// Checks the pair against its programme, which has `formed` pairs
    /// already (at most [`MAX_PAIRS`]): the people are of its
    /// organizations, the dates within its term, pupils named by code and
    /// only where the form mentors pupils. `hosted` says whether a school
    /// is hosted on this node: a pupil's code is kept only there.
    pub fn validate(
        self,
        programme: &Programme,
        formed: usize,
        hosted: impl Fn(&OrgId) -> bool,
    ) -> Result<Self, Error> {
        if formed >= MAX_PAIRS {
            return Err(Error::ProgrammeFull { max: MAX_PAIRS });
        }
        let mentor = match self.mentor {
            Mentor::Adult(adult) => Mentor::Adult(adult.validate("mentor")?),
            Mentor::Pupil(pupil) if programme.details.form == MentoringForm::PupilPupil => {
                Mentor::Pupil(pupil.validate("mentor")?)
            }
            Mentor::Pupil(_) => {
                return Err(FieldError::new(
                    "mentor",
                    "is a pupil only in pupil-to-pupil mentoring",
                )
                .into());
            }
        };
        check_member(programme, mentor.org_id(), "mentor.organization")?;
        if let Mentor::Pupil(pupil) = &mentor {
            check_hosted(&hosted, &pupil.org_id, "mentor.code")?;
        }
        if self.mentees.is_empty() {
            return Err(FieldError::new("mentees", "is required").into());
        }
        if self.mentees.len() > MAX_MENTEES {
            return Err(
                FieldError::new("mentees", format!("at most {MAX_MENTEES} entries")).into(),
            );
        }
        let pupils = programme.details.form.mentees_are_pupils();
        let mut mentees = Vec::with_capacity(self.mentees.len());
        for (i, mentee) in self.mentees.into_iter().enumerate() {
            let field = format!("mentees[{i}]");
            let mentee = match mentee {
                Mentee::Colleague(_) if pupils => {
                    return Err(FieldError::new(
                        format!("{field}.name"),
                        "names a child: pupils are mentored as a cohort or by their school's code, never by name",
                    )
                    .into());
                }
                Mentee::Colleague(adult) => Mentee::Colleague(adult.validate(&field)?),
                Mentee::Cohort { .. } | Mentee::Pupil(_) if !pupils => {
                    return Err(FieldError::new(
                        format!("{field}.kind"),
                        "must be a colleague in this form of mentoring",
                    )
                    .into());
                }
                Mentee::Cohort {
                    org_id,
                    grades,
                    headcount,
                } => {
                    crate::calendar::registration::check_headcount(headcount)
                        .map_err(|e| FieldError::new(format!("{field}.headcount"), e.reason))?;
                    Mentee::Cohort {
                        org_id,
                        grades,
                        headcount,
                    }
                }
                Mentee::Pupil(pupil) => {
                    let pupil = pupil.validate(&field)?;
                    check_hosted(&hosted, &pupil.org_id, &format!("{field}.code"))?;
                    Mentee::Pupil(pupil)
                }
            };
            check_member(programme, mentee.org_id(), &format!("{field}.organization"))?;
            mentees.push(mentee);
        }
        let term = programme.details.starts_on..=programme.details.ends_on;
        if !term.contains(&self.starts_on) {
            return Err(
                FieldError::new("starts_on", "must fall within the programme's term").into(),
            );
        }
        if self.ends_on.is_some_and(|ends_on| ends_on < self.starts_on) {
            return Err(FieldError::new("ends_on", "must not come before starts_on").into());
        }
        Ok(Self {
            mentor,
            mentees,
            ..self
        })
    }
}

fn check_member(programme: &Programme, org: &OrgId, field: &str) -> Result<(), Error> {
    if programme.includes(org) {
        Ok(())
    } else {
        Err(Error::NotInProgramme {
            field: field.to_owned(),
            org: org.to_string(),
        })
    }
}

fn check_hosted(
    hosted: &impl Fn(&OrgId) -> bool,
    school: &OrgId,
    field: &str,
) -> Result<(), Error> {
    if hosted(school) {
        Ok(())
    } else {
        Err(Error::CodeElsewhere {
            field: field.to_owned(),
            school: school.to_string(),
        })
    }
}

/// A score of one criterion at a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Score {
    pub criterion: String,
    pub value: u8,
}

/// A pair assessed at a checkpoint by the programme's coordinator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    pub id: AssessmentId,
    pub pair_id: PairId,
    /// The checkpoint, as the programme names it («I полугодие 2025/26»).
    pub checkpoint: String,
    pub on: NaiveDate,
    /// One per criterion of the card, in its order.
    pub scores: Vec<Score>,
    pub comment: String,
    pub by: PersonId,
    pub created_at: DateTime<Utc>,
}

/// What the store is given to record an assessment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAssessment {
    pub checkpoint: String,
    pub on: NaiveDate,
    pub scores: Vec<Score>,
    pub comment: String,
}

impl NewAssessment {
    /// Checks the scores against the programme's card: every criterion
    /// once, each within its scale; they come back in the card's order.
    pub fn validate(self, criteria: &[Criterion]) -> Result<Self, FieldError> {
        let checkpoint = text::line("checkpoint", &self.checkpoint, MAX_TITLE)?;
        let comment = text::paragraph("comment", &self.comment, MAX_TEXT)?;
        if criteria.is_empty() {
            return Err(FieldError::new(
                "scores",
                "the programme has no monitoring criteria to score",
            ));
        }
        for (i, score) in self.scores.iter().enumerate() {
            let field = format!("scores[{i}]");
            let Some(criterion) = criteria.iter().find(|c| c.key == score.criterion) else {
                return Err(FieldError::new(
                    format!("{field}.criterion"),
                    format!(
                        "unknown value {}; expected one of {}",
                        text::excerpt(&score.criterion),
                        criteria
                            .iter()
                            .map(|c| c.key.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            };
            if self.scores[..i]
                .iter()
                .any(|s| s.criterion == score.criterion)
            {
                return Err(FieldError::new(
                    format!("{field}.criterion"),
                    "names a criterion twice",
                ));
            }
            if !(1..=criterion.scale).contains(&score.value) {
                return Err(FieldError::new(
                    format!("{field}.value"),
                    format!("must be 1 to {}", criterion.scale),
                ));
            }
        }
        let mut scores = Vec::with_capacity(criteria.len());
        for criterion in criteria {
            let Some(score) = self.scores.iter().find(|s| s.criterion == criterion.key) else {
                return Err(FieldError::new(
                    "scores",
                    format!("misses the criterion {}", text::excerpt(&criterion.title)),
                ));
            };
            scores.push(score.clone());
        }
        Ok(Self {
            checkpoint,
            on: self.on,
            scores,
            comment,
        })
    }
}

/// Why a mentoring call failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input broke a rule of its own.
    #[error(transparent)]
    Invalid(#[from] FieldError),
    /// A person named in a pair is of an organization outside the programme.
    #[error("invalid {field}: organization {org} does not take part in the programme")]
    NotInProgramme { field: String, org: String },
    /// A pupil's code for a school another node hosts.
    #[error(
        "invalid {field}: a pupil's code is kept only on the node of their school {school}; name a cohort of it instead"
    )]
    CodeElsewhere { field: String, school: String },
    /// A partner not known on this node.
    #[error("invalid {field}: organization {org} is not known on this node")]
    NotKnown { field: String, org: String },
    /// The programme's organization is hosted on another node, which
    /// keeps its programmes.
    #[error("organization {organization} is hosted on node {node}; run its programmes there")]
    HostedElsewhere { organization: String, node: String },
    /// The programme has as many pairs as one programme holds.
    #[error("a mentoring programme holds at most {max} pairs and groups")]
    ProgrammeFull { max: usize },
    #[error("mentoring programme {0} not found")]
    ProgrammeNotFound(String),
    #[error("mentoring pair {0} not found")]
    PairNotFound(String),
    #[error("organization {0} not found")]
    OrganizationNotFound(String),
    #[error("person {0} not found")]
    PersonNotFound(String),
    #[error("agreement {0} not found")]
    AgreementNotFound(String),
    #[error("growth record {0} not found")]
    GrowthNotFound(String),
    /// A teacher's growth is recorded by person only once they agreed.
    #[error(
        "person {person} has not agreed to have their growth recorded by person in organization {organization}"
    )]
    NoConsent {
        person: String,
        organization: String,
    },
    /// The state does not allow the change.
    #[error("the pair is {pair_state}, so it cannot be {pair_transition}")]
    WrongState {
        pair_state: PairState,
        pair_transition: Transition,
    },
    /// The programme changed since the version the caller saw.
    #[error("mentoring programme {id} is at version {actual}, not the expected {expected}")]
    ProgrammeVersion {
        id: ProgrammeId,
        expected: u64,
        actual: u64,
    },
    /// The pair changed since the version the caller saw.
    #[error("mentoring pair {id} is at version {actual}, not the expected {expected}")]
    PairVersion {
        id: PairId,
        expected: u64,
        actual: u64,
    },
    /// The caller may not do this.
    #[error(transparent)]
    Denied(#[from] crate::policy::Denied),
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl ServiceError for Error {
    fn error_code(&self) -> ErrorCode {
        match self {
            Error::Invalid(_) | Error::NotInProgramme { .. } | Error::NotKnown { .. } => {
                ErrorCode::InvalidArgument
            }
            Error::CodeElsewhere { .. }
            | Error::HostedElsewhere { .. }
            | Error::ProgrammeFull { .. }
            | Error::WrongState { .. }
            | Error::ProgrammeVersion { .. }
            | Error::PairVersion { .. }
            | Error::NoConsent { .. } => ErrorCode::FailedPrecondition,
            Error::ProgrammeNotFound(_)
            | Error::PairNotFound(_)
            | Error::OrganizationNotFound(_)
            | Error::PersonNotFound(_)
            | Error::AgreementNotFound(_)
            | Error::GrowthNotFound(_) => ErrorCode::NotFound,
            Error::Denied(_) => ErrorCode::PermissionDenied,
            Error::Storage(e) => e.error_code(),
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            Error::Invalid(e) => Some(&e.field),
            Error::NotInProgramme { field, .. }
            | Error::CodeElsewhere { field, .. }
            | Error::NotKnown { field, .. } => Some(field),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
