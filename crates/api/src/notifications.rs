//! The `edufed.v1.Notifications` service: what each person is told and
//! how, the unsubscribe links in messages, organizations' webhooks, and
//! the operator's view of the outbox.

use edufed_domain::FieldError;
use edufed_domain::directory::{OrgRef, Organization};
use edufed_domain::error::{ErrorCode, ServiceError};
use edufed_domain::ids::PersonId;
use edufed_domain::notify::{self, Channel, Delivery, Kind, Unsubscribe};
use edufed_domain::policy::{Action, Principal, Target, authorize};
use edufed_notify::Tester;
use edufed_proto::v1 as pb;
use edufed_proto::v1::notifications_server::Notifications as NotificationsApi;
use edufed_store::Store;
use tonic::{Request, Response, Status};

use crate::Context;
use crate::auth::principal;
use crate::convert::{enum_map, required, timestamp};
use crate::status::{ApiError, reply};

enum_map!(
    kind_in,
    kind_out,
    pb::NotificationKind,
    "NOTIFICATION_KIND_",
    Kind
);
enum_map!(
    delivery_in,
    delivery_out,
    pb::NotificationDelivery,
    "NOTIFICATION_DELIVERY_",
    Delivery
);
enum_map!(
    channel_in,
    channel_out,
    pb::NotificationChannel,
    "NOTIFICATION_CHANNEL_",
    Channel
);

type RpcResult<T> = Result<Response<T>, Status>;

/// The organization has no webhook.
#[derive(Debug, thiserror::Error)]
#[error("the organization has no webhook")]
struct NoWebhook;

impl ServiceError for NoWebhook {
    fn error_code(&self) -> ErrorCode {
        ErrorCode::NotFound
    }
}

/// How many failures the status lists when the request does not say.
const DEFAULT_FAILED_LIMIT: u32 = 20;

/// The `edufed.v1.Notifications` service.
#[derive(Clone)]
pub struct NotificationsService {
    ctx: Context,
    tester: Tester,
}

impl std::fmt::Debug for NotificationsService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotificationsService")
            .finish_non_exhaustive()
    }
}

impl NotificationsService {
    /// A service over the node's records, sending tests with `tester`.
    pub fn new(ctx: Context, tester: Tester) -> Self {
        Self { ctx, tester }
    }

    fn store(&self) -> &Store {
        self.ctx.store()
    }

    /// The person a request is about (the caller when `raw` is empty),
    /// once `caller` may choose what they are told.
    async fn person(&self, caller: &Principal, raw: &str) -> Result<PersonId, ApiError> {
        let id = if raw.trim().is_empty() {
            caller.person_id.clone()
        } else {
            PersonId::parse("person_id", raw)?
        };
        let (person, roles) = self.store().get_person(&id).await?;
        let organizations: Vec<_> = roles.into_iter().map(|(org, _)| org).collect();
        authorize(
            caller,
            Action::ManageNotifications,
            Target::Person {
                id: &person.id,
                operator: person.operator,
                organizations: &organizations,
            },
        )?;
        Ok(person.id)
    }

    async fn preferences(
        &self,
        person: &PersonId,
    ) -> Result<pb::NotificationPreferences, ApiError> {
        let chosen = self.store().notification_preferences(person).await?;
        Ok(pb::NotificationPreferences {
            person_id: person.to_string(),
            preferences: chosen
                .into_iter()
                .map(|(kind, delivery)| pb::NotificationPreference {
                    kind: kind_out(kind),
                    delivery: delivery_out(delivery),
                })
                .collect(),
        })
    }

    /// The organization `raw` names, once `caller` may `action` for it.
    async fn organization(
        &self,
        caller: &Principal,
        field: &str,
        raw: &str,
        action: Action,
    ) -> Result<Organization, ApiError> {
        let reference = OrgRef::parse(field, raw)?;
        let org = self.store().get_organization(&reference).await?;
        authorize(caller, action, Target::Organization(&org.id))?;
        Ok(org)
    }

