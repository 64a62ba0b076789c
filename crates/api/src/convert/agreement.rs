//! Wire ↔ domain conversions of the Agreements service.

use std::collections::HashMap;

use chrono::NaiveDate;
use edufed_domain::FieldError;
use edufed_domain::agreement::report::Report;
use edufed_domain::agreement::signing::Signature;
use edufed_domain::agreement::summary::Summary;
use edufed_domain::agreement::{
    Agreement, AgreementKind, CompletionDocument, Content, Duty, HistoryEntry, PartKind, Party,
    PartyRole, Pledge, PledgePeriod, Programme, ProgrammePart, Signatory, State, Students,
};
use edufed_domain::directory::OrgRef;
use edufed_domain::ids::{OrgId, ResourceId};
use edufed_domain::text;
use edufed_proto::v1 as pb;
use edufed_store::Store;

use super::{date, enum_map, org_ref, required, timestamp};
use crate::status::ApiError;

enum_map!(
    kind_in,
    kind_out,
    pb::AgreementKind,
    "AGREEMENT_KIND_",
    AgreementKind
);
enum_map!(
    state_in,
    state_out,
    pb::AgreementState,
    "AGREEMENT_STATE_",
    State
);
enum_map!(role_in, role_out, pb::PartyRole, "PARTY_ROLE_", PartyRole);
enum_map!(
    part_kind_in,
    part_kind_out,
    pb::PartKind,
    "PART_KIND_",
    PartKind
);
enum_map!(
    period_in,
    period_out,
    pb::PledgePeriod,
    "PLEDGE_PERIOD_",
    PledgePeriod
);

pub(crate) fn optional_date(field: &str, raw: &str) -> Result<Option<NaiveDate>, FieldError> {
    if raw.trim().is_empty() {
        Ok(None)
    } else {
        date(field, raw).map(Some)
    }
}

fn grade(field: &str, raw: u32) -> Result<u8, FieldError> {
    u8::try_from(raw)
        .ok()
        .filter(|g| (1..=11).contains(g))
        .ok_or_else(|| FieldError::new(field, "grades run from 1 to 11"))
}

pub(crate) fn revision(raw: u64) -> Option<u64> {
    (raw != 0).then_some(raw)
}

/// An organization given by id or slug, as its id.
pub(crate) async fn org_id(
    store: &Store,
    cache: &mut HashMap<String, OrgId>,
    field: &str,
    raw: &str,
) -> Result<OrgId, ApiError> {
    if let Some(id) = cache.get(raw.trim()) {
        return Ok(id.clone());
    }
    let id = match org_ref(field, raw)? {
        // Whether it is on this node is checked with the rest of the content.
        OrgRef::Id(id) => id,
        slug @ OrgRef::Slug(_) => {
            store
                .get_organization(&slug)
                .await
                .map_err(|_| {
                    FieldError::new(
                        field,
                        format!("no organization {} on this node", text::excerpt(raw)),
                    )
                })?
                .id
        }
    };
    cache.insert(raw.trim().to_owned(), id.clone());
    Ok(id)
}

