//! The one translator from database errors to what the domain understands.
//! Constraints are named here once, with their PostgreSQL names and how
//! SQLite reports them; a statement that may break one says which domain
//! error it means with [`on`], and everything else is a storage failure.

use edufed_domain::StorageError;
use sqlx::error::ErrorKind;

/// SQLSTATE of an exclusion-constraint violation (PostgreSQL).
pub const SQLSTATE_EXCLUSION_VIOLATION: &str = "23P01";

/// SQLSTATEs of failures a retry may get past: a deadlock, a serialization
/// failure.
const TRANSIENT: [&str; 2] = ["40P01", "40001"];

/// A constraint the schema declares and the domain cares about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Constraint {
    /// Organization slugs are unique.
    OrganizationSlug,
    /// People's e-mails are unique.
    PersonEmail,
    /// A person holds one role per organization.
    Membership,
    /// Token hashes are unique.
    TokenHash,
    /// One operator per node.
    SingleOperator,
    /// A peer is pinned once.
    Peer,
    /// A peer is subscribed to once.
    Subscription,
    /// Confirmed and held occurrences of one resource never overlap.
    BookingOverlap,
    /// A resource's owner is an organization known here.
    ResourceOwner,
    /// A booking's requester is an organization known here.
    BookingRequester,
    /// An activity's publisher is an organization known here.
    ActivityPublisher,
    /// A registration's organization is one known here.
    RegistrationOrganization,
    /// A token belongs to a person known here.
    TokenPerson,
    /// An account at an issuer is bound to one person.
    IdentityAccount,
    /// A person is bound to one account per issuer.
    IdentityPerson,
}

/// What kind of constraint refused a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A second row with a key already taken.
    Unique,
    /// A row naming one that does not exist.
    ForeignKey,
    /// Two rows overlapping where the schema forbids it (PostgreSQL only).
    Exclusion,
}

impl Constraint {
    const ALL: [Constraint; 15] = [
        Constraint::OrganizationSlug,
        Constraint::PersonEmail,
        Constraint::Membership,
        Constraint::TokenHash,
        Constraint::SingleOperator,
        Constraint::Peer,
        Constraint::Subscription,
        Constraint::BookingOverlap,
        Constraint::ResourceOwner,
        Constraint::BookingRequester,
        Constraint::ActivityPublisher,
        Constraint::RegistrationOrganization,
        Constraint::TokenPerson,
        Constraint::IdentityAccount,
        Constraint::IdentityPerson,
    ];

    fn kind(self) -> Kind {
        match self {
            Constraint::BookingOverlap => Kind::Exclusion,
            Constraint::ResourceOwner
            | Constraint::BookingRequester
            | Constraint::ActivityPublisher
            | Constraint::RegistrationOrganization
            | Constraint::TokenPerson => Kind::ForeignKey,
            _ => Kind::Unique,
        }
    }

    fn postgres_name(self) -> &'static str {
        match self {
            Constraint::OrganizationSlug => "organizations_slug_key",
            Constraint::PersonEmail => "people_email_key",
            Constraint::Membership => "memberships_pkey",
            Constraint::TokenHash => "api_tokens_secret_hash_key",
            Constraint::SingleOperator => "people_single_operator",
            Constraint::Peer => "peers_pkey",
            Constraint::Subscription => "subscriptions_pkey",
            Constraint::BookingOverlap => "booking_occurrences_no_overlap",
            Constraint::ResourceOwner => "resources_owner_id_fkey",
            Constraint::BookingRequester => "bookings_requester_org_id_fkey",
            Constraint::ActivityPublisher => "activities_publisher_id_fkey",
            Constraint::RegistrationOrganization => "registrations_org_id_fkey",
            Constraint::TokenPerson => "api_tokens_person_id_fkey",
            Constraint::IdentityAccount => "identities_pkey",
            Constraint::IdentityPerson => "identities_person_issuer_key",
        }
    }

    /// How SQLite's message names a unique constraint: `UNIQUE constraint
    /// failed: <columns>`. Its foreign-key messages name none.
    fn sqlite_columns(self) -> Option<&'static str> {
        match self {
            Constraint::OrganizationSlug => Some("organizations.slug"),
            Constraint::PersonEmail => Some("people.email"),
            Constraint::Membership => Some("memberships.org_id, memberships.person_id"),
            Constraint::TokenHash => Some("api_tokens.secret_hash"),
            Constraint::SingleOperator => Some("people.operator"),
            Constraint::Peer => Some("peers.node_id"),
            Constraint::Subscription => Some("subscriptions.peer_id"),
            Constraint::IdentityAccount => Some("identities.issuer, identities.subject"),
            Constraint::IdentityPerson => Some("identities.person_id, identities.issuer"),
            _ => None,
        }
    }
}

