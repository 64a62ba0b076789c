//! Teachers' growth by person between the wire and the domain.

use edufed_domain::FieldError;
use edufed_domain::ids::{OrgId, PersonId};
use edufed_domain::mentoring::{GrowthConsent, GrowthKind, GrowthRecord, NewGrowthRecord};
use edufed_proto::v1 as pb;

use super::{date, enum_map, required, timestamp};

enum_map!(
    kind_in,
    kind_out,
    pb::GrowthKind,
    "GROWTH_KIND_",
    GrowthKind
);

/// The record a request asks for, for `org` and `person` (resolved by the
/// caller).
pub(crate) fn new_growth(
    org: OrgId,
    person: PersonId,
    raw: &pb::RecordGrowthRequest,
) -> Result<NewGrowthRecord, FieldError> {
    Ok(NewGrowthRecord {
        org_id: org,
        person,
        kind: required("kind", kind_in("kind", raw.kind)?)?,
        title: raw.title.clone(),
        on: date("on", &raw.on)?,
        hours: (raw.hours != 0).then_some(raw.hours),
    })
}

pub(crate) fn growth_out(record: &GrowthRecord) -> pb::GrowthRecord {
    pb::GrowthRecord {
        id: record.id.to_string(),
        organization_id: record.org_id.to_string(),
        person_id: record.person.to_string(),
        kind: kind_out(record.kind),
        title: record.title.clone(),
        on: record.on.to_string(),
        hours: record.hours.unwrap_or(0),
        recorded_by_person_id: record.recorded_by.to_string(),
        created_at: Some(timestamp(record.created_at)),
    }
}

pub(crate) fn consent_out(consent: &GrowthConsent) -> pb::GrowthConsent {
    pb::GrowthConsent {
        organization_id: consent.org_id.to_string(),
        person_id: consent.person.to_string(),
        given_at: Some(timestamp(consent.given_at)),
    }
}
