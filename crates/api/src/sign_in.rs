//! Signing people in through the node's identity providers: the browser's
//! code flow and the command line's device flow, the accounts bound to
//! people, and organizations' requirement of one issuer.

use edufed_domain::directory::{Error, TokenSecret};
use edufed_domain::identity::{Account, Resolution};
use edufed_domain::policy::{Action, Principal, Target, authorize};
use edufed_domain::text;
use edufed_domain::{ErrorCode, FieldError, ServiceError};
use edufed_identity::{DevicePoll, Failure, Issuers, Proven};
use edufed_proto::v1 as pb;
use edufed_store::directory::{Grant, Granted, NewPendingSignIn};

use crate::convert::directory::{identity as convert_identity, session as convert_session};
use crate::convert::{ToProto as _, org_ref, timestamp};
use crate::directory::DirectoryService;
use crate::status::ApiError;

/// An identity provider's refusal, on its way to the client.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
struct Refused(Failure);

impl ServiceError for Refused {
    fn error_code(&self) -> ErrorCode {
        match self.0 {
            Failure::UnknownIssuer(_) => ErrorCode::InvalidArgument,
            Failure::Unreachable(_) => ErrorCode::Unavailable,
            Failure::Unsupported(_) => ErrorCode::FailedPrecondition,
            _ => ErrorCode::Unauthenticated,
        }
    }

    fn field(&self) -> Option<&str> {
        matches!(self.0, Failure::UnknownIssuer(_)).then_some("issuer")
    }
}

/// The issuer's answer came to a browser that did not begin the sign-in
/// (a forged or stolen callback).
#[derive(Debug, thiserror::Error)]
#[error(
    "the answer of the identity provider does not belong to this browser's sign-in; start again"
)]
struct WrongBrowser;

impl ServiceError for WrongBrowser {
    fn error_code(&self) -> ErrorCode {
        ErrorCode::Unauthenticated
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The issuer's answer came back through another issuer's callback, or
/// names another issuer: a mix-up.
#[derive(Debug, thiserror::Error)]
#[error(
    "the answer came from another identity provider than the one the sign-in began with; start again"
)]
struct MixedUp;

impl ServiceError for MixedUp {
    fn error_code(&self) -> ErrorCode {
        ErrorCode::Unauthenticated
    }
}

/// A refused sign-in's reason in metrics and logs.
fn reason_of(error: &Error) -> &'static str {
    match error {
        Error::UnknownSignIn | Error::SignInExpired(_) => "state",
        Error::IdentityUnbound { .. } => "unbound",
        Error::EmailNotVerified(_) => "unverified_email",
        Error::IssuerRequired { .. } => "issuer_required",
        Error::AlreadyBound { .. } | Error::BoundToAnother(_) => "binding",
        Error::UnknownLink | Error::LinkUsed(_) | Error::LinkExpired(_) => "invitation",
        _ => "error",
    }
}

fn account_of(proven: Proven) -> Account {
    Account {
        issuer: proven.issuer,
        subject: proven.subject,
        email: proven.email,
        email_verified: proven.email_verified,
    }
}

impl DirectoryService {
    /// The node's issuers; none configured refuses `name` as unknown.
    fn issuers(&self, name: &str) -> Result<&Issuers, ApiError> {
        match &self.ctx.issuers {
            Some(issuers) if issuers.knows(name) => Ok(issuers),
            _ => Err(Refused(Failure::UnknownIssuer(name.to_owned())).into()),
        }
    }

    pub(crate) async fn list_issuers(
        &self,
        req: pb::ListIssuersRequest,
    ) -> Result<pb::ListIssuersResponse, ApiError> {
        let Some(issuers) = &self.ctx.issuers else {
            return Ok(pb::ListIssuersResponse::default());
        };
        let mut listed = Vec::new();
        for (name, label) in issuers.list() {
            let logout_url = if req.logout_urls {
                issuers.logout_url(&name).await.unwrap_or_default()
            } else {
                String::new()
            };
            listed.push(pb::Issuer {
                name,
                label,
                logout_url,
            });
        }
        Ok(pb::ListIssuersResponse { issuers: listed })
    }

    pub(crate) async fn begin_sign_in(
        &self,
        req: pb::BeginSignInRequest,
    ) -> Result<pb::BeginSignInResponse, ApiError> {
        let name = text::line("issuer", &req.issuer, 32)?;
        let invitation = text::optional_line("invitation_secret", &req.invitation_secret, 200)?
            .map(|s| TokenSecret::presented(&s));
        let issuers = self.issuers(&name)?;
        let started = issuers.authorize(&name).await.map_err(Refused)?;
        let pending = self
            .store
            .begin_sign_in(NewPendingSignIn {
                issuer: name,
                secret_hash: TokenSecret::presented(&started.state).hash(),
                nonce: Some(started.nonce),
                pkce_verifier: Some(started.pkce_verifier),
                device_code: None,
                invitation,
            })
            .await?;
        Ok(pb::BeginSignInResponse {
            authorization_url: started.url,
            state: started.state,
            expire_time: Some(timestamp(pending.expires_at)),
        })
    }

