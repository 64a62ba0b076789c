//! The `edufed.v1.Agreements` service: drafting, proposing, signing with the
//! node's key, amending, terminating, finding, history and the delivery
//! report; and the printable rendering the HTTP side serves.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use edufed_domain::FieldError;
use edufed_domain::agreement::signing::Signature;
use edufed_domain::agreement::{
    Agreement, AgreementFilter, AgreementKind, CompletionDocument, Content, Duty, Error, PartKind,
    Party, PartyRole, Pledge, PledgePeriod, Programme, ProgrammePart, REGISTER, Signatory, State,
    Students, html,
};
use edufed_domain::changes::{Actor, EntityKind};
use edufed_domain::directory::OrgRef;
use edufed_domain::ids::{AgreementId, OrgId, ResourceId};
use edufed_domain::page::{PageSize, PageToken};
use edufed_domain::policy::{Action, Principal, Target, authorize};
use edufed_domain::text;
use edufed_federation::NodeIdentity;
use edufed_proto::v1 as pb;
use edufed_proto::v1::agreements_client::AgreementsClient;
use edufed_proto::v1::agreements_server::Agreements as AgreementsApi;
use edufed_store::Store;
use tonic::{Request, Response, Status};

use crate::auth::principal;
use crate::calendar_convert::{enum_map, required};
use crate::convert::{date, org_ref, timestamp};
use crate::forward::Forwarding;
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

type RpcResult<T> = Result<Response<T>, Status>;

/// The `edufed.v1.Agreements` service.
#[derive(Clone)]
pub struct AgreementsService {
    store: Store,
    identity: Arc<NodeIdentity>,
    forwarding: Forwarding,
}

impl std::fmt::Debug for AgreementsService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgreementsService").finish_non_exhaustive()
    }
}