/// What a failed statement means.
#[derive(Debug)]
pub enum DbFailure {
    /// A constraint refused the row: its kind, and which one when the
    /// database says (SQLite names no foreign key).
    Violation(Kind, Option<Constraint>),
    /// Anything else: a storage failure.
    Other(sqlx::Error),
}

impl DbFailure {
    /// Classifies a sqlx error.
    pub fn classify(error: sqlx::Error) -> Self {
        let sqlx::Error::Database(db) = &error else {
            return DbFailure::Other(error);
        };
        let by_name = || {
            db.constraint().and_then(|name| {
                Constraint::ALL
                    .into_iter()
                    .find(|c| c.postgres_name() == name)
            })
        };
        if db.code().as_deref() == Some(SQLSTATE_EXCLUSION_VIOLATION) {
            return DbFailure::Violation(Kind::Exclusion, by_name());
        }
        match db.kind() {
            ErrorKind::UniqueViolation => {
                let message = db.message();
                let by_columns = || {
                    let columns = message.strip_prefix("UNIQUE constraint failed: ")?;
                    Constraint::ALL
                        .into_iter()
                        .find(|c| c.sqlite_columns() == Some(columns))
                };
                DbFailure::Violation(Kind::Unique, by_name().or_else(by_columns))
            }
            ErrorKind::ForeignKeyViolation => DbFailure::Violation(Kind::ForeignKey, by_name()),
            _ => DbFailure::Other(error),
        }
    }

    /// Whether this is a violation of `constraint`: named so, or of its kind
    /// where the database names none (a statement names the one foreign key
    /// it can break).
    pub fn is(&self, constraint: Constraint) -> bool {
        match self {
            DbFailure::Violation(kind, named) => {
                *kind == constraint.kind() && named.is_none_or(|c| c == constraint)
            }
            DbFailure::Other(_) => false,
        }
    }

    /// This failure as a storage error, for when the domain expected none.
    pub fn into_storage(self) -> StorageError {
        match self {
            DbFailure::Other(e) => storage(e),
            other => StorageError::msg(format!("unexpected constraint violation: {other:?}")),
        }
    }
}

/// Translates a failed statement: a violation of `constraint` becomes the
/// domain error `then` makes; anything else is a storage failure.
pub(crate) fn on<E: From<StorageError>>(
    constraint: Constraint,
    then: impl FnOnce() -> E,
) -> impl FnOnce(sqlx::Error) -> E {
    move |error| {
        let failure = DbFailure::classify(error);
        if failure.is(constraint) {
            then()
        } else {
            failure.into_storage().into()
        }
    }
}

/// Whether `error` says the database cannot be reached or is going away
/// (rather than that a statement is wrong): no connection within the
/// timeout, a broken connection, or PostgreSQL refusing connections,
/// shutting down or out of them.
pub fn unreachable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // 08: connection exception; 57P01–03: admin or crash shutdown,
            // cannot connect now; 53300: too many connections.
            code.starts_with("08") || ["57P01", "57P02", "57P03", "53300"].contains(&code.as_ref())
        }),
        _ => false,
    }
}

/// Any sqlx error as a storage error; deadlocks, serialization failures and
/// a database out of reach are marked transient, so clients get
/// UNAVAILABLE and may retry.
pub(crate) fn storage(error: sqlx::Error) -> StorageError {
    let transient = unreachable(&error)
        || matches!(&error, sqlx::Error::Database(db)
        if db.code().is_some_and(|code| TRANSIENT.contains(&code.as_ref())));
    if transient {
        StorageError::transient(error)
    } else {
        StorageError::new(error)
    }
}