    pub(crate) async fn finish_sign_in(
        &self,
        req: pb::FinishSignInRequest,
    ) -> Result<pb::StartSessionResponse, ApiError> {
        let state = text::line("state", &req.state, 200)?;
        let code = text::line("code", &req.code, 2000)?;
        if !constant_time_eq(state.as_bytes(), req.browser_state.trim().as_bytes()) {
            let error = WrongBrowser;
            self.refused("unknown", "state", &error);
            return Err(error.into());
        }
        let pending = match self
            .store
            .take_sign_in(&TokenSecret::presented(&state))
            .await
        {
            Ok(pending) => pending,
            Err(error) => {
                self.refused("unknown", reason_of(&error), &error);
                return Err(error.into());
            }
        };
        // A device sign-in's handle is not a browser's state.
        if pending.nonce.is_none() {
            let error = Error::UnknownSignIn;
            self.refused(&pending.issuer, "state", &error);
            return Err(error.into());
        }
        let issuers = self.issuers(&pending.issuer)?;
        let iss = req.iss.trim().trim_end_matches('/');
        if req.issuer != pending.issuer
            || (!iss.is_empty() && Some(iss) != issuers.issuer_url(&pending.issuer))
        {
            self.refused(&pending.issuer, "mix_up", &MixedUp);
            return Err(MixedUp.into());
        }
        let proven = issuers
            .finish(
                &pending.issuer,
                &code,
                pending.pkce_verifier.as_deref().unwrap_or_default(),
                pending.nonce.as_deref().unwrap_or_default(),
            )
            .await;
        let proven = match proven {
            Ok(proven) => proven,
            Err(failure) => {
                self.refused(&pending.issuer, failure.reason(), &failure);
                return Err(Refused(failure).into());
            }
        };
        let granted = self
            .complete(
                &pending,
                account_of(proven),
                Grant::Session {
                    user_agent: &req.user_agent,
                },
            )
            .await?;
        let Granted::Session(session, secret) = granted else {
            return Err(Error::UnknownSignIn.into());
        };
        let now = self.store.clock().now();
        Ok(pb::StartSessionResponse {
            session: Some(convert_session(&session, now, Some(&session.id))),
            secret: secret.expose().to_owned(),
        })
    }

    /// Binds or finds the account's person and grants what was asked,
    /// counting the outcome.
    async fn complete(
        &self,
        pending: &edufed_domain::identity::PendingSignIn,
        account: Account,
        grant: Grant<'_>,
    ) -> Result<Granted, ApiError> {
        match self.store.complete_sign_in(pending, &account, grant).await {
            Ok((resolution, granted)) => {
                if let Some(issuers) = &self.ctx.issuers {
                    issuers.record(&account.issuer, "ok");
                }
                match &resolution {
                    Resolution::Bind(person, how) => tracing::info!(
                        issuer = %account.issuer, %person, bound_by = how.as_str(),
                        "account bound; signed in"
                    ),
                    Resolution::Known(person) => {
                        tracing::info!(issuer = %account.issuer, %person, "signed in")
                    }
                }
                Ok(granted)
            }
            Err(error) => {
                self.refused(&account.issuer, reason_of(&error), &error);
                Err(self.labelled(error).into())
            }
        }
    }

    /// `error` naming the issuer by its label, as people know it.
    fn labelled(&self, error: Error) -> Error {
        let label = |name: String| self.issuer_label(&name).to_owned();
        match error {
            Error::IdentityUnbound { account, issuer } => Error::IdentityUnbound {
                account,
                issuer: label(issuer),
            },
            Error::AlreadyBound { person, issuer } => Error::AlreadyBound {
                person,
                issuer: label(issuer),
            },
            Error::BoundToAnother(issuer) => Error::BoundToAnother(label(issuer)),
            other => other,
        }
    }

    /// Counts and logs a refused sign-in (never a token or a code).
    fn refused(&self, issuer: &str, reason: &str, error: &dyn std::fmt::Display) {
        if let Some(issuers) = &self.ctx.issuers {
            issuers.record(issuer, reason);
        }
        tracing::warn!(issuer, reason, %error, "sign-in refused");
    }

    pub(crate) async fn begin_device_sign_in(
        &self,
        req: pb::BeginDeviceSignInRequest,
    ) -> Result<pb::BeginDeviceSignInResponse, ApiError> {
        let name = text::line("issuer", &req.issuer, 32)?;
        let issuers = self.issuers(&name)?;
        let started = issuers.device_start(&name).await.map_err(Refused)?;
        let handle = edufed_domain::identity::device_handle();
        let pending = self
            .store
            .begin_sign_in(NewPendingSignIn {
                issuer: name,
                secret_hash: handle.hash(),
                nonce: None,
                pkce_verifier: None,
                device_code: Some(started.device_code),
                invitation: None,
            })
            .await?;
        // The issuer's word on how long its code lasts, within reason.
        let lapses = chrono::Duration::from_std(started.expires_in)
            .ok()
            .and_then(|d| pending.created_at.checked_add_signed(d))
            .map_or(pending.expires_at, |at| at.min(pending.expires_at));
        Ok(pb::BeginDeviceSignInResponse {
            handle: handle.expose().to_owned(),
            user_code: started.user_code,
            verification_uri: started.verification_uri,
            verification_uri_complete: started.verification_uri_complete.unwrap_or_default(),
            interval: Some(prost_types::Duration {
                seconds: i64::try_from(started.interval.as_secs()).unwrap_or(5),
                nanos: 0,
            }),
            expire_time: Some(timestamp(lapses)),
        })
    }

