//! Booking of labs, rooms, equipment and specialists: resources with their
//! bookable hours, blackouts and rules, and booked occurrences that never
//! overlap once confirmed.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike as _, Duration, NaiveDateTime, NaiveTime, Utc, Weekday};
use serde::{Deserialize, Serialize};

mod access;
pub mod filter;
pub mod request;
pub mod slots;

pub use request::{Admitted, Booked, Cancel, Decide, Grounds, Request, UpdateResource, Verdict};

use crate::calendar::schedule::{Recurrence, Schedule, to_utc};
use crate::error::{ErrorCode, FieldError, ServiceError, StorageError};
use crate::ids::{OrgId, ResourceId};
use crate::stable::string_enum;
use crate::text;
use crate::time::TimeZone;

string_enum!(
    /// What a resource is.
    ResourceKind {
        /// A classroom.
        Room = "room",
        /// A laboratory (e.g. a technopark's IT-квантум).
        Lab = "lab",
        /// A hall for conferences.
        Hall = "hall",
        /// A sports ground or gym.
        SportsFacility = "sports_facility",
        /// A piece of equipment.
        Equipment = "equipment",
        /// A specialist's time.
        Specialist = "specialist",
        /// A bus or another vehicle.
        Transport = "transport",
        /// A video-conference room, booked like a place.
        OnlineRoom = "online_room",
    }
);

string_enum!(
    /// How requests for a resource are decided.
    ApprovalPolicy {
        /// Confirmed at once when free.
        Automatic = "automatic",
        /// Pending until the owner's coordinators decide.
        ApprovalRequired = "approval_required",
        /// Confirmed at once for partners under an active agreement; pending for others.
        AutomaticForPartners = "automatic_for_partners",
    }
);

string_enum!(
    /// Who may see and request a resource.
    Access {
        /// The owner's members only.
        OwnOrganization = "own_organization",
        /// The owner and its agreement partners.
        AgreementPartners = "agreement_partners",
        /// Every organization of the network.
        Network = "network",
    }
);

string_enum!(
    /// The rules a booking request is refused by, named in the refusal so a
    /// client can act on it without reading the message.
    Rule as BookingRule {
        /// The resource is not open to the requester.
        Access = "access",
        /// The resource needs its owner's approval, so its time cannot be held.
        Approval = "approval",
        /// The end is not after the start.
        Duration = "duration",
        /// Shorter than the resource's minimum.
        MinDuration = "min_duration",
        /// Longer than the resource's maximum.
        MaxDuration = "max_duration",
        /// More people than the resource holds.
        Capacity = "capacity",
        /// Outside the resource's weekly bookable hours.
        BookableHours = "bookable_hours",
        /// During a blackout (holidays, maintenance).
        Blackout = "blackout",
        /// Asked for with less notice than the resource needs.
        MinNotice = "min_notice",
        /// Further ahead than the resource takes requests.
        MaxAdvance = "max_advance",
        /// The series' own occurrences overlap once the buffer is added.
        SeriesOverlap = "series_overlap",
        /// The agreement named is not in force, or does not cover it.
        Agreement = "agreement",
        /// More hours than the owner pledged under the agreement.
        Quota = "quota",
    }
);

string_enum!(
    /// Where one booked occurrence stands.
    OccurrenceState {
        /// Reserved tentatively until its hold expires.
        Held = "held",
        /// Waiting for the owner's decision.
        Pending = "pending",
        /// Booked: the time is the requester's.
        Confirmed = "confirmed",
        /// Refused by the owner, or by a confirmed booking that overlaps it.
        Rejected = "rejected",
        /// Cancelled by the requester or the owner.
        Cancelled = "cancelled",
    }
);

impl OccurrenceState {
    /// Whether the occurrence holds its time (no other may overlap it).
    pub fn blocks(self) -> bool {
        matches!(self, OccurrenceState::Confirmed | OccurrenceState::Held)
    }

    /// Whether it may still change state.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            OccurrenceState::Held | OccurrenceState::Pending | OccurrenceState::Confirmed
        )
    }
}

/// Hours a resource can be booked on one weekday, local.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklyHours {
    pub weekday: Weekday,
    /// Bookings start no earlier.
    pub opens: NaiveTime,
    /// Closes at (after opens; bookings end by then).
    pub closes: NaiveTime,
}