fn optional_date(field: &str, raw: &str) -> Result<Option<NaiveDate>, FieldError> {
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

fn revision(raw: u64) -> Option<u64> {
    (raw != 0).then_some(raw)
}

impl AgreementsService {
    /// A service over `store`, signing with the node's `identity`.
    pub fn new(store: Store, identity: Arc<NodeIdentity>) -> Self {
        Self {
            forwarding: Forwarding::new(store.clone(), None),
            store,
            identity,
        }
    }

    /// The service, sending signatures, declines and reads of agreements
    /// another node owns to that node with `forwarder`.
    pub fn forwarding_with(mut self, forwarder: edufed_federation::Forwarder) -> Self {
        self.forwarding = Forwarding::new(self.store.clone(), Some(forwarder));
        self
    }

    /// The mirrored agreement `raw_id`, if another node owns it.
    async fn mirrored(
        &self,
        raw_id: &str,
    ) -> Result<Option<edufed_store::federation::Mirror>, Status> {
        self.forwarding
            .mirror(EntityKind::Agreement, raw_id.trim())
            .await
    }

    /// Sends a signature or a decline for `party` (an id or slug) to the
    /// agreement's home node.
    async fn ballot_at_home<T, F, Fut>(
        &self,
        home: &str,
        caller: &Principal,
        request: &Request<T>,
        party: &str,
        with_party: impl FnOnce(&mut T, String),
        call: F,
    ) -> RpcResult<pb::Agreement>
    where
        T: Clone,
        F: Fn(tonic::transport::Channel, Request<T>) -> Fut,
        Fut: std::future::Future<Output = Result<Response<pb::Agreement>, Status>>,
    {
        let org = self
            .acting_party(caller, party, Action::SignAgreements)
            .await?;
        let mut message = request.get_ref().clone();
        with_party(&mut message, org.to_string());
        let agreement = self
            .forwarding
            .to_home(home, request, message, caller, &org, call)
            .await?;
        tracing::info!(agreement = %agreement.id, %home, "ballot cast at the agreement's home node");
        Ok(Response::new(agreement))
    }

    async fn sign_agreement_here(
        &self,
        caller: &Principal,
        request: &Request<pb::SignAgreementRequest>,
    ) -> RpcResult<pb::Agreement> {
        let caller = caller.clone();
        let agreement = async {
            let req = request.get_ref();
            let current = self.visible(&caller, &req.agreement_id).await?;
            let org = self
                .acting_party(&caller, &req.org, Action::SignAgreements)
                .await?;
            if req.version == 0 {
                return Err(FieldError::new("version", "is required: the version you read").into());
            }
            let version = current
                .versions
                .iter()
                .find(|v| v.number == req.version)
                .ok_or_else(|| {
                    FieldError::new("version", format!("there is no version {}", req.version))
                })?;
            let hash = version.content_hash.clone().ok_or_else(|| {
                Error::WrongState(format!(
                    "the agreement is {}: version {} has not been proposed",
                    current.lifecycle.state(),
                    req.version
                ))
            })?;
            if !req.content_hash.is_empty() && req.content_hash != hash {
                return Err(Error::Stale(format!(
                    "version {} has content hash {hash}, not the {} you read",
                    req.version, req.content_hash
                ))
                .into());
            }
            let signatory = version
                .content
                .parties
                .iter()
                .find(|p| p.org_id == org)
                .map(|p| p.signatory.name.clone())
                .ok_or_else(|| {
                    Error::WrongState(format!(
                        "organization {org} is not a party to version {}",
                        req.version
                    ))
                })?;
            let public_key = self.identity.public_key().to_bytes();
            let mut signature = Signature {
                version: req.version,
                content_hash: hash,
                org_id: org,
                person_id: caller.person_id.clone(),
                signatory,
                signed_at: self.store.clock().now(),
                node_id: self.identity.node_id(),
                public_key,
                signature: Vec::new(),
            };
            signature.signature = self
                .identity
                .sign(signature.statement(&current.id).as_bytes())
                .to_vec();
            Ok::<_, ApiError>(
                self.store
                    .sign_agreement(
                        &current.id,
                        signature,
                        &Actor::Person(caller.person_id.clone()),
                    )
                    .await?,
            )
        }
        .await?;
        Ok(Response::new(self.agreement_out(&agreement)))
    }

    async fn decline_agreement_here(
        &self,
        caller: &Principal,
        request: &Request<pb::DeclineAgreementRequest>,
    ) -> RpcResult<pb::Agreement> {
        let caller = caller.clone();
        let agreement = async {
            let req = request.get_ref();
            let current = self.visible(&caller, &req.agreement_id).await?;
            let org = self
                .acting_party(&caller, &req.org, Action::SignAgreements)
                .await?;
            if req.version == 0 {
                return Err(FieldError::new("version", "is required: the version you read").into());
            }
            let comment = text::line("comment", &req.comment, 2000)?;
            Ok::<_, ApiError>(
                self.store
                    .decline_agreement(
                        &current.id,
                        req.version,
                        &org,
                        &caller.person_id,
                        &comment,
                        &Actor::Person(caller.person_id.clone()),
                    )
                    .await?,
            )
        }
        .await?;
        Ok(Response::new(self.agreement_out(&agreement)))
    }

    async fn get_agreement_here(
        &self,
        caller: &Principal,
        request: &Request<pb::GetAgreementRequest>,
    ) -> RpcResult<pb::Agreement> {
        let caller = caller.clone();
        let agreement = self
            .visible(&caller, &request.get_ref().agreement_id)
            .await?;
        Ok(Response::new(self.agreement_out(&agreement)))
    }

    /// An organization given by id or slug, as its id.
    async fn org_id(
        &self,
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
                self.store
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

    /// The content as the client sent it, each field checked.
    async fn content_in(&self, raw: Option<&pb::AgreementContent>) -> Result<Content, ApiError> {
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
                org_id: self.org_id(&mut cache, &at("org"), &p.org).await?,
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
                org_id: self
                    .org_id(&mut cache, &format!("content.duties[{i}].org"), &d.org)
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
                org_id: self.org_id(&mut cache, &at("org"), &r.org).await?,
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
                issuer: self
                    .org_id(
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

    /// The agreement, if the caller may see it: members of its parties, or
    /// anyone once it is in the network's register.
    async fn visible(&self, caller: &Principal, raw: &str) -> Result<Agreement, ApiError> {
        let id = AgreementId::parse("agreement_id", raw)?;
        let agreement = self.store.get_agreement(&id).await?;
        if !self.may_see(caller, &agreement) {
            return Err(Error::NotFound(id.to_string()).into());
        }
        Ok(agreement)
    }

    fn may_see(&self, caller: &Principal, agreement: &Agreement) -> bool {
        caller.operator
            || REGISTER.contains(&agreement.lifecycle.state())
            || agreement.all_parties().iter().any(|org| {
                authorize(caller, Action::ViewAgreements, Target::Organization(org)).is_ok()
            })
    }

    /// Whether this node vouches for a signature: made with its own key,
    /// over the document as stored.
    fn verified(&self, agreement: &Agreement, signature: &Signature) -> bool {
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
        let own = self.identity.public_key().to_bytes();
        signature.verify(&agreement.id, document, &own).is_ok()
    }

    fn agreement_out(&self, a: &Agreement) -> pb::Agreement {
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
                            verified: self.verified(a, s),
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
        }
    }

    /// A party of the agreement the caller acts for, with `action`.
    async fn acting_party(
        &self,
        caller: &Principal,
        raw: &str,
        action: Action,
    ) -> Result<OrgId, ApiError> {
        let org = self
            .org_id(&mut HashMap::new(), "org", required_text("org", raw)?)
            .await?;
        authorize(caller, action, Target::Organization(&org))?;
        Ok(org)
    }

    /// The printable HTML of an agreement's latest version (or `version`),
    /// for a caller who may see it.
    pub async fn render(
        &self,
        caller: &Principal,
        raw_id: &str,
        version: Option<u32>,
    ) -> Result<String, ApiError> {
        let agreement = self.visible(caller, raw_id).await?;
        let chosen = match version {
            Some(n) => agreement
                .versions
                .iter()
                .find(|v| v.number == n)
                .ok_or_else(|| FieldError::new("version", format!("there is no version {n}")))?,
            None => agreement
                .latest()
                .ok_or_else(|| Error::NotFound(agreement.id.to_string()))?,
        };
        let mut names = BTreeMap::new();
        for org in agreement.all_parties() {
            if let Ok(found) = self.store.get_organization(&OrgRef::Id(org.clone())).await {
                names.insert(org, found.full_name);
            }
        }
        let verified: Vec<bool> = chosen
            .signatures
            .iter()
            .map(|s| self.verified(&agreement, s))
            .collect();
        Ok(html::render(&agreement, chosen, &names, &verified))
    }
}

fn required_text<'a>(field: &str, raw: &'a str) -> Result<&'a str, FieldError> {
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

#[tonic::async_trait]
impl AgreementsApi for AgreementsService {
    async fn draft_agreement(
        &self,
        request: Request<pb::DraftAgreementRequest>,
    ) -> RpcResult<pb::Agreement> {
        let caller = principal(&request)?;
        let agreement = async {
            let req = request.get_ref();
            let initiator = self
                .org_id(
                    &mut HashMap::new(),
                    "initiator",
                    required_text("initiator", &req.initiator)?,
                )
                .await?;
            authorize(
                &caller,
                Action::ManageAgreements,
                Target::Organization(&initiator),
            )?;
            let content = self.content_in(req.content.as_ref()).await?;
            let new = edufed_store::agreement::NewAgreement { initiator, content };
            Ok::<_, ApiError>(
                self.store
                    .create_agreement(new, &Actor::Person(caller.person_id.clone()))
                    .await?,
            )
        }
        .await?;
        Ok(Response::new(self.agreement_out(&agreement)))
    }

    async fn update_agreement(
        &self,
        request: Request<pb::UpdateAgreementRequest>,
    ) -> RpcResult<pb::Agreement> {
        let caller = principal(&request)?;
        let agreement = async {
            let req = request.get_ref();
            let current = self.visible(&caller, &req.agreement_id).await?;
            authorize(
                &caller,
                Action::ManageAgreements,
                Target::Organization(&current.initiator),
            )?;
            let content = self.content_in(req.content.as_ref()).await?;
            Ok::<_, ApiError>(
                self.store
                    .update_agreement(
                        &current.id,
                        revision(req.expected_revision),
                        content,
                        &Actor::Person(caller.person_id.clone()),
                    )
                    .await?,
            )
        }
        .await?;
        Ok(Response::new(self.agreement_out(&agreement)))
    }

    async fn propose_agreement(
        &self,
        request: Request<pb::ProposeAgreementRequest>,
    ) -> RpcResult<pb::Agreement> {
        let caller = principal(&request)?;
        let agreement = async {
            let req = request.get_ref();
            let current = self.visible(&caller, &req.agreement_id).await?;
            authorize(
                &caller,
                Action::ManageAgreements,
                Target::Organization(&current.initiator),
            )?;
            Ok::<_, ApiError>(
                self.store
                    .propose_agreement(
                        &current.id,
                        revision(req.expected_revision),
                        &Actor::Person(caller.person_id.clone()),
                    )
                    .await?,
            )
        }
        .await?;
        Ok(Response::new(self.agreement_out(&agreement)))
    }

    async fn sign_agreement(
        &self,
        request: Request<pb::SignAgreementRequest>,
    ) -> RpcResult<pb::Agreement> {
        let caller = principal(&request)?;
        if let Some(home) = self.mirrored(&request.get_ref().agreement_id).await? {
            let party = request.get_ref().org.clone();
            return self
                .ballot_at_home(
                    &home.origin,
                    &caller,
                    &request,
                    &party,
                    |m, org| m.org = org,
                    |channel, forwarded| async move {
                        AgreementsClient::new(channel)
                            .sign_agreement(forwarded)
                            .await
                    },
                )
                .await;
        }
        let forwarded = crate::forward::forwarded(&request);
        crate::forward::once(
            &self.store,
            forwarded,
            "SignAgreement",
            request.get_ref(),
            async { self.sign_agreement_here(&caller, &request).await },
        )
        .await
    }

    async fn decline_agreement(
        &self,
        request: Request<pb::DeclineAgreementRequest>,
    ) -> RpcResult<pb::Agreement> {
        let caller = principal(&request)?;
        if let Some(home) = self.mirrored(&request.get_ref().agreement_id).await? {
            let party = request.get_ref().org.clone();
            return self
                .ballot_at_home(
                    &home.origin,
                    &caller,
                    &request,
                    &party,
                    |m, org| m.org = org,
                    |channel, forwarded| async move {
                        AgreementsClient::new(channel)
                            .decline_agreement(forwarded)
                            .await
                    },
                )
                .await;
        }
        let forwarded = crate::forward::forwarded(&request);
        crate::forward::once(
            &self.store,
            forwarded,
            "DeclineAgreement",
            request.get_ref(),
            async { self.decline_agreement_here(&caller, &request).await },
        )
        .await
    }

    async fn amend_agreement(
        &self,
        request: Request<pb::AmendAgreementRequest>,
    ) -> RpcResult<pb::Agreement> {
        let caller = principal(&request)?;
        let agreement = async {
            let req = request.get_ref();
            let current = self.visible(&caller, &req.agreement_id).await?;
            let org = self
                .acting_party(&caller, &req.org, Action::ManageAgreements)
                .await?;
            let content = self.content_in(req.content.as_ref()).await?;
            Ok::<_, ApiError>(
                self.store
                    .amend_agreement(
                        &current.id,
                        revision(req.expected_revision),
                        &org,
                        content,
                        &Actor::Person(caller.person_id.clone()),
                    )
                    .await?,
            )
        }
        .await?;
        Ok(Response::new(self.agreement_out(&agreement)))
    }

    async fn terminate_agreement(
        &self,
        request: Request<pb::TerminateAgreementRequest>,
    ) -> RpcResult<pb::Agreement> {
        let caller = principal(&request)?;
        let agreement = async {
            let req = request.get_ref();
            let current = self.visible(&caller, &req.agreement_id).await?;
            let org = self
                .acting_party(&caller, &req.org, Action::SignAgreements)
                .await?;
            let effective = optional_date("effective_on", &req.effective_on)?;
            let comment = text::optional_line("comment", &req.comment, 2000)?.unwrap_or_default();
            Ok::<_, ApiError>(
                self.store
                    .terminate_agreement(
                        &current.id,
                        &org,
                        effective,
                        &comment,
                        &Actor::Person(caller.person_id.clone()),
                    )
                    .await?,
            )
        }
        .await?;
        Ok(Response::new(self.agreement_out(&agreement)))
    }

    async fn get_agreement(
        &self,
        request: Request<pb::GetAgreementRequest>,
    ) -> RpcResult<pb::Agreement> {
        let caller = principal(&request)?;
        if let Some(home) = self.mirrored(&request.get_ref().agreement_id).await? {
            // Read at home, for the first of the caller's organizations
            // that is a party: the home node shows a party everything.
            let parties: Vec<OrgId> =
                serde_json::from_str::<serde_json::Value>(&home.entry.payload)
                    .ok()
                    .and_then(|p| serde_json::from_value(p.get("parties")?.clone()).ok())
                    .unwrap_or_default();
            let Some(org) = caller
                .memberships
                .iter()
                .map(|(org, _)| org)
                .find(|org| parties.contains(org))
                .cloned()
            else {
                return Err(ApiError::from(Error::NotFound(home.entry.entity_id.clone())).into());
            };
            let message = request.get_ref().clone();
            let agreement = self
                .forwarding
                .to_home(
                    &home.origin,
                    &request,
                    message,
                    &caller,
                    &org,
                    |channel, forwarded| async move {
                        AgreementsClient::new(channel)
                            .get_agreement(forwarded)
                            .await
                    },
                )
                .await?;
            return Ok(Response::new(agreement));
        }
        self.get_agreement_here(&caller, &request).await
    }

    async fn list_agreements(
        &self,
        request: Request<pb::ListAgreementsRequest>,
    ) -> RpcResult<pb::ListAgreementsResponse> {
        let caller = principal(&request)?;
        let (items, next) = async {
            let req = request.get_ref();
            let party = if req.party.trim().is_empty() {
                None
            } else {
                Some(
                    self.org_id(&mut HashMap::new(), "party", &req.party)
                        .await?,
                )
            };
            if req.kinds.len() > 8 || req.states.len() > 8 {
                return Err(FieldError::new("kinds", "at most 8 kinds and 8 states").into());
            }
            let kinds = req
                .kinds
                .iter()
                .map(|k| kind_in("kinds", *k))
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .flatten()
                .collect();
            let states = req
                .states
                .iter()
                .map(|s| state_in("states", *s))
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .flatten()
                .collect();
            if req.expiring_within_days > 3660 {
                return Err(FieldError::new("expiring_within_days", "at most 3660").into());
            }
            let now = self.store.clock().now();
            let filter = AgreementFilter {
                party,
                kinds,
                states,
                ending_before: (req.expiring_within_days > 0)
                    .then(|| now + Duration::days(i64::from(req.expiring_within_days))),
                visible_to: (!caller.operator).then(|| {
                    caller
                        .memberships
                        .iter()
                        .map(|(org, _)| org.clone())
                        .filter(|org| {
                            authorize(&caller, Action::ViewAgreements, Target::Organization(org))
                                .is_ok()
                        })
                        .collect()
                }),
            };
            let size = PageSize::new("page_size", req.page_size, 50, 100)?;
            let after = PageToken::decode("page_token", &req.page_token, 1)?
                .map(|t| AgreementId::parse("page_token", &t.key()[0]))
                .transpose()?;
            let mut items = self
                .store
                .list_agreements(&filter, after.as_ref(), size.get() + 1)
                .await?;
            let next = if items.len() > size.get() as usize {
                items.truncate(size.get() as usize);
                items
                    .last()
                    .map(|a| PageToken::after(vec![a.id.to_string()]).encode())
            } else {
                None
            };
            Ok::<_, ApiError>((items, next))
        }
        .await?;
        Ok(Response::new(pb::ListAgreementsResponse {
            agreements: items.iter().map(|a| self.agreement_out(a)).collect(),
            next_page_token: next.unwrap_or_default(),
        }))
    }

    async fn get_agreement_history(
        &self,
        request: Request<pb::GetAgreementRequest>,
    ) -> RpcResult<pb::AgreementHistory> {
        let caller = principal(&request)?;
        let events = async {
            let agreement = self
                .visible(&caller, &request.get_ref().agreement_id)
                .await?;
            Ok::<_, ApiError>(self.store.agreement_history(&agreement.id).await?)
        }
        .await?;
        Ok(Response::new(pb::AgreementHistory {
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
        }))
    }

    async fn get_agreement_report(
        &self,
        request: Request<pb::GetAgreementRequest>,
    ) -> RpcResult<pb::AgreementReport> {
        let caller = principal(&request)?;
        let (agreement, report) = async {
            let agreement = self
                .visible(&caller, &request.get_ref().agreement_id)
                .await?;
            let report = self.store.agreement_report(&agreement.id).await?;
            Ok::<_, ApiError>((agreement, report))
        }
        .await?;
        let version = agreement.effective().map_or(0, |v| v.number);
        Ok(Response::new(pb::AgreementReport {
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
            as_of: Some(timestamp(self.store.clock().now())),
        }))
    }
}
