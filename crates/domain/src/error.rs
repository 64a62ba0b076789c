//! The small vocabulary of failures every module's `Error` maps onto, so that
//! the API crate can translate any of them to one status code in one place.

use std::fmt;

/// The kinds of failure a caller can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The input is malformed; the message names the field.
    InvalidArgument,
    /// The named record does not exist (or is not visible to the caller).
    NotFound,
    /// A record with the same unique key exists.
    AlreadyExists,
    /// The record is not in a state that allows the operation.
    FailedPrecondition,
    /// The caller is known but not allowed to do this.
    PermissionDenied,
    /// The caller could not be identified.
    Unauthenticated,
    /// A position (such as a change-log cursor) is outside what the node keeps.
    OutOfRange,
    /// A dependency is unavailable; retrying later may succeed.
    Unavailable,
    /// A limit of the node is reached (open streams, say); retry later.
    ResourceExhausted,
    /// The call did not finish in the time it had.
    DeadlineExceeded,
    /// A bug or an infrastructure failure; details go to the log only.
    Internal,
}

/// Implemented by every module's `Error`.
pub trait ServiceError: std::error::Error {
    /// What kind of failure this is.
    fn error_code(&self) -> ErrorCode;

    /// The input field at fault, for `InvalidArgument`: its path from the
    /// request's root (`details.title`, `cohort.headcount`).
    fn field(&self) -> Option<&str> {
        None
    }

    /// Why, for programs: a refusal by a named rule, sent beside the
    /// message (as `google.rpc.ErrorInfo`) so a client can act on it
    /// without reading the text.
    fn reason(&self) -> Option<Reason> {
        None
    }
}

/// A machine-readable cause of a refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// A constant in UPPER_SNAKE_CASE, e.g. `BOOKING_RULE`.
    pub reason: &'static str,
    /// Details, e.g. `rule` = `bookable_hours`.
    pub metadata: Vec<(&'static str, String)>,
}

impl Reason {
    /// A reason with one detail.
    pub fn new(reason: &'static str, key: &'static str, value: impl Into<String>) -> Self {
        Self {
            reason,
            metadata: vec![(key, value.into())],
        }
    }
}

/// A value that broke a rule, with the input field it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {reason}")]
pub struct FieldError {
    /// The field's name as the client sent it, e.g. `time_zone` or `contacts.email`.
    pub field: String,
    /// Why it is invalid, for people.
    pub reason: String,
}

impl FieldError {
    /// A new error for `field`.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The same error, nested under a parent field (`contacts` + `email` gives `contacts.email`).
    pub fn within(mut self, parent: &str) -> Self {
        self.field = format!("{parent}.{}", self.field);
        self
    }
}

impl ServiceError for FieldError {
    fn error_code(&self) -> ErrorCode {
        ErrorCode::InvalidArgument
    }

    fn field(&self) -> Option<&str> {
        Some(&self.field)
    }
}

/// A failure of the storage layer that is not a rule of the domain: lost
/// connection, a bug in a query. Opaque on purpose: callers get INTERNAL and
/// the cause goes to the log.
pub struct StorageError(Box<dyn std::error::Error + Send + Sync + 'static>, bool);

impl StorageError {
    /// Wraps any error.
    pub fn new(cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(Box::new(cause), false)
    }

    /// Whether the cause is an `E` (a payload that did not decode, say).
    pub fn caused_by<E: std::error::Error + 'static>(&self) -> bool {
        self.0.downcast_ref::<E>().is_some()
    }

    /// Wraps a transient error (a deadlock, a serialization failure): the
    /// caller may retry, and gets UNAVAILABLE rather than INTERNAL.
    pub fn transient(cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(Box::new(cause), true)
    }

    /// An error from a message, for inconsistencies found in stored data.
    pub fn msg(message: impl Into<String>) -> Self {
        Self(message.into().into(), false)
    }
}

impl fmt::Debug for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "storage failure: {}", self.0)
    }
}

impl std::error::Error for StorageError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.0.as_ref())
    }
}

impl ServiceError for StorageError {
    fn error_code(&self) -> ErrorCode {
        if self.1 {
            ErrorCode::Unavailable
        } else {
            ErrorCode::Internal
        }
    }
}
