//! What people are told: the events a change to a record means for the
//! organizations it concerns, decided from the record before and after
//! the change. Pure: the notifier reads the change log, finds the record's
//! previous state, asks here what happened, and turns each event into a
//! message for each member who wants it.

use chrono::{DateTime, Utc};

use crate::directory::Role;
use crate::ids::{OrgId, PersonId};
use crate::policy::{self, Action};
use crate::stable::string_enum;

mod events;

pub use events::{
    AgreementNews, activity_events, agreement_events, booking_events, registration_events,
};

string_enum!(
    /// The kinds of news a person may be told, each on or off and
    /// immediately or in the daily digest.
    Kind as NotificationKind {
        /// The school's group was registered and holds its seats.
        RegistrationConfirmed = "registration_confirmed",
        /// The school's group waits for seats, at a place in line.
        RegistrationWaitlisted = "registration_waitlisted",
        /// The school's waiting group got its seats.
        RegistrationPromoted = "registration_promoted",
        /// A school registered a group for the publisher's activity.
        RegistrationReceived = "registration_received",
        /// A school withdrew its group from the publisher's activity.
        RegistrationWithdrawn = "registration_withdrawn",
        /// A booking request waits for the owner's decision.
        BookingRequested = "booking_requested",
        /// The owner approved some of the requester's lessons.
        BookingApproved = "booking_approved",
        /// The owner rejected some of the requester's lessons.
        BookingRejected = "booking_rejected",
        /// Booked lessons were cancelled.
        BookingCancelled = "booking_cancelled",
        /// A hold on lessons lapses within the hour unless confirmed.
        BookingHoldLapsing = "booking_hold_lapsing",
        /// A lesson the school registered for was cancelled.
        OccurrenceCancelled = "occurrence_cancelled",
        /// A lesson the school registered for was moved.
        OccurrenceMoved = "occurrence_moved",
        /// A lesson the school registered for is coming (a day or a week
        /// before).
        Reminder = "reminder",
        /// An agreement (or its amendment) waits for the organization's
        /// signature.
        AgreementAwaitingSignature = "agreement_awaiting_signature",
        /// Every party signed: the agreement is in force.
        AgreementSigned = "agreement_signed",
        /// A party declined to sign.
        AgreementDeclined = "agreement_declined",
        /// Every party signed an amendment: it is in force.
        AgreementAmended = "agreement_amended",
        /// A party gave notice of termination.
        AgreementTerminated = "agreement_terminated",
        /// The agreement's term ends soon (60 and 14 days before).
        AgreementExpiring = "agreement_expiring",
    }
);

string_enum!(
    /// How news goes out.
    Channel as NotificationChannel {
        /// An e-mail to a member of the organization.
        Email = "email",
        /// A signed JSON post to the organization's webhook.
        Webhook = "webhook",
    }
);

string_enum!(
    /// How a person wants one kind of news.
    Delivery as NotificationDelivery {
        /// A message as soon as it happens.
        Immediately = "immediately",
        /// Once a day, with the rest of the day's news.
        Digest = "digest",
        /// Not at all.
        Off = "off",
    }
);

impl Kind {
    /// What a member's role must permit in the organization for them to
    /// be told this kind of news: those who register groups hear of their
    /// registrations, those who run activities or resources of what comes
    /// in, those who request bookings of their decisions.
    pub fn concerns(self) -> Action {
        match self {
            Kind::RegistrationConfirmed
            | Kind::RegistrationWaitlisted
            | Kind::RegistrationPromoted
            | Kind::OccurrenceCancelled
            | Kind::OccurrenceMoved
            | Kind::Reminder => Action::RegisterCohorts,
            Kind::AgreementAwaitingSignature
            | Kind::AgreementSigned
            | Kind::AgreementDeclined
            | Kind::AgreementAmended
            | Kind::AgreementTerminated
            | Kind::AgreementExpiring => Action::SignAgreements,
            Kind::RegistrationReceived | Kind::RegistrationWithdrawn => Action::ManageActivities,
            Kind::BookingRequested => Action::ManageResources,
            Kind::BookingApproved
            | Kind::BookingRejected
            | Kind::BookingCancelled
            | Kind::BookingHoldLapsing => Action::RequestBookings,
        }
    }

