//! Following peers' change logs: one task per subscription streams the
//! peer's Watch from the stored cursor, checks every entry's signature with
//! the pinned key before applying it, and applies it to the mirrors and the
//! cursor in one transaction. A broken link is retried with exponential
//! backoff and jitter; a peer that sends a badly signed entry is cut off
//! until an operator looks (the entry is never applied).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use edufed_domain::changes::{ChangeEntry, EntityKind, Operation};
use edufed_domain::ids::OrgId;
use edufed_proto::v1 as pb;
use edufed_proto::v1::change_feed_client::ChangeFeedClient;
use edufed_store::Store;
use rand::Rng as _;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{NODE_AUTH_HEADER, NODE_HEADER, NodeIdentity, PeerTls, PublicKey, credential, verify};

/// How often the supervisor looks for subscriptions added or removed.
const SUPERVISE_EVERY: Duration = Duration::from_secs(1);
/// The heartbeat asked of peers.
const HEARTBEAT_SECS: u32 = 5;

/// The delay before retry `attempt` (from 1): 0.5 s doubling to at most
/// 30 s, with up to half of it again as jitter, so that nodes cut off
/// together do not reconnect together.
pub fn backoff(attempt: u32) -> Duration {
    let base = 500u64
        .saturating_mul(1 << attempt.saturating_sub(1).min(6))
        .min(30_000);
    let jitter = rand::thread_rng().gen_range(0..=base / 2);
    Duration::from_millis(base + jitter)
}

/// Runs until `shutdown`: starts a follower for every subscription and
/// stops the followers of subscriptions that were removed.
pub async fn run(
    store: Store,
    identity: Arc<NodeIdentity>,
    tls: PeerTls,
    shutdown: CancellationToken,
) {
    let mut followers: HashMap<String, JoinHandle<()>> = HashMap::new();
    let mut tick = tokio::time::interval(SUPERVISE_EVERY);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            _ = tick.tick() => {}
        }
        let subscriptions = match store.list_subscriptions().await {
            Ok(list) => list,
            Err(error) => {
                tracing::warn!(%error, "cannot read subscriptions");
                continue;
            }
        };
        followers.retain(|peer, task| {
            let keep = !task.is_finished() && subscriptions.iter().any(|s| &s.peer_id == peer);
            if !keep {
                task.abort();
            }
            keep
        });
        for s in subscriptions {
            followers.entry(s.peer_id.clone()).or_insert_with(|| {
                tokio::spawn(follow(
                    store.clone(),
                    identity.clone(),
                    tls.clone(),
                    s.peer_id,
                    shutdown.clone(),
                ))
            });
        }
    }
    for (_, task) in followers {
        let _ = task.await;
    }
}