    fn webhook_out(hook: &edufed_store::notify::Webhook) -> pb::Webhook {
        pb::Webhook {
            organization_id: hook.org_id.to_string(),
            url: hook.url.clone(),
            created_at: Some(timestamp(hook.created_at)),
        }
    }
}

#[tonic::async_trait]
impl NotificationsApi for NotificationsService {
    async fn get_preferences(
        &self,
        request: Request<pb::GetNotificationPreferencesRequest>,
    ) -> RpcResult<pb::NotificationPreferences> {
        let caller = principal(&request)?;
        reply(
            async {
                let person = self.person(&caller, &request.get_ref().person_id).await?;
                self.preferences(&person).await
            }
            .await,
        )
    }

    async fn set_preference(
        &self,
        request: Request<pb::SetNotificationPreferenceRequest>,
    ) -> RpcResult<pb::NotificationPreferences> {
        let caller = principal(&request)?;
        let req = request.get_ref();
        reply(
            async {
                let kind = required("kind", kind_in("kind", req.kind)?)?;
                let delivery = required("delivery", delivery_in("delivery", req.delivery)?)?;
                let person = self.person(&caller, &req.person_id).await?;
                self.store()
                    .set_notification_preference(&person, kind, delivery)
                    .await?;
                self.preferences(&person).await
            }
            .await,
        )
    }

    async fn unsubscribe(
        &self,
        request: Request<pb::UnsubscribeNotificationsRequest>,
    ) -> RpcResult<pb::UnsubscribeNotificationsResponse> {
        let req = request.get_ref();
        reply(
            async {
                let claim =
                    Unsubscribe::verify("token", &req.token, &self.ctx.identity().public_key())?;
                // The person must still be here; the link names no one else.
                self.store().get_person(&claim.person).await?;
                self.store()
                    .set_notification_preference(&claim.person, claim.kind, Delivery::Off)
                    .await?;
                Ok(pb::UnsubscribeNotificationsResponse {
                    kind: kind_out(claim.kind),
                })
            }
            .await,
        )
    }

    async fn get_status(
        &self,
        request: Request<pb::GetNotificationStatusRequest>,
    ) -> RpcResult<pb::NotificationStatus> {
        let caller = principal(&request)?;
        let limit = match request.get_ref().failed_limit {
            0 => DEFAULT_FAILED_LIMIT,
            n => n.min(1000),
        };
        reply(
            async {
                authorize(&caller, Action::OperateNotifications, Target::Node)?;
                let counts = self.store().outbox_counts().await?;
                let failed = self.store().failed_notifications(limit).await?;
                Ok(pb::NotificationStatus {
                    channels: counts
                        .into_iter()
                        .map(|c| pb::ChannelStatus {
                            channel: c.channel.map_or(0, channel_out),
                            queued: c.queued,
                            retrying: c.retrying,
                            sent: c.sent,
                            failed: c.failed,
                        })
                        .collect(),
                    failed: failed
                        .into_iter()
                        .map(|q| pb::FailedNotification {
                            key: q.key,
                            channel: channel_out(q.channel),
                            kind: kind_out(q.kind),
                            address: q.address,
                            attempts: q.attempts,
                            last_error: q.last_error.unwrap_or_default(),
                            queued_at: Some(timestamp(q.created_at)),
                        })
                        .collect(),
                    email_configured: self.tester.email_configured(),
                })
            }
            .await,
        )
    }

    async fn retry(
        &self,
        request: Request<pb::RetryNotificationsRequest>,
    ) -> RpcResult<pb::RetryNotificationsResponse> {
        let caller = principal(&request)?;
        let key = request.get_ref().key.trim().to_owned();
        reply(
            async {
                authorize(&caller, Action::OperateNotifications, Target::Node)?;
                let requeued = self
                    .store()
                    .retry_notifications((!key.is_empty()).then_some(key.as_str()))
                    .await?;
                if requeued == 0 && !key.is_empty() {
                    return Err(FieldError::new("key", "names no notification given up").into());
                }
                Ok(pb::RetryNotificationsResponse { requeued })
            }
            .await,
        )
    }

