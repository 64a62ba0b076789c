//! The Audit service: the trail of who wrote which record, read by the
//! admins of the records' organizations and by the operator.

use edufed_domain::FieldError;
use edufed_domain::audit::{AuditEntry, AuditQuery};
use edufed_domain::ids::PersonId;
use edufed_domain::page::{PageSize, PageToken};
use edufed_domain::policy::{Action, Principal, Target, authorize, permitted};
use edufed_proto::v1 as pb;
use edufed_proto::v1::audit_server::Audit as AuditApi;
use tonic::{Request, Response, Status};

use crate::auth::principal;
use crate::context::Context;
use crate::convert::{instant, org_ref, timestamp};
use crate::status::ApiError;

/// The longest a record id or kind in a query may be.
const MAX_KEY: usize = 200;

/// The `edufed.v1.Audit` service.
#[derive(Debug, Clone)]
pub struct AuditService {
    ctx: Context,
}

impl AuditService {
    /// The service of the node `ctx` describes.
    pub fn new(ctx: Context) -> Self {
        Self { ctx }
    }

    async fn list_audit_entries(
        &self,
        caller: &Principal,
        req: pb::ListAuditEntriesRequest,
    ) -> Result<pb::ListAuditEntriesResponse, ApiError> {
        let size = PageSize::new("page_size", req.page_size, 100, 1000)?;
        let after = PageToken::decode("page_token", &req.page_token, 2)?;
        let org = if req.organization.trim().is_empty() {
            None
        } else {
            let org = self
                .ctx
                .store
                .get_organization(&org_ref("organization", &req.organization)?)
                .await?;
            authorize(
                caller,
                Action::ReadAuditTrail,
                Target::Organization(&org.id),
            )?;
            Some(org.id)
        };
        let scope = permitted(caller, Action::ReadAuditTrail).organizations();
        if scope.as_ref().is_some_and(Vec::is_empty) {
            // Say why, rather than answer an empty trail.
            authorize(caller, Action::ReadAuditTrail, Target::Node)?;
        }
        let key = |field: &str, raw: &str| -> Result<Option<String>, FieldError> {
            let raw = raw.trim();
            if raw.chars().count() > MAX_KEY {
                return Err(FieldError::new(
                    field,
                    format!("is longer than {MAX_KEY} characters"),
                ));
            }
            Ok((!raw.is_empty()).then(|| raw.to_owned()))
        };
        let actor = if req.person_id.trim().is_empty() {
            None
        } else {
            Some(PersonId::parse("person_id", &req.person_id)?.to_string())
        };
        let since = instant("since", req.since.as_ref())?;
        let until = instant("until", req.until.as_ref())?;
        if let (Some(since), Some(until)) = (since, until)
            && until <= since
        {
            return Err(FieldError::new("until", "must be after since").into());
        }
        let query = AuditQuery {
            scope,
            org,
            kind: key("record_kind", &req.record_kind)?,
            record_id: key("record_id", &req.record_id)?,
            actor,
            since,
            until,
        };
        let page = self
            .ctx
            .store
            .list_audit(&query, size, after.as_ref())
            .await?;
        Ok(pb::ListAuditEntriesResponse {
            entries: page.items.iter().map(entry_out).collect(),
            next_page_token: page.next.map(|t| t.encode()).unwrap_or_default(),
        })
    }
}

fn entry_out(entry: &AuditEntry) -> pb::AuditEntry {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    pb::AuditEntry {
        id: entry.id.clone(),
        at: Some(timestamp(entry.at)),
        method: entry.method.clone(),
        record_kind: entry.kind.clone(),
        record_id: entry.record_id.clone(),
        version: entry.version,
        operation: entry.operation.clone(),
        organization_id: entry
            .org_id
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        also_organization_id: entry
            .also_org_id
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        actor: entry.actor.clone(),
        actor_name: text(&entry.actor_name),
        credential: text(&entry.credential),
        via_node: text(&entry.via_node),
        forwarded_to: text(&entry.forwarded_to),
        address: text(&entry.address),
    }
}

#[tonic::async_trait]
impl AuditApi for AuditService {
    async fn list_audit_entries(
        &self,
        request: Request<pb::ListAuditEntriesRequest>,
    ) -> Result<Response<pb::ListAuditEntriesResponse>, Status> {
        let caller = principal(&request)?;
        self.ctx
            .reply(AuditService::list_audit_entries(self, &caller, request.into_inner()).await)
            .await
    }
}