    pub(crate) async fn poll_device_sign_in(
        &self,
        req: pb::PollDeviceSignInRequest,
    ) -> Result<pb::PollDeviceSignInResponse, ApiError> {
        let handle = TokenSecret::presented(&text::line("handle", &req.handle, 200)?);
        let pending = self.store.pending_sign_in(&handle).await?;
        // A browser's state is not a device sign-in's handle.
        let Some(device_code) = pending.device_code.clone() else {
            return Err(Error::UnknownSignIn.into());
        };
        let issuers = self.issuers(&pending.issuer)?;
        let proven = match issuers.device_poll(&pending.issuer, &device_code).await {
            Ok(DevicePoll::Pending { slow_down }) => {
                return Ok(pb::PollDeviceSignInResponse {
                    pending: true,
                    slow_down,
                    ..Default::default()
                });
            }
            Ok(DevicePoll::Done(proven)) => proven,
            Err(failure) => {
                self.refused(&pending.issuer, failure.reason(), &failure);
                // A refused device sign-in is over.
                self.store.take_sign_in(&handle).await.ok();
                return Err(Refused(failure).into());
            }
        };
        let pending = self.store.take_sign_in(&handle).await?;
        let Granted::Token(token, secret) = self
            .complete(&pending, account_of(proven), Grant::Token)
            .await?
        else {
            return Err(Error::UnknownSignIn.into());
        };
        Ok(pb::PollDeviceSignInResponse {
            pending: false,
            slow_down: false,
            token: Some(token.to_proto()),
            secret: secret.expose().to_owned(),
        })
    }

    pub(crate) async fn list_identities(
        &self,
        caller: &Principal,
        req: pb::ListIdentitiesRequest,
    ) -> Result<pb::ListIdentitiesResponse, ApiError> {
        let person = Self::person_or_caller(caller, &req.person_id)?;
        self.authorize_tokens_of(caller, &person).await?;
        let identities = self.store.list_identities(&person).await?;
        Ok(pb::ListIdentitiesResponse {
            identities: identities
                .iter()
                .map(|i| convert_identity(i, self.issuer_label(&i.issuer)))
                .collect(),
        })
    }

    fn issuer_label<'a>(&'a self, name: &'a str) -> &'a str {
        self.ctx
            .issuers
            .as_ref()
            .and_then(|i| i.label(name))
            .unwrap_or(name)
    }

    pub(crate) async fn unbind_identity(
        &self,
        caller: &Principal,
        req: pb::UnbindIdentityRequest,
    ) -> Result<pb::Identity, ApiError> {
        let person = Self::person_or_caller(caller, &req.person_id)?;
        let issuer = text::line("issuer", &req.issuer, 32)?;
        self.authorize_tokens_of(caller, &person).await?;
        let identity = self
            .store
            .unbind_identity(&person, &issuer, &caller.actor())
            .await?;
        tracing::info!(%person, issuer, "account unbound");
        Ok(convert_identity(&identity, self.issuer_label(&issuer)))
    }

    pub(crate) async fn get_sign_in_requirement(
        &self,
        caller: &Principal,
        req: pb::GetSignInRequirementRequest,
    ) -> Result<pb::SignInRequirement, ApiError> {
        let target = org_ref("organization", &req.organization)?;
        let org = self.store.get_organization(&target).await?;
        authorize(caller, Action::ListMembers, Target::Organization(&org.id))?;
        let issuer = self.store.sign_in_requirement(&org.id).await?;
        Ok(pb::SignInRequirement {
            organization_id: org.id.to_string(),
            issuer: issuer.unwrap_or_default(),
        })
    }

    pub(crate) async fn set_sign_in_requirement(
        &self,
        caller: &Principal,
        req: pb::SetSignInRequirementRequest,
    ) -> Result<pb::SignInRequirement, ApiError> {
        let target = org_ref("organization", &req.organization)?;
        let issuer = text::optional_line("issuer", &req.issuer, 32)?;
        if let Some(name) = &issuer
            && !self.ctx.issuers.as_ref().is_some_and(|i| i.knows(name))
        {
            return Err(FieldError::new(
                "issuer",
                format!("no issuer is named {name} on this node"),
            )
            .into());
        }
        let org = self.store.get_organization(&target).await?;
        authorize(
            caller,
            Action::UpdateOrganization,
            Target::Organization(&org.id),
        )?;
        let issuer = self
            .store
            .set_sign_in_requirement(&org.id, issuer.as_deref())
            .await?;
        tracing::info!(organization = %org.id, ?issuer, "sign-in requirement set");
        Ok(pb::SignInRequirement {
            organization_id: org.id.to_string(),
            issuer: issuer.unwrap_or_default(),
        })
    }
}
