//! One version of an agreement as people read it: its Article 15 sections
//! (273-FZ), the parties with their signatories and signatures. The
//! console's page and the printable document show the same.

use chrono_tz::Tz;
use edufed_i18n::ru;
use edufed_proto::v1 as pb;

use super::{Orgs, date, term};
use crate::page::t;
use crate::view::{instant, named};

pub(crate) struct PartRow {
    pub(crate) kind: String,
    pub(crate) name: String,
    pub(crate) hours: u32,
    pub(crate) grades: String,
}

pub(crate) struct Programme {
    pub(crate) name: String,
    pub(crate) kind: String,
    pub(crate) level: String,
    pub(crate) focus: String,
    pub(crate) parts: Vec<PartRow>,
}

pub(crate) struct Students {
    pub(crate) status: String,
    pub(crate) admission: String,
    pub(crate) grades: String,
    pub(crate) planned: u32,
}

pub(crate) struct DutyRow {
    pub(crate) org: String,
    pub(crate) part: String,
    pub(crate) hours: u32,
    pub(crate) description: String,
}

pub(crate) struct PledgeRow {
    pub(crate) org: String,
    pub(crate) description: String,
    pub(crate) resource: String,
    pub(crate) hours: u32,
    pub(crate) period: String,
}

/// A party's signature of the version shown.
pub(crate) struct Signed {
    pub(crate) signatory: String,
    pub(crate) at: String,
    pub(crate) node: String,
    pub(crate) verified: bool,
}

pub(crate) struct PartyRow {
    pub(crate) org: String,
    pub(crate) role: String,
    pub(crate) name: String,
    pub(crate) position: String,
    pub(crate) basis: String,
    pub(crate) signed: Option<Signed>,
    /// Its signature is awaited for this version.
    pub(crate) awaited: bool,
}

/// A decline that ended the version.
pub(crate) struct Declined {
    pub(crate) org: String,
    pub(crate) comment: String,
    pub(crate) at: String,
}

/// A version's content, ready to show.
pub(crate) struct Document {
    pub(crate) title: String,
    /// «№12-сф от 28 августа 2026».
    pub(crate) number: String,
    pub(crate) kind: String,
    pub(crate) term: String,
    pub(crate) version: u32,
    pub(crate) content_hash: String,
    pub(crate) proposed_at: String,
    pub(crate) parties: Vec<PartyRow>,
    pub(crate) programme: Option<Programme>,
    pub(crate) students: Option<Students>,
    pub(crate) duties: Vec<DutyRow>,
    pub(crate) pledges: Vec<PledgeRow>,
    pub(crate) documents: Vec<(String, String)>,
    pub(crate) amendment: String,
    pub(crate) termination: String,
    pub(crate) notice: String,
    pub(crate) planned_teachers: u32,
    pub(crate) planned_students: u32,
    pub(crate) notes: String,
    pub(crate) declined: Option<Declined>,
    /// What an empty section says: «не указано» for network-form delivery,
    /// «не предусмотрено» otherwise.
    pub(crate) missing: String,
}

/// How organizations are named: short on pages, full in the document.
#[derive(Clone, Copy)]
pub(crate) enum Naming {
    Short,
    Full,
}

fn grades(min: u32, max: u32) -> String {
    ru().grades(min, max)
}

impl Document {
    /// `version` of `a`, times in `zone` (named unless the reader's is the
    /// same), organizations named by `naming`.
    pub(crate) fn of(
        a: &pb::Agreement,
        version: &pb::AgreementVersion,
        orgs: &Orgs,
        naming: Naming,
        zone: Tz,
        viewer: Option<Tz>,
    ) -> Self {
        let name = |id: &str| match naming {
            Naming::Short => orgs.short(id),
            Naming::Full => orgs.full(id),
        };
        let when = |ts: Option<&prost_types::Timestamp>| {
            instant(ts)
                .map(|at| ru().instant(at, zone, viewer))
                .unwrap_or_default()
        };
        let c = version.content.clone().unwrap_or_default();
        let mut number = c.number.clone();
        if !c.dated.is_empty() {
            let dated = ru().text_with(
                "agreement-dated",
                &[("date", date(&c.dated).as_str().into())],
            );
            number = format!("{number} {dated}").trim().to_owned();
        }
        let awaiting = a.awaiting_version == version.number;
        let parties = c
            .parties
            .iter()
            .map(|p| {
                let s = p.signatory.clone().unwrap_or_default();
                let signed = version
                    .signatures
                    .iter()
                    .find(|sig| sig.org_id == p.org)
                    .map(|sig| Signed {
                        signatory: sig.signatory.clone(),
                        at: when(sig.signed_at.as_ref()),
                        node: sig.node_id.chars().take(16).collect(),
                        verified: sig.verified,
                    });
                PartyRow {
                    org: name(&p.org),
                    role: named::<pb::PartyRole>(p.role),
                    name: s.name,
                    position: s.position,
                    basis: s.basis,
                    awaited: awaiting && signed.is_none() && a.awaiting_parties.contains(&p.org),
                    signed,
                }
            })
            .collect();
        let network_form = c.kind == pb::AgreementKind::NetworkForm as i32;
        Self {
            title: c.title.clone(),
            number,
            kind: named::<pb::AgreementKind>(c.kind),
            term: term(&c),
            version: version.number,
            content_hash: version.content_hash.clone(),
            proposed_at: when(version.proposed_at.as_ref()),
            parties,
            programme: c.programme.as_ref().map(|p| Programme {
                name: p.name.clone(),
                kind: p.kind.clone(),
                level: p.level.clone(),
                focus: p.focus.clone(),
                parts: p
                    .parts
                    .iter()
                    .map(|part| PartRow {
                        kind: named::<pb::PartKind>(part.kind),
                        name: part.name.clone(),
                        hours: part.hours,
                        grades: grades(part.grade_min, part.grade_max),
                    })
                    .collect(),
            }),
            students: c.students.as_ref().map(|s| Students {
                status: s.status.clone(),
                admission: s.admission.clone(),
                grades: grades(s.grade_min, s.grade_max),
                planned: s.planned_headcount,
            }),
            duties: c
                .duties
                .iter()
                .map(|d| DutyRow {
                    org: name(&d.org),
                    part: d.part.clone(),
                    hours: d.hours,
                    description: d.description.clone(),
                })
                .collect(),
            pledges: c
                .resources
                .iter()
                .map(|r| PledgeRow {
                    org: name(&r.org),
                    description: r.description.clone(),
                    resource: r.resource_id.clone(),
                    hours: r.hours,
                    period: named::<pb::PledgePeriod>(r.period),
                })
                .collect(),
            documents: c
                .documents
                .iter()
                .map(|d| (d.name.clone(), name(&d.issuer)))
                .collect(),
            amendment: c.amendment_procedure.clone(),
            termination: c.termination_procedure.clone(),
            notice: ru().text_with(
                "agreement-notice-days",
                &[("count", c.termination_notice_days.into())],
            ),
            planned_teachers: c.planned_teachers,
            planned_students: c.planned_students,
            notes: c.notes.clone(),
            declined: version.declined.as_ref().map(|d| Declined {
                org: name(&d.org_id),
                comment: d.comment.clone(),
                at: when(d.at.as_ref()),
            }),
            missing: if network_form {
                t("agreement-not-stated")
            } else {
                t("agreement-not-provided")
            },
        }
    }
}
