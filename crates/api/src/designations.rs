//! The Designations service: organizations' standing in the network,
//! stated by their admins and read by anyone signed in.

use edufed_domain::ids::{DesignationId, OrgId};
use edufed_domain::policy::Principal;
use edufed_proto::v1 as pb;
use edufed_proto::v1::designations_server::Designations as DesignationsApi;
use tonic::{Request, Response, Status};

use crate::auth::principal;
use crate::context::Context;
use crate::convert::designations::{day_in, designation_out, details_in, query_in};
use crate::convert::{expected, org_ref};
use crate::status::ApiError;

type RpcResult<T> = Result<Response<T>, Status>;

/// The `edufed.v1.Designations` service.
#[derive(Debug, Clone)]
pub struct DesignationsService {
    ctx: Context,
}

impl DesignationsService {
    /// The service of the node `ctx` describes.
    pub fn new(ctx: Context) -> Self {
        Self { ctx }
    }

    async fn org(&self, field: &str, raw: &str) -> Result<OrgId, ApiError> {
        Ok(self
            .ctx
            .store
            .get_organization(&org_ref(field, raw)?)
            .await?
            .id)
    }

    async fn add_designation(
        &self,
        caller: &Principal,
        req: pb::AddDesignationRequest,
    ) -> Result<pb::Designation, ApiError> {
        let org = self.org("organization", &req.organization).await?;
        let details = details_in(req.details.as_ref())?;
        let d = self
            .ctx
            .store
            .add_designation(&org, details, caller)
            .await?;
        Ok(designation_out(&d, None))
    }

    async fn change_designation(
        &self,
        caller: &Principal,
        req: pb::ChangeDesignationRequest,
    ) -> Result<pb::Designation, ApiError> {
        let id = DesignationId::parse("id", &req.id)?;
        let details = details_in(req.details.as_ref())?;
        let d = self
            .ctx
            .store
            .change_designation(&id, expected(req.expected_version), details, caller)
            .await?;
        Ok(designation_out(&d, None))
    }

    async fn remove_designation(
        &self,
        caller: &Principal,
        req: pb::RemoveDesignationRequest,
    ) -> Result<pb::Designation, ApiError> {
        let id = DesignationId::parse("id", &req.id)?;
        let d = self
            .ctx
            .store
            .remove_designation(&id, expected(req.expected_version), caller)
            .await?;
        Ok(designation_out(&d, None))
    }

    async fn list_designations(
        &self,
        _caller: &Principal,
        req: pb::ListDesignationsRequest,
    ) -> Result<pb::ListDesignationsResponse, ApiError> {
        let org = if req.organization.trim().is_empty() {
            None
        } else {
            Some(self.org("organization", &req.organization).await?)
        };
        let on = day_in("on", &req.on)?;
        // A day without a kind keeps any kind standing then (below).
        let query = query_in("kind", req.kind, "field", &req.field, on)?;
        let found = self
            .ctx
            .store
            .list_designations(org.as_ref(), query.as_ref())
            .await?;
        Ok(pb::ListDesignationsResponse {
            designations: found
                .iter()
                .filter(|f| on.is_none_or(|day| f.designation.in_force(day)))
                .map(|f| designation_out(&f.designation, f.home.as_deref()))
                .collect(),
        })
    }
}

/// Each call: the caller, then its inner method's answer.
macro_rules! calls {
    ($($name:ident($request:ty) -> $answer:ty;)+) => {
        #[tonic::async_trait]
        impl DesignationsApi for DesignationsService {
            $(
                async fn $name(&self, request: Request<$request>) -> RpcResult<$answer> {
                    let caller = principal(&request)?;
                    self.ctx
                        .reply(DesignationsService::$name(self, &caller, request.into_inner()).await)
                        .await
                }
            )+
        }
    };
}

calls! {
    add_designation(pb::AddDesignationRequest) -> pb::Designation;
    change_designation(pb::ChangeDesignationRequest) -> pb::Designation;
    remove_designation(pb::RemoveDesignationRequest) -> pb::Designation;
    list_designations(pb::ListDesignationsRequest) -> pb::ListDesignationsResponse;
}