/// A period the resource cannot be booked (holidays, maintenance).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Blackout {
    /// Local to the resource's zone.
    pub start: NaiveDateTime,
    /// Local to the resource's zone; after `start`.
    pub end: NaiveDateTime,
    /// Why, shown to requesters.
    pub reason: String,
    /// A rule repeating it (e.g. yearly), if any.
    pub rule: Option<String>,
}

/// Limits on what may be requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingRules {
    /// Shortest booking, minutes.
    pub min_minutes: u32,
    /// Longest booking, minutes.
    pub max_minutes: u32,
    /// How far ahead of its start a booking must be requested, minutes.
    pub min_notice_minutes: u32,
    /// How far ahead a booking may start, days.
    pub max_advance_days: u32,
    /// Free time kept after each booking, minutes.
    pub buffer_minutes: u32,
}

impl Default for BookingRules {
    fn default() -> Self {
        Self {
            min_minutes: 15,
            max_minutes: 12 * 60,
            min_notice_minutes: 0,
            max_advance_days: 400,
            buffer_minutes: 0,
        }
    }
}

/// Everything the owner decides about a resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceDetails {
    pub kind: ResourceKind,
    /// Name, e.g. "IT-квантум".
    pub name: String,
    /// People it holds; unlimited when unset.
    pub capacity: Option<u32>,
    /// Feature tags, lowercase, e.g. "3d-принтеры".
    pub features: Vec<String>,
    /// The owner's zone, in which hours and blackouts are read.
    pub time_zone: TimeZone,
    /// Bookable hours per weekday; always bookable when empty.
    pub hours: Vec<WeeklyHours>,
    /// Limits on requests.
    pub rules: BookingRules,
    /// How requests are decided.
    pub approval: ApprovalPolicy,
    /// Who may see and request it.
    pub access: Access,
}

/// The most feature tags, weekly hour entries or blackouts.
pub const MAX_ITEMS: usize = 100;

impl ResourceDetails {
    /// Checks the fields together.
    pub fn validate(mut self) -> Result<Self, FieldError> {
        self.name = text::line("name", &self.name, 200)?;
        if self.capacity == Some(0) {
            return Err(FieldError::new("capacity", "must be at least 1 when given"));
        }
        if self.features.len() > MAX_ITEMS || self.hours.len() > MAX_ITEMS {
            return Err(FieldError::new("features", format!("at most {MAX_ITEMS}")));
        }
        let mut features = Vec::new();
        for feature in &self.features {
            let tag = text::fold(&text::line("features", feature, 60)?);
            if !features.contains(&tag) {
                features.push(tag);
            }
        }
        self.features = features;
        for hours in &self.hours {
            if hours.closes <= hours.opens {
                return Err(FieldError::new(
                    "hours",
                    format!("{:?}: closes must be after opens", hours.weekday),
                ));
            }
        }
        let r = self.rules;
        if r.min_minutes == 0 || r.max_minutes < r.min_minutes || r.max_minutes > 366 * 24 * 60 {
            return Err(FieldError::new(
                "rules.max_minutes",
                "durations are 1 minute to a year, min ≤ max",
            ));
        }
        if r.max_advance_days == 0 || r.max_advance_days > 3 * 366 || r.buffer_minutes > 24 * 60 {
            return Err(FieldError::new(
                "rules",
                "advance is 1 day to 3 years; buffer at most a day",
            ));
        }
        Ok(self)
    }
}

/// A resource as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    pub id: ResourceId,
    /// The owning organization, hosted on the node that keeps the resource.
    pub owner: OrgId,
    pub details: ResourceDetails,
    /// Changed by a call of their own, not with the details.
    pub blackouts: Vec<Blackout>,
    /// Increases on every change.
    pub version: u64,
    /// By the owner's node's clock.
    pub created_at: DateTime<Utc>,
    /// By the owner's node's clock; equal to `created_at` until a change.
    pub updated_at: DateTime<Utc>,
}

impl Blackout {
    /// Checks a blackout for a resource in `zone`.
    pub fn validate(mut self, zone: TimeZone) -> Result<Self, FieldError> {
        self.reason = text::line("reason", &self.reason, 300)?;
        self.intervals(zone)?;
        Ok(self)
    }

