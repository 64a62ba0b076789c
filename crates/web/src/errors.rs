//! The API's refusals as people read them: in Russian, beside the field
//! they name.

use edufed_i18n::ru;
use tonic::{Code, Status};
use tonic_types::StatusExt as _;

/// A refusal, ready to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    /// The request field the API named, by its path (e.g. `cohort.headcount`).
    pub(crate) field: Option<String>,
    /// What went wrong, in Russian.
    pub(crate) message: String,
}

impl Problem {
    /// The message if it is about `field` (or one of its parts).
    pub(crate) fn about(&self, field: &str) -> Option<&str> {
        let named = self.field.as_deref()?;
        (named == field
            || named.starts_with(&format!("{field}."))
            || named.starts_with(&format!("{field}[")))
        .then_some(self.message.as_str())
    }
}

/// The message of `problem` about `field`, or nothing: what a form shows
/// beside the field.
pub(crate) fn beside(problem: Option<&Problem>, field: &str) -> String {
    problem
        .and_then(|p| p.about(field))
        .unwrap_or_default()
        .to_owned()
}

/// The message of `problem` when it is about none of `fields`: what a
/// form shows above itself.
pub(crate) fn above(problem: Option<&Problem>, fields: &[&str]) -> String {
    match problem {
        Some(p) if fields.iter().all(|f| p.about(f).is_none()) => p.message.clone(),
        _ => String::new(),
    }
}

/// `status` in Russian, with the field it names.
pub(crate) fn russian(status: &Status) -> Problem {
    let field = status
        .get_error_details()
        .bad_request()
        .and_then(|b| b.field_violations.first().map(|v| v.field.clone()));
    let english = status.message();
    // A bad field's message reads "invalid <field>: <reason>"; beside the
    // field, the reason is enough.
    let reason = field
        .as_ref()
        .and_then(|f| english.strip_prefix(&format!("invalid {f}: ")))
        .unwrap_or(english);
    let message = match edufed_i18n::errors::translate(reason) {
        Some(russian) => capitalized(&russian),
        None => format!("{}: {reason}", ru().text(&lead_key(status.code()))),
    };
    Problem { field, message }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The catalogue's lead for a code, e.g. `error-invalid-argument`.
fn lead_key(code: Code) -> String {
    let name = match code {
        Code::InvalidArgument | Code::OutOfRange => "invalid-argument",
        Code::NotFound => "not-found",
        Code::AlreadyExists => "already-exists",
        Code::FailedPrecondition | Code::Aborted => "failed-precondition",
        Code::PermissionDenied => "permission-denied",
        Code::Unauthenticated => "unauthenticated",
        Code::Unavailable | Code::DeadlineExceeded | Code::ResourceExhausted => "unavailable",
        _ => "internal",
    };
    format!("error-{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_error_names_its_field_in_russian() {
        let status = Status::with_error_details(
            Code::InvalidArgument,
            "invalid cohort.teacher: is required",
            tonic_types::ErrorDetails::with_bad_request_violation(
                "cohort.teacher",
                "invalid cohort.teacher: is required",
            ),
        );
        let problem = russian(&status);
        assert_eq!(problem.field.as_deref(), Some("cohort.teacher"));
        assert_eq!(problem.message, "Обязательное поле");
        assert_eq!(problem.about("cohort"), Some("Обязательное поле"));
        assert_eq!(problem.about("cohort.headcount"), None);
    }

    #[test]
    fn an_untranslated_refusal_keeps_its_text_behind_a_russian_lead() {
        let problem = russian(&Status::failed_precondition("the lab is closed on Sundays"));
        assert_eq!(problem.field, None);
        assert!(problem.message.ends_with(": the lab is closed on Sundays"));
        assert!(!problem.message.starts_with("error-"));
    }
}
