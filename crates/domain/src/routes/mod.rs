//! Individual learning routes (индивидуальные образовательные маршруты),
//! kept as plans without personal data.
//!
//! A school composes a **route template** per profile and grade for a
//! school year ("engineering, grade 10, 2026/27") from the network's
//! offerings: activities of the calendar (a network lesson series at the
//! technopark, an olympiad-prep course, professional trials' sessions, a
//! profile camp) and bookings of resources (lab hours), each required or
//! elective, with its hours. It **assigns** a template to a cohort (a code
//! and a count, never names), choosing the electives; the route's items
//! become cohort registrations and booking requests on the offerings'
//! nodes. The school follows each item (attended, by how many, the
//! result), and at the end of grades 9 and 11 states the outcome: the
//! profiles its leavers chose and how many go on in the route's profile.
//! Routes stay on the school's node.

mod personal;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, FieldError, ServiceError, StorageError};
use crate::ids::{ActivityId, OrgId, ResourceId, RouteId, RouteTemplateId};
use crate::stable::string_enum;
use crate::text;

pub use personal::check as check_no_person;

/// The most items a template holds.
pub const MAX_ITEMS: usize = 60;
/// The most hours one item counts.
pub const MAX_ITEM_HOURS: u32 = 1_000;
/// The most profiles an outcome lists.
pub const MAX_PROFILES: usize = 20;
/// The most pupils a route's cohort counts.
pub const MAX_HEADCOUNT: u32 = 500;
/// The target of trials taken per pupil over the school years of grades
/// 6 to 11 (the «Билет в будущее» programme's).
pub const TRIALS_PER_PUPIL_TARGET: f64 = 10.0;

string_enum!(
    /// Where an item of a route stands.
    ItemStatus as RouteItemStatus {
        /// Chosen, not yet asked for.
        Planned = "planned",
        /// Registered with a seat (or a booking requested and confirmed).
        Registered = "registered",
        /// On the waitlist.
        Waitlisted = "waitlisted",
        /// A booking asked for, waiting for the owner's decision.
        Requested = "requested",
        /// The offering's node refused it; `refusal` says why.
        Refused = "refused",
        /// The cohort took part; `attended` says how many.
        Attended = "attended",
        /// The cohort did not take part.
        Missed = "missed",
        /// An elective the cohort did not choose.
        NotChosen = "not_chosen",
        /// Withdrawn with the route.
        Withdrawn = "withdrawn",
    }
);

string_enum!(
    /// Where a route stands.
    RouteState {
        /// Assigned and being followed.
        Active = "active",
        /// Its school year done; its outcome stated.
        Completed = "completed",
        /// Given up; its registrations withdrawn.
        Cancelled = "cancelled",
    }
);

/// What an item asks of the network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Offering {
    /// A registration for a calendar activity: every occurrence, or one.
    Activity {
        activity: ActivityId,
        occurrence: Option<DateTime<Utc>>,
        /// The venue, for an activity held at several.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        venue: Option<u32>,
    },
    /// A booking request of a resource, local times in its zone.
    Booking {
        resource: ResourceId,
        start: NaiveDateTime,
        end: NaiveDateTime,
        /// What the booking is for, as its owner reads it.
        purpose: String,
    },
}

/// One item of a template, as the school composes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemDraft {
    /// As the school names it («Технология» в Кванториуме).
    pub title: String,
    pub offering: Offering,
    /// Required items are part of every route; electives are chosen.
    pub required: bool,
    /// Hours it counts; 0 takes the offering's own.
    pub hours: u32,
    pub note: String,
}

/// What the store found of an item's offering when the template was saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferingFacts {
    /// The activity's title or the resource's name.
    pub name: String,
    /// Its organization.
    pub org: OrgId,
    /// The node that keeps it; `None` here.
    pub home: Option<String>,
    /// A professional trial's session (counted in trials per pupil).
    pub trial: bool,
    /// Hours of its occurrences (an activity) or of the booking.
    pub hours: u32,
}

/// One item of a template, numbered from 1 in the template's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateItem {
    pub number: u32,
    pub title: String,
    pub offering: Offering,
    pub facts: OfferingFacts,
    pub required: bool,
    pub hours: u32,
    pub note: String,
}

/// A template as the school composes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateDraft {
    /// «Инженерный профиль, 10 класс».
    pub title: String,
    /// The profile it leads to («инженерный»).
    pub profile: String,
    pub grade: u8,
    /// The school year's first calendar year: 2026 for 2026/27.
    pub school_year: u16,
    pub items: Vec<ItemDraft>,
}