    /// Whether a member with `role` in the organization is told this kind.
    pub fn told_to(self, role: Role) -> bool {
        policy::role_permits(Some(role), self.concerns())
    }
}

/// Something that happened to an organization's record, for its people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub kind: Kind,
    /// Whose people are told.
    pub org: OrgId,
    /// The other side: the publisher or owner for a school, the school
    /// for a publisher or owner.
    pub counterpart: OrgId,
    /// The lessons concerned, for booking news; empty otherwise.
    pub starts: Vec<DateTime<Utc>>,
    /// The owner's comment on a decision, if any.
    pub comment: Option<String>,
}

impl Event {
    fn about(kind: Kind, org: &OrgId, counterpart: &OrgId) -> Self {
        Self {
            kind,
            org: org.clone(),
            counterpart: counterpart.clone(),
            starts: Vec::new(),
            comment: None,
        }
    }
}

/// What a message's unsubscribe link says: turn off `kind` for `person`.
/// The link carries it with the node's signature, so that it works
/// without signing in and cannot be made for someone else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribe {
    pub person: PersonId,
    pub kind: Kind,
}

impl Unsubscribe {
    /// The bytes the node signs.
    fn message(&self) -> Vec<u8> {
        format!(
            "edufed-unsubscribe\n{}\n{}",
            self.person,
            self.kind.as_str()
        )
        .into_bytes()
    }

    /// The token for the link, signed by `sign` (the node's key).
    pub fn token(&self, sign: impl Fn(&[u8]) -> [u8; 64]) -> String {
        use base64::Engine as _;
        let signature = sign(&self.message());
        format!(
            "{}.{}.{}",
            self.person,
            self.kind.as_str(),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signature)
        )
    }

    /// Reads a token and checks it was signed with `key`; errors name
    /// `field`.
    pub fn verify(
        field: &str,
        token: &str,
        key: &ed25519_dalek::VerifyingKey,
    ) -> Result<Self, crate::FieldError> {
        use base64::Engine as _;
        let invalid = || crate::FieldError::new(field, "is not a valid unsubscribe link");
        let mut parts = token.trim().splitn(3, '.');
        let (Some(person), Some(kind), Some(signature)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        let kind = Kind::parse(field, kind).map_err(|_| invalid())?;
        let signature: [u8; 64] = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(signature)
            .ok()
            .and_then(|s| s.try_into().ok())
            .ok_or_else(invalid)?;
        let claim = Self {
            person: PersonId::from_stored(person.to_owned()),
            kind,
        };
        let signature = ed25519_dalek::Signature::from_bytes(&signature);
        key.verify_strict(&claim.message(), &signature)
            .map_err(|_| invalid())?;
        Ok(claim)
    }
}

/// The longest webhook URL accepted.
pub const MAX_WEBHOOK_URL: usize = 2000;