/// The content as the client sent it, each field checked; organizations
/// given by slug are resolved to their ids.
pub(crate) async fn content(
    store: &Store,
    raw: Option<&pb::AgreementContent>,
) -> Result<Content, ApiError> {
    let raw = required("content", raw)?;
    let mut cache = HashMap::new();
    let mut parties = Vec::with_capacity(raw.parties.len());
    if raw.parties.len() > edufed_domain::agreement::MAX_PARTIES {
        return Err(FieldError::new("content.parties", "at most 50 parties").into());
    }
    for (i, p) in raw.parties.iter().enumerate() {
        let at = |f: &str| format!("content.parties[{i}].{f}");
        let s = p.signatory.clone().unwrap_or_default();
        parties.push(Party {
            org_id: org_id(store, &mut cache, &at("org"), &p.org).await?,
            role: required(&at("role"), role_in(&at("role"), p.role)?)?,
            signatory: Signatory {
                name: s.name,
                position: s.position,
                basis: s.basis,
            },
        });
    }
    let programme = match &raw.programme {
        None => None,
        Some(p) => Some(Programme {
            name: p.name.clone(),
            kind: p.kind.clone(),
            level: p.level.clone(),
            focus: p.focus.clone(),
            parts: p
                .parts
                .iter()
                .enumerate()
                .map(|(i, part)| -> Result<ProgrammePart, FieldError> {
                    let at = |f: &str| format!("content.programme.parts[{i}].{f}");
                    Ok(ProgrammePart {
                        kind: required(&at("kind"), part_kind_in(&at("kind"), part.kind)?)?,
                        name: part.name.clone(),
                        hours: part.hours,
                        grade_min: grade(&at("grade_min"), part.grade_min)?,
                        grade_max: grade(&at("grade_max"), part.grade_max)?,
                    })
                })
                .collect::<Result<_, _>>()?,
        }),
    };
    let students = match &raw.students {
        None => None,
        Some(s) => Some(Students {
            status: s.status.clone(),
            admission: s.admission.clone(),
            grade_min: grade("content.students.grade_min", s.grade_min)?,
            grade_max: grade("content.students.grade_max", s.grade_max)?,
            planned_headcount: s.planned_headcount,
        }),
    };
    for (field, len) in [
        ("content.duties", raw.duties.len()),
        ("content.resources", raw.resources.len()),
        ("content.documents", raw.documents.len()),
    ] {
        if len > edufed_domain::agreement::MAX_ITEMS {
            return Err(FieldError::new(field, "at most 200 entries").into());
        }
    }
    let mut duties = Vec::new();
    for (i, d) in raw.duties.iter().enumerate() {
        duties.push(Duty {
            org_id: org_id(
                store,
                &mut cache,
                &format!("content.duties[{i}].org"),
                &d.org,
            )
            .await?,
            part: d.part.clone(),
            hours: d.hours,
            description: d.description.clone(),
        });
    }
    let mut resources = Vec::new();
    for (i, r) in raw.resources.iter().enumerate() {
        let at = |f: &str| format!("content.resources[{i}].{f}");
        resources.push(Pledge {
            org_id: org_id(store, &mut cache, &at("org"), &r.org).await?,
            resource_id: if r.resource_id.trim().is_empty() {
                None
            } else {
                Some(ResourceId::parse(&at("resource_id"), &r.resource_id)?)
            },
            description: r.description.clone(),
            hours: r.hours,
            period: required(&at("period"), period_in(&at("period"), r.period)?)?,
        });
    }
    let mut documents = Vec::new();
    for (i, d) in raw.documents.iter().enumerate() {
        documents.push(CompletionDocument {
            name: d.name.clone(),
            issuer: org_id(
                store,
                &mut cache,
                &format!("content.documents[{i}].issuer"),
                &d.issuer,
            )
            .await?,
        });
    }
    let content = Content {
        kind: required("content.kind", kind_in("content.kind", raw.kind)?)?,
        number: text::optional_line("content.number", &raw.number, 60)?,
        dated: optional_date("content.dated", &raw.dated)?,
        title: raw.title.clone(),
        valid_from: date("content.valid_from", &raw.valid_from)?,
        valid_to: date("content.valid_to", &raw.valid_to)?,
        parties,
        programme,
        students,
        duties,
        resources,
        documents,
        amendment_procedure: raw.amendment_procedure.clone(),
        termination_procedure: raw.termination_procedure.clone(),
        termination_notice_days: raw.termination_notice_days,
        planned_teachers: (raw.planned_teachers != 0).then_some(raw.planned_teachers),
        planned_students: (raw.planned_students != 0).then_some(raw.planned_students),
        notes: raw.notes.clone(),
    };
    Ok(content.validated().map_err(|e| e.within("content"))?)
}

/// Whether this node vouches for a signature: made with its own key,
/// over the document as stored.
pub(crate) fn verified(agreement: &Agreement, signature: &Signature, own: &[u8; 32]) -> bool {
    let Some(version) = agreement
        .versions
        .iter()
        .find(|v| v.number == signature.version)
    else {
        return false;
    };
    let Some(document) = &version.canonical else {
        return false;
    };
    signature.verify(&agreement.id, document, own).is_ok()
}

