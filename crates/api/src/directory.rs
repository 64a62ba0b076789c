//! The Directory service.

use edufed_domain::FieldError;
use edufed_domain::directory::{MemberRef, NewToken, OrgRef, OrganizationFilter, TokenSecret};
use edufed_domain::ids::{PersonId, SessionId, TokenId};
use edufed_domain::page::{PageSize, PageToken};
use edufed_domain::policy::{Action, Credential, Principal, Target, authorize};
use edufed_domain::session::{EndReason, NewSignInLink};
use edufed_domain::text;
use edufed_proto::v1 as pb;
use edufed_proto::v1::directory_server::Directory;
use edufed_store::Store;
use tonic::{Request, Response, Status};

use crate::auth::principal;
use crate::context::Context;
use crate::convert::directory::{
    new_organization, new_person, org_kind, organization_patch, role, session as convert_session,
    ttl,
};
use crate::convert::{ToProto as _, org_ref, timestamp};
use crate::status::ApiError;

/// The `edufed.v1.Directory` service.
#[derive(Debug, Clone)]
pub struct DirectoryService {
    pub(crate) ctx: Context,
    pub(crate) store: Store,
    node_id: String,
}

impl DirectoryService {
    /// The service of the node `ctx` describes.
    pub fn new(ctx: Context) -> Self {
        Self {
            node_id: ctx.identity.node_id(),
            store: ctx.store.clone(),
            ctx,
        }
    }

    /// Checks that `caller` may manage `person`'s tokens.
    pub(crate) async fn authorize_tokens_of(
        &self,
        caller: &Principal,
        person: &PersonId,
    ) -> Result<(), ApiError> {
        let (person, roles) = self.store.get_person(person).await?;
        let organizations: Vec<_> = roles.into_iter().map(|(org, _)| org).collect();
        authorize(
            caller,
            Action::ManageTokens,
            Target::Person {
                id: &person.id,
                operator: person.operator,
                organizations: &organizations,
            },
        )?;
        Ok(())
    }

    /// The person a token request is about: the given id, or the caller.
    pub(crate) fn person_or_caller(caller: &Principal, raw: &str) -> Result<PersonId, FieldError> {
        if raw.trim().is_empty() {
            Ok(caller.person_id.clone())
        } else {
            PersonId::parse("person_id", raw)
        }
    }
}

type RpcResult<T> = Result<Response<T>, Status>;

impl DirectoryService {
    async fn get_organization(
        &self,
        req: pb::GetOrganizationRequest,
    ) -> Result<pb::Organization, ApiError> {
        let org = org_ref("organization", &req.organization)?;
        let org = self.store.get_organization(&org).await?;
        Ok(org.to_proto())
    }

    async fn list_organizations(
        &self,
        req: pb::ListOrganizationsRequest,
    ) -> Result<pb::ListOrganizationsResponse, ApiError> {
        let size = PageSize::new("page_size", req.page_size, 50, 500)?;
        let after = PageToken::decode("page_token", &req.page_token, 1)?;
        let filter = OrganizationFilter {
            kind: match req.kind {
                0 => None,
                kind => Some(org_kind("kind", kind)?),
            },
            city: text::optional_line("city", &req.city, 100)?.map(|c| text::fold(&c)),
            query: text::optional_line("query", &req.query, 200)?.map(|q| text::fold(&q)),
            designation: crate::convert::designations::query_in(
                "designation_kind",
                req.designation_kind,
                "designation_field",
                &req.designation_field,
                Some(self.store.clock().now().date_naive()),
            )?,
        };
        let page = self
            .store
            .list_organizations(&filter, size, after.as_ref())
            .await?;
        Ok(pb::ListOrganizationsResponse {
            organizations: page.items.iter().map(|o| o.to_proto()).collect(),
            next_page_token: page.next.map(|t| t.encode()).unwrap_or_default(),
        })
    }

    async fn create_organization(
        &self,
        caller: &Principal,
        req: pb::CreateOrganizationRequest,
    ) -> Result<pb::Organization, ApiError> {
        authorize(caller, Action::CreateOrganization, Target::Node)?;
        let new = new_organization(&req)?;
        let org = self.store.create_organization(new, &caller.actor()).await?;
        tracing::info!(org = %org.id, slug = %org.slug, "organization created");
        Ok(org.to_proto())
    }