/// Follows one peer until shutdown or until the subscription is removed.
async fn follow(
    store: Store,
    identity: Arc<NodeIdentity>,
    tls: PeerTls,
    peer: String,
    shutdown: CancellationToken,
) {
    let mut attempt = 0;
    let mut link = Link::default();
    loop {
        let outcome = tokio::select! {
            () = shutdown.cancelled() => return,
            outcome = stream_once(&store, &identity, &tls, &peer, &mut attempt, &mut link) => outcome,
        };
        match outcome {
            Ok(()) => return,
            Err(error) => {
                attempt += 1;
                let message = format!("{error:#}");
                tracing::warn!(%peer, attempt, error = %message, "link to peer down");
                if let Err(error) = store.note_link_down(&peer, &message).await {
                    tracing::warn!(%peer, %error, "cannot record the link's state");
                }
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(backoff(attempt)) => {}
        }
    }
}

/// What one link remembers between streams.
#[derive(Debug, Default)]
struct Link {
    /// The peer no longer retains the log after this node's cursor: the next
    /// stream is a snapshot.
    resync: bool,
    /// Organizations named by entries that the peer's descriptor did not
    /// list even when fetched again: not asked about twice.
    unknown: std::collections::HashSet<OrgId>,
}

impl Link {
    /// Fetches the peer's descriptor again, so that organizations it started
    /// hosting since it was pinned are known: their records are mirrored
    /// only then. Failing to is logged, not fatal.
    async fn refresh(store: &Store, tls: &PeerTls, peer_id: &str) -> Option<Vec<OrgId>> {
        match crate::peering::refresh_peer(store, tls, peer_id).await {
            Ok(peer) => Some(
                peer.descriptor
                    .organizations
                    .into_iter()
                    .map(|o| o.id)
                    .collect(),
            ),
            Err(error) => {
                tracing::warn!(peer = %peer_id, %error, "peer descriptor not refreshed");
                None
            }
        }
    }
}

/// One stream: connect, then apply entries until the link breaks. `Ok`
/// only when there is nothing left to follow.
async fn stream_once(
    store: &Store,
    identity: &NodeIdentity,
    tls: &PeerTls,
    peer_id: &str,
    attempt: &mut u32,
    link: &mut Link,
) -> anyhow::Result<()> {
    let subscription = match store.get_subscription(peer_id).await {
        Ok(s) => s,
        Err(edufed_domain::federation::Error::NoSubscription(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    if let Some(relay) = &subscription.via {
        return relayed_once(
            store,
            identity,
            tls,
            peer_id,
            relay,
            subscription.cursor,
            attempt,
        )
        .await;
    }
    let peer = match store.get_peer(peer_id).await {
        Ok(p) => p,
        Err(edufed_domain::federation::Error::NotFound(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let key = PublicKey::from_bytes(&peer.descriptor.public_key).context("the pinned key")?;
    let mut hosted: Vec<OrgId> = match Link::refresh(store, tls, peer_id).await {
        Some(fresh) => fresh,
        None => peer
            .descriptor
            .organizations
            .iter()
            .map(|o| o.id.clone())
            .collect(),
    };
    let url = peer.descriptor.url.clone();
    let endpoint = tls.endpoint(&url).map_err(|e| anyhow!(e))?;
    let channel = endpoint
        .connect()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    let watch = |snapshot: bool| -> anyhow::Result<tonic::Request<pb::WatchRequest>> {
        let (from, auth) = credential(identity, peer_id, chrono::Utc::now().timestamp());
        let mut request = tonic::Request::new(pb::WatchRequest {
            after_sequence: subscription.cursor,
            entity_kinds: subscription
                .kinds
                .iter()
                .map(|k| k.as_str().to_owned())
                .collect(),
            heartbeat_seconds: HEARTBEAT_SECS,
            snapshot,
        });
        request.metadata_mut().insert(NODE_HEADER, from.parse()?);
        request
            .metadata_mut()
            .insert(NODE_AUTH_HEADER, auth.parse()?);
        Ok(request)
    };
    let mut client = ChangeFeedClient::new(channel);
    let refused = |status: tonic::Status| anyhow!("{url} refused the stream: {}", status.message());
    let mut stream = match client.watch(watch(link.resync)?).await {
        Ok(stream) => stream,
        // The peer compacted its log past this node's cursor: read its
        // snapshot (every record's latest entry), then follow on.
        Err(status) if status.code() == tonic::Code::OutOfRange => {
            tracing::warn!(peer = %peer_id, cursor = subscription.cursor, "cursor expired at the peer; resyncing from its snapshot");
            link.resync = true;
            client.watch(watch(true)?).await.map_err(refused)?
        }
        Err(status) => return Err(refused(status)),
    }
    .into_inner();
    tracing::info!(peer = %peer_id, cursor = subscription.cursor, snapshot = link.resync, "following peer");
    // Reading a snapshot: the records it holds, until its first heartbeat
    // marks its end; mirrors of the peer's records it lacks are then gone.
    // Until then `link.resync` stays set, so a broken link reads it again.
    let mut snapshot: Option<std::collections::HashSet<(EntityKind, String)>> =
        link.resync.then(std::collections::HashSet::new);
    // Heartbeats come every few seconds: silence for three of them means the
    // link is gone even if no reset ever arrives.
    let silence = Duration::from_secs(u64::from(HEARTBEAT_SECS) * 3 + 5);
    while let Some(message) = tokio::time::timeout(silence, stream.message())
        .await
        .map_err(|_| anyhow!("{url} fell silent for {} s", silence.as_secs()))?
        .map_err(|status| {
            // Compacted while this node was reading: resync on the next stream.
            link.resync |= status.code() == tonic::Code::OutOfRange;
            anyhow!("the stream from {url} ended: {}", status.message())
        })?
    {
        *attempt = 0;
        match message.event {
            Some(pb::watch_response::Event::Entry(entry)) if unknown_kind(&entry) => {
                // A kind a newer peer publishes: passed over, not a stall.
                tracing::debug!(peer = %peer_id, kind = %entry.entity_kind, "entry of an unknown kind skipped");
            }
            Some(pb::watch_response::Event::Entry(entry)) => {
                let (entry, signature) = checked(entry, peer_id, &key)?;
                // An organization the pinned descriptor does not list may be
                // new there: learn it before applying, or retry the link
                // (its records would not be mirrored, and never revisited).
                if let Some(org) = &entry.org_id
                    && !hosted.contains(org)
                    && !link.unknown.contains(org)
                {
                    hosted = Link::refresh(store, tls, peer_id).await.ok_or_else(|| {
                        anyhow!(
                            "cannot fetch the descriptor of {peer_id} to learn organization {org}"
                        )
                    })?;
                    if !hosted.contains(org) {
                        link.unknown.insert(org.clone());
                    }
                }
                if let Some(seen) = &mut snapshot {
                    seen.insert((entry.kind, entry.entity_id.clone()));
                }
                store.apply_mirrored(peer_id, &entry, &signature).await?;
            }
            Some(pb::watch_response::Event::Heartbeat(h)) => match snapshot.take() {
                Some(seen) => {
                    let dropped = store
                        .finish_snapshot(peer_id, &seen, h.latest_sequence)
                        .await?;
                    link.resync = false;
                    tracing::info!(peer = %peer_id, records = seen.len(), dropped, "resynced from the peer's snapshot");
                }
                None => store.note_heartbeat(peer_id, h.latest_sequence).await?,
            },
            None => {}
        }
    }
    bail!("{url} closed the stream")
}

/// One stream of `origin`'s records as the pinned peer `relay` relays them.
/// Each entry must carry the origin's public key (whose fingerprint is the
/// origin's id) and the origin's signature with it: the relay cannot forge
/// or alter what it passes on.
async fn relayed_once(
    store: &Store,
    identity: &NodeIdentity,
    tls: &PeerTls,
    origin: &str,
    relay: &str,
    cursor: u64,
    attempt: &mut u32,
) -> anyhow::Result<()> {
    let peer = match store.get_peer(relay).await {
        Ok(p) => p,
        Err(edufed_domain::federation::Error::NotFound(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let url = peer.descriptor.url.clone();
    let channel = tls
        .endpoint(&url)
        .map_err(|e| anyhow!(e))?
        .connect()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    let (from, auth) = credential(identity, relay, chrono::Utc::now().timestamp());
    let mut request = tonic::Request::new(pb::RelayRequest {
        origin: origin.to_owned(),
        after_sequence: cursor,
        heartbeat_seconds: HEARTBEAT_SECS,
    });
    request.metadata_mut().insert(NODE_HEADER, from.parse()?);
    request
        .metadata_mut()
        .insert(NODE_AUTH_HEADER, auth.parse()?);
    let mut stream = ChangeFeedClient::new(channel)
        .relay(request)
        .await
        .map_err(|status| anyhow!("{url} refused to relay {origin}: {}", status.message()))?
        .into_inner();
    tracing::info!(%origin, %relay, cursor, "following a peer's relay");
    let mut key: Option<PublicKey> = None;
    let silence = Duration::from_secs(u64::from(HEARTBEAT_SECS) * 3 + 5);
    while let Some(message) = tokio::time::timeout(silence, stream.message())
        .await
        .map_err(|_| anyhow!("{url} fell silent for {} s", silence.as_secs()))?
        .map_err(|status| anyhow!("the relay from {url} ended: {}", status.message()))?
    {
        *attempt = 0;
        match message.event {
            Some(pb::watch_response::Event::Entry(entry)) if unknown_kind(&entry) => {
                tracing::debug!(%origin, kind = %entry.entity_kind, "relayed entry of an unknown kind skipped");
            }
            Some(pb::watch_response::Event::Entry(entry)) => {
                let origin_key = match key {
                    Some(k) => k,
                    None => {
                        let bytes: [u8; 32] =
                            entry.public_key.clone().try_into().map_err(|_| {
                                tracing::error!(%origin, %relay, "relayed entry without the origin's key");
                                anyhow!("a relayed entry from {relay} lacks the origin's public key")
                            })?;
                        let k = PublicKey::from_bytes(&bytes)
                            .map_err(|_| anyhow!("the origin's public key is invalid"))?;
                        if crate::fingerprint(&k) != origin {
                            tracing::error!(%origin, %relay, "relayed entry under another key");
                            bail!("{relay} relayed an entry under a key that is not {origin}'s");
                        }
                        key = Some(k);
                        k
                    }
                };
                if entry.public_key.as_slice() != origin_key.as_bytes() {
                    bail!("{relay} relayed entries under two keys for {origin}");
                }
                let (entry, signature) = checked(entry, origin, &origin_key)?;
                store.apply_mirrored(origin, &entry, &signature).await?;
            }
            Some(pb::watch_response::Event::Heartbeat(h)) => {
                store.note_heartbeat(origin, h.latest_sequence).await?;
            }
            None => {}
        }
    }
    bail!("{url} closed the relay")
}

/// Whether the entry is of a kind this node does not know.
fn unknown_kind(entry: &pb::ChangeEntry) -> bool {
    EntityKind::parse("entity_kind", &entry.entity_kind).is_err()
}

/// The entry, if the peer signed it with its pinned key.
fn checked(
    entry: pb::ChangeEntry,
    peer_id: &str,
    key: &PublicKey,
) -> anyhow::Result<(ChangeEntry, Vec<u8>)> {
    let seq = entry.sequence;
    let refuse = |why: &str| {
        tracing::error!(peer = %peer_id, seq, why, "entry refused");
        anyhow!("entry {seq} from {peer_id} refused: {why}")
    };
    if entry.node_id != peer_id {
        return Err(refuse("it names another node as its publisher"));
    }
    let signature: [u8; 64] = entry
        .signature
        .clone()
        .try_into()
        .map_err(|_| refuse("its signature is not 64 bytes"))?;
    let time = entry.time.unwrap_or_default();
    let domain = ChangeEntry {
        sequence: entry.sequence,
        kind: EntityKind::parse("entity_kind", &entry.entity_kind)
            .map_err(|_| refuse("its kind is unknown to this node"))?,
        entity_id: entry.entity_id,
        version: entry.version,
        operation: match pb::ChangeOperation::try_from(entry.operation) {
            Ok(pb::ChangeOperation::Upsert) => Operation::Upsert,
            Ok(pb::ChangeOperation::Delete) => Operation::Delete,
            _ => return Err(refuse("its operation is unknown")),
        },
        org_id: (!entry.organization_id.is_empty())
            .then(|| OrgId::from_stored(entry.organization_id)),
        payload: entry.payload_json,
        created_at: chrono::DateTime::from_timestamp(
            time.seconds,
            u32::try_from(time.nanos).unwrap_or(0),
        )
        .ok_or_else(|| refuse("its time is out of range"))?,
        actor: entry.actor,
    };
    if !verify(key, domain.statement(peer_id).as_bytes(), &signature) {
        return Err(refuse("its signature does not verify with the pinned key"));
    }
    Ok((domain, signature.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_a_cap_with_jitter() {
        for attempt in 1..20 {
            let d = backoff(attempt);
            let base = (500u64 << (attempt - 1).min(6)).min(30_000);
            assert!(d >= Duration::from_millis(base) && d <= Duration::from_millis(base * 3 / 2));
        }
    }
}