impl TemplateDraft {
    /// Checks the fields, naming the one at fault; no text names a person.
    pub fn validate(mut self) -> Result<Self, FieldError> {
        self.title = text::line("title", &self.title, 200)?;
        check_no_person("title", &self.title)?;
        self.profile = text::line("profile", &self.profile, 100)?;
        check_no_person("profile", &self.profile)?;
        if !(1..=11).contains(&self.grade) {
            return Err(FieldError::new("grade", "grades are 1 to 11"));
        }
        if !(2000..=2100).contains(&self.school_year) {
            return Err(FieldError::new(
                "school_year",
                "is the school year's first calendar year, e.g. 2026 for 2026/27",
            ));
        }
        if self.items.is_empty() {
            return Err(FieldError::new("items", "a route has at least one item"));
        }
        if self.items.len() > MAX_ITEMS {
            return Err(FieldError::new(
                "items",
                format!("a route has at most {MAX_ITEMS} items"),
            ));
        }
        for (i, item) in self.items.iter_mut().enumerate() {
            let at = |name: &str| format!("items[{i}].{name}");
            item.title = text::line(&at("title"), &item.title, 200)?;
            check_no_person(&at("title"), &item.title)?;
            item.note = text::paragraph(&at("note"), &item.note, 2_000)?;
            check_no_person(&at("note"), &item.note)?;
            if item.hours > MAX_ITEM_HOURS {
                return Err(FieldError::new(
                    at("hours"),
                    format!("is at most {MAX_ITEM_HOURS}"),
                ));
            }
            if let Offering::Booking {
                start,
                end,
                purpose,
                ..
            } = &mut item.offering
            {
                if end <= start {
                    return Err(FieldError::new(at("booking.end"), "is not after its start"));
                }
                *purpose = text::line(&at("booking.purpose"), purpose, 200)?;
                check_no_person(&at("booking.purpose"), purpose)?;
            }
        }
        Ok(self)
    }
}

/// A route template, kept on the school's node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteTemplate {
    pub id: RouteTemplateId,
    pub school: OrgId,
    pub title: String,
    pub profile: String,
    pub grade: u8,
    pub school_year: u16,
    pub items: Vec<TemplateItem>,
    /// The template it was copied from (last year's), if any.
    pub copied_from: Option<RouteTemplateId>,
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl RouteTemplate {
    /// A template of `school` from a checked draft and what the store found
    /// of each item's offering, in the draft's order.
    pub fn compose(
        id: RouteTemplateId,
        school: OrgId,
        draft: TemplateDraft,
        facts: Vec<OfferingFacts>,
        at: DateTime<Utc>,
    ) -> Self {
        let items = draft
            .items
            .into_iter()
            .zip(facts)
            .enumerate()
            .map(|(i, (item, facts))| TemplateItem {
                number: i as u32 + 1,
                hours: if item.hours == 0 {
                    facts.hours
                } else {
                    item.hours
                },
                title: item.title,
                offering: item.offering,
                facts,
                required: item.required,
                note: item.note,
            })
            .collect();
        RouteTemplate {
            id,
            school,
            title: draft.title,
            profile: draft.profile,
            grade: draft.grade,
            school_year: draft.school_year,
            items,
            copied_from: None,
            version: 1,
            created_at: at,
            updated_at: at,
        }
    }

    /// Hours of its required items, and of all of them.
    pub fn hours(&self) -> (u32, u32) {
        let required = self
            .items
            .iter()
            .filter(|i| i.required)
            .map(|i| i.hours)
            .sum();
        (required, self.items.iter().map(|i| i.hours).sum())
    }

    /// Checks the caller's version, when given.
    pub fn at_version(&self, expected: Option<u64>) -> Result<(), Error> {
        match expected {
            Some(expected) if expected != self.version => Err(Error::TemplateVersion {
                id: self.id.clone(),
                expected,
                actual: self.version,
            }),
            _ => Ok(()),
        }
    }

    /// The template with a new content, its id and history kept.
    pub fn revised(&self, next: RouteTemplate, at: DateTime<Utc>) -> Self {
        RouteTemplate {
            id: self.id.clone(),
            copied_from: self.copied_from.clone(),
            version: self.version + 1,
            created_at: self.created_at,
            updated_at: at,
            ..next
        }
    }

    /// A copy for `school_year` (next year's cohort), its items as they are
    /// for the school to replace those whose offerings ended.
    pub fn copy_for(&self, school_year: u16, at: DateTime<Utc>) -> Result<Self, FieldError> {
        if !(2000..=2100).contains(&school_year) {
            return Err(FieldError::new(
                "school_year",
                "is the school year's first calendar year, e.g. 2026 for 2026/27",
            ));
        }
        Ok(RouteTemplate {
            id: RouteTemplateId::generate(),
            school_year,
            copied_from: Some(self.id.clone()),
            version: 1,
            created_at: at,
            updated_at: at,
            ..self.clone()
        })
    }
}