    async fn update_organization(
        &self,
        caller: &Principal,
        req: pb::UpdateOrganizationRequest,
    ) -> Result<pb::Organization, ApiError> {
        let target = org_ref("organization", &req.organization)?;
        let current = self.store.get_organization(&target).await?;
        authorize(
            caller,
            Action::UpdateOrganization,
            Target::Organization(&current.id),
        )?;
        let patch = organization_patch(&req)?;
        let org = self
            .store
            .update_organization(&OrgRef::Id(current.id), patch, &caller.actor())
            .await?;
        Ok(org.to_proto())
    }

    async fn add_member(
        &self,
        caller: &Principal,
        req: pb::AddMemberRequest,
    ) -> Result<pb::Member, ApiError> {
        let target = org_ref("organization", &req.organization)?;
        let org = self.store.get_organization(&target).await?;
        authorize(caller, Action::AddMember, Target::Organization(&org.id))?;
        let who = match &req.person {
            Some(pb::add_member_request::Person::PersonId(id)) => {
                MemberRef::Existing(PersonId::parse("person_id", id)?)
            }
            Some(pb::add_member_request::Person::NewPerson(new)) => {
                MemberRef::New(new_person(new)?)
            }
            None => {
                return Err(FieldError::new("person", "give person_id or new_person").into());
            }
        };
        let role = role("role", req.role)?;
        let member = self
            .store
            .add_member(&OrgRef::Id(org.id), who, role, &caller.actor())
            .await?;
        Ok(member.to_proto())
    }

    async fn list_members(
        &self,
        caller: &Principal,
        req: pb::ListMembersRequest,
    ) -> Result<pb::ListMembersResponse, ApiError> {
        let target = org_ref("organization", &req.organization)?;
        let org = self.store.get_organization(&target).await?;
        authorize(caller, Action::ListMembers, Target::Organization(&org.id))?;
        let size = PageSize::new("page_size", req.page_size, 100, 500)?;
        let after = PageToken::decode("page_token", &req.page_token, 2)?;
        let page = self
            .store
            .list_members(&org.id, size, after.as_ref())
            .await?;
        Ok(pb::ListMembersResponse {
            members: page.items.iter().map(|m| m.to_proto()).collect(),
            next_page_token: page.next.map(|t| t.encode()).unwrap_or_default(),
        })
    }

    async fn remove_member(
        &self,
        caller: &Principal,
        req: pb::RemoveMemberRequest,
    ) -> Result<pb::RemoveMemberResponse, ApiError> {
        let target = org_ref("organization", &req.organization)?;
        let person = PersonId::parse("person_id", &req.person_id)?;
        let org = self.store.get_organization(&target).await?;
        authorize(caller, Action::RemoveMember, Target::Organization(&org.id))?;
        let removed = self
            .store
            .remove_member(&OrgRef::Id(org.id), &person, &caller.actor())
            .await?;
        Ok(pb::RemoveMemberResponse {
            removed: Some(removed.to_proto()),
        })
    }

    async fn create_token(
        &self,
        caller: &Principal,
        req: pb::CreateTokenRequest,
    ) -> Result<pb::CreateTokenResponse, ApiError> {
        let person = Self::person_or_caller(caller, &req.person_id)?;
        let new = NewToken::parse(person.clone(), &req.name, ttl(req.ttl.as_ref())?)?;
        self.authorize_tokens_of(caller, &person).await?;
        let (token, secret) = self.store.create_token(new, &caller.actor()).await?;
        tracing::info!(token = %token.id, person = %token.person_id, "token created");
        Ok(pb::CreateTokenResponse {
            token: Some(token.to_proto()),
            secret: secret.expose().to_owned(),
        })
    }

