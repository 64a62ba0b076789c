//! The Mentoring service: programmes, their pairs, assessments and
//! outcomes. Each call converts its request, resolves the organizations it
//! names, and lets the store decide under the record's lock, the policy
//! taking the programme (its owner, partners and coordinator) as target.

use edufed_domain::directory::OrgRef;
use edufed_domain::federation::Idempotency;
use edufed_domain::ids::{GrowthId, OrgId, PairId, PersonId, ProgrammeId};
use edufed_domain::mentoring::Error;
use edufed_domain::policy::{Credential, Principal};
use edufed_proto::v1 as pb;
use edufed_proto::v1::mentoring_server::Mentoring as MentoringApi;
use tonic::{Request, Response, Status};

use crate::auth::principal;
use crate::context::Context;
use crate::convert::growth::{consent_out, growth_out, new_growth};
use crate::convert::mentoring::{
    Orgs, assessment_out, close, details, details_error, mirrored_programme_out, new_assessment,
    new_pair, org_fields, pair_out, participants, programme_out, record_out, shared_pair_out,
    teacher_figures_in, teacher_figures_out,
};
use crate::convert::{date, org_ref};
use crate::forward;
use crate::status::ApiError;

type RpcResult<T> = Result<Response<T>, Status>;

/// A programme's details as the domain refuses them, named from the
/// request's root (`details.title`).
fn within_details(error: Error) -> Error {
    match error {
        Error::Invalid(field) => Error::Invalid(details_error(field)),
        other => other,
    }
}

/// The `edufed.v1.Mentoring` service.
#[derive(Debug, Clone)]
pub struct MentoringService {
    ctx: Context,
}

impl MentoringService {
    /// The service of the node `ctx` describes.
    pub fn new(ctx: Context) -> Self {
        Self { ctx }
    }

    /// The organizations a request names, each by the field it came in:
    /// one this node does not know is refused naming that field.
    async fn resolve(&self, fields: Vec<(String, &str)>) -> Result<Orgs, ApiError> {
        let mut orgs = Orgs::new();
        for (field, raw) in fields {
            if raw.trim().is_empty() || orgs.contains_key(raw) {
                continue;
            }
            let reference = org_ref(&field, raw)?;
            let found = self
                .ctx
                .store
                .get_organization(&reference)
                .await
                .map_err(|_| Error::NotKnown {
                    field: field.clone(),
                    org: raw.to_owned(),
                })?;
            orgs.insert(raw.to_owned(), found.id);
        }
        Ok(orgs)
    }

    async fn owner(&self, raw: &str) -> Result<OrgId, ApiError> {
        self.owner_named("owner", raw).await
    }

    /// The organization `raw` names (id or slug), from the field `field`.
    async fn owner_named(&self, field: &str, raw: &str) -> Result<OrgId, ApiError> {
        let reference: OrgRef = org_ref(field, raw)?;
        Ok(self.ctx.store.get_organization(&reference).await?.id)
    }

    async fn create_programme(
        &self,
        caller: &Principal,
        req: pb::CreateProgrammeRequest,
    ) -> Result<pb::MentoringProgramme, ApiError> {
        let owner = self.owner(&req.owner).await?;
        let orgs = self
            .resolve(org_fields(req.details.as_ref(), Vec::new())?)
            .await?;
        let details = details("details", req.details.as_ref(), &orgs)?;
        let programme = self
            .ctx
            .store
            .create_programme(&owner, details, caller)
            .await
            .map_err(within_details)?;
        Ok(programme_out(&programme))
    }

    async fn update_programme(
        &self,
        caller: &Principal,
        req: pb::UpdateProgrammeRequest,
    ) -> Result<pb::MentoringProgramme, ApiError> {
        let id = ProgrammeId::parse("id", &req.id)?;
        let orgs = self
            .resolve(org_fields(req.details.as_ref(), Vec::new())?)
            .await?;
        let details = details("details", req.details.as_ref(), &orgs)?;
        let expected = (req.expected_version != 0).then_some(req.expected_version);
        let programme = self
            .ctx
            .store
            .update_programme(&id, expected, details, caller)
            .await
            .map_err(within_details)?;
        Ok(programme_out(&programme))
    }

