//! Pinned peers, and the organizations this node hosts as its descriptor
//! lists them.

use chrono::{DateTime, Utc};
use edufed_domain::changes::{Actor, EntityKind, NewChange};
use edufed_domain::federation::{Error, HostedOrg, NodeDescriptor, Peer};
use edufed_domain::ids::OrgId;
use serde::Serialize;
use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::Store;
use crate::db::{instant, micros};
use crate::error::{DbFailure, storage};

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
        let rows = sqlx::query("SELECT id, slug, full_name FROM organizations ORDER BY slug")
            .fetch_all(self.reader())
            .await
            .map_err(storage)?;
        rows.iter()
            .map(|row| -> Result<HostedOrg, Error> {
                Ok(HostedOrg {
                    id: OrgId::from_stored(row.try_get("id").map_err(storage)?),
                    slug: row.try_get("slug").map_err(storage)?,
                    full_name: row.try_get("full_name").map_err(storage)?,
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
        .execute(&mut *tx.tx)
        .await
        .map_err(|e| match DbFailure::classify(e) {
            DbFailure::Unique(_) => Error::AlreadyPinned(descriptor.node_id.clone()),
            other => other.into_storage().into(),
        })?;
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
            .execute(&mut *tx.tx)
            .await
            .map_err(storage)?
            .rows_affected();
        if removed == 0 {
            return Err(Error::NotFound(node_id.to_owned()));
        }
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
