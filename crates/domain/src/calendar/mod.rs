//! The network's shared calendar: joint activities with their audiences,
//! schedules and seats, and the cohorts registered for them.

pub mod decide;
pub mod ics;
pub mod meeting;
pub mod registration;
pub mod schedule;
pub mod venues;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, FieldError, ServiceError, StorageError};
use crate::ids::{ActivityId, OrgId, RegistrationId};
use crate::stable::string_enum;
use crate::text;
pub use meeting::MentoringLink;
pub use schedule::{Occurrence, Override, OverrideChange, Recurrence, Schedule};
pub use venues::Venue;

string_enum!(
    /// What kind of activity it is.
    ActivityKind {
        Olympiad = "olympiad",
        /// A course preparing for olympiads.
        OlympiadPrepCourse = "olympiad_prep_course",
        Course = "course",
        /// A lesson taught in network form (Article 15).
        NetworkLesson = "network_lesson",
        Excursion = "excursion",
        MasterClass = "master_class",
        Conference = "conference",
        Contest = "contest",
        /// An intellectual game or quiz.
        Game = "game",
        /// A profile camp (профильная смена).
        ProfileCamp = "profile_camp",
        OpenDay = "open_day",
        /// A professional trial (профессиональная проба).
        ProfessionalTrial = "professional_trial",
        /// An internship for teachers (стажировка).
        TeacherInternship = "teacher_internship",
        Seminar = "seminar",
        RoundTable = "round_table",
        Festival = "festival",
        /// A sports event; its results are recorded like an olympiad's.
        Sport = "sport",
        Other = "other",
        /// A meeting of a mentoring pair or group, seen by the pair's
        /// organizations only.
        MentoringMeeting = "mentoring_meeting",
    }
);

impl ActivityKind {
    /// The kinds a teacher attends to grow professionally: the network's
    /// seminars, round tables, conferences, master classes, internships.
    pub const TEACHERS_GROWTH: [ActivityKind; 5] = [
        ActivityKind::Seminar,
        ActivityKind::RoundTable,
        ActivityKind::Conference,
        ActivityKind::MasterClass,
        ActivityKind::TeacherInternship,
    ];

    /// Whether results (participants, prize-winners, winners) are recorded.
    pub fn has_results(self) -> bool {
        matches!(
            self,
            Self::Olympiad | Self::Contest | Self::Game | Self::Sport
        )
    }
}

string_enum!(
    /// The direction of network cooperation (the seeds' taxonomy).
    Direction {
        ResearchAndProjects = "research_and_projects",
        /// Distance learning and gifted children.
        DistanceAndGifted = "distance_and_gifted",
        Upbringing = "upbringing",
        SportAndHealth = "sport_and_health",
        Innovation = "innovation",
        TeacherDevelopment = "teacher_development",
        CareerGuidance = "career_guidance",
        AdditionalEducation = "additional_education",
    }
);

string_enum!(
    /// How an activity is held.
    Format {
        /// In person (очный).
        InPerson = "in_person",
        /// Online, at a distance.
        Online = "online",
        /// Partly in person, partly online.
        Blended = "blended",
        /// By correspondence (заочный).
        Correspondence = "correspondence",
    }
);

string_enum!(
    /// Who may see an activity.
    Visibility {
        /// Anyone, without a token.
        Public = "public",
        /// Anyone with a token on the node (the network's members).
        Network = "network",
        /// The publisher's members only.
        Organization = "organization",
        /// The members of the publisher and of its partners (the
        /// co-organizing organizations) only.
        Partners = "partners",
    }
);

string_enum!(
    /// Where an activity is in its life.
    ActivityStatus {
        /// Being prepared; only the publisher sees it.
        Draft = "draft",
        /// Open to see and to register for.
        Published = "published",
        /// Called off by the publisher, before or after publication.
        Cancelled = "cancelled",
        /// Took place; no longer editable.
        Completed = "completed",
    }
);