    async fn list_programmes(
        &self,
        caller: &Principal,
        req: pb::ListProgrammesRequest,
    ) -> Result<pb::ListProgrammesResponse, ApiError> {
        let org = if req.organization.trim().is_empty() {
            None
        } else {
            let reference = org_ref("organization", &req.organization)?;
            Some(self.ctx.store.get_organization(&reference).await?.id)
        };
        let store = &self.ctx.store;
        let mut programmes: Vec<pb::MentoringProgramme> = store
            .list_programmes(caller, org.as_ref())
            .await?
            .iter()
            .map(programme_out)
            .collect();
        programmes.extend(
            store
                .mirrored_programmes(caller)
                .await?
                .iter()
                .filter(|m| org.as_ref().is_none_or(|o| m.programme.includes(o)))
                .map(mirrored_programme_out),
        );
        programmes.sort_by(|a, b| {
            let title = |p: &pb::MentoringProgramme| {
                p.details
                    .as_ref()
                    .map(|d| d.title.clone())
                    .unwrap_or_default()
            };
            title(a).cmp(&title(b)).then(a.id.cmp(&b.id))
        });
        Ok(pb::ListProgrammesResponse { programmes })
    }

    async fn add_pair(
        &self,
        caller: &Principal,
        req: pb::AddPairRequest,
    ) -> Result<pb::MentoringPair, ApiError> {
        let programme = ProgrammeId::parse("programme_id", &req.programme_id)?;
        let orgs = self.resolve(org_fields(None, participants(&req))?).await?;
        let pair = new_pair(&req, &orgs)?;
        let pair = self.ctx.store.add_pair(&programme, pair, caller).await?;
        Ok(pair_out(&pair))
    }

    async fn get_programme(
        &self,
        caller: &Principal,
        req: pb::GetProgrammeRequest,
    ) -> Result<pb::MentoringProgramme, ApiError> {
        let id = ProgrammeId::parse("id", &req.id)?;
        match self.ctx.store.get_programme(&id, caller).await {
            Err(Error::ProgrammeNotFound(_)) => {
                match self.ctx.store.mirrored_programme(&id, caller).await? {
                    Some(mirrored) => Ok(mirrored_programme_out(&mirrored)),
                    None => Err(Error::ProgrammeNotFound(id.to_string()).into()),
                }
            }
            found => Ok(programme_out(&found?)),
        }
    }

    async fn list_pairs(
        &self,
        caller: &Principal,
        req: pb::ListPairsRequest,
    ) -> Result<pb::ListPairsResponse, ApiError> {
        let id = ProgrammeId::parse("programme_id", &req.programme_id)?;
        let store = &self.ctx.store;
        match store.list_pairs(&id, caller).await {
            // Another node keeps it: its pairs as it shares them.
            Err(Error::ProgrammeNotFound(_)) => {
                let mirrored = store
                    .mirrored_programme(&id, caller)
                    .await?
                    .ok_or_else(|| Error::ProgrammeNotFound(id.to_string()))?;
                let pairs = store.mirrored_pairs(&mirrored, caller).await?;
                Ok(pb::ListPairsResponse {
                    pairs: pairs
                        .iter()
                        .map(|p| shared_pair_out(p, &mirrored.origin))
                        .collect(),
                })
            }
            pairs => Ok(pb::ListPairsResponse {
                pairs: pairs?.iter().map(pair_out).collect(),
            }),
        }
    }

    async fn get_pair(
        &self,
        caller: &Principal,
        req: pb::GetPairRequest,
        _reads: Option<&Idempotency>,
    ) -> Result<pb::MentoringPairRecord, ApiError> {
        let id = PairId::parse("id", &req.id)?;
        let mut record = record_out(&self.ctx.store.get_pair(&id, caller).await?);
        if let Some(pair) = record.pair.as_mut() {
            for_peer(caller, pair);
        }
        Ok(record)
    }

