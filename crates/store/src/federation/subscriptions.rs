//! Following peers: what is subscribed to, how far each subscription has
//! read, and whether its link is up.

use edufed_domain::FieldError;
use edufed_domain::changes::{Actor, EntityKind, NewChange};
use edufed_domain::federation::{ActivityFilter, Error, Subscription};

use super::rows::{SUBSCRIPTION_COLUMNS, SubscriptionRow};
use crate::Store;
use crate::error::{Constraint, on, storage};
use crate::sql::{decode_all, micros, signed, to_json};

impl Store {
    /// Subscribes to a pinned peer's change log, from its beginning.
    #[tracing::instrument(name = "store.federation.subscribe", skip(self, actor))]
    pub async fn subscribe(
        &self,
        peer_id: &str,
        kinds: &[EntityKind],
        via: Option<&str>,
        filter: &ActivityFilter,
        actor: &Actor,
    ) -> Result<Subscription, Error> {
        match via {
            None => {
                self.get_peer(peer_id).await?;
            }
            Some(relay) => {
                self.get_peer(relay).await?;
                match self.get_peer(peer_id).await {
                    Err(Error::NotFound(_)) => {}
                    Ok(_) => {
                        return Err(FieldError::new(
                            "via",
                            "the node is a pinned peer: follow it directly",
                        )
                        .into());
                    }
                    Err(other) => return Err(other),
                }
            }
        }
        let at = self.clock().now();
        let kinds_json = to_json(&kinds)?;
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO subscriptions (peer_id, kinds, cursor, latest_seen, connected, last_error, \
             last_contact, created_at, updated_at, via, activity_filter) \
             VALUES ($1, $2, 0, 0, 0, NULL, NULL, $3, $3, $4, $5)",
        )
        .bind(peer_id.to_owned())
        .bind(kinds_json)
        .bind(micros(at))
        .bind(via.map(str::to_owned))
        .bind(if filter.is_empty() {
            None
        } else {
            Some(to_json(filter)?)
        })
        .execute(tx.conn())
        .await
        .map_err(on(Constraint::Subscription, || {
            Error::AlreadySubscribed(peer_id.to_owned())
        }))?;
        tx.append(NewChange::upsert(
            EntityKind::Peer,
            peer_id.to_owned(),
            1,
            None,
            &serde_json::json!({ "node_id": peer_id, "subscribed": kinds, "via": via, "filter": filter }),
            actor,
        ))
        .await?;
        tx.commit().await?;
        self.get_subscription(peer_id).await
    }

    /// Ends a subscription; what was mirrored stays.
    #[tracing::instrument(name = "store.federation.unsubscribe", skip(self, actor))]
    pub async fn unsubscribe(&self, peer_id: &str, actor: &Actor) -> Result<(), Error> {
        let mut tx = self.write_tx().await?;
        let removed = sqlx::query("DELETE FROM subscriptions WHERE peer_id = $1")
            .bind(peer_id.to_owned())
            .execute(tx.conn())
            .await
            .map_err(storage)?
            .rows_affected();
        if removed == 0 {
            return Err(Error::NoSubscription(peer_id.to_owned()));
        }
        tx.append(NewChange::upsert(
            EntityKind::Peer,
            peer_id.to_owned(),
            1,
            None,
            &serde_json::json!({ "node_id": peer_id, "subscribed": null }),
            actor,
        ))
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The subscription to `peer_id`; `NoSubscription` when there is none.
    pub async fn get_subscription(&self, peer_id: &str) -> Result<Subscription, Error> {
        let row: SubscriptionRow = sqlx::query_as(&format!(
            "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE peer_id = $1"
        ))
        .bind(peer_id.to_owned())
        .fetch_optional(self.reader())
        .await
        .map_err(storage)?
        .ok_or_else(|| Error::NoSubscription(peer_id.to_owned()))?;
        Ok(row.try_into()?)
    }

    /// Every subscription, by peer.
    pub async fn list_subscriptions(&self) -> Result<Vec<Subscription>, Error> {
        let rows: Vec<SubscriptionRow> = sqlx::query_as(&format!(
            "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions ORDER BY peer_id"
        ))
        .fetch_all(self.reader())
        .await
        .map_err(storage)?;
        Ok(decode_all(rows)?)
    }

    /// Records a heartbeat from a peer: every entry up to `latest` that this
    /// node may see has arrived, so the cursor may move there.
    pub async fn note_heartbeat(&self, peer_id: &str, latest: u64) -> Result<(), Error> {
        let at = micros(self.clock().now());
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "UPDATE subscriptions SET latest_seen = $1, cursor = CASE WHEN cursor < $1 THEN $1 ELSE cursor END, \
             connected = 1, last_error = NULL, last_contact = $2, updated_at = $2 WHERE peer_id = $3",
        )
        .bind(signed(latest))
        .bind(at)
        .bind(peer_id.to_owned())
        .execute(tx.conn())
        .await
        .map_err(storage)?;
        tx.commit().await?;
        Ok(())
    }

    /// Records that the link to a peer is down, and why.
    pub async fn note_link_down(&self, peer_id: &str, error: &str) -> Result<(), Error> {
        let message: String = error.chars().take(500).collect();
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "UPDATE subscriptions SET connected = 0, last_error = $1, updated_at = $2 WHERE peer_id = $3",
        )
        .bind(message)
        .bind(micros(self.clock().now()))
        .bind(peer_id.to_owned())
        .execute(tx.conn())
        .await
        .map_err(storage)?;
        tx.commit().await?;
        Ok(())
    }
}
