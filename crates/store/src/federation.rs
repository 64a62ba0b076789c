//! Pinned peers, and the organizations this node hosts as its descriptor
//! lists them.

use chrono::{DateTime, Utc};
use edufed_domain::calendar::Activity;
use edufed_domain::changes::{Actor, ChangeEntry, EntityKind, NewChange, Operation};
use edufed_domain::federation::{
    ActivityFilter, Error, HostedOrg, NodeDescriptor, Peer, Subscription,
};
use edufed_domain::ids::{ActivityId, OrgId};
use serde::Serialize;
use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::Store;
use crate::error::{Constraint, on, storage};
use crate::sql::{instant, micros, optional_instant, signed, unsigned};
use crate::tx::WriteTx;

#[derive(Serialize)]
struct PeerPayload<'a> {
    node_id: &'a str,
    name: &'a str,
    url: &'a str,
    public_key: String,
    organizations: &'a [HostedOrg],
}

fn payload(d: &NodeDescriptor) -> PeerPayload<'_> {
    PeerPayload {
        node_id: &d.node_id,
        name: &d.name,
        url: &d.url,
        public_key: hex::encode(d.public_key),
        organizations: &d.organizations,
    }
}

impl Store {
    /// The organizations this node hosts, by slug.
    #[tracing::instrument(name = "store.federation.hosted", skip(self))]
    pub async fn hosted_organizations(&self) -> Result<Vec<HostedOrg>, Error> {
        let rows = sqlx::query(
            "SELECT id, slug, full_name, kind, short_name, city, time_zone FROM organizations \
             WHERE home_node IS NULL ORDER BY slug",
        )
        .fetch_all(self.reader())
        .await
        .map_err(storage)?;
        rows.iter()
            .map(|row| -> Result<HostedOrg, Error> {
                let text = |c: &str| row.try_get::<String, _>(c).map_err(storage);
                Ok(HostedOrg {
                    id: OrgId::from_stored(text("id")?),
                    slug: text("slug")?,
                    full_name: text("full_name")?,
                    kind: text("kind")?,
                    short_name: text("short_name")?,
                    city: text("city")?,
                    time_zone: text("time_zone")?,
                })
            })
            .collect()
    }