    async fn start_pair(
        &self,
        caller: &Principal,
        req: pb::StartPairRequest,
        key: Option<&Idempotency>,
    ) -> Result<pb::MentoringPair, ApiError> {
        let id = PairId::parse("id", &req.id)?;
        let on = date("on", &req.on)?;
        let expected = (req.expected_version != 0).then_some(req.expected_version);
        let pair = self
            .ctx
            .store
            .start_pair(&id, expected, on, caller, key)
            .await?;
        let mut answer = pair_out(&pair);
        for_peer(caller, &mut answer);
        Ok(answer)
    }

    async fn close_pair(
        &self,
        caller: &Principal,
        req: pb::ClosePairRequest,
        key: Option<&Idempotency>,
    ) -> Result<pb::MentoringPair, ApiError> {
        let id = PairId::parse("id", &req.id)?;
        let close = close(&req)?;
        let expected = (req.expected_version != 0).then_some(req.expected_version);
        let pair = self
            .ctx
            .store
            .close_pair(&id, expected, close, caller, key)
            .await?;
        let mut answer = pair_out(&pair);
        for_peer(caller, &mut answer);
        Ok(answer)
    }

    async fn set_teacher_figures(
        &self,
        caller: &Principal,
        req: pb::TeacherFigures,
    ) -> Result<pb::TeacherFigures, ApiError> {
        let org = self.owner_named("organization", &req.organization).await?;
        let figures = teacher_figures_in(org, &req)?;
        let stored = self.ctx.store.set_teacher_figures(figures, caller).await?;
        Ok(teacher_figures_out(&stored))
    }

    async fn list_teacher_figures(
        &self,
        _caller: &Principal,
        req: pb::ListTeacherFiguresRequest,
    ) -> Result<pb::ListTeacherFiguresResponse, ApiError> {
        let org = if req.organization.trim().is_empty() {
            None
        } else {
            Some(self.owner_named("organization", &req.organization).await?)
        };
        let figures = self.ctx.store.list_teacher_figures(org.as_ref()).await?;
        Ok(pb::ListTeacherFiguresResponse {
            figures: figures.iter().map(teacher_figures_out).collect(),
        })
    }

    async fn set_growth_consent(
        &self,
        caller: &Principal,
        req: pb::SetGrowthConsentRequest,
    ) -> Result<pb::GrowthConsent, ApiError> {
        let org = self.owner_named("organization", &req.organization).await?;
        let consent = self
            .ctx
            .store
            .set_growth_consent(&org, req.given, caller)
            .await?;
        Ok(match consent {
            Some(consent) => consent_out(&consent),
            None => pb::GrowthConsent {
                organization_id: org.to_string(),
                person_id: caller.person_id.to_string(),
                given_at: None,
            },
        })
    }

    async fn record_growth(
        &self,
        caller: &Principal,
        req: pb::RecordGrowthRequest,
    ) -> Result<pb::GrowthRecord, ApiError> {
        let org = self.owner_named("organization", &req.organization).await?;
        let person = if req.person_id.trim().is_empty() {
            caller.person_id.clone()
        } else {
            PersonId::parse("person_id", &req.person_id)?
        };
        let new = new_growth(org, person, &req)?;
        let record = self.ctx.store.record_growth(new, caller).await?;
        Ok(growth_out(&record))
    }

    async fn delete_growth(
        &self,
        caller: &Principal,
        req: pb::DeleteGrowthRequest,
    ) -> Result<pb::DeleteGrowthResponse, ApiError> {
        let id = GrowthId::parse("id", &req.id)?;
        self.ctx.store.delete_growth(&id, caller).await?;
        Ok(pb::DeleteGrowthResponse {})
    }