/// A new webhook secret: 256 random bits, shown once.
pub fn webhook_secret() -> String {
    use base64::Engine as _;
    use rand::RngCore as _;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// Checks a webhook's URL: `https://`, or `http://` only to this machine
/// (a receiver beside the node); errors name `field`.
pub fn webhook_url(field: &str, raw: &str) -> Result<String, crate::FieldError> {
    let url = raw.trim();
    if url.is_empty() {
        return Err(crate::FieldError::new(field, "is required"));
    }
    if url.chars().count() > MAX_WEBHOOK_URL || url.chars().any(char::is_whitespace) {
        return Err(crate::FieldError::new(
            field,
            format!("must be one URL of at most {MAX_WEBHOOK_URL} characters"),
        ));
    }
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| crate::FieldError::new(field, "must start with https://"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        host.split(':').next().unwrap_or_default()
    };
    if host.is_empty() {
        return Err(crate::FieldError::new(field, "has no host"));
    }
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match scheme {
        "https" => Ok(url.to_owned()),
        "http" if loopback => Ok(url.to_owned()),
        "http" => Err(crate::FieldError::new(
            field,
            "must use https:// (http:// only to this machine)",
        )),
        _ => Err(crate::FieldError::new(field, "must start with https://")),
    }
}

/// The hour of the day, in the organization's zone, the daily digest goes.
pub const DIGEST_HOUR: u32 = 7;

/// When the next daily digest goes after `now`: [`DIGEST_HOUR`] o'clock
/// in `zone`, today if it has not come yet, else tomorrow.
pub fn next_digest(now: DateTime<Utc>, zone: crate::time::TimeZone) -> DateTime<Utc> {
    use chrono::TimeZone as _;
    let tz = zone.tz();
    let today = now.with_timezone(&tz).date_naive();
    for day in [today, today.succ_opt().unwrap_or(today)] {
        let local = day.and_hms_opt(DIGEST_HOUR, 0, 0).unwrap_or_default();
        if let Some(at) = tz.from_local_datetime(&local).earliest() {
            let at = at.with_timezone(&Utc);
            if at > now {
                return at;
            }
        }
    }
    now + chrono::Duration::days(1)
}

/// How long a failed delivery waits before attempt `attempt` + 1: half a
/// minute, doubling, at most an hour.
pub fn retry_delay(attempt: u32) -> chrono::Duration {
    let seconds = 30_i64.saturating_mul(1_i64 << attempt.saturating_sub(1).min(20));
    chrono::Duration::seconds(seconds.min(3600))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;
    use crate::booking::{BookedOccurrence, Booking, OccurrenceState};
    use crate::calendar::GradeRange;
    use crate::calendar::registration::Cohort;
    use crate::calendar::registration::{Registration, RegistrationState};
    use crate::ids::{ActivityId, BookingId, PersonId, RegistrationId, ResourceId};

    fn org(slug: &str) -> OrgId {
        OrgId::from_stored(slug.into())
    }

    fn registration(state: RegistrationState) -> Registration {
        let at = Utc.with_ymd_and_hms(2026, 9, 1, 8, 0, 0).unwrap();
        Registration {
            id: RegistrationId::from_stored("r1".into()),
            activity_id: ActivityId::from_stored("a1".into()),
            occurrence: None,
            venue: None,
            cohort: Cohort {
                org_id: org("school"),
                grades: Some(GradeRange::new("grades", 9, 9).unwrap()),
                headcount: 12,
                teacher: "Учитель".into(),
                teacher_contact: None,
            },
            state,
            position: 1,
            results: None,
            version: 1,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn the_digest_goes_at_seven_local_time() {
        let tomsk = crate::time::TimeZone::parse("zone", "Asia/Tomsk").unwrap();
        // 06:30 in Tomsk (UTC+7): today at 07:00.
        let early = Utc.with_ymd_and_hms(2026, 9, 1, 23, 30, 0).unwrap();
        assert_eq!(
            next_digest(early, tomsk),
            Utc.with_ymd_and_hms(2026, 9, 2, 0, 0, 0).unwrap()
        );
        // 07:00 exactly has gone: tomorrow.
        let seven = Utc.with_ymd_and_hms(2026, 9, 2, 0, 0, 0).unwrap();
        assert_eq!(
            next_digest(seven, tomsk),
            Utc.with_ymd_and_hms(2026, 9, 3, 0, 0, 0).unwrap()
        );
    }

    #[test]
    fn webhooks_go_over_https_or_to_this_machine() {
        assert!(webhook_url("url", "https://crm.gym24.example/hooks/edufed").is_ok());
        assert!(webhook_url("url", "http://127.0.0.1:8080/hook").is_ok());
        assert!(webhook_url("url", "http://[::1]:8080/hook").is_ok());
        assert!(webhook_url("url", "http://localhost/hook").is_ok());
        for bad in [
            "",
            "http://crm.gym24.example/hook",
            "ftp://x",
            "https://",
            "a b",
        ] {
            assert_eq!(webhook_url("url", bad).unwrap_err().field, "url", "{bad}");
        }
        assert!(webhook_secret().starts_with("whsec_"));
        assert_ne!(webhook_secret(), webhook_secret());
    }

    #[test]
    fn an_unsubscribe_link_works_only_as_signed() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let other = ed25519_dalek::SigningKey::from_bytes(&[8; 32]);
        let claim = Unsubscribe {
            person: PersonId::from_stored("0190a0b0-0000-7000-8000-000000000001".into()),
            kind: Kind::BookingApproved,
        };
        let sign = |m: &[u8]| ed25519_dalek::Signer::sign(&key, m).to_bytes();
        let token = claim.token(sign);
        assert_eq!(
            Unsubscribe::verify("token", &token, &key.verifying_key()).unwrap(),
            claim
        );
        let refused = Unsubscribe::verify("token", &token, &other.verifying_key()).unwrap_err();
        assert_eq!(refused.field, "token");
        let forged = token.replace("booking_approved", "booking_rejected");
        assert!(Unsubscribe::verify("token", &forged, &key.verifying_key()).is_err());
        assert!(Unsubscribe::verify("token", "nonsense", &key.verifying_key()).is_err());
    }

    #[test]
    fn retries_wait_longer_each_time_up_to_an_hour() {
        let waits: Vec<i64> = (1..=9).map(|a| retry_delay(a).num_seconds()).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(retry_delay(1000).num_seconds(), 3600);
    }

    fn kinds(events: &[Event]) -> Vec<(Kind, &str)> {
        events.iter().map(|e| (e.kind, e.org.as_str())).collect()
    }

    #[test]
    fn a_registration_tells_the_school_where_it_stands_and_the_publisher_who_came() {
        use RegistrationState::{Confirmed, Waitlisted, Withdrawn};
        let publisher = org("university");
        let of = |before: Option<RegistrationState>, after| {
            let before = before.map(registration);
            registration_events(before.as_ref(), &registration(after), &publisher)
        };
        assert_eq!(
            kinds(&of(None, Confirmed)),
            [
                (Kind::RegistrationConfirmed, "school"),
                (Kind::RegistrationReceived, "university")
            ]
        );
        assert_eq!(
            kinds(&of(None, Waitlisted)),
            [
                (Kind::RegistrationWaitlisted, "school"),
                (Kind::RegistrationReceived, "university")
            ]
        );
        assert_eq!(
            kinds(&of(Some(Waitlisted), Confirmed)),
            [(Kind::RegistrationPromoted, "school")]
        );
        assert_eq!(
            kinds(&of(Some(Confirmed), Withdrawn)),
            [(Kind::RegistrationWithdrawn, "university")]
        );
        assert!(
            of(Some(Confirmed), Confirmed).is_empty(),
            "a new headcount that still fits, or results, tell nobody"
        );
    }

    fn lesson(day: u32, state: OccurrenceState, note: Option<&str>) -> BookedOccurrence {
        let start = Utc.with_ymd_and_hms(2026, 9, day, 8, 0, 0).unwrap();
        BookedOccurrence {
            start,
            end: start + chrono::Duration::minutes(90),
            state,
            hold_expires_at: None,
            note: note.map(str::to_owned),
        }
    }

    fn booking() -> Booking {
        let at = Utc.with_ymd_and_hms(2026, 8, 20, 8, 0, 0).unwrap();
        Booking {
            id: BookingId::from_stored("b1".into()),
            resource_id: ResourceId::from_stored("lab".into()),
            requester_org: org("school"),
            requester: PersonId::from_stored("deputy".into()),
            purpose: "Технология".into(),
            headcount: 12,
            activity_id: None,
            agreement_id: None,
            version: 1,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn a_booking_tells_the_owner_of_requests_and_the_school_of_decisions() {
        use OccurrenceState::{Cancelled, Confirmed, Pending, Rejected};
        let owner = org("technopark");
        let requested = [lesson(1, Pending, None), lesson(3, Pending, None)];
        let events = booking_events(None, &booking(), &requested, &owner);
        assert_eq!(kinds(&events), [(Kind::BookingRequested, "technopark")]);
        assert_eq!(events[0].starts.len(), 2);

        let decided = [
            lesson(1, Confirmed, Some("Ждём вас")),
            lesson(3, Rejected, Some("Лаборатория закрыта")),
        ];
        let events = booking_events(Some(&requested), &booking(), &decided, &owner);
        assert_eq!(
            kinds(&events),
            [
                (Kind::BookingApproved, "school"),
                (Kind::BookingRejected, "school")
            ]
        );
        assert_eq!(events[0].comment.as_deref(), Some("Ждём вас"));

        let cancelled = [lesson(1, Cancelled, None), lesson(3, Rejected, None)];
        let events = booking_events(Some(&decided), &booking(), &cancelled, &owner);
        assert_eq!(
            kinds(&events),
            [
                (Kind::BookingCancelled, "school"),
                (Kind::BookingCancelled, "technopark")
            ]
        );
        assert_eq!(events[0].starts, [decided[0].start]);

        assert!(
            booking_events(Some(&decided), &booking(), &decided, &owner).is_empty(),
            "nothing changed, nothing to tell"
        );
    }
}