/// The cohort a route is assigned to: a code the school keeps the key to,
/// and a count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteCohort {
    /// «10И-2026»: letters, digits, `-`, `_` or `.`, with a digit in it.
    pub code: String,
    pub headcount: u32,
    /// The responsible teacher as registrations name them.
    pub teacher: String,
    pub teacher_contact: Option<String>,
}

impl RouteCohort {
    /// Checks the cohort; its code names no one.
    pub fn validate(mut self) -> Result<Self, FieldError> {
        let code = self.code.trim();
        let shaped = (2..=32).contains(&code.chars().count())
            && code
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && code.chars().any(|c| c.is_ascii_digit());
        if !shaped {
            return Err(FieldError::new(
                "cohort.code",
                "must be the cohort's code of 2 to 32 letters, digits, -, _ or . with a digit \
                 in it, e.g. 10И-2026",
            ));
        }
        check_no_person("cohort.code", code)?;
        self.code = code.to_owned();
        if self.headcount == 0 || self.headcount > MAX_HEADCOUNT {
            return Err(FieldError::new(
                "cohort.headcount",
                format!("must be 1 to {MAX_HEADCOUNT}"),
            ));
        }
        self.teacher = text::line("cohort.teacher", &self.teacher, 200)?;
        if let Some(contact) = &self.teacher_contact {
            self.teacher_contact = text::optional_line("cohort.teacher_contact", contact, 200)?;
        }
        Ok(self)
    }
}

/// One item of a route, as the cohort follows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteItem {
    pub item: TemplateItem,
    pub status: ItemStatus,
    /// The registration or booking the item became, on its node.
    pub record: Option<String>,
    /// Why the offering's node refused it.
    pub refusal: Option<String>,
    /// Pupils who took part, once attended.
    pub attended: Option<u32>,
    /// The result as the school records it («диплом призёра»).
    pub result: String,
}

impl RouteItem {
    /// Whether it still asks the network for something.
    pub fn pending(&self) -> bool {
        matches!(self.status, ItemStatus::Planned | ItemStatus::Refused)
    }

    /// Whether the cohort follows it.
    pub fn chosen(&self) -> bool {
        !matches!(self.status, ItemStatus::NotChosen | ItemStatus::Withdrawn)
    }
}

/// Profiles the leavers chose, and who go on in the route's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// How many chose each profile at the end of grade 9 or 11.
    pub profiles: Vec<ProfileCount>,
    /// Leavers of the cohort this year (grade 9 or 11).
    pub leavers: Option<u32>,
    /// Of them, those going on to study in the route's profile.
    pub continuing: Option<u32>,
}

/// Pupils who chose a profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileCount {
    pub profile: String,
    pub count: u32,
}

impl Outcome {
    /// Checks the counts against the cohort's headcount.
    pub fn validate(mut self, headcount: u32) -> Result<Self, FieldError> {
        if self.profiles.len() > MAX_PROFILES {
            return Err(FieldError::new(
                "outcome.profiles",
                format!("at most {MAX_PROFILES}"),
            ));
        }
        // Summed wide: counts a client sends may add up past u32.
        let mut chose: u64 = 0;
        for (i, p) in self.profiles.iter_mut().enumerate() {
            let field = format!("outcome.profiles[{i}].profile");
            p.profile = text::line(&field, &p.profile, 100)?;
            check_no_person(&field, &p.profile)?;
            chose += u64::from(p.count);
        }
        if chose > u64::from(headcount) {
            return Err(FieldError::new(
                "outcome.profiles",
                format!("count {chose} pupils, more than the cohort's {headcount}"),
            ));
        }
        if self.leavers.is_some_and(|n| n > headcount) {
            return Err(FieldError::new(
                "outcome.leavers",
                format!("is more than the cohort's {headcount}"),
            ));
        }
        if self
            .continuing
            .is_some_and(|n| n > self.leavers.unwrap_or(headcount))
        {
            return Err(FieldError::new(
                "outcome.continuing",
                "is more than the leavers",
            ));
        }
        Ok(self)
    }
}

