//! The one mapping to `tonic::Status`. Handlers return `Result<_, ApiError>`
//! and use `?`; every module's error converts here, and nothing else in the
//! node builds a status (a test holds it: `tests/tests/invariants.rs`).

use std::collections::HashMap;

use edufed_domain::{ErrorCode, ServiceError};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt as _};

/// An error on its way to the client.
#[derive(Debug)]
pub struct ApiError(Status);

impl<E: ServiceError> From<E> for ApiError {
    fn from(error: E) -> Self {
        Self(to_status(&error))
    }
}

impl From<ApiError> for Status {
    fn from(error: ApiError) -> Self {
        error.0
    }
}

impl ApiError {
    /// A forwarded call's failure: the home node's own answer passes on as
    /// it came, so the client sees what the record's authority decided.
    pub fn from_home(error: edufed_federation::forward::Error) -> Self {
        match error {
            edufed_federation::forward::Error::Answered(status) => Self(status),
            other => Self(to_status(&other)),
        }
    }

    /// A status another service's call answered, passed on as it came.
    pub fn from_status(status: Status) -> Self {
        Self(status)
    }

    /// The status an HTTP handler renders.
    pub fn into_status(self) -> Status {
        self.0
    }
}

/// A request whose bytes are not the method's message: the client's
/// fault, never the node's (tonic answers INTERNAL for it).
pub fn undecodable() -> Status {
    to_status(&Undecodable)
}

#[derive(Debug, thiserror::Error)]
#[error("the request is not a valid protobuf message of this method")]
struct Undecodable;

impl ServiceError for Undecodable {
    fn error_code(&self) -> ErrorCode {
        ErrorCode::InvalidArgument
    }

    fn field(&self) -> Option<&str> {
        Some("request")
    }
}

/// The call did not finish within `deadline`.
pub fn deadline_exceeded(deadline: std::time::Duration) -> Status {
    to_status(&DeadlineExceeded(deadline.as_millis()))
}

#[derive(Debug, thiserror::Error)]
#[error("the call did not finish within {0} ms")]
struct DeadlineExceeded(u128);

impl ServiceError for DeadlineExceeded {
    fn error_code(&self) -> ErrorCode {
        ErrorCode::DeadlineExceeded
    }
}

/// The node's database does not answer: retry shortly.
pub fn database_unavailable() -> Status {
    to_status(&DatabaseUnavailable)
}

#[derive(Debug, thiserror::Error)]
#[error("the node's database is not answering; retry shortly")]
struct DatabaseUnavailable;

impl ServiceError for DatabaseUnavailable {
    fn error_code(&self) -> ErrorCode {
        ErrorCode::Unavailable
    }
}

/// The caller is over its rate: retry after `wait`, which also travels as a
/// `google.rpc.RetryInfo`.
pub fn rate_limited(wait: std::time::Duration) -> Status {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let message = RateLimited(seconds.max(1)).to_string();
    Status::with_error_details(
        Code::ResourceExhausted,
        message,
        ErrorDetails::with_retry_info(Some(wait)),
    )
}

#[derive(Debug, thiserror::Error)]
#[error("too many calls: retry in {0} s")]
struct RateLimited(u64);

/// A handler's answer on the wire, for services whose errors name no
/// organization (the node's own peering).
pub(crate) fn reply<T>(result: Result<T, ApiError>) -> Result<tonic::Response<T>, Status> {
    result.map(tonic::Response::new).map_err(Status::from)
}

