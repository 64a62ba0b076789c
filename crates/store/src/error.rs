//! The one translator from database errors to what the domain understands.
//! Constraints are named here once, with their PostgreSQL names and the
//! columns SQLite reports for them.

use edufed_domain::StorageError;
use sqlx::error::ErrorKind;

/// SQLSTATE of an exclusion-constraint violation (PostgreSQL).
pub const SQLSTATE_EXCLUSION_VIOLATION: &str = "23P01";

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
}

impl Constraint {
    const ALL: [Constraint; 5] = [
        Constraint::OrganizationSlug,
        Constraint::PersonEmail,
        Constraint::Membership,
        Constraint::TokenHash,
        Constraint::SingleOperator,
    ];

    fn postgres_name(self) -> &'static str {
        match self {
            Constraint::OrganizationSlug => "organizations_slug_key",
            Constraint::PersonEmail => "people_email_key",
            Constraint::Membership => "memberships_pkey",
            Constraint::TokenHash => "api_tokens_secret_hash_key",
            Constraint::SingleOperator => "people_single_operator",
        }
    }

    /// How SQLite's message names the constraint: "UNIQUE constraint failed: <columns>".
    fn sqlite_columns(self) -> &'static str {
        match self {
            Constraint::OrganizationSlug => "organizations.slug",
            Constraint::PersonEmail => "people.email",
            Constraint::Membership => "memberships.org_id, memberships.person_id",
            Constraint::TokenHash => "api_tokens.secret_hash",
            Constraint::SingleOperator => "people.operator",
        }
    }
}

/// What a failed statement means.
#[derive(Debug)]
pub enum DbFailure {
    /// A unique constraint refused the row; which one, when recognised.
    Unique(Option<Constraint>),
    /// A foreign key refused the row.
    ForeignKey,
    /// An exclusion constraint refused the row (PostgreSQL).
    Exclusion(Option<String>),
    /// Anything else: a storage failure.
    Other(sqlx::Error),
}

impl DbFailure {
    /// Classifies a sqlx error.
    pub fn classify(error: sqlx::Error) -> Self {
        let sqlx::Error::Database(db) = &error else {
            return DbFailure::Other(error);
        };
        if db.code().as_deref() == Some(SQLSTATE_EXCLUSION_VIOLATION) {
            return DbFailure::Exclusion(db.constraint().map(str::to_owned));
        }
        match db.kind() {
            ErrorKind::UniqueViolation => {
                let by_name = db.constraint().and_then(|name| {
                    Constraint::ALL
                        .into_iter()
                        .find(|c| c.postgres_name() == name)
                });
                let message = db.message();
                let by_columns = || {
                    Constraint::ALL.into_iter().find(|c| {
                        message
                            .strip_prefix("UNIQUE constraint failed: ")
                            .is_some_and(|cols| cols == c.sqlite_columns())
                    })
                };
                DbFailure::Unique(by_name.or_else(by_columns))
            }
            ErrorKind::ForeignKeyViolation => DbFailure::ForeignKey,
            _ => DbFailure::Other(error),
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

/// SQLSTATEs of failures a retry may get past.
const TRANSIENT: [&str; 2] = ["40P01", "40001"];

/// Any sqlx error as a storage error; deadlocks and serialization failures
/// are marked transient, so clients get UNAVAILABLE and may retry.
pub(crate) fn storage(error: sqlx::Error) -> StorageError {
    let transient = matches!(&error, sqlx::Error::Database(db)
        if db.code().is_some_and(|code| TRANSIENT.contains(&code.as_ref())));
    if transient {
        StorageError::transient(error)
    } else {
        StorageError::new(error)
    }
}