    /// The blackout's intervals, expanded if it repeats.
    pub fn intervals(&self, zone: TimeZone) -> Result<Vec<Interval>, FieldError> {
        let schedule = Schedule {
            time_zone: zone,
            start: self.start,
            end: self.end,
            all_day: false,
            recurrence: self.rule.as_ref().map(|rule| Recurrence {
                rule: rule.clone(),
                exdates: vec![],
                rdates: vec![],
            }),
        }
        .validate()
        .map_err(|e| FieldError::new(e.field.replace("schedule.", "blackout."), e.reason))?;
        Ok(schedule
            .expand(&[])?
            .into_iter()
            .map(|o| (o.start, o.end))
            .collect())
    }
}

impl Resource {
    /// The time an occurrence `[start, end)` keeps the resource busy,
    /// its buffer included.
    pub fn blocked_until(&self, end: DateTime<Utc>) -> DateTime<Utc> {
        end + Duration::minutes(i64::from(self.details.rules.buffer_minutes))
    }

    /// The resource's blackout intervals that meet `[from, to)`, with their
    /// reasons: expanded once per call, not once per occurrence checked.
    pub fn blackouts_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(Interval, String)>, Error> {
        let mut out = Vec::new();
        for blackout in &self.blackouts {
            for (start, end) in blackout.intervals(self.details.time_zone)? {
                if start < to && from < end {
                    out.push(((start, end), blackout.reason.clone()));
                }
            }
        }
        Ok(out)
    }

    /// Checks one requested interval against the resource's rules, naming
    /// the rule it breaks. `blackouts` comes from [`Resource::blackouts_between`].
    pub fn check(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        headcount: u32,
        now: DateTime<Utc>,
        blackouts: &[(Interval, String)],
    ) -> Result<(), Error> {
        let rules = self.details.rules;
        if start < now + Duration::minutes(i64::from(rules.min_notice_minutes)) {
            return Err(Error::rule(
                Rule::MinNotice,
                format!("bookings need {} minutes' notice", rules.min_notice_minutes),
            ));
        }
        if start > now + Duration::days(i64::from(rules.max_advance_days)) {
            return Err(Error::rule(
                Rule::MaxAdvance,
                format!(
                    "bookings open at most {} days ahead",
                    rules.max_advance_days
                ),
            ));
        }
        self.check_place(start, end, headcount, blackouts)
    }

    /// The rules that hold whenever an occurrence is decided, not only when
    /// it is requested: duration, capacity, bookable hours, blackouts.
    pub fn check_place(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        headcount: u32,
        blackouts: &[(Interval, String)],
    ) -> Result<(), Error> {
        let rules = self.details.rules;
        let refuse = |rule: Rule, why: String| Err(Error::rule(rule, why));
        let minutes = (end - start).num_minutes();
        if end <= start {
            return refuse(Rule::Duration, "the end must be after the start".into());
        }
        if minutes < i64::from(rules.min_minutes) {
            return refuse(
                Rule::MinDuration,
                format!(
                    "{minutes} minutes is shorter than the minimum of {}",
                    rules.min_minutes
                ),
            );
        }
        if minutes > i64::from(rules.max_minutes) {
            return refuse(
                Rule::MaxDuration,
                format!(
                    "{minutes} minutes is longer than the maximum of {}",
                    rules.max_minutes
                ),
            );
        }
        if let Some(capacity) = self.details.capacity
            && headcount > capacity
        {
            return refuse(
                Rule::Capacity,
                format!("{headcount} people exceed the capacity of {capacity}"),
            );
        }
        if !self.details.hours.is_empty() {
            let tz = self.details.time_zone.tz();
            let (local_start, local_end) = (
                start.with_timezone(&tz).naive_local(),
                end.with_timezone(&tz).naive_local(),
            );
            let fits = local_start.date() == local_end.date()
                && self.details.hours.iter().any(|h| {
                    h.weekday == local_start.weekday()
                        && h.opens <= local_start.time()
                        && local_end.time() <= h.closes
                });
            if !fits {
                return refuse(
                    Rule::BookableHours,
                    format!(
                        "{local_start} – {local_end} is outside the bookable hours of {}",
                        self.details.name
                    ),
                );
            }
        }
        if let Some((_, reason)) = blackouts
            .iter()
            .find(|((from, to), _)| *from < end && start < *to)
        {
            return refuse(Rule::Blackout, format!("the resource is closed: {reason}"));
        }
        Ok(())
    }
}

impl Resource {
    /// Whether `org` may see and request this resource. `partners` are the
    /// organizations that share an agreement in force with `org`.
    pub fn open_to(&self, org: &OrgId, partners: &BTreeSet<OrgId>) -> bool {
        match self.details.access {
            Access::Network => true,
            Access::OwnOrganization => org == &self.owner,
            Access::AgreementPartners => org == &self.owner || partners.contains(&self.owner),
        }
    }