    async fn list_tokens(
        &self,
        caller: &Principal,
        req: pb::ListTokensRequest,
    ) -> Result<pb::ListTokensResponse, ApiError> {
        let person = Self::person_or_caller(caller, &req.person_id)?;
        self.authorize_tokens_of(caller, &person).await?;
        let tokens = self.store.list_tokens(&person).await?;
        Ok(pb::ListTokensResponse {
            tokens: tokens.iter().map(|t| t.to_proto()).collect(),
        })
    }

    async fn revoke_token(
        &self,
        caller: &Principal,
        req: pb::RevokeTokenRequest,
    ) -> Result<pb::ApiToken, ApiError> {
        let id = TokenId::parse("token_id", &req.token_id)?;
        let token = self.store.get_token(&id).await?;
        self.authorize_tokens_of(caller, &token.person_id).await?;
        let token = self.store.revoke_token(&id, &caller.actor()).await?;
        tracing::info!(token = %token.id, "token revoked");
        Ok(token.to_proto())
    }

    async fn create_sign_in_link(
        &self,
        caller: &Principal,
        req: pb::CreateSignInLinkRequest,
    ) -> Result<pb::CreateSignInLinkResponse, ApiError> {
        let person = Self::person_or_caller(caller, &req.person_id)?;
        let mut new = NewSignInLink::parse(
            person.clone(),
            Some(caller.person_id.clone()),
            ttl(req.ttl.as_ref())?,
        )?;
        new.invitation = req.invitation;
        // An invitation binds the account of whoever completes it: one
        // sent to oneself could bind someone else's account to oneself.
        if new.invitation && person == caller.person_id {
            return Err(FieldError::new(
                "person_id",
                "must be someone else: an invitation binds the account of the person it is sent to",
            )
            .into());
        }
        self.authorize_tokens_of(caller, &person).await?;
        let (link, secret) = self.store.create_sign_in_link(new).await?;
        tracing::info!(link = %link.id, person = %link.person_id, "sign-in link issued");
        Ok(pb::CreateSignInLinkResponse {
            id: link.id.to_string(),
            person_id: link.person_id.to_string(),
            expire_time: Some(timestamp(link.expires_at)),
            url: self.ctx.sign_in_url(secret.expose(), link.invitation),
            secret: secret.expose().to_owned(),
        })
    }

    async fn start_session(
        &self,
        req: pb::StartSessionRequest,
    ) -> Result<pb::StartSessionResponse, ApiError> {
        let secret = text::line("link_secret", &req.link_secret, 200)?;
        let (session, secret) = self
            .store
            .redeem_sign_in_link(&TokenSecret::presented(&secret), &req.user_agent)
            .await?;
        tracing::info!(session = %session.id, person = %session.person_id, "session started");
        let now = self.store.clock().now();
        Ok(pb::StartSessionResponse {
            session: Some(convert_session(&session, now, Some(&session.id))),
            secret: secret.expose().to_owned(),
        })
    }

    async fn list_sessions(
        &self,
        caller: &Principal,
        req: pb::ListSessionsRequest,
    ) -> Result<pb::ListSessionsResponse, ApiError> {
        let person = Self::person_or_caller(caller, &req.person_id)?;
        self.authorize_tokens_of(caller, &person).await?;
        let sessions = self.store.list_sessions(&person).await?;
        let now = self.store.clock().now();
        let current = current_session(caller);
        Ok(pb::ListSessionsResponse {
            sessions: sessions
                .iter()
                .map(|s| convert_session(s, now, current))
                .collect(),
        })
    }

    async fn end_session(
        &self,
        caller: &Principal,
        req: pb::EndSessionRequest,
    ) -> Result<pb::Session, ApiError> {
        let id = SessionId::parse("session_id", &req.session_id)?;
        let session = self.store.get_session(&id).await?;
        self.authorize_tokens_of(caller, &session.person_id).await?;
        let current = current_session(caller);
        let reason = if current == Some(&id) {
            EndReason::SignedOut
        } else {
            EndReason::Ended
        };
        let session = self.store.end_session(&id, reason).await?;
        tracing::info!(session = %session.id, ?reason, "session ended");
        Ok(convert_session(&session, self.store.clock().now(), current))
    }