    async fn send_test(
        &self,
        request: Request<pb::SendTestNotificationRequest>,
    ) -> RpcResult<pb::SendTestNotificationResponse> {
        use pb::send_test_notification_request::Target as To;
        let caller = principal(&request)?;
        let target = request.get_ref().target.clone();
        reply(
            async {
                let outcome = match target {
                    Some(To::Email(address)) => {
                        authorize(&caller, Action::OperateNotifications, Target::Node)?;
                        let address = address.trim().to_owned();
                        if !address.contains('@') {
                            return Err(FieldError::new("email", "is not an e-mail address").into());
                        }
                        if !self.tester.email_configured() {
                            return Err(FieldError::new(
                                "email",
                                "the node has no mail server (smtp_host)",
                            )
                            .into());
                        }
                        self.tester.email(&address).await
                    }
                    Some(To::WebhookOrganization(raw)) => {
                        let org = self
                            .organization(
                                &caller,
                                "webhook_organization",
                                &raw,
                                Action::UpdateOrganization,
                            )
                            .await?;
                        if self.store().webhook(&org.id).await?.is_none() {
                            return Err(FieldError::new(
                                "webhook_organization",
                                "the organization has no webhook",
                            )
                            .into());
                        }
                        self.tester.webhook(&org.id).await
                    }
                    None => return Err(FieldError::new("target", "is required").into()),
                };
                Ok(match outcome {
                    Ok(()) => pb::SendTestNotificationResponse {
                        error: String::new(),
                        delivered: true,
                    },
                    Err(error) => pb::SendTestNotificationResponse {
                        error: format!("{error:#}"),
                        delivered: false,
                    },
                })
            }
            .await,
        )
    }

    async fn set_webhook(
        &self,
        request: Request<pb::SetWebhookRequest>,
    ) -> RpcResult<pb::SetWebhookResponse> {
        let caller = principal(&request)?;
        let req = request.get_ref();
        reply(
            async {
                let url = notify::webhook_url("url", &req.url)?;
                let org = self
                    .organization(
                        &caller,
                        "organization",
                        &req.organization,
                        Action::UpdateOrganization,
                    )
                    .await?;
                let secret = notify::webhook_secret();
                let hook = self.store().set_webhook(&org.id, &url, &secret).await?;
                Ok(pb::SetWebhookResponse {
                    webhook: Some(Self::webhook_out(&hook)),
                    secret,
                })
            }
            .await,
        )
    }

    async fn get_webhook(&self, request: Request<pb::GetWebhookRequest>) -> RpcResult<pb::Webhook> {
        let caller = principal(&request)?;
        reply(
            async {
                let org = self
                    .organization(
                        &caller,
                        "organization",
                        &request.get_ref().organization,
                        Action::ListMembers,
                    )
                    .await?;
                let hook = self.store().webhook(&org.id).await?.ok_or(NoWebhook)?;
                Ok(Self::webhook_out(&hook))
            }
            .await,
        )
    }

    async fn remove_webhook(
        &self,
        request: Request<pb::RemoveWebhookRequest>,
    ) -> RpcResult<pb::RemoveWebhookResponse> {
        let caller = principal(&request)?;
        reply(
            async {
                let org = self
                    .organization(
                        &caller,
                        "organization",
                        &request.get_ref().organization,
                        Action::UpdateOrganization,
                    )
                    .await?;
                if !self.store().remove_webhook(&org.id).await? {
                    return Err(NoWebhook.into());
                }
                Ok(pb::RemoveWebhookResponse {})
            }
            .await,
        )
    }
}
