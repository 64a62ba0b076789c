//! Wire ↔ domain conversions of the Directory service and the change feed.

use chrono::{DateTime, Duration, Utc};
use edufed_domain::FieldError;
use edufed_domain::changes::{ChangeEntry, Operation};
use edufed_domain::directory::{
    ApiToken, Contacts, Inn, Member, NewOrganization, NewPerson, OrgKind, Organization,
    OrganizationPatch, Person, Role, Slug,
};
use edufed_domain::identity::{BoundBy, Identity};
use edufed_domain::ids::SessionId;
use edufed_domain::session::{EndReason, Origin, Session};
use edufed_domain::text;
use edufed_domain::time::TimeZone;
use edufed_proto::v1 as pb;

use super::{ToProto, timestamp};

pub(crate) fn org_kind(field: &str, raw: i32) -> Result<OrgKind, FieldError> {
    use pb::OrganizationKind as K;
    let kind = K::try_from(raw)
        .map_err(|_| FieldError::new(field, format!("unknown organization kind {raw}")))?;
    Ok(match kind {
        K::Unspecified => return Err(FieldError::new(field, "is required")),
        K::School => OrgKind::School,
        K::University => OrgKind::University,
        K::College => OrgKind::College,
        K::Technopark => OrgKind::Technopark,
        K::Museum => OrgKind::Museum,
        K::Theatre => OrgKind::Theatre,
        K::AdditionalEducation => OrgKind::AdditionalEducation,
        K::MethodicalCentre => OrgKind::MethodicalCentre,
        K::Enterprise => OrgKind::Enterprise,
        K::Other => OrgKind::Other,
    })
}

impl ToProto for OrgKind {
    type Proto = pb::OrganizationKind;
    fn to_proto(&self) -> pb::OrganizationKind {
        use pb::OrganizationKind as K;
        match self {
            OrgKind::School => K::School,
            OrgKind::University => K::University,
            OrgKind::College => K::College,
            OrgKind::Technopark => K::Technopark,
            OrgKind::Museum => K::Museum,
            OrgKind::Theatre => K::Theatre,
            OrgKind::AdditionalEducation => K::AdditionalEducation,
            OrgKind::MethodicalCentre => K::MethodicalCentre,
            OrgKind::Enterprise => K::Enterprise,
            OrgKind::Other => K::Other,
        }
    }
}

pub(crate) fn role(field: &str, raw: i32) -> Result<Role, FieldError> {
    let role = pb::Role::try_from(raw)
        .map_err(|_| FieldError::new(field, format!("unknown role {raw}")))?;
    Ok(match role {
        pb::Role::Unspecified => return Err(FieldError::new(field, "is required")),
        pb::Role::Admin => Role::Admin,
        pb::Role::Coordinator => Role::Coordinator,
        pb::Role::Teacher => Role::Teacher,
        pb::Role::Viewer => Role::Viewer,
    })
}

impl ToProto for Role {
    type Proto = pb::Role;
    fn to_proto(&self) -> pb::Role {
        match self {
            Role::Admin => pb::Role::Admin,
            Role::Coordinator => pb::Role::Coordinator,
            Role::Teacher => pb::Role::Teacher,
            Role::Viewer => pb::Role::Viewer,
        }
    }
}

fn contacts(raw: Option<&pb::Contacts>) -> Result<Contacts, FieldError> {
    match raw {
        None => Ok(Contacts::default()),
        Some(c) => Contacts::parse(&c.email, &c.phone, &c.website, &c.address),
    }
}

fn inn(raw: &str) -> Result<Option<Inn>, FieldError> {
    if raw.trim().is_empty() {
        Ok(None)
    } else {
        Inn::parse("inn", raw).map(Some)
    }
}

pub(crate) fn new_organization(
    req: &pb::CreateOrganizationRequest,
) -> Result<NewOrganization, FieldError> {
    Ok(NewOrganization {
        slug: Slug::parse("slug", &req.slug)?,
        kind: org_kind("kind", req.kind)?,
        full_name: text::line(
            "full_name",
            &req.full_name,
            edufed_domain::directory::MAX_FULL_NAME,
        )?,
        short_name: text::line(
            "short_name",
            &req.short_name,
            edufed_domain::directory::MAX_SHORT_NAME,
        )?,
        city: text::line("city", &req.city, edufed_domain::directory::MAX_CITY)?,
        time_zone: TimeZone::parse("time_zone", &req.time_zone)?,
        contacts: contacts(req.contacts.as_ref())?,
        inn: inn(&req.inn)?,
    })
}