    /// How a request by `org` starts out under the approval policy: the
    /// owner's own requests, and all under the automatic policy, are
    /// confirmed; so are partners' requests under an agreement in force
    /// (`under_agreement`, checked by the caller) with the automatic-for-
    /// partners policy; others wait for the owner.
    pub fn initial_for(&self, org: &OrgId, under_agreement: bool) -> Initial {
        match self.details.approval {
            ApprovalPolicy::Automatic => Initial::Confirmed,
            _ if org == &self.owner => Initial::Confirmed,
            ApprovalPolicy::AutomaticForPartners if under_agreement => Initial::Confirmed,
            ApprovalPolicy::ApprovalRequired | ApprovalPolicy::AutomaticForPartners => {
                Initial::Pending
            }
        }
    }
}

/// An interval of time, start inclusive, end exclusive.
pub type Interval = (DateTime<Utc>, DateTime<Utc>);

/// Refuses a series whose own occurrences would overlap once the buffer is
/// added: they could never all be confirmed.
pub fn check_series(times: &[Interval], buffer: Duration, zone: TimeZone) -> Result<(), Error> {
    let mut sorted: Vec<Interval> = times.to_vec();
    sorted.sort();
    for pair in sorted.windows(2) {
        if pair[0].1 + buffer > pair[1].0 {
            return Err(Error::rule(
                Rule::SeriesOverlap,
                format!(
                    "the occurrences at {} and {} overlap (buffer included)",
                    crate::time::local_label(pair[0].0, zone),
                    crate::time::local_label(pair[1].0, zone)
                ),
            ));
        }
    }
    Ok(())
}

/// The most colliding starts a refusal lists.
pub const MAX_LISTED_COLLISIONS: usize = 100;

/// Why a booking operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input broke a rule of its own.
    #[error(transparent)]
    Invalid(#[from] FieldError),
    /// A rule of the resource refused the request.
    #[error("refused by the {rule} rule: {detail}")]
    Rule {
        rule: Rule,
        /// Why, for people.
        detail: String,
    },
    /// The time is taken by a confirmed or held occurrence of another
    /// booking.
    #[error("{0}")]
    Conflict(String),
    /// Requested occurrences collide with booked time: nothing was booked.
    #[error("{detail}")]
    Collides {
        /// Why, for people.
        detail: String,
        /// The requested starts that collide, in order.
        starts: Vec<DateTime<Utc>>,
    },
    /// No such resource, or not visible to the caller.
    #[error("resource {0} not found")]
    ResourceNotFound(String),
    /// No such booking, or not visible to the caller.
    #[error("booking {0} not found")]
    BookingNotFound(String),
    /// The organization a request names is not known on this node.
    #[error("organization {0} is not known on this node")]
    OrganizationNotFound(String),
    /// The caller may not do this.
    #[error(transparent)]
    Denied(#[from] crate::policy::Denied),
    /// The state does not allow the operation.
    #[error("{0}")]
    WrongState(String),
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl Error {
    /// A refusal by `rule`.
    pub fn rule(rule: Rule, detail: impl Into<String>) -> Self {
        Error::Rule {
            rule,
            detail: detail.into(),
        }
    }
}

impl ServiceError for Error {
    fn error_code(&self) -> ErrorCode {
        match self {
            Error::Invalid(_) => ErrorCode::InvalidArgument,
            Error::Rule { .. }
            | Error::Conflict(_)
            | Error::Collides { .. }
            | Error::WrongState(_) => ErrorCode::FailedPrecondition,
            Error::ResourceNotFound(_)
            | Error::BookingNotFound(_)
            | Error::OrganizationNotFound(_) => ErrorCode::NotFound,
            Error::Denied(_) => ErrorCode::PermissionDenied,
            Error::Storage(e) => e.error_code(),
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            Error::Invalid(e) => Some(&e.field),
            _ => None,
        }
    }

    fn reason(&self) -> Option<crate::Reason> {
        match self {
            Error::Rule { rule, .. } => {
                Some(crate::Reason::new("BOOKING_RULE", "rule", rule.as_str()))
            }
            Error::Conflict(_) => {
                Some(crate::Reason::new("BOOKING_CONFLICT", "rule", "no_overlap"))
            }
            Error::Collides { starts, .. } => {
                let mut reason = crate::Reason::new("BOOKING_CONFLICT", "rule", "no_overlap");
                reason.metadata.push(("count", starts.len().to_string()));
                let listed: Vec<String> = starts
                    .iter()
                    .take(MAX_LISTED_COLLISIONS)
                    .map(|s| s.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                    .collect();
                reason.metadata.push(("starts", listed.join(",")));
                Some(reason)
            }
            _ => None,
        }
    }
}

/// A local interval as instants in `zone`.
pub fn interval(
    zone: TimeZone,
    start: NaiveDateTime,
    end: NaiveDateTime,
) -> Result<(DateTime<Utc>, DateTime<Utc>), FieldError> {
    Ok((to_utc("start", zone, start)?, to_utc("end", zone, end)?))
}

/// A booking request: who asks, for what, and its occurrences' times.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booking {
    pub id: crate::ids::BookingId,
    pub resource_id: ResourceId,
    /// The organization it was booked for.
    pub requester_org: OrgId,
    /// The person who asked (on another node: `person@node`).
    pub requester: crate::ids::PersonId,
    /// What it is for, shown to the owner.
    pub purpose: String,
    /// How many people come, checked against the resource's capacity.
    pub headcount: u32,
    /// The activity it serves, if any.
    pub activity_id: Option<crate::ids::ActivityId>,
    /// The agreement whose pledged hours it uses, if any.
    pub agreement_id: Option<crate::ids::AgreementId>,
    /// Increases on every change.
    pub version: u64,
    /// By the owner's node's clock.
    pub created_at: DateTime<Utc>,
    /// By the owner's node's clock; equal to `created_at` until a change.
    pub updated_at: DateTime<Utc>,
}

/// One occurrence of a booking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookedOccurrence {
    /// Identifies the occurrence within its booking.
    pub start: DateTime<Utc>,
    /// Without the resource's buffer, which only blocks others.
    pub end: DateTime<Utc>,
    pub state: OccurrenceState,
    /// For a held occurrence: when the hold lapses unless confirmed.
    pub hold_expires_at: Option<DateTime<Utc>>,
    /// The reason of the last decision, if any.
    pub note: Option<String>,
}

/// A requested occurrence that collides with a booked one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collision {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The booking it collides with.
    pub with: crate::ids::BookingId,
}

