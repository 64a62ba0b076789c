//! The `edufed.v1.Agreements` service: drafting, proposing, signing with the
//! node's key, amending, terminating, finding, history and the delivery
//! report. Every
//! transition is decided by the store under the agreement's lock; a ballot
//! on another node's agreement passes [`forward::route`].

use std::collections::HashMap;

use chrono::Duration;
use edufed_domain::FieldError;
use edufed_domain::agreement::decide::{Ballot, Vote};
use edufed_domain::agreement::{Agreement, AgreementFilter};
use edufed_domain::ids::{AgreementId, OrgId};
use edufed_domain::page::{PageSize, PageToken};
use edufed_domain::policy::{Action, Principal, Target, authorize, permitted};
use edufed_domain::text;
use edufed_proto::v1 as pb;
use edufed_proto::v1::agreements_server::Agreements as AgreementsApi;
use edufed_store::agreement::NewAgreement;
use tonic::{Request, Response, Status};

use crate::auth::principal;
use crate::context::Context;
use crate::convert::agreement::{
    agreement_out, content, history_out, kind_in, optional_date, org_id, report_out, required_text,
    revision, state_in, summary_out,
};
use crate::forward;
use crate::status::ApiError;

type RpcResult<T> = Result<Response<T>, Status>;

/// The `edufed.v1.Agreements` service.
#[derive(Debug, Clone)]
pub struct AgreementsService {
    ctx: Context,
}

impl AgreementsService {
    /// The service of the node `ctx` describes; it signs with the node's key.
    pub fn new(ctx: Context) -> Self {
        Self { ctx }
    }

    fn out(&self, agreement: &Agreement) -> pb::Agreement {
        agreement_out(
            agreement,
            &self.ctx.identity.public_key().to_bytes(),
            &self.ctx.identity.node_id(),
        )
    }

    /// An organization the request names in `field`, as its id.
    async fn org(&self, field: &str, raw: &str) -> Result<OrgId, ApiError> {
        org_id(
            &self.ctx.store,
            &mut HashMap::new(),
            field,
            required_text(field, raw)?,
        )
        .await
    }

    /// The agreement, if the caller may see it: members of its parties, or
    /// anyone once it is in the network's register.
    async fn visible(&self, caller: &Principal, raw: &str) -> Result<Agreement, ApiError> {
        let id = AgreementId::parse("agreement_id", raw)?;
        let agreement = self.ctx.store.get_agreement(&id).await?;
        agreement.seen_by(caller)?;
        Ok(agreement)
    }

    async fn draft(
        &self,
        caller: &Principal,
        req: pb::DraftAgreementRequest,
    ) -> Result<pb::Agreement, ApiError> {
        let initiator = self.org("initiator", &req.initiator).await?;
        authorize(
            caller,
            Action::ManageAgreements,
            Target::Organization(&initiator),
        )?;
        let content = content(&self.ctx.store, req.content.as_ref()).await?;
        let agreement = self
            .ctx
            .store
            .create_agreement(NewAgreement { initiator, content }, &caller.actor())
            .await?;
        Ok(self.out(&agreement))
    }

    async fn update(
        &self,
        caller: &Principal,
        req: pb::UpdateAgreementRequest,
    ) -> Result<pb::Agreement, ApiError> {
        let id = AgreementId::parse("agreement_id", &req.agreement_id)?;
        let content = content(&self.ctx.store, req.content.as_ref()).await?;
        let agreement = self
            .ctx
            .store
            .update_agreement(&id, revision(req.expected_revision), content, caller)
            .await?;
        Ok(self.out(&agreement))
    }

    async fn propose(
        &self,
        caller: &Principal,
        req: pb::ProposeAgreementRequest,
    ) -> Result<pb::Agreement, ApiError> {
        let id = AgreementId::parse("agreement_id", &req.agreement_id)?;
        let agreement = self
            .ctx
            .store
            .propose_agreement(&id, revision(req.expected_revision), caller)
            .await?;
        Ok(self.out(&agreement))
    }

