//! `edufed notify …`: what a person is told and how, organizations'
//! webhooks, and the operator's view of the outbox.

use anyhow::bail;
use clap::Subcommand;
use edufed_proto::v1 as pb;

use crate::client::Connection;
use crate::output::out;
use crate::output::{Format, named, print_json, table, time};
use crate::zones::Zones;

/// `edufed notify …`.
#[derive(Debug, Subcommand)]
pub enum NotifyCommand {
    /// The outbox by channel (queued, retrying, sent, given up) and the
    /// latest given up with why (operator only).
    Status {
        /// How many of the latest given up to list.
        #[arg(long, default_value_t = 20)]
        failed: u32,
    },
    /// Put notifications given up back in the queue (operator only).
    Retry {
        /// The one to retry, as `notify status` prints it [default: all].
        #[arg(long, default_value = "")]
        key: String,
    },
    /// Send a test message now and say what the other side answered: an
    /// e-mail to an address (operator only), or a post to an
    /// organization's webhook.
    Test {
        /// An e-mail address.
        #[arg(long, conflicts_with = "webhook", required_unless_present = "webhook")]
        email: Option<String>,
        /// An organization (slug or id) whose webhook gets the post.
        #[arg(long)]
        webhook: Option<String>,
    },
    /// How a person wants each kind of news.
    Preferences {
        /// Whose [default: yours].
        #[arg(long, default_value = "")]
        person: String,
    },
    /// Choose how a person wants one kind of news: immediately, digest
    /// (once a day, at 07:00 local time) or off.
    Set {
        /// The kind, e.g. booking_approved, as `notify preferences` lists.
        kind: String,
        /// immediately, digest or off.
        delivery: String,
        /// Whose [default: yours].
        #[arg(long, default_value = "")]
        person: String,
    },
    /// An organization's webhook: set (prints its secret once), show,
    /// remove.
    #[command(subcommand)]
    Webhook(WebhookCommand),
}

/// `edufed notify webhook …`.
#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Post the organization's news to `url`, signed with a new secret
    /// (printed once).
    Set {
        /// The organization's slug or id.
        organization: String,
        /// An https:// URL (http:// only on this machine).
        url: String,
    },
    /// The organization's webhook, without its secret.
    Show {
        /// The organization's slug or id.
        organization: String,
    },
    /// Stop posting the organization's news.
    Remove {
        /// The organization's slug or id.
        organization: String,
    },
}

/// `booking_approved` → `NOTIFICATION_KIND_BOOKING_APPROVED`.
fn kind(raw: &str) -> anyhow::Result<pb::NotificationKind> {
    let name = format!("NOTIFICATION_KIND_{}", raw.trim().to_ascii_uppercase());
    match pb::NotificationKind::from_str_name(&name) {
        Some(kind) if kind != pb::NotificationKind::Unspecified => Ok(kind),
        _ => bail!("kind: unknown kind of news {raw:?}; `edufed notify preferences` lists them"),
    }
}

fn delivery(raw: &str) -> anyhow::Result<pb::NotificationDelivery> {
    let name = format!("NOTIFICATION_DELIVERY_{}", raw.trim().to_ascii_uppercase());
    match pb::NotificationDelivery::from_str_name(&name) {
        Some(d) if d != pb::NotificationDelivery::Unspecified => Ok(d),
        _ => bail!("delivery: expected immediately, digest or off, not {raw:?}"),
    }
}

/// `NOTIFICATION_KIND_BOOKING_APPROVED` → `booking_approved`.
fn stable(name: &str, prefix: &str) -> String {
    name.trim_start_matches(prefix).to_ascii_lowercase()
}

fn print_preferences(
    preferences: &pb::NotificationPreferences,
    format: Format,
) -> anyhow::Result<()> {
    if format == Format::Json {
        return print_json(preferences);
    }
    let mut t = table(&["kind", "news", "delivery"]);
    for p in &preferences.preferences {
        let kind = pb::NotificationKind::try_from(p.kind)
            .map(|k| stable(k.as_str_name(), "NOTIFICATION_KIND_"))
            .unwrap_or_default();
        t.add_row(vec![
            kind,
            named!(pb::NotificationKind, p.kind),
            named!(pb::NotificationDelivery, p.delivery),
        ]);
    }
    out!("{t}");
    Ok(())
}