/// How new occurrences start out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Initial {
    /// Confirmed at once.
    Confirmed,
    /// Waiting for the owner.
    Pending,
    /// Held until the instant given, then dropped unless confirmed.
    Held(DateTime<Utc>),
}

impl Initial {
    /// The state new occurrences are stored in.
    pub fn state(self) -> OccurrenceState {
        match self {
            Initial::Confirmed => OccurrenceState::Confirmed,
            Initial::Pending => OccurrenceState::Pending,
            Initial::Held(_) => OccurrenceState::Held,
        }
    }
}

/// What a booking request came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingOutcome {
    pub booking: Booking,
    /// Its occurrences as booked.
    pub occurrences: Vec<BookedOccurrence>,
    /// Occurrences left out (with `skip_conflicts`) and what they collide with.
    pub skipped: Vec<Collision>,
}

/// A booked occurrence as listed, with its booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub booking: Booking,
    pub occurrence: BookedOccurrence,
}

/// Busy time of one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Busy {
    pub start: DateTime<Utc>,
    /// Excluded: the resource is free again at `end`.
    pub end: DateTime<Utc>,
    /// Why: "booked", "held", or a blackout's reason.
    pub why: String,
}

/// A resource's busy times as its home node shares them with peers: when,
/// not who or why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedBusy {
    pub resource_id: ResourceId,
    /// The resource's owner, hosted on the node that shares this.
    pub owner: OrgId,
    /// Booked and held times that end after the entry was written.
    pub busy: Vec<SharedInterval>,
}

/// One busy time of a [`SharedBusy`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedInterval {
    pub start: DateTime<Utc>,
    /// Excluded, and the resource's buffer included.
    pub end: DateTime<Utc>,
    /// For a hold: when it lapses unless confirmed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_until: Option<DateTime<Utc>>,
}

impl SharedBusy {
    /// The busy times within `[from, to)` still in force at `now`.
    pub fn between(&self, from: DateTime<Utc>, to: DateTime<Utc>, now: DateTime<Utc>) -> Vec<Busy> {
        self.busy
            .iter()
            .filter(|b| b.start < to && b.end > from)
            .filter(|b| b.held_until.is_none_or(|until| until > now))
            .map(|b| Busy {
                start: b.start,
                end: b.end,
                why: if b.held_until.is_some() {
                    "held".into()
                } else {
                    "booked".into()
                },
            })
            .collect()
    }
}