pub(crate) fn organization_patch(
    req: &pb::UpdateOrganizationRequest,
) -> Result<OrganizationPatch, FieldError> {
    use edufed_domain::directory::{MAX_CITY, MAX_FULL_NAME, MAX_SHORT_NAME};
    Ok(OrganizationPatch {
        expected_version: (req.expected_version != 0).then_some(req.expected_version),
        kind: req.kind.map(|k| org_kind("kind", k)).transpose()?,
        full_name: req
            .full_name
            .as_deref()
            .map(|v| text::line("full_name", v, MAX_FULL_NAME))
            .transpose()?,
        short_name: req
            .short_name
            .as_deref()
            .map(|v| text::line("short_name", v, MAX_SHORT_NAME))
            .transpose()?,
        city: req
            .city
            .as_deref()
            .map(|v| text::line("city", v, MAX_CITY))
            .transpose()?,
        time_zone: req
            .time_zone
            .as_deref()
            .map(|v| TimeZone::parse("time_zone", v))
            .transpose()?,
        contacts: req
            .contacts
            .as_ref()
            .map(|c| contacts(Some(c)))
            .transpose()?,
        inn: req.inn.as_deref().map(inn).transpose()?,
    })
}

pub(crate) fn new_person(raw: &pb::NewPerson) -> Result<NewPerson, FieldError> {
    NewPerson::parse("new_person", &raw.display_name, &raw.email)
}

pub(crate) fn ttl(raw: Option<&prost_types::Duration>) -> Result<Option<Duration>, FieldError> {
    let Some(raw) = raw else { return Ok(None) };
    let out_of_range = || FieldError::new("ttl", "must be a positive duration");
    if raw.seconds < 0 || raw.nanos < 0 {
        return Err(out_of_range());
    }
    Duration::try_seconds(raw.seconds)
        .map(Some)
        .ok_or_else(out_of_range)
}

impl ToProto for Organization {
    type Proto = pb::Organization;
    fn to_proto(&self) -> pb::Organization {
        pb::Organization {
            id: self.id.to_string(),
            slug: self.slug.to_string(),
            kind: self.kind.to_proto().into(),
            full_name: self.full_name.clone(),
            short_name: self.short_name.clone(),
            city: self.city.clone(),
            time_zone: self.time_zone.name().to_owned(),
            contacts: Some(pb::Contacts {
                email: self
                    .contacts
                    .email
                    .as_ref()
                    .map(|e| e.as_str().to_owned())
                    .unwrap_or_default(),
                phone: self.contacts.phone.clone().unwrap_or_default(),
                website: self.contacts.website.clone().unwrap_or_default(),
                address: self.contacts.address.clone().unwrap_or_default(),
            }),
            inn: self
                .inn
                .as_ref()
                .map(|i| i.as_str().to_owned())
                .unwrap_or_default(),
            version: self.version,
            create_time: Some(timestamp(self.created_at)),
            update_time: Some(timestamp(self.updated_at)),
            home_node: self.home_node.clone().unwrap_or_default(),
        }
    }
}

impl ToProto for Person {
    type Proto = pb::Person;
    fn to_proto(&self) -> pb::Person {
        pb::Person {
            id: self.id.to_string(),
            display_name: self.display_name.clone(),
            email: self
                .email
                .as_ref()
                .map(|e| e.as_str().to_owned())
                .unwrap_or_default(),
            operator: self.operator,
        }
    }
}

impl ToProto for Member {
    type Proto = pb::Member;
    fn to_proto(&self) -> pb::Member {
        pb::Member {
            person: Some(self.person.to_proto()),
            organization_id: self.membership.org_id.to_string(),
            role: self.membership.role.to_proto().into(),
            create_time: Some(timestamp(self.membership.created_at)),
        }
    }
}

impl ToProto for ApiToken {
    type Proto = pb::ApiToken;
    fn to_proto(&self) -> pb::ApiToken {
        pb::ApiToken {
            id: self.id.to_string(),
            person_id: self.person_id.to_string(),
            name: self.name.clone(),
            create_time: Some(timestamp(self.created_at)),
            expire_time: self.expires_at.map(timestamp),
            revoke_time: self.revoked_at.map(timestamp),
        }
    }
}