/// Runs `edufed notify …`.
pub async fn notify(
    conn: Connection,
    command: NotifyCommand,
    format: Format,
) -> anyhow::Result<()> {
    let mut client = conn.notifications();
    match command {
        NotifyCommand::Status { failed } => {
            let status = client
                .get_status(pb::GetNotificationStatusRequest {
                    failed_limit: failed,
                })
                .await?
                .into_inner();
            if format == Format::Json {
                return print_json(&status);
            }
            if !status.email_configured {
                out!("no mail server is configured (smtp_host): e-mail waits in the outbox");
            }
            let mut t = table(&["channel", "queued", "retrying", "sent", "given up"]);
            for c in &status.channels {
                t.add_row(vec![
                    named!(pb::NotificationChannel, c.channel),
                    c.queued.to_string(),
                    c.retrying.to_string(),
                    c.sent.to_string(),
                    c.failed.to_string(),
                ]);
            }
            out!("{t}");
            if !status.failed.is_empty() {
                let zone = Zones::new(&conn).caller().await;
                let mut t = table(&["key", "to", "news", "queued", "attempts", "why"]);
                for f in &status.failed {
                    t.add_row(vec![
                        f.key.clone(),
                        f.address.clone(),
                        named!(pb::NotificationKind, f.kind),
                        time(f.queued_at.as_ref(), zone),
                        f.attempts.to_string(),
                        f.last_error.clone(),
                    ]);
                }
                out!("given up:\n{t}");
            }
        }
        NotifyCommand::Retry { key } => {
            let retried = client
                .retry(pb::RetryNotificationsRequest { key })
                .await?
                .into_inner();
            if format == Format::Json {
                return print_json(&retried);
            }
            out!("{} notification(s) queued again", retried.requeued);
        }
        NotifyCommand::Test { email, webhook } => {
            use pb::send_test_notification_request::Target;
            let target = match (email, webhook) {
                (Some(email), _) => Target::Email(email),
                (None, Some(org)) => Target::WebhookOrganization(org),
                (None, None) => bail!("give --email or --webhook"),
            };
            let answer = client
                .send_test(pb::SendTestNotificationRequest {
                    target: Some(target),
                })
                .await?
                .into_inner();
            if format == Format::Json {
                return print_json(&answer);
            }
            if !answer.delivered {
                bail!("not delivered: {}", answer.error);
            }
            out!("delivered");
        }
        NotifyCommand::Preferences { person } => {
            let preferences = client
                .get_preferences(pb::GetNotificationPreferencesRequest { person_id: person })
                .await?
                .into_inner();
            print_preferences(&preferences, format)?;
        }
        NotifyCommand::Set {
            kind: raw_kind,
            delivery: raw_delivery,
            person,
        } => {
            let preferences = client
                .set_preference(pb::SetNotificationPreferenceRequest {
                    person_id: person,
                    kind: kind(&raw_kind)?.into(),
                    delivery: delivery(&raw_delivery)?.into(),
                })
                .await?
                .into_inner();
            print_preferences(&preferences, format)?;
        }
        NotifyCommand::Webhook(WebhookCommand::Set { organization, url }) => {
            let set = client
                .set_webhook(pb::SetWebhookRequest { organization, url })
                .await?
                .into_inner();
            if format == Format::Json {
                return print_json(&set);
            }
            let hook = set.webhook.unwrap_or_default();
            out!("webhook of {} set to {}", hook.organization_id, hook.url);
            out!(
                "its secret, shown only now (posts carry X-Edufed-Signature: sha256=HMAC-SHA256 \
                 of \"<X-Edufed-Timestamp>.<body>\"):"
            );
            out!("{}", set.secret);
        }
        NotifyCommand::Webhook(WebhookCommand::Show { organization }) => {
            let hook = client
                .get_webhook(pb::GetWebhookRequest { organization })
                .await?
                .into_inner();
            if format == Format::Json {
                return print_json(&hook);
            }
            let zone = Zones::new(&conn).caller().await;
            out!(
                "{} since {}",
                hook.url,
                time(hook.created_at.as_ref(), zone)
            );
        }
        NotifyCommand::Webhook(WebhookCommand::Remove { organization }) => {
            client
                .remove_webhook(pb::RemoveWebhookRequest {
                    organization: organization.clone(),
                })
                .await?;
            if format != Format::Json {
                out!("webhook of {organization} removed");
            }
        }
    }
    Ok(())
}
