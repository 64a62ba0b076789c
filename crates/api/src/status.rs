//! The one mapping from domain errors to `tonic::Status`. Handlers return
//! `Result<_, ApiError>` and use `?`; every module error converts here.

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
    /// An error with a status made elsewhere.
    pub fn status(status: Status) -> Self {
        Self(status)
    }
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
        ErrorCode::Internal => Code::Internal,
    }
}

/// The status a client sees for `error`. An internal error is logged with
/// its whole cause chain and reaches the client only as "internal error".
pub fn to_status(error: &(dyn ServiceError + '_)) -> Status {
    let code = code(error.error_code());
    match code {
        Code::Internal => {
            let mut chain = error.to_string();
            let mut source = error.source();
            while let Some(cause) = source {
                chain.push_str(": ");
                chain.push_str(&cause.to_string());
                source = cause.source();
            }
            tracing::error!(error = %chain, "internal error");
            Status::internal("internal error; the node's log has the details")
        }
        Code::InvalidArgument => match error.field() {
            Some(field) => Status::with_error_details(
                code,
                error.to_string(),
                ErrorDetails::with_bad_request_violation(field, error.to_string()),
            ),
            None => Status::new(code, error.to_string()),
        },
        _ => Status::new(code, error.to_string()),
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
}