impl ActivityStatus {
    /// Whether an activity may go from this status to `next`: a draft is
    /// published or dropped; a published activity is cancelled or completed.
    pub fn can_become(self, next: ActivityStatus) -> bool {
        use ActivityStatus::*;
        matches!(
            (self, next),
            (Draft, Published)
                | (Draft, Cancelled)
                | (Published, Cancelled)
                | (Published, Completed)
        )
    }

    /// Whether the publisher may still change the activity.
    pub fn is_editable(self) -> bool {
        matches!(self, ActivityStatus::Draft | ActivityStatus::Published)
    }
}

/// A range of school grades, 1 to 11.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GradeRange {
    /// Included.
    pub min: u8,
    /// Included; at least `min`.
    pub max: u8,
}

impl GradeRange {
    /// Grades `min..=max` within 1–11; `field` names the input on error.
    pub fn new(field: &str, min: u32, max: u32) -> Result<Self, FieldError> {
        if !(1..=11).contains(&min) || !(1..=11).contains(&max) {
            return Err(FieldError::new(field, "grades are 1 to 11"));
        }
        if min > max {
            return Err(FieldError::new(
                field,
                format!("{min}–{max} is not a range: the lowest grade comes first"),
            ));
        }
        Ok(Self {
            min: min as u8,
            max: max as u8,
        })
    }

    /// Whether `grade` is in the range.
    pub fn contains(self, grade: u8) -> bool {
        (self.min..=self.max).contains(&grade)
    }

    /// Whether the two ranges share a grade.
    pub fn overlaps(self, other: GradeRange) -> bool {
        self.min <= other.max && other.min <= self.max
    }
}

/// Who an activity is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audience {
    /// Students of these grades, if students.
    pub students: Option<GradeRange>,
    pub teachers: bool,
    pub parents: bool,
    pub university_students: bool,
}

impl Audience {
    /// An audience with at least one group.
    pub fn validate(self) -> Result<Self, FieldError> {
        if self.students.is_none() && !self.teachers && !self.parents && !self.university_students {
            return Err(FieldError::new("audience", "name at least one group"));
        }
        Ok(self)
    }
}

/// Where an activity takes place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "value")]
pub enum Place {
    /// At the publisher's premises (на базе).
    AtPublisher,
    /// The publisher comes to the school (выездной).
    Outbound,
    /// At an address, as written for people.
    Address(String),
    /// At one of the publisher's resources (a lab, a hall), by id.
    Resource(String),
    /// Online; the URL to join.
    Online(String),
}

/// The person who coordinates an activity (named publicly on purpose).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coordinator {
    pub name: String,
    /// Position, e.g. "заместитель директора по НМР".
    pub position: Option<String>,
    /// An e-mail or a phone, as written.
    pub contact: Option<String>,
}

/// The most seats one organization may hold on each occurrence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatQuota {
    pub org_id: OrgId,
    /// Seats on each occurrence, at most the activity's capacity.
    pub seats: u32,
}

/// When cohorts may register.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationWindow {
    /// Opens at; open from publication when unset.
    pub opens_at: Option<DateTime<Utc>>,
    /// Closes at; open until the activity starts when unset.
    pub closes_at: Option<DateTime<Utc>>,
}

/// Everything the publisher decides about an activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityDetails {
    /// At most [`MAX_TITLE`] characters.
    pub title: String,
    /// At most [`MAX_DESCRIPTION`] characters.
    pub description: String,
    pub kind: ActivityKind,
    pub direction: Option<Direction>,
    /// Subject tags, lowercase, at most [`MAX_SUBJECTS`].
    pub subjects: Vec<String>,
    pub audience: Audience,
    pub format: Format,
    pub place: Place,
    pub coordinator: Option<Coordinator>,
    /// Organizations that co-organize it, at most [`MAX_PARTNERS`].
    pub partners: Vec<OrgId>,
    /// Seats per occurrence; unlimited when unset.
    pub capacity: Option<u32>,
    /// Per-organization caps on seats (each at most the capacity).
    pub quotas: Vec<SeatQuota>,
    /// When cohorts may register.
    pub registration: RegistrationWindow,
    /// Who sees it.
    pub visibility: Visibility,
    /// The network agreement it delivers, by id.
    pub agreement_id: Option<String>,
    /// When it happens.
    pub schedule: Schedule,
    /// The mentoring programme (and pair) it belongs to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mentoring: Option<MentoringLink>,
    /// For a professional trial's session: the trial in the bank.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trial: Option<crate::ids::TrialId>,
    /// Several venues at once (an olympiad's base sites); a cohort
    /// registers at one, and `capacity` is theirs together.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub venues: Vec<Venue>,
}