/// The agreement on the wire; `own` is this node's public key, which
/// vouches for the signatures made with it, and `home` this node's id.
pub(crate) fn agreement_out(a: &Agreement, own: &[u8; 32], home: &str) -> pb::Agreement {
    let ballot = a.lifecycle.ballot();
    pb::Agreement {
        id: a.id.to_string(),
        initiator_id: a.initiator.to_string(),
        state: state_out(a.lifecycle.state()),
        in_force_version: a.lifecycle.in_force_version().unwrap_or(0),
        awaiting_version: ballot.map_or(0, |b| b.version),
        awaiting_parties: ballot
            .map(|b| {
                b.parties
                    .difference(&b.signed)
                    .map(|o| o.to_string())
                    .collect()
            })
            .unwrap_or_default(),
        ends_at: a.lifecycle.ends_at().map(timestamp),
        time_zone: a.time_zone.name().to_owned(),
        revision: a.revision,
        versions: a
            .versions
            .iter()
            .map(|v| pb::AgreementVersion {
                number: v.number,
                content: Some(content_out(&v.content)),
                content_hash: v.content_hash.clone().unwrap_or_default(),
                canonical_document: v.canonical.clone().unwrap_or_default(),
                proposed_at: v.proposed_at.map(timestamp),
                signatures: v
                    .signatures
                    .iter()
                    .map(|s| pb::AgreementSignature {
                        version: s.version,
                        content_hash: s.content_hash.clone(),
                        org_id: s.org_id.to_string(),
                        person_id: s.person_id.to_string(),
                        signatory: s.signatory.clone(),
                        signed_at: Some(timestamp(s.signed_at)),
                        node_id: s.node_id.clone(),
                        public_key: s.public_key.to_vec(),
                        signature: s.signature.clone(),
                        verified: verified(a, s, own),
                    })
                    .collect(),
                declined: v.declined.as_ref().map(|d| pb::AgreementDecline {
                    org_id: d.org_id.to_string(),
                    person_id: d.person_id.to_string(),
                    comment: d.comment.clone(),
                    at: Some(timestamp(d.at)),
                }),
            })
            .collect(),
        created_at: Some(timestamp(a.created_at)),
        updated_at: Some(timestamp(a.updated_at)),
        home_node: home.to_owned(),
        summary: false,
    }
}

/// A peer's agreement as this node's copy of it summarizes it, with the
/// node it came from.
pub(crate) fn summary_out(s: &Summary, home: &str) -> pb::Agreement {
    let (valid_from, valid_to) = s
        .term()
        .map(|(from, to)| (from.to_string(), to.to_string()))
        .unwrap_or_default();
    let shown = s.in_force_version.unwrap_or(s.latest_version);
    pb::Agreement {
        id: s.id.to_string(),
        initiator_id: s.initiator.to_string(),
        state: state_out(s.state),
        in_force_version: s.in_force_version.unwrap_or(0),
        awaiting_version: s.awaiting_version.unwrap_or(0),
        ends_at: s.ends_at.map(timestamp),
        revision: s.revision,
        versions: vec![pb::AgreementVersion {
            number: shown,
            content: Some(pb::AgreementContent {
                kind: kind_out(s.kind),
                number: s.number.clone().unwrap_or_default(),
                title: s.title.clone(),
                valid_from,
                valid_to,
                parties: s
                    .parties
                    .iter()
                    .map(|org| pb::Party {
                        org: org.to_string(),
                        ..pb::Party::default()
                    })
                    .collect(),
                ..pb::AgreementContent::default()
            }),
            ..pb::AgreementVersion::default()
        }],
        home_node: home.to_owned(),
        summary: true,
        ..pb::Agreement::default()
    }
}

pub(crate) fn required_text<'a>(field: &str, raw: &'a str) -> Result<&'a str, FieldError> {
    if raw.trim().is_empty() {
        Err(FieldError::new(field, "is required"))
    } else {
        Ok(raw)
    }
}

