//! Designations: the standing an authority gave an organization in the
//! network: a resource centre for a direction (СОШ №10 for robotics), a
//! base site of an olympiad or a programme (МГМЛ for «Звезда»), an
//! innovation site of some level with its document, its term and the
//! teachers and pupils it involves. An organization states its own on its
//! node; they are shared with the network like its activities, and the
//! directory, the calendar and the reports select by them.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, FieldError, ServiceError, StorageError};
use crate::ids::{DesignationId, OrgId};
use crate::stable::string_enum;
use crate::text;

string_enum!(
    /// What standing an organization has.
    DesignationKind {
        /// A resource centre for a direction (robotics, IT, physics…).
        ResourceCentre = "resource_centre",
        /// A base site (базовая площадка) of an olympiad or a programme.
        BaseSite = "base_site",
        /// An innovation, experimental or network site of some level.
        InnovationSite = "innovation_site",
    }
);

string_enum!(
    /// Whose site it is.
    DesignationLevel {
        International = "international",
        Federal = "federal",
        Regional = "regional",
        Municipal = "municipal",
    }
);

/// The longest `field` and document texts, in characters.
pub const MAX_TEXT: usize = 500;
/// The most teachers or pupils a site states.
pub const MAX_COUNT: u32 = 1_000_000;

/// The document that gave the standing: an order, an agreement, a
/// certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// Who issued it («Министерство просвещения РФ», «Департамент образования»).
    pub issuer: String,
    /// Its number as written («№568-р»).
    pub number: String,
    pub date: Option<NaiveDate>,
}

/// What an organization states about a designation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesignationDetails {
    pub kind: DesignationKind,
    /// The direction of a resource centre («Робототехника»), the olympiad
    /// or programme of a base site («Звезда»), the project of an
    /// innovation site.
    pub field: String,
    /// Required for an innovation site.
    pub level: Option<DesignationLevel>,
    /// Required for an innovation site.
    pub document: Option<Document>,
    /// The term, both days included; open ends when not stated.
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
    /// Teachers and pupils taking part, as the site reports them.
    pub teachers: Option<u32>,
    pub pupils: Option<u32>,
}

impl DesignationDetails {
    /// Checks the fields, naming the one at fault.
    pub fn validate(mut self) -> Result<Self, FieldError> {
        self.field = text::line("field", &self.field, MAX_TEXT)?;
        if self.field.is_empty() {
            return Err(FieldError::new(
                "field",
                match self.kind {
                    DesignationKind::ResourceCentre => "names the resource centre's direction",
                    DesignationKind::BaseSite => "names the olympiad or programme",
                    DesignationKind::InnovationSite => "names the site's project",
                },
            ));
        }
        if let Some(document) = self.document.take() {
            let issuer = text::line("document.issuer", &document.issuer, MAX_TEXT)?;
            let number = text::line("document.number", &document.number, 100)?;
            self.document = if issuer.is_empty() && number.is_empty() && document.date.is_none() {
                None
            } else {
                if issuer.is_empty() {
                    return Err(FieldError::new("document.issuer", "is required"));
                }
                Some(Document {
                    issuer,
                    number,
                    date: document.date,
                })
            };
        }
        if self.kind == DesignationKind::InnovationSite {
            if self.level.is_none() {
                return Err(FieldError::new(
                    "level",
                    "is required for an innovation site",
                ));
            }
            if self.document.is_none() {
                return Err(FieldError::new(
                    "document.issuer",
                    "is required for an innovation site: the order or agreement that gave it",
                ));
            }
        }
        if let (Some(from), Some(until)) = (self.valid_from, self.valid_until)
            && until < from
        {
            return Err(FieldError::new("valid_until", "is before valid_from"));
        }
        for (field, value) in [("teachers", self.teachers), ("pupils", self.pupils)] {
            if value.is_some_and(|n| n > MAX_COUNT) {
                return Err(FieldError::new(field, format!("is at most {MAX_COUNT}")));
            }
        }
        Ok(self)
    }
}

/// A designation as its organization's node keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Designation {
    pub id: DesignationId,
    pub org: OrgId,
    pub details: DesignationDetails,
    /// Increases on every change.
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Designation {
    /// A new designation of `org`.
    pub fn new(
        org: OrgId,
        details: DesignationDetails,
        at: DateTime<Utc>,
    ) -> Result<Self, FieldError> {
        Ok(Designation {
            id: DesignationId::generate(),
            org,
            details: details.validate()?,
            version: 1,
            created_at: at,
            updated_at: at,
        })
    }

    /// The designation with new details, if the caller saw `expected`.
    pub fn changed(
        &self,
        details: DesignationDetails,
        expected: Option<u64>,
        at: DateTime<Utc>,
    ) -> Result<Self, Error> {
        if let Some(expected) = expected
            && expected != self.version
        {
            return Err(Error::Version {
                id: self.id.clone(),
                expected,
                actual: self.version,
            });
        }
        let mut next = self.clone();
        next.details = details.validate()?;
        next.version += 1;
        next.updated_at = at;
        Ok(next)
    }

    /// Whether it stands on `day`.
    pub fn in_force(&self, day: NaiveDate) -> bool {
        self.details.valid_from.is_none_or(|from| from <= day)
            && self.details.valid_until.is_none_or(|until| day <= until)
    }
}

