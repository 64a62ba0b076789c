//! Typed identifiers. Ids are UUIDv7 strings: time-ordered, so indexes stay
//! compact and pagination by id follows creation order.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// A new, unique id.
            pub fn generate() -> Self {
                Self(uuid::Uuid::now_v7().to_string())
            }

            /// Parses an id sent by a client; `field` names the input field on error.
            pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
                let raw = raw.trim();
                if raw.is_empty() {
                    return Err(FieldError::new(field, "is required"));
                }
                uuid::Uuid::try_parse(raw)
                    .map(|id| Self(id.hyphenated().to_string()))
                    .map_err(|_| FieldError::new(field, format!("{} is not a valid id", crate::text::excerpt(raw))))
            }

            /// Wraps an id read back from storage, where it was valid when written.
            pub fn from_stored(raw: String) -> Self {
                Self(raw)
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// Identifies an organization.
    OrgId
);
id_type!(
    /// Identifies a person.
    PersonId
);
id_type!(
    /// Identifies an API token (not its secret).
    TokenId
);
id_type!(
    /// Identifies a person's session in the web console (not its secret).
    SessionId
);
id_type!(
    /// Identifies a one-time sign-in link (not its secret).
    SignInLinkId
);
id_type!(
    /// Identifies a sign-in started through an identity provider (not its
    /// state).
    SignInId
);
id_type!(
    /// Identifies an activity of the calendar.
    ActivityId
);
id_type!(
    /// Identifies a cohort's registration for an activity.
    RegistrationId
);
id_type!(
    /// Identifies a bookable resource.
    ResourceId
);
id_type!(
    /// Identifies a booking request (one or more occurrences).
    BookingId
);
id_type!(
    /// Identifies a network agreement.
    AgreementId
);
id_type!(
    /// Identifies a mentoring programme.
    ProgrammeId
);
id_type!(
    /// Identifies a mentoring pair or group.
    PairId
);
id_type!(
    /// Identifies a pair's assessment at a checkpoint.
    AssessmentId
);
id_type!(
    /// Identifies a record of a teacher's professional growth.
    GrowthId
);
id_type!(
    /// Identifies a professional trial in the network's bank.
    TrialId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_generated_and_normalizes_case() {
        let id = OrgId::generate();
        assert_eq!(OrgId::parse("id", id.as_str()).unwrap(), id);
        let upper = id.as_str().to_uppercase();
        assert_eq!(OrgId::parse("id", &upper).unwrap(), id);
    }

    #[test]
    fn parse_names_the_field() {
        let err = PersonId::parse("person_id", "nope").unwrap_err();
        assert_eq!(err.field, "person_id");
        assert_eq!(
            PersonId::parse("person_id", " ").unwrap_err().reason,
            "is required"
        );
    }
}
id_type!(
    /// Identifies an organization's designation (resource centre, base site, innovation site).
    DesignationId
);
id_type!(
    /// Identifies a school's route template (an individual learning route's plan).
    RouteTemplateId
);
id_type!(
    /// Identifies a route template assigned to a cohort.
    RouteId
);
