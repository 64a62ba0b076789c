//! People's sessions in the web console, and the one-time links that start
//! them.
//!
//! A session lives on the node: the browser holds only its secret (in a
//! cookie), the node its hash, when it started, when it was last used, and
//! the two instants after which it no longer works: an idle deadline that
//! each use pushes forward, and an absolute one that nothing moves. A
//! session starts from a one-time sign-in link an admin or the operator
//! issued for the person, or from the region's identity provider: its
//! [`Origin`] says which, and nothing else about a session depends on it.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::directory::{Error, TokenSecret};
use crate::error::FieldError;
use crate::ids::{PersonId, SessionId, SignInLinkId};
use crate::stable::string_enum;

/// The prefix of every sign-in link's secret.
pub const LINK_PREFIX: &str = "edufed_link_";
/// The prefix of every session's secret.
pub const SESSION_PREFIX: &str = "edufed_session_";

/// The shortest lifetime of a sign-in link.
pub const MIN_LINK_TTL: Duration = Duration::minutes(1);
/// The longest lifetime of a sign-in link: long enough to be sent by mail
/// on a Friday and opened on Monday.
pub const MAX_LINK_TTL: Duration = Duration::days(3);
/// A sign-in link's lifetime when none is asked for.
pub const DEFAULT_LINK_TTL: Duration = Duration::minutes(15);

/// The longest user agent kept with a session, in characters.
pub const MAX_USER_AGENT: usize = 200;

string_enum!(
    /// How a session started.
    Origin as SessionOrigin {
        /// From a one-time sign-in link.
        Link = "link",
        /// From the region's OpenID Connect identity provider.
        OpenIdConnect = "openid_connect",
    }
);

string_enum!(
    /// Why a session ended before its deadlines.
    EndReason as SessionEndReason {
        /// The person signed out.
        SignedOut = "signed_out",
        /// The person, an admin or the operator ended it from the list of
        /// sessions.
        Ended = "ended",
        /// The person lost a membership: every session of theirs ends.
        MembershipRemoved = "membership_removed",
        /// The account at the identity provider it started from was
        /// unbound from the person.
        IdentityUnbound = "identity_unbound",
    }
);

/// How long sessions last on a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    /// Unused for this long, a session ends.
    pub idle: Duration,
    /// This long after it started, a session ends however much it is used.
    pub absolute: Duration,
}

impl Default for Lifetimes {
    /// A week unused, a month in all: people sign in from a link an admin
    /// sends, so sessions outlast a working day.
    fn default() -> Self {
        Self {
            idle: Duration::days(7),
            absolute: Duration::days(30),
        }
    }
}

impl Lifetimes {
    /// Checks a node's settings: the idle time is at least five minutes and
    /// no longer than the absolute lifetime, which is at most a year.
    pub fn new(idle: Duration, absolute: Duration) -> Result<Self, FieldError> {
        if idle < Duration::minutes(5) {
            return Err(FieldError::new(
                "session_idle_timeout",
                "must be at least 5 minutes",
            ));
        }
        if absolute > Duration::days(366) {
            return Err(FieldError::new("session_max_age", "must be at most a year"));
        }
        if idle > absolute {
            return Err(FieldError::new(
                "session_idle_timeout",
                "must not exceed session_max_age",
            ));
        }
        Ok(Self { idle, absolute })
    }
}

/// A one-time sign-in link's record. Its secret is never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInLink {
    pub id: SignInLinkId,
    /// Who it signs in.
    pub person_id: PersonId,
    /// Who issued it; `None` for the node itself (the demo's links).
    pub issued_by: Option<PersonId>,
    pub created_at: DateTime<Utc>,
    /// Unused by then, it no longer works.
    pub expires_at: DateTime<Utc>,
    /// When it started a session; it never works again.
    pub used_at: Option<DateTime<Utc>>,
    /// An invitation: it starts no session itself, but binds the account
    /// that completes a sign-in through an identity provider with it.
    pub invitation: bool,
}