/// What a search for designated organizations asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesignationQuery {
    pub kind: DesignationKind,
    /// Only those whose field contains this, folded.
    pub field: Option<String>,
    /// Only those standing on this day; `None` takes any.
    pub on: Option<NaiveDate>,
}

impl DesignationQuery {
    /// The query from its parts; `field` is folded here.
    pub fn new(
        kind: DesignationKind,
        field: &str,
        on: Option<NaiveDate>,
    ) -> Result<Self, FieldError> {
        let field = text::optional_line("designation_field", field, MAX_TEXT)?;
        Ok(Self {
            kind,
            field: field.map(|f| text::fold(&f)),
            on,
        })
    }

    /// Whether `designation` answers the query.
    pub fn admits(&self, designation: &Designation) -> bool {
        designation.details.kind == self.kind
            && self
                .field
                .as_ref()
                .is_none_or(|f| text::fold(&designation.details.field).contains(f.as_str()))
            && self.on.is_none_or(|day| designation.in_force(day))
    }
}

/// Why a designation operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error("designation {0} not found")]
    NotFound(String),
    /// The designation changed since the version the caller saw.
    #[error("designation {id} is at version {actual}, not the expected {expected}")]
    Version {
        id: DesignationId,
        expected: u64,
        actual: u64,
    },
    #[error(transparent)]
    Directory(#[from] crate::directory::Error),
    #[error(transparent)]
    Denied(#[from] crate::policy::Denied),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl ServiceError for Error {
    fn error_code(&self) -> ErrorCode {
        match self {
            Error::Invalid(_) => ErrorCode::InvalidArgument,
            Error::NotFound(_) => ErrorCode::NotFound,
            Error::Version { .. } => ErrorCode::FailedPrecondition,
            Error::Directory(e) => e.error_code(),
            Error::Denied(_) => ErrorCode::PermissionDenied,
            Error::Storage(e) => e.error_code(),
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            Error::Invalid(e) => Some(&e.field),
            Error::Directory(e) => e.field(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime<Utc> {
        "2026-09-01T08:00:00Z".parse().unwrap()
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn centre(field: &str) -> DesignationDetails {
        DesignationDetails {
            kind: DesignationKind::ResourceCentre,
            field: field.into(),
            level: None,
            document: None,
            valid_from: None,
            valid_until: None,
            teachers: None,
            pupils: None,
        }
    }

    #[test]
    fn an_innovation_site_names_its_level_and_document() {
        let mut site = centre("Учусь учиться");
        site.kind = DesignationKind::InnovationSite;
        assert_eq!(site.clone().validate().unwrap_err().field, "level");
        site.level = Some(DesignationLevel::Federal);
        assert_eq!(
            site.clone().validate().unwrap_err().field,
            "document.issuer"
        );
        site.document = Some(Document {
            issuer: "Минобрнауки РФ".into(),
            number: "№741".into(),
            date: Some(day("2019-12-30")),
        });
        site.valid_from = Some(day("2019-12-30"));
        site.valid_until = Some(day("2019-01-01"));
        assert_eq!(site.clone().validate().unwrap_err().field, "valid_until");
        site.valid_until = Some(day("2024-12-31"));
        site.teachers = Some(14);
        site.pupils = Some(539);
        assert!(site.validate().is_ok());
    }

    #[test]
    fn a_resource_centre_names_its_direction() {
        assert_eq!(centre("  ").validate().unwrap_err().field, "field");
    }

    #[test]
    fn a_query_matches_kind_direction_and_term() {
        let mut details = centre("Робототехника");
        details.valid_until = Some(day("2027-06-30"));
        let d = Designation::new(OrgId::generate(), details, at()).unwrap();
        let q = |field: &str, on: Option<&str>| {
            DesignationQuery::new(DesignationKind::ResourceCentre, field, on.map(day)).unwrap()
        };
        assert!(q("робото", None).admits(&d));
        assert!(q("", Some("2027-06-30")).admits(&d));
        assert!(!q("", Some("2027-07-01")).admits(&d));
        assert!(!q("IT", None).admits(&d));
        let base = DesignationQuery::new(DesignationKind::BaseSite, "", None).unwrap();
        assert!(!base.admits(&d));
    }

    #[test]
    fn a_change_checks_the_version_seen() {
        let d = Designation::new(OrgId::generate(), centre("IT"), at()).unwrap();
        let next = d.changed(centre("IT-технологии"), Some(1), at()).unwrap();
        assert_eq!(next.version, 2);
        assert!(matches!(
            next.changed(centre("IT"), Some(1), at()),
            Err(Error::Version { .. })
        ));
    }
}