    async fn list_growth(
        &self,
        caller: &Principal,
        req: pb::ListGrowthRequest,
    ) -> Result<pb::ListGrowthResponse, ApiError> {
        let org = self.owner_named("organization", &req.organization).await?;
        let person = if req.person_id.trim().is_empty() {
            None
        } else {
            Some(PersonId::parse("person_id", &req.person_id)?)
        };
        let (records, consents) = self
            .ctx
            .store
            .list_growth(&org, person.as_ref(), caller)
            .await?;
        Ok(pb::ListGrowthResponse {
            records: records.iter().map(growth_out).collect(),
            consents: consents.iter().map(consent_out).collect(),
        })
    }

    async fn assess_pair(
        &self,
        caller: &Principal,
        req: pb::AssessPairRequest,
    ) -> Result<pb::MentoringAssessment, ApiError> {
        let id = PairId::parse("pair_id", &req.pair_id)?;
        let assessment = new_assessment(&req)?;
        let assessment = self.ctx.store.assess_pair(&id, assessment, caller).await?;
        Ok(assessment_out(&assessment))
    }
}

/// A pair as answered to a peer acting for one of its people: a pupil's
/// code never leaves the node of the pupil's school.
fn for_peer(caller: &Principal, pair: &mut pb::MentoringPair) {
    if !matches!(caller.credential, Credential::Peer(_)) {
        return;
    }
    for person in pair.mentor.iter_mut().chain(pair.mentees.iter_mut()) {
        person.code.clear();
    }
}

/// Each call: the caller, then its inner method's answer; then the calls
/// about a pair, which another node forwards to the pair's home.
macro_rules! calls {
    ($($name:ident($request:ty) -> $answer:ty;)+ @routed { $($routed:ident($routed_request:ty) -> $routed_answer:ty;)+ }) => {
        #[tonic::async_trait]
        impl MentoringApi for MentoringService {
            $(
                async fn $name(&self, request: Request<$request>) -> RpcResult<$answer> {
                    let caller = principal(&request)?;
                    self.ctx
                        .reply(MentoringService::$name(self, &caller, request.into_inner()).await)
                        .await
                }
            )+
            $(
                async fn $routed(
                    &self,
                    request: Request<$routed_request>,
                ) -> RpcResult<$routed_answer> {
                    forward::route(&self.ctx, request, async |caller, req, key| {
                        MentoringService::$routed(self, &caller, req, key.as_ref()).await
                    })
                    .await
                }
            )+
        }
    };
}

calls! {
    create_programme(pb::CreateProgrammeRequest) -> pb::MentoringProgramme;
    update_programme(pb::UpdateProgrammeRequest) -> pb::MentoringProgramme;
    get_programme(pb::GetProgrammeRequest) -> pb::MentoringProgramme;
    list_programmes(pb::ListProgrammesRequest) -> pb::ListProgrammesResponse;
    add_pair(pb::AddPairRequest) -> pb::MentoringPair;
    list_pairs(pb::ListPairsRequest) -> pb::ListPairsResponse;
    assess_pair(pb::AssessPairRequest) -> pb::MentoringAssessment;
    set_teacher_figures(pb::TeacherFigures) -> pb::TeacherFigures;
    list_teacher_figures(pb::ListTeacherFiguresRequest) -> pb::ListTeacherFiguresResponse;
    set_growth_consent(pb::SetGrowthConsentRequest) -> pb::GrowthConsent;
    record_growth(pb::RecordGrowthRequest) -> pb::GrowthRecord;
    delete_growth(pb::DeleteGrowthRequest) -> pb::DeleteGrowthResponse;
    list_growth(pb::ListGrowthRequest) -> pb::ListGrowthResponse;
    @routed {
        get_pair(pb::GetPairRequest) -> pb::MentoringPairRecord;
        start_pair(pb::StartPairRequest) -> pb::MentoringPair;
        close_pair(pb::ClosePairRequest) -> pb::MentoringPair;
    }
}