/// The longest title, in characters.
pub const MAX_TITLE: usize = 300;
/// The longest description, in characters.
pub const MAX_DESCRIPTION: usize = 10_000;
/// The most subject tags.
pub const MAX_SUBJECTS: usize = 20;
/// The most partners or quotas.
pub const MAX_PARTNERS: usize = 50;
/// The largest capacity.
pub const MAX_CAPACITY: u32 = 100_000;

impl ActivityDetails {
    /// Checks the rules that span fields: quotas within capacity, a window
    /// that closes after it opens, the schedule's own rules.
    pub fn validate(mut self) -> Result<Self, FieldError> {
        self.title = text::line("title", &self.title, MAX_TITLE)?;
        if self.description.chars().nth(MAX_DESCRIPTION).is_some() {
            return Err(FieldError::new(
                "description",
                format!("is longer than {MAX_DESCRIPTION} characters"),
            ));
        }
        if self.subjects.len() > MAX_SUBJECTS {
            return Err(FieldError::new(
                "subjects",
                format!("at most {MAX_SUBJECTS}"),
            ));
        }
        let mut subjects = Vec::with_capacity(self.subjects.len());
        for subject in &self.subjects {
            let tag = text::fold(&text::line("subjects", subject, 60)?);
            if !subjects.contains(&tag) {
                subjects.push(tag);
            }
        }
        self.subjects = subjects;
        self.audience = self.audience.validate()?;
        if self.partners.len() > MAX_PARTNERS || self.quotas.len() > MAX_PARTNERS {
            return Err(FieldError::new(
                "partners",
                format!("at most {MAX_PARTNERS}"),
            ));
        }
        if !self.venues.is_empty() {
            self.venues = venues::validate(std::mem::take(&mut self.venues))?;
            self.capacity = venues::total_capacity(&self.venues);
        }
        if let Some(capacity) = self.capacity
            && (capacity == 0 || capacity > MAX_CAPACITY)
        {
            return Err(FieldError::new(
                "capacity",
                format!("must be 1 to {MAX_CAPACITY} seats"),
            ));
        }
        for quota in &self.quotas {
            if quota.seats == 0 || self.capacity.is_some_and(|c| quota.seats > c) {
                return Err(FieldError::new(
                    "quotas",
                    "each quota is 1 seat to the capacity",
                ));
            }
        }
        if let (Some(opens), Some(closes)) =
            (self.registration.opens_at, self.registration.closes_at)
            && closes <= opens
        {
            return Err(FieldError::new(
                "registration.closes_at",
                "must be after opens_at",
            ));
        }
        match &self.place {
            Place::Address(a) => {
                text::line("place.address", a, 500)?;
            }
            Place::Resource(r) => {
                text::line("place.resource_id", r, 100)?;
            }
            Place::Online(url) => {
                let url = text::line("place.online_url", url, 2048)?;
                if !url.starts_with("https://") && !url.starts_with("http://") {
                    return Err(FieldError::new(
                        "place.online_url",
                        "must be an http(s) URL",
                    ));
                }
            }
            Place::AtPublisher | Place::Outbound => {}
        }
        if let Some(agreement) = &self.agreement_id {
            text::line("agreement_id", agreement, 100)?;
        }
        self.schedule = self.schedule.validate()?;
        meeting::check(&self)?;
        match (self.kind == ActivityKind::ProfessionalTrial, &self.trial) {
            (true, None) => {
                return Err(FieldError::new(
                    "trial_id",
                    "a professional trial's session names its trial in the bank",
                ));
            }
            (false, Some(_)) => {
                return Err(FieldError::new(
                    "trial_id",
                    "only a professional trial's session names a trial",
                ));
            }
            _ => {}
        }
        Ok(self)
    }