/// Which occurrences a cancellation covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelScope {
    /// The one starting at this instant.
    One(DateTime<Utc>),
    /// This one and all after it.
    FromOn(DateTime<Utc>),
    /// Every occurrence of the booking not yet ended.
    All,
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    fn resource() -> Resource {
        let tz = TimeZone::parse("tz", "Asia/Yekaterinburg").unwrap();
        let hours = [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
        ]
        .into_iter()
        .map(|weekday| WeeklyHours {
            weekday,
            opens: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            closes: NaiveTime::from_hms_opt(18, 0, 0).unwrap(),
        })
        .collect();
        Resource {
            id: ResourceId::generate(),
            owner: OrgId::generate(),
            details: ResourceDetails {
                kind: ResourceKind::Lab,
                name: "IT-квантум".into(),
                capacity: Some(14),
                features: vec!["веб-разработка".into()],
                time_zone: tz,
                hours,
                rules: BookingRules {
                    min_minutes: 45,
                    buffer_minutes: 15,
                    ..BookingRules::default()
                },
                approval: ApprovalPolicy::Automatic,
                access: Access::Network,
            }
            .validate()
            .unwrap(),
            blackouts: vec![Blackout {
                start: NaiveDate::from_ymd_opt(2030, 12, 30)
                    .unwrap()
                    .and_hms_opt(0, 0, 0)
                    .unwrap(),
                end: NaiveDate::from_ymd_opt(2031, 1, 9)
                    .unwrap()
                    .and_hms_opt(0, 0, 0)
                    .unwrap(),
                reason: "зимние каникулы".into(),
                rule: None,
            }],
            version: 1,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn local(r: &Resource, y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        to_utc(
            "t",
            r.details.time_zone,
            NaiveDate::from_ymd_opt(y, m, d)
                .unwrap()
                .and_hms_opt(h, min, 0)
                .unwrap(),
        )
        .unwrap()
    }

    fn rule_of(result: Result<(), Error>) -> String {
        match result {
            Err(Error::Rule { rule, .. }) => rule.to_string(),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn each_rule_is_named() {
        let r = resource();
        let now = local(&r, 2030, 9, 1, 9, 0);
        let blackouts = r
            .blackouts_between(now, now + Duration::days(3 * 366))
            .unwrap();
        let tue = |h, m| local(&r, 2030, 9, 3, h, m);
        assert!(
            r.check(tue(14, 0), tue(15, 30), 14, now, &blackouts)
                .is_ok()
        );
        assert_eq!(
            rule_of(r.check(tue(17, 0), tue(18, 30), 10, now, &blackouts)),
            "bookable_hours"
        );
        assert_eq!(
            rule_of(r.check(
                local(&r, 2030, 9, 7, 10, 0),
                local(&r, 2030, 9, 7, 11, 0),
                10,
                now,
                &blackouts
            )),
            "bookable_hours"
        );
        assert_eq!(
            rule_of(r.check(tue(14, 0), tue(14, 30), 10, now, &blackouts)),
            "min_duration"
        );
        assert_eq!(
            rule_of(r.check(tue(14, 0), tue(15, 30), 15, now, &blackouts)),
            "capacity"
        );
        assert_eq!(
            rule_of(r.check(
                local(&r, 2031, 1, 6, 10, 0),
                local(&r, 2031, 1, 6, 11, 0),
                5,
                now,
                &blackouts
            )),
            "blackout"
        );
        assert_eq!(
            rule_of(r.check(tue(14, 0), tue(15, 30), 5, tue(15, 0), &blackouts)),
            "min_notice"
        );
        assert_eq!(
            rule_of(r.check(
                local(&r, 2032, 9, 7, 10, 0),
                local(&r, 2032, 9, 7, 11, 0),
                5,
                now,
                &blackouts
            )),
            "max_advance"
        );
        assert_eq!(r.blocked_until(tue(15, 30)), tue(15, 45));
        let series = [(tue(14, 0), tue(15, 0)), (tue(15, 10), tue(16, 0))];
        assert_eq!(
            rule_of(check_series(&series, Duration::minutes(15), TimeZone::UTC)),
            "series_overlap"
        );
        assert!(check_series(&series, Duration::minutes(5), TimeZone::UTC).is_ok());
    }
}
