//! Designations between the wire and the domain.

use edufed_domain::FieldError;
use edufed_domain::designations::{
    Designation, DesignationDetails, DesignationKind, DesignationLevel, DesignationQuery, Document,
};
use edufed_proto::v1 as pb;

use super::{date, enum_map, required, timestamp};

enum_map!(
    kind_in,
    kind_out,
    pb::DesignationKind,
    "DESIGNATION_KIND_",
    DesignationKind
);
enum_map!(
    level_in,
    level_out,
    pb::DesignationLevel,
    "DESIGNATION_LEVEL_",
    DesignationLevel
);

/// A day in `field`, or `None` when empty.
fn optional_day(field: &str, raw: &str) -> Result<Option<chrono::NaiveDate>, FieldError> {
    if raw.trim().is_empty() {
        Ok(None)
    } else {
        date(field, raw).map(Some)
    }
}

/// The details a request carries in `details`; fields are named from the
/// request's root (`details.field`).
pub(crate) fn details_in(
    raw: Option<&pb::DesignationDetails>,
) -> Result<DesignationDetails, FieldError> {
    let raw = raw.ok_or_else(|| FieldError::new("details", "is required"))?;
    details_of(raw).map_err(|e| e.within("details"))
}

fn details_of(raw: &pb::DesignationDetails) -> Result<DesignationDetails, FieldError> {
    let document = match &raw.document {
        Some(d) => Some(Document {
            issuer: d.issuer.clone(),
            number: d.number.clone(),
            date: optional_day("document.date", &d.date)?,
        }),
        None => None,
    };
    DesignationDetails {
        kind: required("kind", kind_in("kind", raw.kind)?)?,
        field: raw.field.clone(),
        level: level_in("level", raw.level)?,
        document,
        valid_from: optional_day("valid_from", &raw.valid_from)?,
        valid_until: optional_day("valid_until", &raw.valid_until)?,
        teachers: raw.teachers,
        pupils: raw.pupils,
    }
    .validate()
}

/// A query of designated organizations from a kind and a field, standing
/// on `on`; `None` when no kind is given (a field alone is refused).
pub(crate) fn query_in(
    kind_field: &str,
    kind: i32,
    field_field: &str,
    field: &str,
    on: Option<chrono::NaiveDate>,
) -> Result<Option<DesignationQuery>, FieldError> {
    match kind_in(kind_field, kind)? {
        Some(kind) => DesignationQuery::new(kind, field, on)
            .map(Some)
            .map_err(|e| FieldError::new(field_field, e.reason)),
        None if field.trim().is_empty() => Ok(None),
        None => Err(FieldError::new(
            kind_field,
            "is required with a designation's field",
        )),
    }
}

/// A day a listing asks for, if any.
pub(crate) fn day_in(field: &str, raw: &str) -> Result<Option<chrono::NaiveDate>, FieldError> {
    optional_day(field, raw)
}

fn day_out(d: Option<chrono::NaiveDate>) -> String {
    d.map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// A designation on the wire; `home` names the node that keeps it, if another.
pub(crate) fn designation_out(d: &Designation, home: Option<&str>) -> pb::Designation {
    let x = &d.details;
    pb::Designation {
        id: d.id.to_string(),
        organization_id: d.org.to_string(),
        details: Some(pb::DesignationDetails {
            kind: kind_out(x.kind),
            field: x.field.clone(),
            level: x.level.map_or(0, level_out),
            document: x.document.as_ref().map(|doc| pb::DesignationDocument {
                issuer: doc.issuer.clone(),
                number: doc.number.clone(),
                date: day_out(doc.date),
            }),
            valid_from: day_out(x.valid_from),
            valid_until: day_out(x.valid_until),
            teachers: x.teachers,
            pupils: x.pupils,
        }),
        version: d.version,
        created_at: Some(timestamp(d.created_at)),
        updated_at: Some(timestamp(d.updated_at)),
        home_node: home.unwrap_or_default().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_domain_enum_value_has_a_wire_twin() {
        for k in DesignationKind::ALL {
            assert_eq!(kind_in("kind", kind_out(*k)).unwrap(), Some(*k));
        }
        for l in DesignationLevel::ALL {
            assert_eq!(level_in("level", level_out(*l)).unwrap(), Some(*l));
        }
    }
}