    /// The text a calendar search matches against, folded.
    pub fn search_text(&self) -> String {
        text::fold(&format!("{}\n{}", self.title, self.description))
    }
}

/// An activity as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    pub id: ActivityId,
    /// The organization whose coordinators manage it; hosted on the node
    /// that keeps it.
    pub publisher: OrgId,
    /// What the publisher decided.
    pub details: ActivityDetails,
    /// Changes to single occurrences.
    pub overrides: Vec<Override>,
    /// Where it is in its life.
    pub status: ActivityStatus,
    /// Increases on every change.
    pub version: u64,
    /// By the publisher's node's clock.
    pub created_at: DateTime<Utc>,
    /// By the publisher's node's clock; equal to `created_at` until a
    /// change.
    pub updated_at: DateTime<Utc>,
}

impl Activity {
    /// Its occurrences, overrides applied.
    pub fn occurrences(&self) -> Result<Vec<Occurrence>, FieldError> {
        self.details.schedule.expand(&self.overrides)
    }

    fn check_editable(&self) -> Result<(), Error> {
        if self.status.is_editable() {
            Ok(())
        } else {
            Err(Error::WrongStatus {
                id: self.id.clone(),
                status: self.status,
                why: "it can no longer be changed",
            })
        }
    }

    /// The activity with new details, if it is still at `expected_version`
    /// (when given) and may be changed. Overrides name occurrences of the
    /// old schedule: those the new one no longer has are dropped.
    pub fn edited(
        &self,
        expected_version: Option<u64>,
        details: ActivityDetails,
    ) -> Result<Self, Error> {
        if let Some(expected) = expected_version
            && expected != self.version
        {
            return Err(Error::VersionMismatch {
                id: self.id.clone(),
                expected,
                actual: self.version,
            });
        }
        self.check_editable()?;
        let mut next = self.clone();
        if next.details.schedule != details.schedule {
            let tz = details.schedule.time_zone.tz();
            let kept: std::collections::HashSet<_> = details
                .schedule
                .expand(&[])?
                .iter()
                .map(|o| o.original_start.with_timezone(&tz).naive_local())
                .collect();
            next.overrides.retain(|o| kept.contains(&o.original_start));
        }
        next.details = details;
        Ok(next)
    }

    /// The activity in status `next`, if its life allows the step.
    pub fn with_status(&self, next: ActivityStatus) -> Result<Self, Error> {
        if !self.status.can_become(next) {
            return Err(Error::WrongStatus {
                id: self.id.clone(),
                status: self.status,
                why: match next {
                    ActivityStatus::Published => "only a draft can be published",
                    ActivityStatus::Completed => "only a published activity can be completed",
                    ActivityStatus::Cancelled => "it is over already",
                    ActivityStatus::Draft => "an activity never goes back to draft",
                },
            });
        }
        let mut changed = self.clone();
        changed.status = next;
        Ok(changed)
    }

    /// The activity with one occurrence (named by its original local start)
    /// cancelled or moved, replacing any earlier change to it.
    pub fn with_override(
        &self,
        original_start: chrono::NaiveDateTime,
        change: OverrideChange,
    ) -> Result<Self, Error> {
        self.check_editable()?;
        if !self.details.schedule.has_occurrence(original_start)? {
            return Err(
                FieldError::new("original_start", "is not an occurrence of this activity").into(),
            );
        }
        let mut next = self.clone();
        next.overrides
            .retain(|o| o.original_start != original_start);
        next.overrides.push(Override {
            original_start,
            change,
        });
        Ok(next)
    }
}

/// Who is looking at the calendar, for visibility.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Viewer {
    /// No token: public activities only.
    Anonymous,
    /// A member of the network: public and network-wide activities, and
    /// everything of the organizations listed (drafts included).
    Member(Vec<OrgId>),
    /// The node operator: everything.
    Operator,
}