fn content_out(c: &Content) -> pb::AgreementContent {
    pb::AgreementContent {
        kind: kind_out(c.kind),
        number: c.number.clone().unwrap_or_default(),
        dated: c.dated.map(|d| d.to_string()).unwrap_or_default(),
        title: c.title.clone(),
        valid_from: c.valid_from.to_string(),
        valid_to: c.valid_to.to_string(),
        parties: c
            .parties
            .iter()
            .map(|p| pb::Party {
                org: p.org_id.to_string(),
                role: role_out(p.role),
                signatory: Some(pb::Signatory {
                    name: p.signatory.name.clone(),
                    position: p.signatory.position.clone(),
                    basis: p.signatory.basis.clone(),
                }),
            })
            .collect(),
        programme: c.programme.as_ref().map(|p| pb::Programme {
            name: p.name.clone(),
            kind: p.kind.clone(),
            level: p.level.clone(),
            focus: p.focus.clone(),
            parts: p
                .parts
                .iter()
                .map(|part| pb::ProgrammePart {
                    kind: part_kind_out(part.kind),
                    name: part.name.clone(),
                    hours: part.hours,
                    grade_min: u32::from(part.grade_min),
                    grade_max: u32::from(part.grade_max),
                })
                .collect(),
        }),
        students: c.students.as_ref().map(|s| pb::Students {
            status: s.status.clone(),
            admission: s.admission.clone(),
            grade_min: u32::from(s.grade_min),
            grade_max: u32::from(s.grade_max),
            planned_headcount: s.planned_headcount,
        }),
        duties: c
            .duties
            .iter()
            .map(|d| pb::Duty {
                org: d.org_id.to_string(),
                part: d.part.clone(),
                hours: d.hours,
                description: d.description.clone(),
            })
            .collect(),
        resources: c
            .resources
            .iter()
            .map(|r| pb::Pledge {
                org: r.org_id.to_string(),
                resource_id: r
                    .resource_id
                    .as_ref()
                    .map(|id| id.to_string())
                    .unwrap_or_default(),
                description: r.description.clone(),
                hours: r.hours,
                period: period_out(r.period),
            })
            .collect(),
        documents: c
            .documents
            .iter()
            .map(|d| pb::CompletionDocument {
                name: d.name.clone(),
                issuer: d.issuer.to_string(),
            })
            .collect(),
        amendment_procedure: c.amendment_procedure.clone(),
        termination_procedure: c.termination_procedure.clone(),
        termination_notice_days: c.termination_notice_days,
        planned_teachers: c.planned_teachers.unwrap_or(0),
        planned_students: c.planned_students.unwrap_or(0),
        notes: c.notes.clone(),
    }
}

/// What an agreement delivered, on the wire.
pub(crate) fn report_out(
    agreement: &Agreement,
    report: &Report,
    as_of: chrono::DateTime<chrono::Utc>,
) -> pb::AgreementReport {
    let version = agreement.effective().map_or(0, |v| v.number);
    pb::AgreementReport {
        agreement_id: agreement.id.to_string(),
        version,
        parts: report
            .parts
            .iter()
            .map(|p| pb::PartDelivery {
                part: p.part.clone(),
                org_id: p.org_id.to_string(),
                planned_hours: p.planned_hours,
                delivered_hours: p.delivered_hours,
                scheduled_hours: p.scheduled_hours,
            })
            .collect(),
        pledges: report
            .pledges
            .iter()
            .map(|p| pb::PledgeUse {
                org_id: p.org_id.to_string(),
                resource_id: p
                    .resource_id
                    .as_ref()
                    .map(|r| r.to_string())
                    .unwrap_or_default(),
                description: p.description.clone(),
                hours_per_period: p.hours_per_period,
                period: period_out(p.period),
                pledged_hours: p.pledged_hours,
                used_hours: p.used_hours,
                booked_hours: p.booked_hours,
                pending_hours: p.pending_hours,
            })
            .collect(),
        reach: report
            .reach
            .iter()
            .map(|r| pb::CohortReach {
                org_id: r.org_id.to_string(),
                cohorts: r.cohorts,
                headcount: r.headcount,
                attended: r.attended,
            })
            .collect(),
        cohorts: report.cohorts,
        headcount: report.headcount,
        attended: report.attended,
        planned_students: report.planned_students.unwrap_or(0),
        activities_held: report.activities_held,
        occurrences_held: report.occurrences_held,
        occurrences_cancelled: report.occurrences_cancelled,
        bookings_used: report.bookings_used,
        as_of: Some(timestamp(as_of)),
    }
}

/// An agreement's history, on the wire.
pub(crate) fn history_out(events: &[HistoryEntry]) -> pb::AgreementHistory {
    pb::AgreementHistory {
        events: events
            .iter()
            .map(|e| pb::AgreementEvent {
                seq: e.seq,
                action: e.action.clone(),
                version: e.version,
                state: state_out(e.state),
                actor: e.actor.clone(),
                org_id: e.org_id.as_ref().map(|o| o.to_string()).unwrap_or_default(),
                comment: e.comment.clone(),
                at: Some(timestamp(e.at)),
            })
            .collect(),
    }
}
