//! The Privacy service: the register of the node's personal data and a
//! person's erasure on request.

use edufed_domain::ids::PersonId;
use edufed_domain::policy::{Action, Principal, Target, authorize};
use edufed_proto::v1 as pb;
use edufed_proto::v1::privacy_server::Privacy as PrivacyApi;
use tonic::{Request, Response, Status};

use crate::auth::principal;
use crate::context::Context;
use crate::status::ApiError;

/// The `edufed.v1.Privacy` service.
#[derive(Debug, Clone)]
pub struct PrivacyService {
    ctx: Context,
    /// How long names stay on records that are over, in days.
    retention_days: u32,
    /// How long the audit trail keeps entries, in days.
    audit_days: u32,
}

impl PrivacyService {
    /// The service of the node `ctx` describes, with its retentions.
    pub fn new(ctx: Context, retention_days: u32, audit_days: u32) -> Self {
        Self {
            ctx,
            retention_days,
            audit_days,
        }
    }

    async fn get_register(
        &self,
        caller: &Principal,
        _req: pb::GetRegisterRequest,
    ) -> Result<pb::PersonalDataRegister, ApiError> {
        authorize(caller, Action::ViewAllRecords, Target::Node)?;
        let counts = self.ctx.store.personal_data_counts().await?;
        let entries =
            edufed_domain::privacy::register(&counts, self.retention_days, self.audit_days);
        Ok(pb::PersonalDataRegister {
            entries: entries
                .into_iter()
                .map(|e| pb::RegisterEntry {
                    key: e.key.to_owned(),
                    subjects: e.subjects.to_owned(),
                    data: e.data.to_owned(),
                    purpose: e.purpose.to_owned(),
                    basis: e.basis.to_owned(),
                    shared_with: e.shared_with.to_owned(),
                    retention: e.retention,
                    records: e.records,
                })
                .collect(),
        })
    }

    async fn erase_person(
        &self,
        caller: &Principal,
        req: pb::ErasePersonRequest,
    ) -> Result<pb::ErasePersonResponse, ApiError> {
        let id = PersonId::parse("person_id", &req.person_id)?;
        let erased = self.ctx.store.erase_person(&id, caller).await?;
        Ok(pb::ErasePersonResponse {
            activities: erased.activities,
            registrations: erased.registrations,
            memberships: erased.memberships,
            credentials: erased.credentials,
            records: erased.records,
        })
    }
}

/// Each call: the caller, then its inner method's answer.
macro_rules! calls {
    ($($name:ident($request:ty) -> $answer:ty;)+) => {
        #[tonic::async_trait]
        impl PrivacyApi for PrivacyService {
            $(
                async fn $name(&self, request: Request<$request>) -> Result<Response<$answer>, Status> {
                    let caller = principal(&request)?;
                    self.ctx
                        .reply(PrivacyService::$name(self, &caller, request.into_inner()).await)
                        .await
                }
            )+
        }
    };
}

calls! {
    get_register(pb::GetRegisterRequest) -> pb::PersonalDataRegister;
    erase_person(pb::ErasePersonRequest) -> pb::ErasePersonResponse;
}
