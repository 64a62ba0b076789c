//! Test messages an operator sends to check the mail server or an
//! organization's webhook, answered at once with what the other side said.

use anyhow::Context as _;
use edufed_domain::ids::OrgId;
use edufed_i18n::ru;
use edufed_store::Store;

use crate::mail::{Mailer, Outgoing, message_id};
use crate::webhook::Webhooks;

/// Sends test messages through the node's channels.
#[derive(Debug, Clone)]
pub struct Tester {
    store: Store,
    mailer: Option<Mailer>,
    webhooks: Webhooks,
    public_url: String,
}

impl Tester {
    /// A tester over the node's mailer (if it has a mail server).
    pub fn new(store: Store, mailer: Option<Mailer>, public_url: &str) -> anyhow::Result<Self> {
        Ok(Self {
            store,
            mailer,
            webhooks: Webhooks::new(std::time::Duration::from_secs(30))?,
            public_url: public_url.trim_end_matches('/').to_owned(),
        })
    }

    /// Whether the node has a mail server.
    pub fn email_configured(&self) -> bool {
        self.mailer.is_some()
    }

    /// Sends a test e-mail to `to`.
    pub async fn email(&self, to: &str) -> anyhow::Result<()> {
        let mailer = self
            .mailer
            .as_ref()
            .context("no mail server is configured")?;
        let now = self.store.clock().now();
        let text = ru().text("notify-test");
        let mail = Outgoing {
            to: to.to_owned(),
            subject: ru().text("notify-test-subject"),
            html: format!(
                "<p>{text}</p>\n<p><a href=\"{0}\">{0}</a></p>\n",
                self.public_url
            ),
            text: format!("{text}\n\n{}\n", self.public_url),
            message_id: message_id(
                &format!("test:{to}:{}", now.timestamp_micros()),
                &mailer.host(),
            ),
            unsubscribe: None,
        };
        mailer.send(&mail).await
    }

    /// Posts a test notification to `org`'s webhook.
    pub async fn webhook(&self, org: &OrgId) -> anyhow::Result<()> {
        let hook = self
            .store
            .webhook(org)
            .await?
            .context("the organization has no webhook")?;
        let now = self.store.clock().now();
        let key = format!("test:{org}:{}", now.timestamp_micros());
        let body = serde_json::to_vec(&serde_json::json!({
            "id": key,
            "kind": "test",
            "organization": org.to_string(),
            "created_at": now,
            "subject": ru().text("notify-test-subject"),
            "text": ru().text("notify-test"),
            "link": self.public_url,
        }))?;
        self.webhooks
            .post(&hook.url, &hook.secret, &key, body, now)
            .await
    }
}