impl ToProto for ChangeEntry {
    type Proto = pb::ChangeEntry;
    fn to_proto(&self) -> pb::ChangeEntry {
        pb::ChangeEntry {
            sequence: self.sequence,
            entity_kind: self.kind.as_str().to_owned(),
            entity_id: self.entity_id.clone(),
            version: self.version,
            operation: match self.operation {
                Operation::Upsert => pb::ChangeOperation::Upsert,
                Operation::Delete => pb::ChangeOperation::Delete,
            }
            .into(),
            organization_id: self
                .org_id
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            payload_json: self.payload.clone(),
            time: Some(timestamp(self.created_at)),
            actor: self.actor.clone(),
            // Set by the feed, which holds the node's key.
            node_id: String::new(),
            signature: Vec::new(),
            public_key: Vec::new(),
        }
    }
}

/// A session as the wire shows it at `now`, to the caller whose own session
/// is `current`.
pub(crate) fn session(
    session: &Session,
    now: DateTime<Utc>,
    current: Option<&SessionId>,
) -> pb::Session {
    pb::Session {
        id: session.id.to_string(),
        person_id: session.person_id.to_string(),
        origin: match session.origin {
            Origin::Link => pb::SessionOrigin::Link,
            Origin::OpenIdConnect => pb::SessionOrigin::OpenidConnect,
        }
        .into(),
        user_agent: session.user_agent.clone(),
        start_time: Some(timestamp(session.started_at)),
        last_seen_time: Some(timestamp(session.last_seen_at)),
        idle_expire_time: Some(timestamp(session.idle_expires_at)),
        expire_time: Some(timestamp(session.expires_at)),
        end_time: session.ended.map(|(at, _)| timestamp(at)),
        end_reason: match session.ended.map(|(_, reason)| reason) {
            None => pb::SessionEndReason::Unspecified,
            Some(EndReason::SignedOut) => pb::SessionEndReason::SignedOut,
            Some(EndReason::Ended) => pb::SessionEndReason::Ended,
            Some(EndReason::MembershipRemoved) => pb::SessionEndReason::MembershipRemoved,
            Some(EndReason::IdentityUnbound) => pb::SessionEndReason::IdentityUnbound,
        }
        .into(),
        active: session.is_active(now),
        current: current == Some(&session.id),
        issuer: session.issuer.clone().unwrap_or_default(),
    }
}

/// An account bound to a person, with its issuer's label.
pub(crate) fn identity(identity: &Identity, label: &str) -> pb::Identity {
    pb::Identity {
        issuer: identity.issuer.clone(),
        issuer_label: label.to_owned(),
        subject: identity.subject.clone(),
        person_id: identity.person_id.to_string(),
        email: identity.email.clone().unwrap_or_default(),
        bound_by: match identity.bound_by {
            BoundBy::Email => pb::IdentityBinding::Email,
            BoundBy::Invitation => pb::IdentityBinding::Invitation,
        }
        .into(),
        bind_time: Some(timestamp(identity.bound_at)),
        last_sign_in_time: identity.last_sign_in_at.map(timestamp),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_enum_values_name_the_field() {
        assert_eq!(org_kind("kind", 99).unwrap_err().field, "kind");
        assert_eq!(org_kind("kind", 0).unwrap_err().reason, "is required");
        assert_eq!(role("role", 42).unwrap_err().field, "role");
    }

    #[test]
    fn create_request_errors_name_fields() {
        let mut req = pb::CreateOrganizationRequest {
            slug: "tsu".into(),
            kind: pb::OrganizationKind::University.into(),
            full_name: "Томский государственный университет".into(),
            short_name: "ТГУ".into(),
            city: "Томск".into(),
            time_zone: "Asia/Tomsk".into(),
            contacts: None,
            inn: String::new(),
        };
        assert!(new_organization(&req).is_ok());
        req.time_zone = "Mars/Olympus".into();
        assert_eq!(new_organization(&req).unwrap_err().field, "time_zone");
        req.time_zone = "Asia/Tomsk".into();
        req.full_name = "x".repeat(10 * 1024);
        assert_eq!(new_organization(&req).unwrap_err().field, "full_name");
    }
}
