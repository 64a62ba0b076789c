//! Pinned peers, and the organizations this node hosts as its descriptor
//! lists them. What is followed of each peer is in `subscriptions`, what
//! was received from it in `mirrors`, and `digest` sums up one origin's
//! records so that two nodes can compare them.

mod digest;
mod mirrors;
mod rows;
mod subscriptions;

use chrono::{DateTime, Utc};
use edufed_domain::StorageError;
use edufed_domain::changes::{Actor, EntityKind, NewChange};
use edufed_domain::federation::{Error, HostedOrg, NodeDescriptor, Peer};
use edufed_domain::ids::OrgId;
use serde::Serialize;

use self::rows::{HOSTED_COLUMNS, HostedRow, PEER_COLUMNS, PeerRow};
use crate::Store;
use crate::error::{Constraint, on, storage};
use crate::sql::{decode_all, from_json, micros, to_json};
use crate::tx::WriteTx;

pub use self::mirrors::{Mirror, RELAYED};

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
        let rows: Vec<HostedRow> = sqlx::query_as(&format!(
            "SELECT {HOSTED_COLUMNS} FROM organizations WHERE home_node IS NULL ORDER BY slug"
        ))
        .fetch_all(self.reader())
        .await
        .map_err(storage)?;
        Ok(rows.into_iter().map(HostedOrg::from).collect())
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
        .bind(to_json(&descriptor.organizations)?)
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
        .bind(to_json(&descriptor.organizations)?)
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

    /// The pinned peers, by node id.
    #[tracing::instrument(name = "store.federation.list_peers", skip(self))]
    pub async fn list_peers(&self) -> Result<Vec<Peer>, Error> {
        let rows: Vec<PeerRow> = sqlx::query_as(&format!(
            "SELECT {PEER_COLUMNS} FROM peers ORDER BY node_id"
        ))
        .fetch_all(self.reader())
        .await
        .map_err(storage)?;
        Ok(decode_all(rows)?)
    }

    /// The pinned peer `node_id`; `NotFound` when it is not pinned.
    #[tracing::instrument(name = "store.federation.get_peer", skip(self))]
    pub async fn get_peer(&self, node_id: &str) -> Result<Peer, Error> {
        let row: PeerRow = sqlx::query_as(&format!(
            "SELECT {PEER_COLUMNS} FROM peers WHERE node_id = $1"
        ))
        .bind(node_id.to_owned())
        .fetch_optional(self.reader())
        .await
        .map_err(storage)?
        .ok_or_else(|| Error::NotFound(node_id.to_owned()))?;
        Ok(row.try_into()?)
    }

    /// Unpins a peer and ends the subscriptions to it or through it; what
    /// was mirrored from it stays.
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
                .map_err(StorageError::new)?,
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
        .bind(to_json(&org.contacts)?)
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
        Some(json) => from_json(&json)?,
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