    async fn who_am_i(
        &self,
        caller: &Principal,
        _: pb::WhoAmIRequest,
    ) -> Result<pb::WhoAmIResponse, ApiError> {
        let (person, roles) = self.store.get_person(&caller.person_id).await?;
        let ids: Vec<_> = roles.iter().map(|(org, _)| org.clone()).collect();
        let slugs = self.store.organization_slugs(&ids).await?;
        let (person, slugs) = (person, roles.into_iter().zip(slugs).collect::<Vec<_>>());
        let (token_id, session_id) = match &caller.credential {
            Credential::Token(id) => (id.to_string(), String::new()),
            Credential::Session(id) => (String::new(), id.to_string()),
            Credential::Peer(_) => (String::new(), String::new()),
        };
        Ok(pb::WhoAmIResponse {
            person: Some(person.to_proto()),
            token_id,
            session_id,
            memberships: slugs
                .into_iter()
                .map(|((org, role), (_, slug))| pb::Membership {
                    organization_id: org.to_string(),
                    organization_slug: slug.to_string(),
                    role: role.to_proto().into(),
                })
                .collect(),
            node_id: self.node_id.clone(),
        })
    }
}

/// The caller's own session, when the call came from one.
fn current_session(caller: &Principal) -> Option<&SessionId> {
    match &caller.credential {
        Credential::Session(id) => Some(id),
        _ => None,
    }
}

#[tonic::async_trait]
impl Directory for DirectoryService {
    async fn get_organization(
        &self,
        request: Request<pb::GetOrganizationRequest>,
    ) -> RpcResult<pb::Organization> {
        self.ctx
            .reply(self.get_organization(request.into_inner()).await)
            .await
    }

    async fn list_organizations(
        &self,
        request: Request<pb::ListOrganizationsRequest>,
    ) -> RpcResult<pb::ListOrganizationsResponse> {
        self.ctx
            .reply(self.list_organizations(request.into_inner()).await)
            .await
    }

    async fn create_organization(
        &self,
        request: Request<pb::CreateOrganizationRequest>,
    ) -> RpcResult<pb::Organization> {
        let caller = principal(&request)?;
        self.ctx
            .reply(
                self.create_organization(&caller, request.into_inner())
                    .await,
            )
            .await
    }

    async fn update_organization(
        &self,
        request: Request<pb::UpdateOrganizationRequest>,
    ) -> RpcResult<pb::Organization> {
        let caller = principal(&request)?;
        self.ctx
            .reply(
                self.update_organization(&caller, request.into_inner())
                    .await,
            )
            .await
    }

    async fn add_member(&self, request: Request<pb::AddMemberRequest>) -> RpcResult<pb::Member> {
        let caller = principal(&request)?;
        self.ctx
            .reply(self.add_member(&caller, request.into_inner()).await)
            .await
    }

    async fn list_members(
        &self,
        request: Request<pb::ListMembersRequest>,
    ) -> RpcResult<pb::ListMembersResponse> {
        let caller = principal(&request)?;
        self.ctx
            .reply(self.list_members(&caller, request.into_inner()).await)
            .await
    }

    async fn remove_member(
        &self,
        request: Request<pb::RemoveMemberRequest>,
    ) -> RpcResult<pb::RemoveMemberResponse> {
        let caller = principal(&request)?;
        self.ctx
            .reply(self.remove_member(&caller, request.into_inner()).await)
            .await
    }

    async fn create_token(
        &self,
        request: Request<pb::CreateTokenRequest>,
    ) -> RpcResult<pb::CreateTokenResponse> {
        let caller = principal(&request)?;
        self.ctx
            .reply(self.create_token(&caller, request.into_inner()).await)
            .await
    }

    async fn list_tokens(
        &self,
        request: Request<pb::ListTokensRequest>,
    ) -> RpcResult<pb::ListTokensResponse> {
        let caller = principal(&request)?;
        self.ctx
            .reply(self.list_tokens(&caller, request.into_inner()).await)
            .await
    }

    async fn revoke_token(
        &self,
        request: Request<pb::RevokeTokenRequest>,
    ) -> RpcResult<pb::ApiToken> {
        let caller = principal(&request)?;
        self.ctx
            .reply(self.revoke_token(&caller, request.into_inner()).await)
            .await
    }

