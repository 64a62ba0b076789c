//! The Trials service: the network's bank of professional trials. Each
//! call converts its request, resolves the host it names, and lets the
//! store decide under the trial's lock: the host's admins and coordinators
//! for their steps, the methodical centre's for reviews.

use edufed_domain::directory::OrgRef;
use edufed_domain::ids::{OrgId, TrialId};
use edufed_domain::policy::Principal;
use edufed_domain::text;
use edufed_proto::v1 as pb;
use edufed_proto::v1::trials_server::Trials as TrialsApi;
use edufed_store::trials::TrialFilter;
use tonic::{Request, Response, Status};

use crate::auth::principal;
use crate::context::Context;
use crate::convert::calendar::direction_in;
use crate::convert::trials::{decision, programme_in, state_filter, trial_out};
use crate::convert::{expected, org_ref};
use crate::status::ApiError;

type RpcResult<T> = Result<Response<T>, Status>;

/// The `edufed.v1.Trials` service.
#[derive(Debug, Clone)]
pub struct TrialsService {
    ctx: Context,
}

impl TrialsService {
    /// The service of the node `ctx` describes.
    pub fn new(ctx: Context) -> Self {
        Self { ctx }
    }

    /// The organization `raw` names (id or slug), from the field `field`.
    async fn org(&self, field: &str, raw: &str) -> Result<OrgId, ApiError> {
        let reference: OrgRef = org_ref(field, raw)?;
        Ok(self.ctx.store.get_organization(&reference).await?.id)
    }

    async fn create_trial(
        &self,
        caller: &Principal,
        req: pb::CreateTrialRequest,
    ) -> Result<pb::Trial, ApiError> {
        let host = self.org("host", &req.host).await?;
        let programme = programme_in(req.programme.as_ref())?;
        let trial = self
            .ctx
            .store
            .create_trial(&host, programme, caller)
            .await?;
        Ok(trial_out(&trial, None))
    }

    async fn revise_trial(
        &self,
        caller: &Principal,
        req: pb::ReviseTrialRequest,
    ) -> Result<pb::Trial, ApiError> {
        let id = TrialId::parse("id", &req.id)?;
        let programme = programme_in(req.programme.as_ref())?;
        let trial = self
            .ctx
            .store
            .revise_trial(&id, expected(req.expected_version), programme, caller)
            .await?;
        Ok(trial_out(&trial, None))
    }

    async fn submit_trial(
        &self,
        caller: &Principal,
        req: pb::TrialStepRequest,
    ) -> Result<pb::Trial, ApiError> {
        let id = TrialId::parse("id", &req.id)?;
        let trial = self
            .ctx
            .store
            .submit_trial(&id, expected(req.expected_version), caller)
            .await?;
        Ok(trial_out(&trial, None))
    }

    async fn review_trial(
        &self,
        caller: &Principal,
        req: pb::ReviewTrialRequest,
    ) -> Result<pb::Trial, ApiError> {
        let id = TrialId::parse("id", &req.id)?;
        let decision = decision(req.decision)?;
        let trial = self
            .ctx
            .store
            .review_trial(
                &id,
                expected(req.expected_version),
                decision,
                &req.comment,
                caller,
            )
            .await?;
        Ok(trial_out(&trial, None))
    }

    async fn withdraw_trial(
        &self,
        caller: &Principal,
        req: pb::TrialStepRequest,
    ) -> Result<pb::Trial, ApiError> {
        let id = TrialId::parse("id", &req.id)?;
        let trial = self
            .ctx
            .store
            .withdraw_trial(&id, expected(req.expected_version), caller)
            .await?;
        Ok(trial_out(&trial, None))
    }

    async fn get_trial(
        &self,
        caller: &Principal,
        req: pb::GetTrialRequest,
    ) -> Result<pb::Trial, ApiError> {
        let id = TrialId::parse("id", &req.id)?;
        let found = self.ctx.store.get_trial(&id, caller).await?;
        Ok(trial_out(&found.trial, found.home.as_deref()))
    }

    async fn list_trials(
        &self,
        caller: &Principal,
        req: pb::ListTrialsRequest,
    ) -> Result<pb::ListTrialsResponse, ApiError> {
        let host = if req.host.trim().is_empty() {
            None
        } else {
            Some(self.org("host", &req.host).await?)
        };
        let grade = match req.grade {
            0 => None,
            g @ 1..=11 => Some(g as u8),
            _ => return Err(edufed_domain::FieldError::new("grade", "grades are 1 to 11").into()),
        };
        let filter = TrialFilter {
            host,
            direction: direction_in("direction", req.direction)?,
            grade,
            state: state_filter(req.state)?,
            query: text::optional_line("query", &req.query, 200)?.map(|q| text::fold(&q)),
        };
        let found = self.ctx.store.list_trials(&filter, caller).await?;
        Ok(pb::ListTrialsResponse {
            trials: found
                .iter()
                .map(|f| trial_out(&f.trial, f.home.as_deref()))
                .collect(),
        })
    }
}

/// Each call: the caller, then its inner method's answer.
macro_rules! calls {
    ($($name:ident($request:ty) -> $answer:ty;)+) => {
        #[tonic::async_trait]
        impl TrialsApi for TrialsService {
            $(
                async fn $name(&self, request: Request<$request>) -> RpcResult<$answer> {
                    let caller = principal(&request)?;
                    self.ctx
                        .reply(TrialsService::$name(self, &caller, request.into_inner()).await)
                        .await
                }
            )+
        }
    };
}

calls! {
    create_trial(pb::CreateTrialRequest) -> pb::Trial;
    revise_trial(pb::ReviseTrialRequest) -> pb::Trial;
    submit_trial(pb::TrialStepRequest) -> pb::Trial;
    review_trial(pb::ReviewTrialRequest) -> pb::Trial;
    withdraw_trial(pb::TrialStepRequest) -> pb::Trial;
    get_trial(pb::GetTrialRequest) -> pb::Trial;
    list_trials(pb::ListTrialsRequest) -> pb::ListTrialsResponse;
}