/// A template assigned to a cohort, kept on the school's node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub id: RouteId,
    pub school: OrgId,
    pub template: RouteTemplateId,
    /// The template's title, profile, grade and year when assigned.
    pub title: String,
    pub profile: String,
    pub grade: u8,
    pub school_year: u16,
    pub cohort: RouteCohort,
    pub items: Vec<RouteItem>,
    pub state: RouteState,
    pub outcome: Option<Outcome>,
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One occurrence of a route's item, for its calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteOccurrence {
    pub item: u32,
    pub title: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Whole days, shown as dates.
    pub all_day: bool,
    pub status: ItemStatus,
    pub offering_name: String,
    pub organization: OrgId,
    /// The zone its local times are read in.
    pub time_zone: String,
}

/// The figures a route gives the reports.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RouteFigures {
    /// Pupil-visits of professional trials attended.
    pub trial_visits: u32,
    /// Trials per pupil of the cohort.
    pub trials_per_pupil: f64,
    /// Items attended of those chosen.
    pub attended: u32,
    pub chosen: u32,
    /// Hours attended of those chosen.
    pub hours_attended: u32,
    pub hours_chosen: u32,
}

impl Route {
    /// `template` assigned to `cohort`: required items and the `electives`
    /// chosen (by number) are planned, the other electives not chosen.
    pub fn assign(
        template: &RouteTemplate,
        cohort: RouteCohort,
        electives: &[u32],
        at: DateTime<Utc>,
    ) -> Result<Self, FieldError> {
        let cohort = cohort.validate()?;
        if electives.len() > MAX_ITEMS {
            return Err(FieldError::new("electives", format!("at most {MAX_ITEMS}")));
        }
        for (i, n) in electives.iter().enumerate() {
            match template.items.iter().find(|item| item.number == *n) {
                Some(item) if !item.required => {}
                Some(_) => {
                    return Err(FieldError::new(
                        format!("electives[{i}]"),
                        format!("item {n} is required, not an elective"),
                    ));
                }
                None => {
                    return Err(FieldError::new(
                        format!("electives[{i}]"),
                        format!("the template has no item {n}"),
                    ));
                }
            }
        }
        let items = template
            .items
            .iter()
            .map(|item| RouteItem {
                status: if item.required || electives.contains(&item.number) {
                    ItemStatus::Planned
                } else {
                    ItemStatus::NotChosen
                },
                item: item.clone(),
                record: None,
                refusal: None,
                attended: None,
                result: String::new(),
            })
            .collect();
        Ok(Route {
            id: RouteId::generate(),
            school: template.school.clone(),
            template: template.id.clone(),
            title: template.title.clone(),
            profile: template.profile.clone(),
            grade: template.grade,
            school_year: template.school_year,
            cohort,
            items,
            state: RouteState::Active,
            outcome: None,
            version: 1,
            created_at: at,
            updated_at: at,
        })
    }