impl Viewer {
    /// The viewer behind an optional caller.
    pub fn of(principal: Option<&crate::policy::Principal>) -> Self {
        match principal {
            None => Viewer::Anonymous,
            Some(p)
                if crate::policy::authorize(
                    p,
                    crate::policy::Action::ViewAllRecords,
                    crate::policy::Target::Node,
                )
                .is_ok() =>
            {
                Viewer::Operator
            }
            Some(p) => Viewer::Member(p.memberships.iter().map(|(org, _)| org.clone()).collect()),
        }
    }

    /// Whether the viewer may see `activity`.
    pub fn can_see(&self, activity: &Activity) -> bool {
        match self {
            Viewer::Operator => true,
            Viewer::Member(orgs) if orgs.contains(&activity.publisher) => true,
            _ if activity.status == ActivityStatus::Draft => false,
            Viewer::Anonymous => activity.details.visibility == Visibility::Public,
            Viewer::Member(orgs) => match activity.details.visibility {
                Visibility::Public | Visibility::Network => true,
                Visibility::Organization => false,
                Visibility::Partners => orgs.iter().any(|o| activity.details.partners.contains(o)),
            },
        }
    }
}

/// What a calendar search asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OccurrenceFilter {
    /// Occurrences ending after this.
    pub from: DateTime<Utc>,
    /// Occurrences starting before this.
    pub to: DateTime<Utc>,
    pub publisher: Option<OrgId>,
    pub kind: Option<ActivityKind>,
    pub direction: Option<Direction>,
    /// Only activities whose audience includes this grade.
    pub grade: Option<u8>,
    /// Only activities with this subject tag (folded).
    pub subject: Option<String>,
    pub format: Option<Format>,
    /// Only occurrences with at least this many free seats.
    pub min_free_seats: Option<u32>,
    /// Only activities under this agreement.
    pub agreement_id: Option<String>,
    /// Only activities whose title or description contains this (folded).
    pub query: Option<String>,
    /// Include cancelled activities and occurrences.
    pub include_cancelled: bool,
    /// Only activities of this mentoring programme (and pair, if set).
    pub mentoring: Option<MentoringLink>,
    /// Only activities of organizations with a designation answering this
    /// ("the resource centres for robotics").
    pub host_designation: Option<crate::designations::DesignationQuery>,
}

/// What an iCalendar feed holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedFilter {
    pub activity: Option<ActivityId>,
    pub publisher: Option<OrgId>,
    pub kind: Option<ActivityKind>,
    pub direction: Option<Direction>,
    /// Only activities whose audience includes this grade.
    pub grade: Option<u8>,
    /// Only activities with this subject tag (folded).
    pub subject: Option<String>,
    pub format: Option<Format>,
}

/// The most activities one feed holds (the most recently changed).
pub const MAX_FEED_ACTIVITIES: u32 = 2000;

/// The longest window one search may cover.
pub const MAX_WINDOW_DAYS: i64 = 400;

/// An occurrence as found: its activity, when, and its seats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundOccurrence {
    pub activity: Activity,
    pub occurrence: Occurrence,
    /// Seats held on this occurrence.
    pub seats_taken: u32,
}