    /// Pins a peer whose descriptor was checked.
    #[tracing::instrument(name = "store.federation.add_peer", skip_all, fields(peer = %descriptor.node_id))]
    pub async fn add_peer(&self, descriptor: NodeDescriptor, actor: &Actor) -> Result<Peer, Error> {
        let at = self.clock().now();
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO peers (node_id, name, url, public_key, organizations, added_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(descriptor.node_id.clone())
        .bind(descriptor.name.clone())
        .bind(descriptor.url.clone())
        .bind(hex::encode(descriptor.public_key))
        .bind(serde_json::to_string(&descriptor.organizations).map_err(edufed_domain::StorageError::new)?)
        .bind(micros(at))
        .execute(tx.conn())
        .await
        .map_err(on(Constraint::Peer, || {
            Error::AlreadyPinned(descriptor.node_id.clone())
        }))?;
        know_peer_organizations(&mut tx, &descriptor, at).await?;
        tx.append(NewChange::upsert(
            EntityKind::Peer,
            descriptor.node_id.clone(),
            1,
            None,
            &payload(&descriptor),
            actor,
        ))
        .await?;
        tx.commit().await?;
        Ok(Peer {
            descriptor,
            added_at: at,
        })
    }

    /// Takes a pinned peer's freshly proved descriptor: its name and the
    /// organizations it hosts. The key and the URL stay as pinned.
    #[tracing::instrument(name = "store.federation.refresh_peer", skip_all, fields(peer = %descriptor.node_id))]
    pub async fn refresh_peer(&self, descriptor: &NodeDescriptor) -> Result<Peer, Error> {
        let at = self.clock().now();
        let mut tx = self.write_tx().await?;
        let updated = sqlx::query(
            "UPDATE peers SET name = $1, organizations = $2, updated_at = $3 \
             WHERE node_id = $4 AND public_key = $5",
        )
        .bind(descriptor.name.clone())
        .bind(
            serde_json::to_string(&descriptor.organizations)
                .map_err(edufed_domain::StorageError::new)?,
        )
        .bind(micros(at))
        .bind(descriptor.node_id.clone())
        .bind(hex::encode(descriptor.public_key))
        .execute(tx.conn())
        .await
        .map_err(storage)?
        .rows_affected();
        if updated == 0 {
            return Err(Error::NotFound(descriptor.node_id.clone()));
        }
        know_peer_organizations(&mut tx, descriptor, at).await?;
        tx.commit().await?;
        self.get_peer(&descriptor.node_id).await
    }

    /// Reserves the idempotency `key` of a write `node_id` forwards, for the
    /// request with `fingerprint`; or says what became of it. A reservation
    /// left without an answer for ten minutes (its node stopped mid-write)
    /// may be taken over.
    pub async fn reserve_forwarded(
        &self,
        node_id: &str,
        key: &str,
        fingerprint: &str,
    ) -> Result<Reservation, Error> {
        let at = self.clock().now();
        let inserted = sqlx::query(
            "INSERT INTO forwarded_writes (node_id, idem_key, method, response, created_at) \
             VALUES ($1, $2, $3, '', $4) ON CONFLICT (node_id, idem_key) DO NOTHING",
        )
        .bind(node_id.to_owned())
        .bind(key.to_owned())
        .bind(fingerprint.to_owned())
        .bind(micros(at))
        .execute(self.writer())
        .await
        .map_err(storage)?
        .rows_affected();
        if inserted == 1 {
            return Ok(Reservation::Reserved);
        }
        let row = sqlx::query(
            "SELECT method, response, created_at FROM forwarded_writes \
             WHERE node_id = $1 AND idem_key = $2",
        )
        .bind(node_id.to_owned())
        .bind(key.to_owned())
        .fetch_one(self.writer())
        .await
        .map_err(storage)?;
        let request: String = row.try_get("method").map_err(storage)?;
        let response: String = row.try_get("response").map_err(storage)?;
        let since: i64 = row.try_get("created_at").map_err(storage)?;
        if !response.is_empty() {
            return Ok(Reservation::Answered {
                request,
                response: hex::decode(response).map_err(edufed_domain::StorageError::new)?,
            });
        }
        let abandoned = micros(at) - since > 10 * 60 * 1_000_000;
        if abandoned && request == fingerprint {
            let taken = sqlx::query(
                "UPDATE forwarded_writes SET created_at = $1 WHERE node_id = $2 AND idem_key = $3 \
                 AND response = '' AND created_at = $4",
            )
            .bind(micros(at))
            .bind(node_id.to_owned())
            .bind(key.to_owned())
            .bind(since)
            .execute(self.writer())
            .await
            .map_err(storage)?
            .rows_affected();
            if taken == 1 {
                return Ok(Reservation::Reserved);
            }
        }
        Ok(Reservation::InProgress { request })
    }

    /// Keeps the answer to the reserved write `key` of `node_id`.
    pub async fn record_forwarded(
        &self,
        node_id: &str,
        key: &str,
        response: &[u8],
    ) -> Result<(), Error> {
        sqlx::query(
            "UPDATE forwarded_writes SET response = $1 WHERE node_id = $2 AND idem_key = $3",
        )
        .bind(hex::encode(response))
        .bind(node_id.to_owned())
        .bind(key.to_owned())
        .execute(self.writer())
        .await
        .map_err(storage)?;
        Ok(())
    }

    /// Frees the reserved key of a write that failed, for a retry to run.
    pub async fn release_forwarded(&self, node_id: &str, key: &str) -> Result<(), Error> {
        sqlx::query(
            "DELETE FROM forwarded_writes WHERE node_id = $1 AND idem_key = $2 AND response = ''",
        )
        .bind(node_id.to_owned())
        .bind(key.to_owned())
        .execute(self.writer())
        .await
        .map_err(storage)?;
        Ok(())
    }

    /// The mirrored record of `kind` and `id`, if this node mirrors it and
    /// does not hold a record of its own with that id. Two peers publishing
    /// one id is refused as ambiguous.
    pub async fn get_mirror(&self, kind: EntityKind, id: &str) -> Result<Option<Mirror>, Error> {
        if self.owns_record(kind, id).await? {
            return Ok(None);
        }
        let rows = sqlx::query(
            "SELECT origin, entity_kind, entity_id, version, operation, org_id, payload, seq, \
             created_at, actor, signature FROM mirrors WHERE entity_kind = $1 AND entity_id = $2 \
             ORDER BY origin LIMIT 2",
        )
        .bind(kind.as_str())
        .bind(id.to_owned())
        .fetch_all(self.reader())
        .await
        .map_err(storage)?;
        let mut found = rows.iter().map(mirror_from_row);
        let first = found.next().transpose()?;
        if let Some(second) = found.next().transpose()? {
            let first = first
                .as_ref()
                .map(|m| m.origin.as_str())
                .unwrap_or_default();
            tracing::warn!(%id, kind = kind.as_str(), %first, second = %second.origin, "two peers publish one id");
            return Err(Error::Ambiguous(format!(
                "peers {first} and {} both publish {} {id}; neither is trusted with it",
                second.origin,
                kind.as_str()
            )));
        }
        Ok(first)
    }

    /// The mirrored records of `kind` that `origin` published for `org`.
    pub async fn mirrors_of_org(
        &self,
        origin: &str,
        kind: EntityKind,
        org: &OrgId,
    ) -> Result<Vec<Mirror>, Error> {
        let rows = sqlx::query(
            "SELECT origin, entity_kind, entity_id, version, operation, org_id, payload, seq, \
             created_at, actor, signature FROM mirrors WHERE origin = $1 AND entity_kind = $2 \
             AND org_id = $3 ORDER BY entity_id",
        )
        .bind(origin.to_owned())
        .bind(kind.as_str())
        .bind(org.to_string())
        .fetch_all(self.reader())
        .await
        .map_err(storage)?;
        rows.iter().map(mirror_from_row).collect()
    }

    /// The mirrored record of `kind` and `id` that `origin` published.
    pub async fn get_mirror_of(
        &self,
        origin: &str,
        kind: EntityKind,
        id: &str,
    ) -> Result<Option<Mirror>, Error> {
        let row = sqlx::query(
            "SELECT origin, entity_kind, entity_id, version, operation, org_id, payload, seq, \
             created_at, actor, signature FROM mirrors WHERE origin = $1 AND entity_kind = $2 \
             AND entity_id = $3",
        )
        .bind(origin.to_owned())
        .bind(kind.as_str())
        .bind(id.to_owned())
        .fetch_optional(self.reader())
        .await
        .map_err(storage)?;
        row.as_ref().map(mirror_from_row).transpose()
    }

    /// Whether this node holds a record of its own of `kind` with `id`.
    async fn owns_record(&self, kind: EntityKind, id: &str) -> Result<bool, Error> {
        let table = match kind {
            EntityKind::Activity => "activities",
            EntityKind::Resource | EntityKind::ResourceBusy => "resources",
            EntityKind::Agreement => "agreements",
            EntityKind::Registration => "registrations",
            EntityKind::Booking => "bookings",
            _ => return Ok(false),
        };
        let found: Option<String> =
            sqlx::query_scalar(&format!("SELECT id FROM {table} WHERE id = $1"))
                .bind(id.to_owned())
                .fetch_optional(self.reader())
                .await
                .map_err(storage)?;
        Ok(found.is_some())
    }

    /// The records of `origin` this node mirrors that may be relayed to
    /// any peer (all of them were shared with the whole network), after the
    /// origin's sequence `after`, in that order.
    pub async fn relayable_mirrors(
        &self,
        origin: &str,
        after: u64,
        limit: u32,
    ) -> Result<Vec<Mirror>, Error> {
        let kinds = RELAYED
            .iter()
            .map(|k| format!("'{}'", k.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        let rows = sqlx::query(&format!(
            "SELECT origin, entity_kind, entity_id, version, operation, org_id, payload, seq, \
             created_at, actor, signature FROM mirrors WHERE origin = $1 AND seq > $2 \
             AND entity_kind IN ({kinds}) ORDER BY seq LIMIT $3"
        ))
        .bind(origin.to_owned())
        .bind(signed(after))
        .bind(i64::from(limit))
        .fetch_all(self.reader())
        .await
        .map_err(storage)?;
        rows.iter().map(mirror_from_row).collect()
    }

    /// The pinned peers, by node id.
    #[tracing::instrument(name = "store.federation.list_peers", skip(self))]
    pub async fn list_peers(&self) -> Result<Vec<Peer>, Error> {
        let rows = sqlx::query(
            "SELECT node_id, name, url, public_key, organizations, added_at FROM peers ORDER BY node_id",
        )
        .fetch_all(self.reader())
        .await
        .map_err(storage)?;
        rows.iter().map(peer_from_row).collect()
    }

    /// One pinned peer.
    #[tracing::instrument(name = "store.federation.get_peer", skip(self))]
    pub async fn get_peer(&self, node_id: &str) -> Result<Peer, Error> {
        let row = sqlx::query(
            "SELECT node_id, name, url, public_key, organizations, added_at FROM peers WHERE node_id = $1",
        )
        .bind(node_id.to_owned())
        .fetch_optional(self.reader())
        .await
        .map_err(storage)?
        .ok_or_else(|| Error::NotFound(node_id.to_owned()))?;
        peer_from_row(&row)
    }

    /// Unpins a peer.
    #[tracing::instrument(name = "store.federation.remove_peer", skip(self, actor))]
    pub async fn remove_peer(&self, node_id: &str, actor: &Actor) -> Result<(), Error> {
        let mut tx = self.write_tx().await?;
        let removed = sqlx::query("DELETE FROM peers WHERE node_id = $1")
            .bind(node_id.to_owned())
            .execute(tx.conn())
            .await
            .map_err(storage)?
            .rows_affected();
        if removed == 0 {
            return Err(Error::NotFound(node_id.to_owned()));
        }
        sqlx::query("DELETE FROM subscriptions WHERE peer_id = $1 OR via = $1")
            .bind(node_id.to_owned())
            .execute(tx.conn())
            .await
            .map_err(storage)?;
        tx.append(NewChange::delete(
            EntityKind::Peer,
            node_id.to_owned(),
            1,
            None,
            &serde_json::json!({ "node_id": node_id }),
            actor,
        ))
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// What became of an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// It is this call's to run.
    Reserved,
    /// A call with it is running (`request` is its fingerprint).
    InProgress {
        /// The fingerprint of the request it was reserved for.
        request: String,
    },
    /// It was answered.
    Answered {
        /// The fingerprint of the request it answered.
        request: String,
        /// The answer, encoded.
        response: Vec<u8>,
    },
}

/// The kinds a node relays from its mirrors: every entry of them it
/// receives was shared with the whole network.
pub const RELAYED: [EntityKind; 4] = [
    EntityKind::Activity,
    EntityKind::ActivitySeats,
    EntityKind::Resource,
    EntityKind::ResourceBusy,
];

/// A mirrored record: the latest signed entry a peer published for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mirror {
    /// The node that owns the record.
    pub origin: String,
    /// The entry, as the origin published it.
    pub entry: ChangeEntry,
    /// The origin's signature of the entry.
    pub signature: Vec<u8>,
}

impl Mirror {
    /// The record as the origin published it.
    pub fn decode<T: serde::de::DeserializeOwned>(&self) -> Result<T, edufed_domain::StorageError> {
        crate::sql::from_json(&self.entry.payload)
    }
}

const SUBSCRIPTION_COLUMNS: &str = "peer_id, kinds, cursor, latest_seen, connected, last_error, last_contact, created_at, via, \
     activity_filter";

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
                        return Err(edufed_domain::FieldError::new(
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
        let kinds_json = serde_json::to_string(kinds).map_err(edufed_domain::StorageError::new)?;
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
            Some(serde_json::to_string(filter).map_err(edufed_domain::StorageError::new)?)
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

    /// One subscription.
    pub async fn get_subscription(&self, peer_id: &str) -> Result<Subscription, Error> {
        let row = sqlx::query(&format!(
            "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE peer_id = $1"
        ))
        .bind(peer_id.to_owned())
        .fetch_optional(self.reader())
        .await
        .map_err(storage)?
        .ok_or_else(|| Error::NoSubscription(peer_id.to_owned()))?;
        subscription_from_row(&row)
    }

    /// Every subscription, by peer.
    pub async fn list_subscriptions(&self) -> Result<Vec<Subscription>, Error> {
        let rows = sqlx::query(&format!(
            "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions ORDER BY peer_id"
        ))
        .fetch_all(self.reader())
        .await
        .map_err(storage)?;
        rows.iter().map(subscription_from_row).collect()
    }

    /// Applies one verified entry from `origin`: the mirror keeps the newest
    /// entry per record, and the subscription's cursor moves to it, in one
    /// transaction, so a crash anywhere neither loses nor repeats an effect.
    #[tracing::instrument(name = "store.federation.apply", skip_all, fields(origin, seq = entry.sequence))]
    pub async fn apply_mirrored(
        &self,
        origin: &str,
        entry: &ChangeEntry,
        signature: &[u8],
    ) -> Result<(), Error> {
        let mut tx = self.write_tx().await?;
        // A record an origin publishes must belong to an organization it
        // hosts; anything else is not kept (nor relayed), only passed over.
        let owned = matches!(
            entry.kind,
            EntityKind::Activity
                | EntityKind::ActivitySeats
                | EntityKind::Registration
                | EntityKind::Resource
                | EntityKind::ResourceBusy
                | EntityKind::Booking
                | EntityKind::Agreement
        );
        let accepted = match &entry.org_id {
            _ if !owned => true,
            Some(org) => origin_hosts(&mut tx, origin, org).await?,
            None => false,
        };
        if !accepted {
            tracing::warn!(%origin, kind = entry.kind.as_str(), id = %entry.entity_id, "entry for an organization its origin does not host; not kept");
        }
        let newer = accepted
            && sqlx::query(
            "INSERT INTO mirrors (origin, entity_kind, entity_id, version, operation, org_id, payload, seq, \
             created_at, actor, signature) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (origin, entity_kind, entity_id) DO UPDATE SET version = excluded.version, \
             operation = excluded.operation, org_id = excluded.org_id, payload = excluded.payload, \
             seq = excluded.seq, created_at = excluded.created_at, actor = excluded.actor, \
             signature = excluded.signature WHERE mirrors.seq < excluded.seq",
        )
        .bind(origin.to_owned())
        .bind(entry.kind.as_str())
        .bind(entry.entity_id.clone())
        .bind(signed(entry.version))
        .bind(entry.operation.as_str())
        .bind(entry.org_id.as_ref().map(|o| o.to_string()))
        .bind(entry.payload.clone())
        .bind(signed(entry.sequence))
        .bind(micros(entry.created_at))
        .bind(entry.actor.clone())
        .bind(hex::encode(signature))
        .execute(tx.conn())
        .await
        .map_err(storage)?
        .rows_affected()
            > 0;
        if newer {
            materialize(&mut tx, origin, entry).await?;
        }
        sqlx::query(
            "UPDATE subscriptions SET cursor = $1, connected = 1, last_error = NULL, last_contact = $2, \
             updated_at = $2 WHERE peer_id = $3 AND cursor < $1",
        )
        .bind(signed(entry.sequence))
        .bind(micros(self.clock().now()))
        .bind(origin.to_owned())
        .execute(tx.conn())
        .await
        .map_err(storage)?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a heartbeat from a peer: every entry up to `latest` that this
    /// node may see has arrived, so the cursor may move there.
    pub async fn note_heartbeat(&self, peer_id: &str, latest: u64) -> Result<(), Error> {
        let at = micros(self.clock().now());
        sqlx::query(
            "UPDATE subscriptions SET latest_seen = $1, cursor = CASE WHEN cursor < $1 THEN $1 ELSE cursor END, \
             connected = 1, last_error = NULL, last_contact = $2, updated_at = $2 WHERE peer_id = $3",
        )
        .bind(signed(latest))
        .bind(at)
        .bind(peer_id.to_owned())
        .execute(self.writer())
        .await
        .map_err(storage)?;
        Ok(())
    }

    /// Ends a resync from `origin`'s snapshot: the mirrors of its records
    /// the snapshot did not hold (they were deleted, or are no longer shown
    /// to this node) are dropped, with their calendar copies, and the cursor
    /// is set to where the snapshot ended, even below where it was (a peer
    /// restored from a backup). Returns how many mirrors were dropped.
    pub async fn finish_snapshot(
        &self,
        origin: &str,
        seen: &std::collections::HashSet<(EntityKind, String)>,
        latest: u64,
    ) -> Result<u64, Error> {
        let mut tx = self.write_tx().await?;
        let rows = sqlx::query("SELECT entity_kind, entity_id FROM mirrors WHERE origin = $1")
            .bind(origin.to_owned())
            .fetch_all(tx.conn())
            .await
            .map_err(storage)?;
        let mut dropped = 0;
        for row in &rows {
            let kind: String = row.try_get("entity_kind").map_err(storage)?;
            let id: String = row.try_get("entity_id").map_err(storage)?;
            let Ok(kind) = EntityKind::parse("entity_kind", &kind) else {
                continue;
            };
            if seen.contains(&(kind, id.clone())) {
                continue;
            }
            sqlx::query(
                "DELETE FROM mirrors WHERE origin = $1 AND entity_kind = $2 AND entity_id = $3",
            )
            .bind(origin.to_owned())
            .bind(kind.as_str())
            .bind(id.clone())
            .execute(tx.conn())
            .await
            .map_err(storage)?;
            if kind == EntityKind::Activity {
                crate::calendar::forget_mirrored_activity(
                    &mut tx,
                    origin,
                    &ActivityId::from_stored(id),
                )
                .await?;
            }
            dropped += 1;
        }
        let at = micros(self.clock().now());
        sqlx::query(
            "UPDATE subscriptions SET cursor = $1, latest_seen = $1, connected = 1, last_error = NULL, \
             last_contact = $2, updated_at = $2 WHERE peer_id = $3",
        )
        .bind(signed(latest))
        .bind(at)
        .bind(origin.to_owned())
        .execute(tx.conn())
        .await
        .map_err(storage)?;
        tx.commit().await?;
        Ok(dropped)
    }

    /// Records that the link to a peer is down, and why.
    pub async fn note_link_down(&self, peer_id: &str, error: &str) -> Result<(), Error> {
        let message: String = error.chars().take(500).collect();
        sqlx::query(
            "UPDATE subscriptions SET connected = 0, last_error = $1, updated_at = $2 WHERE peer_id = $3",
        )
        .bind(message)
        .bind(micros(self.clock().now()))
        .bind(peer_id.to_owned())
        .execute(self.writer())
        .await
        .map_err(storage)?;
        Ok(())
    }

    /// The mirrored records of `origin` (every origin when `None`), by kind and id.
    pub async fn list_mirrors(&self, origin: Option<&str>) -> Result<Vec<Mirror>, Error> {
        let rows = sqlx::query(
            "SELECT origin, entity_kind, entity_id, version, operation, org_id, payload, seq, created_at, \
             actor, signature FROM mirrors WHERE ($1 = '' OR origin = $1) ORDER BY entity_kind, entity_id",
        )
        .bind(origin.unwrap_or_default().to_owned())
        .fetch_all(self.reader())
        .await
        .map_err(storage)?;
        rows.iter().map(mirror_from_row).collect()
    }
}

fn mirror_from_row(row: &AnyRow) -> Result<Mirror, Error> {
    let text = |c: &str| row.try_get::<String, _>(c).map_err(storage);
    let int = |c: &str| row.try_get::<i64, _>(c).map_err(storage);
    let bad = |e: edufed_domain::FieldError| edufed_domain::StorageError::new(e);
    Ok(Mirror {
        origin: text("origin")?,
        entry: ChangeEntry {
            sequence: unsigned(int("seq")?)?,
            kind: EntityKind::parse("entity_kind", &text("entity_kind")?).map_err(bad)?,
            entity_id: text("entity_id")?,
            version: unsigned(int("version")?)?,
            operation: edufed_domain::changes::Operation::parse("operation", &text("operation")?)
                .map_err(bad)?,
            org_id: row
                .try_get::<Option<String>, _>("org_id")
                .map_err(storage)?
                .map(OrgId::from_stored),
            payload: text("payload")?,
            created_at: instant(int("created_at")?)?,
            actor: text("actor")?,
        },
        signature: hex::decode(text("signature")?).map_err(edufed_domain::StorageError::new)?,
    })
}

/// Keeps the queryable copies of a mirrored record in step with its newest
/// entry: activities and their seats feed the calendar's finding queries.
/// An entry whose payload this node cannot read is kept as a mirror only.
async fn materialize(tx: &mut WriteTx<'_>, origin: &str, entry: &ChangeEntry) -> Result<(), Error> {
    let id = ActivityId::from_stored(entry.entity_id.clone());
    match (entry.kind, entry.operation) {
        (EntityKind::Activity, Operation::Upsert) => {
            let activity = match serde_json::from_str::<Activity>(&entry.payload) {
                Ok(activity) => activity,
                Err(error) => {
                    tracing::warn!(%origin, id = %entry.entity_id, %error, "mirrored activity unreadable");
                    return Ok(());
                }
            };
            // The signed entry names the record and its organization; the
            // payload must agree, and the organization be one the origin hosts.
            let hosted = origin_hosts(tx, origin, &activity.publisher).await?;
            let consistent =
                activity.id == id && entry.org_id.as_ref() == Some(&activity.publisher);
            if !(hosted && consistent) {
                tracing::warn!(%origin, id = %entry.entity_id, "mirrored activity does not match its entry or origin; ignored");
                return Ok(());
            }
            // The subscription's filter decides what joins the calendar.
            let filter: Option<String> =
                sqlx::query_scalar("SELECT activity_filter FROM subscriptions WHERE peer_id = $1")
                    .bind(origin.to_owned())
                    .fetch_optional(tx.conn())
                    .await
                    .map_err(storage)?
                    .flatten();
            let wanted = filter
                .and_then(|json| serde_json::from_str::<ActivityFilter>(&json).ok())
                .is_none_or(|filter| filter.admits(&activity));
            let shared = activity.status != edufed_domain::calendar::ActivityStatus::Draft
                && activity.details.visibility != edufed_domain::calendar::Visibility::Organization
                && wanted;
            if !shared {
                crate::calendar::forget_mirrored_activity(tx, origin, &id).await?;
                return Ok(());
            }
            match crate::calendar::mirror_activity(tx, origin, &activity).await {
                Ok(()) => {
                    // Its seat counts may have arrived first (a snapshot or a
                    // relay sends them in sequence order): apply them now.
                    let seats: Option<String> = sqlx::query_scalar(
                        "SELECT payload FROM mirrors WHERE origin = $1 \
                         AND entity_kind = 'activity_seats' AND entity_id = $2",
                    )
                    .bind(origin.to_owned())
                    .bind(entry.entity_id.clone())
                    .fetch_optional(tx.conn())
                    .await
                    .map_err(storage)?;
                    if let Some(seats) = seats.and_then(|s| serde_json::from_str(&s).ok()) {
                        crate::calendar::mirror_seats(tx, origin, &seats).await?;
                    }
                }
                Err(edufed_domain::calendar::Error::Storage(e)) => return Err(Error::Storage(e)),
                // A schedule this node cannot expand (a rule or zone it does
                // not know) must not stall the subscription.
                Err(other) => {
                    tracing::warn!(%origin, id = %entry.entity_id, error = %other, "mirrored activity not materialized");
                    crate::calendar::forget_mirrored_activity(tx, origin, &id).await?;
                }
            }
        }
        (EntityKind::Activity, Operation::Delete) => {
            crate::calendar::forget_mirrored_activity(tx, origin, &id).await?;
        }
        (EntityKind::ActivitySeats, Operation::Upsert) => {
            if let Ok(seats) = serde_json::from_str(&entry.payload) {
                crate::calendar::mirror_seats(tx, origin, &seats).await?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Keeps the organizations a peer's descriptor lists as organizations of
/// this node's directory marked with their home node, so that records here
/// (a registration, a booking, an agreement's party) can name them. Their
/// profile follows the descriptor; a slug this node already uses gets the
/// peer's id as a suffix.
async fn know_peer_organizations(
    tx: &mut WriteTx<'_>,
    descriptor: &NodeDescriptor,
    at: DateTime<Utc>,
) -> Result<(), Error> {
    use edufed_domain::directory::{Contacts, OrgKind, Organization, Slug};
    use edufed_domain::time::TimeZone;
    for hosted in &descriptor.organizations {
        let taken: Option<String> =
            sqlx::query_scalar("SELECT id FROM organizations WHERE slug = $1 AND id <> $2")
                .bind(hosted.slug.clone())
                .bind(hosted.id.to_string())
                .fetch_optional(tx.conn())
                .await
                .map_err(storage)?;
        let slug = match taken {
            None => hosted.slug.clone(),
            Some(_) => {
                let base: String = hosted.slug.chars().take(50).collect();
                format!(
                    "{}-{}",
                    base.trim_end_matches('-'),
                    &descriptor.node_id[..8]
                )
            }
        };
        let org = Organization {
            id: hosted.id.clone(),
            slug: Slug::from_stored(slug),
            kind: OrgKind::parse("kind", &hosted.kind).unwrap_or(OrgKind::Other),
            full_name: hosted.full_name.clone(),
            short_name: hosted.short_name.clone(),
            city: hosted.city.clone(),
            time_zone: TimeZone::parse("time_zone", &hosted.time_zone)
                .or_else(|_| TimeZone::parse("time_zone", "UTC"))
                .map_err(edufed_domain::StorageError::new)?,
            contacts: Contacts::default(),
            inn: None,
            version: 1,
            created_at: at,
            updated_at: at,
            home_node: Some(descriptor.node_id.clone()),
        };
        let updated = sqlx::query(
            "UPDATE organizations SET slug = $1, kind = $2, full_name = $3, short_name = $4, \
             city = $5, city_folded = $6, time_zone = $7, search_text = $8, \
             version = version + 1, updated_at = $9, home_node = $11 \
             WHERE id = $10 AND home_node IS NOT NULL",
        )
        .bind(org.slug.to_string())
        .bind(org.kind.as_str())
        .bind(org.full_name.clone())
        .bind(org.short_name.clone())
        .bind(org.city.clone())
        .bind(edufed_domain::text::fold(&org.city))
        .bind(org.time_zone.name())
        .bind(org.search_text())
        .bind(micros(at))
        .bind(org.id.to_string())
        .bind(descriptor.node_id.clone())
        .execute(tx.conn())
        .await
        .map_err(storage)?
        .rows_affected();
        if updated > 0 {
            continue;
        }
        sqlx::query(
            "INSERT INTO organizations (id, slug, kind, full_name, short_name, city, city_folded, \
             time_zone, contacts, inn, search_text, version, created_at, updated_at, home_node) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, $10, 1, $11, $11, $12)",
        )
        .bind(org.id.to_string())
        .bind(org.slug.to_string())
        .bind(org.kind.as_str())
        .bind(org.full_name.clone())
        .bind(org.short_name.clone())
        .bind(org.city.clone())
        .bind(edufed_domain::text::fold(&org.city))
        .bind(org.time_zone.name())
        .bind(serde_json::to_string(&org.contacts).map_err(edufed_domain::StorageError::new)?)
        .bind(org.search_text())
        .bind(micros(at))
        .bind(descriptor.node_id.clone())
        .execute(tx.conn())
        .await
        .map_err(storage)?;
    }
    Ok(())
}

/// Whether the pinned peer `origin` hosts `org`.
async fn origin_hosts(tx: &mut WriteTx<'_>, origin: &str, org: &OrgId) -> Result<bool, Error> {
    let orgs: Option<String> =
        sqlx::query_scalar("SELECT organizations FROM peers WHERE node_id = $1")
            .bind(origin.to_owned())
            .fetch_optional(tx.conn())
            .await
            .map_err(storage)?;
    let hosted: Vec<HostedOrg> = match orgs {
        Some(json) => serde_json::from_str(&json).map_err(edufed_domain::StorageError::new)?,
        // An origin followed through a relay, not pinned: its signed entry
        // says which organization publishes; that holds unless the
        // organization is this node's own or a pinned peer's.
        None => {
            let home: Option<Option<String>> =
                sqlx::query_scalar("SELECT home_node FROM organizations WHERE id = $1")
                    .bind(org.to_string())
                    .fetch_optional(tx.conn())
                    .await
                    .map_err(storage)?;
            return Ok(match home {
                None => true,
                Some(home) => home.as_deref() == Some(origin),
            });
        }
    };
    Ok(hosted.iter().any(|h| &h.id == org))
}

fn subscription_from_row(row: &AnyRow) -> Result<Subscription, Error> {
    let int = |c: &str| row.try_get::<i64, _>(c).map_err(storage);
    Ok(Subscription {
        peer_id: row.try_get("peer_id").map_err(storage)?,
        kinds: serde_json::from_str(&row.try_get::<String, _>("kinds").map_err(storage)?)
            .map_err(edufed_domain::StorageError::new)?,
        cursor: unsigned(int("cursor")?)?,
        latest_seen: unsigned(int("latest_seen")?)?,
        connected: int("connected")? != 0,
        last_error: row.try_get("last_error").map_err(storage)?,
        last_contact: optional_instant(row.try_get("last_contact").map_err(storage)?)?,
        created_at: instant(int("created_at")?)?,
        via: row.try_get("via").map_err(storage)?,
        filter: match row
            .try_get::<Option<String>, _>("activity_filter")
            .map_err(storage)?
        {
            Some(json) => serde_json::from_str(&json).map_err(edufed_domain::StorageError::new)?,
            None => ActivityFilter::default(),
        },
    })
}

fn peer_from_row(row: &AnyRow) -> Result<Peer, Error> {
    let text = |c: &str| row.try_get::<String, _>(c).map_err(storage);
    let bad = |what: &str| {
        edufed_domain::StorageError::new(edufed_domain::FieldError::new(what, "is malformed"))
    };
    let public_key: [u8; 32] = hex::decode(text("public_key")?)
        .ok()
        .and_then(|k| k.try_into().ok())
        .ok_or_else(|| bad("public_key"))?;
    let added_at: DateTime<Utc> = instant(row.try_get("added_at").map_err(storage)?)?;
    Ok(Peer {
        descriptor: NodeDescriptor {
            node_id: text("node_id")?,
            name: text("name")?,
            url: text("url")?,
            public_key,
            organizations: serde_json::from_str(&text("organizations")?)
                .map_err(edufed_domain::StorageError::new)?,
        },
        added_at,
    })
}