    /// A party's signature or refusal, cast under the agreement's lock.
    async fn cast(
        &self,
        caller: &Principal,
        agreement: &str,
        org: &str,
        version: u32,
        vote: Vote,
        key: Option<edufed_domain::federation::Idempotency>,
    ) -> Result<pb::Agreement, ApiError> {
        let agreement = AgreementId::parse("agreement_id", agreement)?;
        let org = self.org("org", org).await?;
        if version == 0 {
            return Err(FieldError::new("version", "is required: the version you read").into());
        }
        let ballot = Ballot {
            agreement,
            org,
            version,
            vote,
        };
        let agreement = self
            .ctx
            .store
            .cast_ballot(ballot, caller, self.ctx.identity.as_ref(), key.as_ref())
            .await?;
        Ok(self.out(&agreement))
    }

    async fn amend(
        &self,
        caller: &Principal,
        req: pb::AmendAgreementRequest,
    ) -> Result<pb::Agreement, ApiError> {
        let id = AgreementId::parse("agreement_id", &req.agreement_id)?;
        let org = self.org("org", &req.org).await?;
        let content = content(&self.ctx.store, req.content.as_ref()).await?;
        let agreement = self
            .ctx
            .store
            .amend_agreement(&id, revision(req.expected_revision), &org, content, caller)
            .await?;
        Ok(self.out(&agreement))
    }

    async fn terminate(
        &self,
        caller: &Principal,
        req: pb::TerminateAgreementRequest,
    ) -> Result<pb::Agreement, ApiError> {
        let id = AgreementId::parse("agreement_id", &req.agreement_id)?;
        let org = self.org("org", &req.org).await?;
        let effective = optional_date("effective_on", &req.effective_on)?;
        let comment = text::optional_line("comment", &req.comment, 2000)?.unwrap_or_default();
        let agreement = self
            .ctx
            .store
            .terminate_agreement(&id, &org, effective, &comment, caller)
            .await?;
        Ok(self.out(&agreement))
    }

    async fn list(
        &self,
        caller: &Principal,
        req: pb::ListAgreementsRequest,
    ) -> Result<pb::ListAgreementsResponse, ApiError> {
        let party = match req.party.trim() {
            "" => None,
            raw => Some(self.org("party", raw).await?),
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
        let now = self.ctx.store.clock().now();
        let filter = AgreementFilter {
            party,
            kinds,
            states,
            ending_before: (req.expiring_within_days > 0)
                .then(|| now + Duration::days(i64::from(req.expiring_within_days))),
            visible_to: permitted(caller, Action::ViewAgreements).organizations(),
        };
        let size = PageSize::new("page_size", req.page_size, 50, 100)?;
        let after = PageToken::decode("page_token", &req.page_token, 1)?
            .map(|t| AgreementId::parse("page_token", &t.key()[0]))
            .transpose()?;
        // This node's own and its copies of peers' ones, in one order by id.
        let own = self
            .ctx
            .store
            .list_agreements(&filter, after.as_ref(), size.get() + 1)
            .await?;
        let mirrored = self
            .ctx
            .store
            .list_mirrored_agreements(&filter, after.as_ref(), size.get() + 1)
            .await?;
        let mut items: Vec<pb::Agreement> = own
            .iter()
            .map(|a| self.out(a))
            .chain(mirrored.iter().map(|(s, home)| summary_out(s, home)))
            .collect();
        items.sort_by(|a, b| a.id.cmp(&b.id));
        let next = if items.len() > size.get() as usize {
            items.truncate(size.get() as usize);
            items
                .last()
                .map(|a| PageToken::after(vec![a.id.clone()]).encode())
        } else {
            None
        };
        Ok(pb::ListAgreementsResponse {
            agreements: items,
            next_page_token: next.unwrap_or_default(),
        })
    }

    async fn history(
        &self,
        caller: &Principal,
        req: pb::GetAgreementHistoryRequest,
    ) -> Result<pb::AgreementHistory, ApiError> {
        let agreement = self.visible(caller, &req.agreement_id).await?;
        let events = self.ctx.store.agreement_history(&agreement.id).await?;
        Ok(history_out(&events))
    }

    async fn report(
        &self,
        caller: &Principal,
        req: pb::GetAgreementRequest,
    ) -> Result<pb::AgreementReport, ApiError> {
        let agreement = self.visible(caller, &req.agreement_id).await?;
        let report = self.ctx.store.agreement_report(&agreement.id).await?;
        Ok(report_out(
            &agreement,
            &report,
            self.ctx.store.clock().now(),
        ))
    }
}

#[tonic::async_trait]
impl AgreementsApi for AgreementsService {
    async fn draft_agreement(
        &self,
        request: Request<pb::DraftAgreementRequest>,
    ) -> RpcResult<pb::Agreement> {
        let caller = principal(&request)?;
        self.ctx
            .reply(self.draft(&caller, request.into_inner()).await)
            .await
    }