impl SignInLink {
    /// Whether the link may start a session at `now`.
    pub fn check_usable(&self, now: DateTime<Utc>) -> Result<(), Error> {
        if let Some(at) = self.used_at {
            return Err(Error::LinkUsed(at));
        }
        if self.expires_at <= now {
            return Err(Error::LinkExpired(self.expires_at));
        }
        Ok(())
    }
}

/// A validated request for a sign-in link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSignInLink {
    pub person_id: PersonId,
    pub issued_by: Option<PersonId>,
    pub ttl: Duration,
    /// An invitation (see [`SignInLink::invitation`]).
    pub invitation: bool,
}

impl NewSignInLink {
    /// A link for `person_id` living `ttl` ([`DEFAULT_LINK_TTL`] if `None`).
    pub fn parse(
        person_id: PersonId,
        issued_by: Option<PersonId>,
        ttl: Option<Duration>,
    ) -> Result<Self, FieldError> {
        let ttl = ttl.unwrap_or(DEFAULT_LINK_TTL);
        if !(MIN_LINK_TTL..=MAX_LINK_TTL).contains(&ttl) {
            return Err(FieldError::new(
                "ttl",
                "must be between 1 minute and 3 days",
            ));
        }
        Ok(Self {
            person_id,
            issued_by,
            ttl,
            invitation: false,
        })
    }

    /// Issues the link: its record, and the secret to hand over once.
    pub fn issue(self, now: DateTime<Utc>) -> (SignInLink, TokenSecret) {
        let link = SignInLink {
            id: SignInLinkId::generate(),
            person_id: self.person_id,
            issued_by: self.issued_by,
            created_at: now,
            expires_at: now + self.ttl,
            used_at: None,
            invitation: self.invitation,
        };
        (link, TokenSecret::generate_with(LINK_PREFIX))
    }
}

/// A session's record. Its secret is never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub id: SessionId,
    pub person_id: PersonId,
    pub origin: Origin,
    /// The issuer it started through, for [`Origin::OpenIdConnect`].
    pub issuer: Option<String>,
    /// The browser it started in, as it named itself (for the person to
    /// tell their sessions apart).
    pub user_agent: String,
    pub started_at: DateTime<Utc>,
    /// When it was last used, to the minute.
    pub last_seen_at: DateTime<Utc>,
    /// Unused until then, it ends; each use moves it forward.
    pub idle_expires_at: DateTime<Utc>,
    /// It ends then, however much it is used.
    pub expires_at: DateTime<Utc>,
    /// When it was ended, and why.
    pub ended: Option<(DateTime<Utc>, EndReason)>,
}

/// A session's secret as a browser presented it, which the web console
/// puts in the extensions of the calls it makes in process for the
/// signed-in person. It never comes from the wire: a remote client cannot
/// set extensions.
#[derive(Clone)]
pub struct PresentedSession(pub String);

impl std::fmt::Debug for PresentedSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PresentedSession(..)")
    }
}

/// How often a session's last use is written: reading pages does not write
/// on every request.
pub const TOUCH_EVERY: Duration = Duration::minutes(1);

impl Session {
    /// Starts a session for `person_id` at `now`: its record and its secret.
    pub fn start(
        person_id: PersonId,
        origin: Origin,
        user_agent: &str,
        lifetimes: Lifetimes,
        now: DateTime<Utc>,
    ) -> (Self, TokenSecret) {
        let expires_at = now + lifetimes.absolute;
        let session = Self {
            id: SessionId::generate(),
            person_id,
            origin,
            issuer: None,
            user_agent: user_agent_label(user_agent),
            started_at: now,
            last_seen_at: now,
            idle_expires_at: (now + lifetimes.idle).min(expires_at),
            expires_at,
            ended: None,
        };
        (session, TokenSecret::generate_with(SESSION_PREFIX))
    }

    /// Whether the session may authenticate a request at `now`.
    pub fn check_usable(&self, now: DateTime<Utc>) -> Result<(), Error> {
        if let Some((at, _)) = self.ended {
            return Err(Error::SessionEnded(at));
        }
        let deadline = self.idle_expires_at.min(self.expires_at);
        if deadline <= now {
            return Err(Error::SessionExpired(deadline));
        }
        Ok(())
    }