/// Why a calendar operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input broke a rule.
    #[error(transparent)]
    Invalid(#[from] FieldError),
    /// No activity with this id (or not visible to the caller).
    #[error("activity {0} not found")]
    ActivityNotFound(String),
    /// No registration with this id.
    #[error("registration {0} not found")]
    RegistrationNotFound(RegistrationId),
    /// The organization a request names is not known on this node.
    #[error("organization {0} is not known on this node")]
    OrganizationNotFound(String),
    /// The caller may not do this.
    #[error(transparent)]
    Denied(#[from] crate::policy::Denied),
    /// The activity changed since the caller's version.
    #[error("activity {id} is at version {actual}, not the expected {expected}")]
    VersionMismatch {
        id: ActivityId,
        /// The version the caller expected.
        expected: u64,
        /// The version stored now.
        actual: u64,
    },
    /// The activity's status does not allow the operation.
    #[error("activity {id} is {status}: {why}")]
    WrongStatus {
        id: ActivityId,
        status: ActivityStatus,
        /// What was refused.
        why: &'static str,
    },
    /// The mentoring programme an activity names is not known here.
    #[error("mentoring programme {0} not found")]
    ProgrammeNotFound(String),
    /// The mentoring pair an activity names is not known here.
    #[error("mentoring pair {0} not found")]
    PairNotFound(String),
    /// The trial a session names is not one of the publisher's here.
    #[error("professional trial {0} not found")]
    TrialNotFound(String),
    /// The trial a session names is not in the bank (not approved).
    #[error("professional trial {0} is not in the network's bank: it is {1}")]
    TrialNotInBank(String, crate::trials::TrialState),
    /// A pair's meeting was asked for after the pair came to its end.
    #[error("mentoring pair {id} is {state}: it meets no more")]
    PairOver {
        id: String,
        state: crate::mentoring::PairState,
    },
    /// The activity's registration window is not open now.
    #[error("registration is closed: {0}")]
    RegistrationClosed(String),
    /// A registration rule refused the change.
    #[error("{0}")]
    RegistrationRefused(String),
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl ServiceError for Error {
    fn error_code(&self) -> ErrorCode {
        match self {
            Error::Invalid(_) => ErrorCode::InvalidArgument,
            Error::ActivityNotFound(_)
            | Error::RegistrationNotFound(_)
            | Error::OrganizationNotFound(_)
            | Error::ProgrammeNotFound(_)
            | Error::PairNotFound(_)
            | Error::TrialNotFound(_) => ErrorCode::NotFound,
            Error::Denied(_) => ErrorCode::PermissionDenied,
            Error::VersionMismatch { .. }
            | Error::WrongStatus { .. }
            | Error::RegistrationClosed(_)
            | Error::RegistrationRefused(_)
            | Error::PairOver { .. }
            | Error::TrialNotInBank(..) => ErrorCode::FailedPrecondition,
            Error::Storage(e) => e.error_code(),
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            Error::Invalid(e) => Some(&e.field),
            Error::ProgrammeNotFound(_) => Some("mentoring_programme_id"),
            Error::PairNotFound(_) => Some("mentoring_pair_id"),
            Error::TrialNotFound(_) | Error::TrialNotInBank(..) => Some("trial_id"),
            _ => None,
        }
    }

    fn reason(&self) -> Option<crate::Reason> {
        match self {
            Error::RegistrationClosed(_) => Some(crate::Reason {
                reason: "REGISTRATION_CLOSED",
                metadata: Vec::new(),
            }),
            Error::RegistrationRefused(_) => Some(crate::Reason {
                reason: "REGISTRATION_REFUSED",
                metadata: Vec::new(),
            }),
            Error::WrongStatus { status, .. } => Some(crate::Reason::new(
                "ACTIVITY_STATUS",
                "status",
                status.as_str(),
            )),
            Error::VersionMismatch { actual, .. } => Some(crate::Reason::new(
                "VERSION_MISMATCH",
                "version",
                actual.to_string(),
            )),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_transitions() {
        use ActivityStatus::*;
        let allowed: Vec<(ActivityStatus, ActivityStatus)> = ActivityStatus::ALL
            .iter()
            .flat_map(|a| ActivityStatus::ALL.iter().map(move |b| (*a, *b)))
            .filter(|(a, b)| a.can_become(*b))
            .collect();
        assert_eq!(
            allowed,
            [
                (Draft, Published),
                (Draft, Cancelled),
                (Published, Cancelled),
                (Published, Completed)
            ]
        );
    }

    #[test]
    fn grade_ranges() {
        assert!(
            GradeRange::new("audience.grades", 6, 11)
                .unwrap()
                .contains(9)
        );
        let err = GradeRange::new("audience.grades", 12, 3).unwrap_err();
        assert_eq!(err.field, "audience.grades");
        assert!(GradeRange::new("audience.grades", 9, 3).is_err());
        assert!(
            GradeRange::new("g", 1, 1)
                .unwrap()
                .overlaps(GradeRange::new("g", 1, 4).unwrap())
        );
    }
}