    async fn update_agreement(
        &self,
        request: Request<pb::UpdateAgreementRequest>,
    ) -> RpcResult<pb::Agreement> {
        let caller = principal(&request)?;
        self.ctx
            .reply(self.update(&caller, request.into_inner()).await)
            .await
    }

    async fn propose_agreement(
        &self,
        request: Request<pb::ProposeAgreementRequest>,
    ) -> RpcResult<pb::Agreement> {
        let caller = principal(&request)?;
        self.ctx
            .reply(self.propose(&caller, request.into_inner()).await)
            .await
    }

    async fn sign_agreement(
        &self,
        request: Request<pb::SignAgreementRequest>,
    ) -> RpcResult<pb::Agreement> {
        forward::route(&self.ctx, request, async |caller, req, key| {
            let content_hash = Some(req.content_hash).filter(|h| !h.is_empty());
            let vote = Vote::Sign { content_hash };
            self.cast(&caller, &req.agreement_id, &req.org, req.version, vote, key)
                .await
        })
        .await
    }

    async fn decline_agreement(
        &self,
        request: Request<pb::DeclineAgreementRequest>,
    ) -> RpcResult<pb::Agreement> {
        forward::route(&self.ctx, request, async |caller, req, key| {
            let comment = text::line("comment", &req.comment, 2000)?;
            let vote = Vote::Decline { comment };
            self.cast(&caller, &req.agreement_id, &req.org, req.version, vote, key)
                .await
        })
        .await
    }

    async fn amend_agreement(
        &self,
        request: Request<pb::AmendAgreementRequest>,
    ) -> RpcResult<pb::Agreement> {
        let caller = principal(&request)?;
        self.ctx
            .reply(self.amend(&caller, request.into_inner()).await)
            .await
    }

    async fn terminate_agreement(
        &self,
        request: Request<pb::TerminateAgreementRequest>,
    ) -> RpcResult<pb::Agreement> {
        let caller = principal(&request)?;
        self.ctx
            .reply(self.terminate(&caller, request.into_inner()).await)
            .await
    }

    async fn get_agreement(
        &self,
        request: Request<pb::GetAgreementRequest>,
    ) -> RpcResult<pb::Agreement> {
        forward::route(&self.ctx, request, async |caller, req, _| {
            Ok(self.out(&self.visible(&caller, &req.agreement_id).await?))
        })
        .await
    }

    async fn list_agreements(
        &self,
        request: Request<pb::ListAgreementsRequest>,
    ) -> RpcResult<pb::ListAgreementsResponse> {
        let caller = principal(&request)?;
        self.ctx
            .reply(self.list(&caller, request.into_inner()).await)
            .await
    }

    async fn get_agreement_history(
        &self,
        request: Request<pb::GetAgreementHistoryRequest>,
    ) -> RpcResult<pb::AgreementHistory> {
        forward::route(&self.ctx, request, async |caller, req, _| {
            self.history(&caller, req).await
        })
        .await
    }

    async fn get_agreement_report(
        &self,
        request: Request<pb::GetAgreementRequest>,
    ) -> RpcResult<pb::AgreementReport> {
        let caller = principal(&request)?;
        self.ctx
            .reply(self.report(&caller, request.into_inner()).await)
            .await
    }
}