/// The ids in a status's message, for [`renamed`] to name: UUIDs, as the
/// domain writes ids.
pub(crate) fn ids_in(status: &Status) -> Vec<String> {
    let message = status.message();
    let mut ids: Vec<String> = message
        .split(|c: char| !(c.is_ascii_hexdigit() || c == '-'))
        .filter(|word| word.len() == 36 && uuid_shaped(word))
        .map(str::to_owned)
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

fn uuid_shaped(text: &str) -> bool {
    text.bytes().enumerate().all(|(i, b)| match i {
        8 | 13 | 18 | 23 => b == b'-',
        _ => b.is_ascii_hexdigit(),
    })
}

/// The same status with each id of `names` in its message replaced by the
/// name people know the record by (an organization's slug).
pub(crate) fn renamed(status: Status, names: &[(String, String)]) -> Status {
    if names.is_empty() {
        return status;
    }
    let mut message = status.message().to_owned();
    for (id, name) in names {
        message = message.replace(id.as_str(), name);
    }
    Status::with_details(status.code(), message, status.details().to_vec().into())
}

/// The status code of an error code.
pub fn code(error: ErrorCode) -> Code {
    match error {
        ErrorCode::InvalidArgument => Code::InvalidArgument,
        ErrorCode::NotFound => Code::NotFound,
        ErrorCode::AlreadyExists => Code::AlreadyExists,
        ErrorCode::FailedPrecondition => Code::FailedPrecondition,
        ErrorCode::PermissionDenied => Code::PermissionDenied,
        ErrorCode::Unauthenticated => Code::Unauthenticated,
        ErrorCode::OutOfRange => Code::OutOfRange,
        ErrorCode::Unavailable => Code::Unavailable,
        ErrorCode::ResourceExhausted => Code::ResourceExhausted,
        ErrorCode::DeadlineExceeded => Code::DeadlineExceeded,
        ErrorCode::Internal => Code::Internal,
    }
}

/// The status a client sees for `error`. An internal error is logged with
/// its whole cause chain and reaches the client only as "internal error".
/// A bad field travels as a `google.rpc.BadRequest` naming its path from the
/// request's root; a refusal by a named rule as a `google.rpc.ErrorInfo`.
pub fn to_status(error: &(dyn ServiceError + '_)) -> Status {
    let code = code(error.error_code());
    if code == Code::Internal {
        let mut chain = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            chain.push_str(": ");
            chain.push_str(&cause.to_string());
            source = cause.source();
        }
        tracing::error!(error = %chain, "internal error");
        return Status::internal("internal error; the node's log has the details");
    }
    let message = error.to_string();
    let details = match (code, error.field(), error.reason()) {
        (Code::InvalidArgument, Some(field), _) => {
            Some(ErrorDetails::with_bad_request_violation(field, &message))
        }
        (_, _, Some(reason)) => {
            let metadata: HashMap<String, String> = reason
                .metadata
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect();
            Some(ErrorDetails::with_error_info(
                reason.reason,
                "edufed.v1",
                metadata,
            ))
        }
        _ => None,
    };
    match details {
        Some(details) => Status::with_error_details(code, message, details),
        None => Status::new(code, message),
    }
}

#[cfg(test)]
mod tests {
    use edufed_domain::{FieldError, StorageError};

    use super::*;

    #[test]
    fn invalid_argument_names_the_field() {
        let status = to_status(&FieldError::new("time_zone", "unknown IANA time zone"));
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().contains("time_zone"));
        let details = status.get_error_details();
        let violation = &details.bad_request().unwrap().field_violations[0];
        assert_eq!(violation.field, "time_zone");
    }

    #[test]
    fn internal_hides_the_cause() {
        let status = to_status(&StorageError::msg("password=hunter2 connection refused"));
        assert_eq!(status.code(), Code::Internal);
        assert!(!status.message().contains("hunter2"));
    }

    #[test]
    fn ids_are_found_among_any_text() {
        let id = edufed_domain::ids::OrgId::generate().to_string();
        let status = to_status(&FieldError::new(
            "org",
            format!("организация «{id}» не участвует; (id {id})"),
        ));
        assert_eq!(ids_in(&status), vec![id]);
    }

    #[test]
    fn organizations_are_named_by_slug() {
        let id = edufed_domain::ids::OrgId::generate().to_string();
        let status = to_status(&FieldError::new(
            "requester",
            format!("organization {id} is not a party"),
        ));
        assert_eq!(ids_in(&status), vec![id.clone()]);
        let named = renamed(status, &[(id, "gym24-tomsk".into())]);
        assert_eq!(named.code(), Code::InvalidArgument);
        assert!(
            named
                .message()
                .contains("organization gym24-tomsk is not a party")
        );
        assert_eq!(
            named
                .get_error_details()
                .bad_request()
                .unwrap()
                .field_violations[0]
                .field,
            "requester"
        );
    }

    #[test]
    fn a_rule_travels_as_error_info() {
        let refused = edufed_domain::booking::Error::rule(
            edufed_domain::booking::Rule::BookableHours,
            "outside the hours",
        );
        let status = to_status(&refused);
        assert_eq!(status.code(), Code::FailedPrecondition);
        let details = status.get_error_details();
        let info = details.error_info().unwrap();
        assert_eq!(info.reason, "BOOKING_RULE");
        assert_eq!(info.metadata["rule"], "bookable_hours");
    }
}