    /// Its school year, 1 September to 1 September, as instants (UTC;
    /// a day either side of a zone's midnight does not matter here).
    pub fn school_year_window(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        let start = |year: i32| {
            chrono::NaiveDate::from_ymd_opt(year, 9, 1)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc())
                .unwrap_or_default()
        };
        let year = i32::from(self.school_year);
        (start(year), start(year + 1))
    }

    /// Checks the caller's version, when given.
    pub fn at_version(&self, expected: Option<u64>) -> Result<(), Error> {
        match expected {
            Some(expected) if expected != self.version => Err(Error::RouteVersion {
                id: self.id.clone(),
                expected,
                actual: self.version,
            }),
            _ => Ok(()),
        }
    }

    /// Refuses a change to a route no longer followed.
    pub fn ensure_active(&self) -> Result<(), Error> {
        if self.state == RouteState::Active {
            Ok(())
        } else {
            Err(Error::NotActive {
                id: self.id.clone(),
                route_state: self.state,
            })
        }
    }

    fn item_mut(&mut self, number: u32) -> Result<&mut RouteItem, Error> {
        self.items
            .iter_mut()
            .find(|i| i.item.number == number)
            .ok_or_else(|| {
                FieldError::new("item", format!("the route has no item {number}")).into()
            })
    }

    /// The route after its item `number` was asked for on the network:
    /// `record` the registration or booking made, or `refusal` why not.
    pub fn enrolled(
        &self,
        number: u32,
        status: ItemStatus,
        record: Option<String>,
        refusal: Option<String>,
        at: DateTime<Utc>,
    ) -> Result<Self, Error> {
        let mut next = self.clone();
        let item = next.item_mut(number)?;
        item.status = status;
        if record.is_some() {
            item.record = record;
        }
        item.refusal = refusal;
        Ok(next.stepped(at))
    }

    /// The route after the school recorded how item `number` went.
    pub fn followed(
        &self,
        number: u32,
        attended: Option<u32>,
        result: &str,
        at: DateTime<Utc>,
    ) -> Result<Self, Error> {
        self.ensure_active()?;
        let result = text::paragraph("result", result, 2_000)?;
        check_no_person("result", &result)?;
        let headcount = self.cohort.headcount;
        let mut next = self.clone();
        let item = next.item_mut(number)?;
        if !item.chosen() {
            return Err(FieldError::new(
                "item",
                format!("item {number} is not part of this cohort's route"),
            )
            .into());
        }
        match attended {
            Some(n) if n > headcount => {
                return Err(FieldError::new(
                    "attended",
                    format!("is more than the cohort's {headcount}"),
                )
                .into());
            }
            Some(0) | None => {
                item.status = ItemStatus::Missed;
                item.attended = Some(0);
            }
            Some(n) => {
                item.status = ItemStatus::Attended;
                item.attended = Some(n);
            }
        }
        item.result = result;
        Ok(next.stepped(at))
    }

    /// The route with its outcome stated; stating it completes the route.
    pub fn concluded(&self, outcome: Outcome, at: DateTime<Utc>) -> Result<Self, Error> {
        if self.state == RouteState::Cancelled {
            return Err(Error::NotActive {
                id: self.id.clone(),
                route_state: self.state,
            });
        }
        let mut next = self.clone();
        next.outcome = Some(outcome.validate(self.cohort.headcount)?);
        next.state = RouteState::Completed;
        Ok(next.stepped(at))
    }

    /// The route given up: its items no longer asked for.
    pub fn cancelled(&self, at: DateTime<Utc>) -> Result<Self, Error> {
        self.ensure_active()?;
        let mut next = self.clone();
        next.state = RouteState::Cancelled;
        for item in &mut next.items {
            if matches!(
                item.status,
                ItemStatus::Planned
                    | ItemStatus::Registered
                    | ItemStatus::Waitlisted
                    | ItemStatus::Requested
                    | ItemStatus::Refused
            ) {
                item.status = ItemStatus::Withdrawn;
            }
        }
        Ok(next.stepped(at))
    }

    fn stepped(mut self, at: DateTime<Utc>) -> Self {
        self.version += 1;
        self.updated_at = at;
        self
    }

    /// What the route gives the reports.
    pub fn figures(&self) -> RouteFigures {
        let mut f = RouteFigures::default();
        for item in self.items.iter().filter(|i| i.chosen()) {
            f.chosen += 1;
            f.hours_chosen += item.item.hours;
            if item.status == ItemStatus::Attended {
                f.attended += 1;
                f.hours_attended += item.item.hours;
                if item.item.facts.trial {
                    f.trial_visits += item.attended.unwrap_or(0);
                }
            }
        }
        f.trials_per_pupil = f64::from(f.trial_visits) / f64::from(self.cohort.headcount.max(1));
        f
    }
}

/// Why a route operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error("route template {0} not found")]
    TemplateNotFound(String),
    #[error("route {0} not found")]
    RouteNotFound(String),
    #[error("route template {id} is at version {actual}, not the expected {expected}")]
    TemplateVersion {
        id: RouteTemplateId,
        expected: u64,
        actual: u64,
    },
    #[error("route {id} is at version {actual}, not the expected {expected}")]
    RouteVersion {
        id: RouteId,
        expected: u64,
        actual: u64,
    },
    /// The route is completed or cancelled.
    #[error("route {id} is {route_state}, no longer followed")]
    NotActive {
        id: RouteId,
        route_state: RouteState,
    },
    #[error(transparent)]
    Directory(#[from] crate::directory::Error),
    #[error(transparent)]
    Denied(#[from] crate::policy::Denied),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl ServiceError for Error {
    fn error_code(&self) -> ErrorCode {
        match self {
            Error::Invalid(_) => ErrorCode::InvalidArgument,
            Error::TemplateNotFound(_) | Error::RouteNotFound(_) => ErrorCode::NotFound,
            Error::TemplateVersion { .. }
            | Error::RouteVersion { .. }
            | Error::NotActive { .. } => ErrorCode::FailedPrecondition,
            Error::Directory(e) => e.error_code(),
            Error::Denied(_) => ErrorCode::PermissionDenied,
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

#[cfg(test)]
mod tests;
