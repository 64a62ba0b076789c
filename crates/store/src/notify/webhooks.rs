//! Organizations' webhooks: where their news is posted and the secret it
//! is signed with.

use chrono::{DateTime, Utc};
use edufed_domain::StorageError;
use edufed_domain::ids::OrgId;

use crate::Store;
use crate::error::storage;
use crate::sql::{instant, micros};

/// An organization's webhook.
#[derive(Clone, PartialEq, Eq)]
pub struct Webhook {
    pub org_id: OrgId,
    pub url: String,
    /// What its posts are signed with; shown once, when it is set.
    pub secret: String,
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("org_id", &self.org_id)
            .field("url", &self.url)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Sets `org`'s webhook to `url` with `secret`, replacing one it had.
    pub async fn set_webhook(
        &self,
        org: &OrgId,
        url: &str,
        secret: &str,
    ) -> Result<Webhook, StorageError> {
        let mut tx = self.write_tx().await?;
        let now = tx.now();
        sqlx::query(
            "INSERT INTO webhooks (org_id, url, secret, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (org_id) DO UPDATE SET url = $2, secret = $3, created_at = $4",
        )
        .bind(org.to_string())
        .bind(url)
        .bind(secret)
        .bind(micros(now))
        .execute(tx.conn())
        .await
        .map_err(storage)?;
        tx.commit().await?;
        Ok(Webhook {
            org_id: org.clone(),
            url: url.to_owned(),
            secret: secret.to_owned(),
            created_at: now,
        })
    }

    /// Removes `org`'s webhook; whether it had one.
    pub async fn remove_webhook(&self, org: &OrgId) -> Result<bool, StorageError> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("DELETE FROM webhooks WHERE org_id = $1")
            .bind(org.to_string())
            .execute(tx.conn())
            .await
            .map_err(storage)?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// `org`'s webhook, if it has one.
    pub async fn webhook(&self, org: &OrgId) -> Result<Option<Webhook>, StorageError> {
        let row: Option<(String, String, i64)> =
            sqlx::query_as("SELECT url, secret, created_at FROM webhooks WHERE org_id = $1")
                .bind(org.to_string())
                .fetch_optional(self.reader())
                .await
                .map_err(storage)?;
        row.map(|(url, secret, at)| {
            Ok(Webhook {
                org_id: org.clone(),
                url,
                secret,
                created_at: instant(at)?,
            })
        })
        .transpose()
    }
}