    async fn who_am_i(&self, request: Request<pb::WhoAmIRequest>) -> RpcResult<pb::WhoAmIResponse> {
        let caller = principal(&request)?;
        self.ctx
            .reply(self.who_am_i(&caller, request.into_inner()).await)
            .await
    }

    async fn create_sign_in_link(
        &self,
        request: Request<pb::CreateSignInLinkRequest>,
    ) -> RpcResult<pb::CreateSignInLinkResponse> {
        let caller = principal(&request)?;
        self.ctx
            .reply(
                self.create_sign_in_link(&caller, request.into_inner())
                    .await,
            )
            .await
    }

    async fn start_session(
        &self,
        request: Request<pb::StartSessionRequest>,
    ) -> RpcResult<pb::StartSessionResponse> {
        self.ctx
            .reply(self.start_session(request.into_inner()).await)
            .await
    }

    async fn list_sessions(
        &self,
        request: Request<pb::ListSessionsRequest>,
    ) -> RpcResult<pb::ListSessionsResponse> {
        let caller = principal(&request)?;
        self.ctx
            .reply(self.list_sessions(&caller, request.into_inner()).await)
            .await
    }

    async fn end_session(&self, request: Request<pb::EndSessionRequest>) -> RpcResult<pb::Session> {
        let caller = principal(&request)?;
        self.ctx
            .reply(self.end_session(&caller, request.into_inner()).await)
            .await
    }
    async fn list_issuers(
        &self,
        request: Request<pb::ListIssuersRequest>,
    ) -> RpcResult<pb::ListIssuersResponse> {
        self.ctx
            .reply(self.list_issuers(request.into_inner()).await)
            .await
    }

    async fn begin_sign_in(
        &self,
        request: Request<pb::BeginSignInRequest>,
    ) -> RpcResult<pb::BeginSignInResponse> {
        self.ctx
            .reply(self.begin_sign_in(request.into_inner()).await)
            .await
    }

    async fn finish_sign_in(
        &self,
        request: Request<pb::FinishSignInRequest>,
    ) -> RpcResult<pb::StartSessionResponse> {
        self.ctx
            .reply(self.finish_sign_in(request.into_inner()).await)
            .await
    }

    async fn begin_device_sign_in(
        &self,
        request: Request<pb::BeginDeviceSignInRequest>,
    ) -> RpcResult<pb::BeginDeviceSignInResponse> {
        self.ctx
            .reply(self.begin_device_sign_in(request.into_inner()).await)
            .await
    }

    async fn poll_device_sign_in(
        &self,
        request: Request<pb::PollDeviceSignInRequest>,
    ) -> RpcResult<pb::PollDeviceSignInResponse> {
        self.ctx
            .reply(self.poll_device_sign_in(request.into_inner()).await)
            .await
    }

    async fn list_identities(
        &self,
        request: Request<pb::ListIdentitiesRequest>,
    ) -> RpcResult<pb::ListIdentitiesResponse> {
        let caller = principal(&request)?;
        self.ctx
            .reply(self.list_identities(&caller, request.into_inner()).await)
            .await
    }

    async fn unbind_identity(
        &self,
        request: Request<pb::UnbindIdentityRequest>,
    ) -> RpcResult<pb::Identity> {
        let caller = principal(&request)?;
        self.ctx
            .reply(self.unbind_identity(&caller, request.into_inner()).await)
            .await
    }

    async fn get_sign_in_requirement(
        &self,
        request: Request<pb::GetSignInRequirementRequest>,
    ) -> RpcResult<pb::SignInRequirement> {
        let caller = principal(&request)?;
        self.ctx
            .reply(
                self.get_sign_in_requirement(&caller, request.into_inner())
                    .await,
            )
            .await
    }

    async fn set_sign_in_requirement(
        &self,
        request: Request<pb::SetSignInRequirementRequest>,
    ) -> RpcResult<pb::SignInRequirement> {
        let caller = principal(&request)?;
        self.ctx
            .reply(
                self.set_sign_in_requirement(&caller, request.into_inner())
                    .await,
            )
            .await
    }
}