    /// The new idle deadline if a use at `now` should be written: at most
    /// once a [`TOUCH_EVERY`].
    pub fn touch(&self, lifetimes: Lifetimes, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        (now - self.last_seen_at >= TOUCH_EVERY)
            .then(|| (now + lifetimes.idle).min(self.expires_at))
    }

    /// Whether it still works at `now`.
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.check_usable(now).is_ok()
    }
}

/// A user agent as kept: one line, bounded, "unknown" when absent.
fn user_agent_label(raw: &str) -> String {
    let line: String = raw.chars().filter(|c| !c.is_control()).collect();
    let line = line.trim();
    if line.is_empty() {
        return "unknown".to_owned();
    }
    line.chars().take(MAX_USER_AGENT).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hours: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000, 0).unwrap() + Duration::hours(hours)
    }

    #[test]
    fn links_work_once_and_until_they_expire() {
        let person = PersonId::generate();
        let (mut link, secret) = NewSignInLink::parse(person, None, None)
            .unwrap()
            .issue(at(0));
        assert!(secret.expose().starts_with(LINK_PREFIX));
        assert_eq!(link.expires_at, at(0) + DEFAULT_LINK_TTL);
        assert!(link.check_usable(at(0)).is_ok());
        assert!(matches!(
            link.check_usable(at(1)),
            Err(Error::LinkExpired(_))
        ));
        link.used_at = Some(at(0));
        assert!(matches!(link.check_usable(at(0)), Err(Error::LinkUsed(_))));
    }

    #[test]
    fn link_lifetimes_are_bounded() {
        let person = PersonId::generate();
        for ttl in [Duration::seconds(30), Duration::days(4)] {
            let error = NewSignInLink::parse(person.clone(), None, Some(ttl)).unwrap_err();
            assert_eq!(error.field, "ttl");
        }
        assert!(NewSignInLink::parse(person, None, Some(Duration::days(3))).is_ok());
    }

    #[test]
    fn sessions_end_when_idle_or_old_and_use_moves_only_the_idle_deadline() {
        let lifetimes = Lifetimes::new(Duration::hours(2), Duration::hours(5)).unwrap();
        let (mut session, secret) = Session::start(
            PersonId::generate(),
            Origin::Link,
            "Mozilla/5.0\n(X11)",
            lifetimes,
            at(0),
        );
        assert!(secret.expose().starts_with(SESSION_PREFIX));
        assert_eq!(session.user_agent, "Mozilla/5.0(X11)");
        assert!(session.is_active(at(1)));
        assert!(matches!(
            session.check_usable(at(2)),
            Err(Error::SessionExpired(t)) if t == at(2)
        ));
        // Used at 1h: idle until 3h; used at 3h would be too late, at 2h59 not.
        session.idle_expires_at = session.touch(lifetimes, at(1)).unwrap();
        session.last_seen_at = at(1);
        assert_eq!(session.idle_expires_at, at(3));
        assert_eq!(
            session.touch(lifetimes, at(1) + Duration::seconds(20)),
            None
        );
        // Never past the absolute deadline.
        assert_eq!(session.touch(lifetimes, at(4)), Some(at(5)));
        session.ended = Some((at(1), EndReason::SignedOut));
        assert!(matches!(
            session.check_usable(at(1)),
            Err(Error::SessionEnded(_))
        ));
    }

    #[test]
    fn lifetimes_are_checked() {
        assert!(Lifetimes::new(Duration::minutes(1), Duration::hours(1)).is_err());
        assert!(Lifetimes::new(Duration::hours(2), Duration::hours(1)).is_err());
        assert!(Lifetimes::new(Duration::hours(1), Duration::days(400)).is_err());
        let default = Lifetimes::default();
        assert_eq!(Lifetimes::new(default.idle, default.absolute), Ok(default));
    }
}
