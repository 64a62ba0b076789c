//! Following peers' change logs. A [`Supervisor`] starts one follower per
//! subscription; each streams the peer's Watch from the stored cursor, checks
//! every entry's signature with the pinned key before applying it, and
//! applies it to the mirrors and the cursor in one transaction, together with
//! the entries already received behind it (a catch-up applies hundreds per
//! transaction). Both are
//! workers: a broken link is an error of the follower, retried by the runner
//! with exponential backoff and jitter. A badly signed entry is never
//! applied: it breaks the link each time it arrives, so the link stays at it
//! until an operator looks.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use edufed_domain::changes::{ChangeEntry, EntityKind, Operation};
use edufed_domain::federation::Subscription;
use edufed_domain::ids::OrgId;
use edufed_proto::v1 as pb;
use edufed_proto::v1::change_feed_client::ChangeFeedClient;
use edufed_proto::v1::watch_response::Event;
use edufed_store::Store;
use edufed_worker::{Worker, WorkerState, Workers};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{NODE_AUTH_HEADER, NODE_HEADER, NodeIdentity, PeerTls, PublicKey, credential, verify};

/// How often the supervisor looks for subscriptions added or removed.
const SUPERVISE_EVERY: Duration = Duration::from_secs(1);
/// The heartbeat asked of peers.
const HEARTBEAT_SECS: u32 = 5;
/// Heartbeats come every few seconds: silence for three of them means the
/// link is gone even if no reset ever arrives.
const SILENCE: Duration = Duration::from_secs(HEARTBEAT_SECS as u64 * 3 + 5);
/// The most entries applied in one transaction: those already received
/// when the first of them is read (a catch-up), never waiting for more.
const BATCH: usize = 500;

/// Starts a follower for every subscription and stops the followers of
/// subscriptions that were removed.
pub struct Supervisor {
    store: Store,
    identity: Arc<NodeIdentity>,
    tls: PeerTls,
    workers: Workers,
    followers: HashMap<String, JoinHandle<()>>,
    tick: tokio::time::Interval,
}

impl Supervisor {
    /// A supervisor that starts its followers among `workers`, so that they
    /// stop with the node and the node waits for them.
    pub fn new(store: Store, identity: Arc<NodeIdentity>, tls: PeerTls, workers: Workers) -> Self {
        let tick = tokio::time::interval_at(
            tokio::time::Instant::now() + SUPERVISE_EVERY,
            SUPERVISE_EVERY,
        );
        Self {
            store,
            identity,
            tls,
            workers,
            followers: HashMap::new(),
            tick,
        }
    }
}

impl Worker for Supervisor {
    fn name(&self) -> String {
        "subscription supervisor".into()
    }

    async fn work(&mut self, _must_exit: &CancellationToken) -> anyhow::Result<WorkerState> {
        let subscriptions = self
            .store
            .list_subscriptions()
            .await
            .context("cannot read subscriptions")?;
        // A follower that finished while its subscription stays (its peer
        // was unpinned) is started again, to see whether it is back.
        self.followers.retain(|peer, task| {
            let keep = !task.is_finished() && subscriptions.iter().any(|s| &s.peer_id == peer);
            if !keep {
                task.abort();
            }
            keep
        });
        for s in subscriptions {
            self.followers.entry(s.peer_id.clone()).or_insert_with(|| {
                self.workers.spawn(Follower {
                    store: self.store.clone(),
                    identity: self.identity.clone(),
                    tls: self.tls.clone(),
                    peer: s.peer_id,
                    link: Link::default(),
                    stream: None,
                })
            });
        }
        Ok(WorkerState::Idle)
    }

    async fn wait_for_work(&mut self) -> WorkerState {
        self.tick.tick().await;
        WorkerState::Busy
    }
}

/// Follows one peer, directly or through a relay, until its subscription
/// is removed. Each call of `work` reads and applies one message (opening
/// the stream first when none is open), so the runner's count of
/// consecutive errors starts again whenever the link delivers something.
struct Follower {
    store: Store,
    identity: Arc<NodeIdentity>,
    tls: PeerTls,
    peer: String,
    link: Link,
    stream: Option<Stream>,
}

impl Worker for Follower {
    fn name(&self) -> String {
        format!("follower of {}", self.peer)
    }

    async fn work(&mut self, must_exit: &CancellationToken) -> anyhow::Result<WorkerState> {
        // Connecting and reading wait on the peer for as long as it takes.
        // Dropping the step is safe: an entry half applied is rolled back
        // with its transaction, and read again from the cursor.
        let outcome = tokio::select! {
            biased;
            () = must_exit.cancelled() => return Ok(WorkerState::Done),
            outcome = self.step() => outcome,
        };
        if let Err(error) = &outcome {
            self.stream = None;
            if let Err(error) = self
                .store
                .note_link_down(&self.peer, &format!("{error:#}"))
                .await
            {
                tracing::warn!(peer = %self.peer, %error, "cannot record the link's state");
            }
        }
        outcome
    }

    async fn wait_for_work(&mut self) -> WorkerState {
        // Only reached after an error and its backoff: time to try again.
        WorkerState::Busy
    }
}

impl Follower {
    /// Reads and applies one message, opening a stream first if none is
    /// open. `Done` when there is nothing left to follow.
    async fn step(&mut self) -> anyhow::Result<WorkerState> {
        let stream = match &mut self.stream {
            Some(stream) => stream,
            None => match self.open().await? {
                Some(stream) => self.stream.insert(stream),
                None => return Ok(WorkerState::Done),
            },
        };
        stream
            .next(&self.store, &self.tls, &self.peer, &mut self.link)
            .await?;
        Ok(WorkerState::Busy)
    }

    /// Opens a stream of the peer's log, or `None` when the subscription or
    /// the pinned peer is gone.
    async fn open(&mut self) -> anyhow::Result<Option<Stream>> {
        let subscription = match self.store.get_subscription(&self.peer).await {
            Ok(s) => s,
            Err(edufed_domain::federation::Error::NoSubscription(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        match &subscription.via {
            Some(relay) => {
                let relay = relay.clone();
                self.open_relayed(&relay, &subscription).await
            }
            None => self.open_direct(&subscription).await,
        }
    }

    /// Opens the peer's own Watch, from its snapshot if the peer no longer
    /// retains the log after the cursor.
    async fn open_direct(&mut self, subscription: &Subscription) -> anyhow::Result<Option<Stream>> {
        let (store, tls, peer_id) = (&self.store, &self.tls, self.peer.as_str());
        let peer = match store.get_peer(peer_id).await {
            Ok(p) => p,
            Err(edufed_domain::federation::Error::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let key = PublicKey::from_bytes(&peer.descriptor.public_key).context("the pinned key")?;
        let hosted: Vec<OrgId> = match Link::refresh(store, tls, peer_id).await {
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
            let now = store.clock().now().timestamp();
            let (from, auth) = credential(&self.identity, peer_id, now);
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
        let refused =
            |status: tonic::Status| anyhow!("{url} refused the stream: {}", status.message());
        let messages = match client.watch(watch(self.link.resync)?).await {
            Ok(stream) => stream,
            // The peer compacted its log past this node's cursor: read its
            // snapshot (every record's latest entry), then follow on.
            Err(status) if status.code() == tonic::Code::OutOfRange => {
                tracing::warn!(peer = %peer_id, cursor = subscription.cursor, "cursor expired at the peer; resyncing from its snapshot");
                self.link.resync = true;
                client.watch(watch(true)?).await.map_err(refused)?
            }
            Err(status) => return Err(refused(status)),
        }
        .into_inner();
        tracing::info!(peer = %peer_id, cursor = subscription.cursor, snapshot = self.link.resync, "following peer");
        Ok(Some(Stream {
            url,
            messages,
            source: Source::Direct(Direct {
                key,
                hosted,
                snapshot: self.link.resync.then(HashSet::new),
            }),
        }))
    }

    /// Opens the stream of the origin's records as the pinned peer `relay`
    /// relays them: from the cursor, or from the relay's snapshot when the
    /// relay read the origin again since this node's copies were made.
    async fn open_relayed(
        &mut self,
        relay: &str,
        subscription: &Subscription,
    ) -> anyhow::Result<Option<Stream>> {
        let cursor = subscription.cursor;
        let origin = self.peer.as_str();
        let peer = match self.store.get_peer(relay).await {
            Ok(p) => p,
            Err(edufed_domain::federation::Error::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let url = peer.descriptor.url.clone();
        let channel = self
            .tls
            .endpoint(&url)
            .map_err(|e| anyhow!(e))?
            .connect()
            .await
            .with_context(|| format!("cannot reach {url}"))?;
        let request = |snapshot: bool| -> anyhow::Result<tonic::Request<pb::RelayRequest>> {
            let now = self.store.clock().now().timestamp();
            let (from, auth) = credential(&self.identity, relay, now);
            let mut request = tonic::Request::new(pb::RelayRequest {
                origin: origin.to_owned(),
                after_sequence: cursor,
                heartbeat_seconds: HEARTBEAT_SECS,
                generation: subscription.generation,
                snapshot,
            });
            request.metadata_mut().insert(NODE_HEADER, from.parse()?);
            request
                .metadata_mut()
                .insert(NODE_AUTH_HEADER, auth.parse()?);
            Ok(request)
        };
        let mut client = ChangeFeedClient::new(channel);
        let refused = |status: tonic::Status| {
            anyhow!("{url} refused to relay {origin}: {}", status.message())
        };
        let messages = match client.relay(request(self.link.resync)?).await {
            Ok(stream) => stream,
            // The relay read the origin again from a snapshot (the origin
            // was restored, say), dropping records: so must this node.
            Err(status) if status.code() == tonic::Code::OutOfRange => {
                tracing::warn!(%origin, %relay, cursor, "the relay resynced the origin; reading its snapshot");
                self.link.resync = true;
                client.relay(request(true)?).await.map_err(refused)?
            }
            Err(status) => return Err(refused(status)),
        }
        .into_inner();
        tracing::info!(%origin, %relay, cursor, snapshot = self.link.resync, "following a peer's relay");
        Ok(Some(Stream {
            url,
            messages,
            source: Source::Relayed(Relayed {
                relay: relay.to_owned(),
                key: None,
                snapshot: self.link.resync.then(HashSet::new),
            }),
        }))
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
    unknown: HashSet<OrgId>,
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

/// An open stream of a peer's log.
struct Stream {
    url: String,
    messages: tonic::Streaming<pb::WatchResponse>,
    source: Source,
}

/// Whose stream it is.
enum Source {
    Direct(Direct),
    Relayed(Relayed),
}

impl Stream {
    /// Reads one message, and those already received behind it (up to
    /// [`BATCH`]), and applies them; an error when the link broke or a
    /// message cannot be applied (what came before it is applied).
    async fn next(
        &mut self,
        store: &Store,
        tls: &PeerTls,
        peer_id: &str,
        link: &mut Link,
    ) -> anyhow::Result<()> {
        use futures::FutureExt as _;
        let url = self.url.clone();
        let relayed = matches!(self.source, Source::Relayed(_));
        let received = tokio::time::timeout(SILENCE, self.messages.message())
            .await
            .map_err(|_| anyhow!("{url} fell silent for {} s", SILENCE.as_secs()))?;
        let mut events = Vec::new();
        let mut ended = None;
        match received {
            Ok(Some(message)) => events.extend(message.event),
            other => ended = Some(other),
        }
        while ended.is_none() && events.len() < BATCH {
            match self.messages.message().now_or_never() {
                None => break,
                Some(Ok(Some(message))) => events.extend(message.event),
                Some(other) => ended = Some(other),
            }
        }
        match &mut self.source {
            Source::Direct(direct) => direct.apply(events, store, tls, peer_id, link).await?,
            Source::Relayed(relayed) => relayed.apply(events, store, peer_id, link).await?,
        }
        match ended {
            None | Some(Ok(Some(_))) => Ok(()),
            Some(Ok(None)) if relayed => bail!("{url} closed the relay"),
            Some(Ok(None)) => bail!("{url} closed the stream"),
            Some(Err(status)) if relayed => {
                // The relay read the origin again: read its snapshot next.
                link.resync |= status.code() == tonic::Code::OutOfRange;
                bail!("the relay from {url} ended: {}", status.message())
            }
            Some(Err(status)) => {
                // Compacted while this node was reading: resync on the next stream.
                link.resync |= status.code() == tonic::Code::OutOfRange;
                bail!("the stream from {url} ended: {}", status.message())
            }
        }
    }
}

/// Verified entries waiting to be applied together.
#[derive(Default)]
struct Batch(Vec<(ChangeEntry, Vec<u8>)>);

impl Batch {
    /// Applies what waits, in one transaction.
    async fn flush(&mut self, store: &Store, origin: &str) -> anyhow::Result<()> {
        if !self.0.is_empty() {
            store.apply_mirrored_batch(origin, &self.0).await?;
            self.0.clear();
        }
        Ok(())
    }
}

/// Reading the peer's own Watch.
struct Direct {
    /// The key entries must verify with: the origin's, pinned or relayed.
    key: PublicKey,
    /// The organizations the peer hosts, as its descriptor last said.
    hosted: Vec<OrgId>,
    /// Reading a snapshot: the records it holds, until its first heartbeat
    /// marks its end; mirrors of the peer's records it lacks are then gone.
    /// Until then `Link::resync` stays set, so a broken link reads it again.
    snapshot: Option<HashSet<(EntityKind, String)>>,
}

impl Direct {
    /// Applies `events` in order: entries in batches, each verified first;
    /// at a bad one, what came before it is applied and the link breaks.
    async fn apply(
        &mut self,
        events: Vec<Event>,
        store: &Store,
        tls: &PeerTls,
        peer_id: &str,
        link: &mut Link,
    ) -> anyhow::Result<()> {
        let mut batch = Batch::default();
        for event in events {
            if let Err(error) = self
                .take(event, &mut batch, store, tls, peer_id, link)
                .await
            {
                batch.flush(store, peer_id).await?;
                return Err(error);
            }
        }
        batch.flush(store, peer_id).await
    }

    async fn take(
        &mut self,
        event: Event,
        batch: &mut Batch,
        store: &Store,
        tls: &PeerTls,
        peer_id: &str,
        link: &mut Link,
    ) -> anyhow::Result<()> {
        match event {
            Event::Entry(entry) if unknown_kind(&entry) => {
                // A kind a newer peer publishes: passed over, not a stall.
                tracing::debug!(peer = %peer_id, kind = %entry.entity_kind, "entry of an unknown kind skipped");
            }
            Event::Entry(entry) => {
                let (entry, signature) = checked(entry, peer_id, &self.key)?;
                // An organization the pinned descriptor does not list may be
                // new there: learn it before applying, or retry the link
                // (its records would not be mirrored, and never revisited).
                if let Some(org) = &entry.org_id
                    && !self.hosted.contains(org)
                    && !link.unknown.contains(org)
                {
                    // What waits is applied under the descriptor it came with.
                    batch.flush(store, peer_id).await?;
                    self.hosted = Link::refresh(store, tls, peer_id).await.ok_or_else(|| {
                        anyhow!(
                            "cannot fetch the descriptor of {peer_id} to learn organization {org}"
                        )
                    })?;
                    if !self.hosted.contains(org) {
                        link.unknown.insert(org.clone());
                    }
                }
                if let Some(seen) = &mut self.snapshot {
                    seen.insert((entry.kind, entry.entity_id.clone()));
                }
                batch.0.push((entry, signature));
            }
            Event::Heartbeat(h) => {
                batch.flush(store, peer_id).await?;
                match self.snapshot.take() {
                    Some(seen) => {
                        let dropped = store
                            .finish_snapshot(peer_id, &seen, h.latest_sequence, None)
                            .await?;
                        link.resync = false;
                        tracing::info!(peer = %peer_id, records = seen.len(), dropped, "resynced from the peer's snapshot");
                    }
                    None => store.note_heartbeat(peer_id, h.latest_sequence).await?,
                }
            }
        }
        Ok(())
    }
}

/// Reading `origin`'s records as a pinned peer relays them. Each entry must
/// carry the origin's public key (whose fingerprint is the origin's id) and
/// the origin's signature with it: the relay cannot forge or alter what it
/// passes on.
struct Relayed {
    relay: String,
    /// The origin's key, from the first entry that carried it.
    key: Option<PublicKey>,
    /// Reading the relay's snapshot: the records it holds, until the first
    /// heartbeat marks its end, as [`Direct::snapshot`].
    snapshot: Option<HashSet<(EntityKind, String)>>,
}

impl Relayed {
    /// Applies `events` in order, as [`Direct::apply`] does.
    async fn apply(
        &mut self,
        events: Vec<Event>,
        store: &Store,
        origin: &str,
        link: &mut Link,
    ) -> anyhow::Result<()> {
        let mut batch = Batch::default();
        for event in events {
            if let Err(error) = self.take(event, &mut batch, store, origin, link).await {
                batch.flush(store, origin).await?;
                return Err(error);
            }
        }
        batch.flush(store, origin).await
    }

    async fn take(
        &mut self,
        event: Event,
        batch: &mut Batch,
        store: &Store,
        origin: &str,
        link: &mut Link,
    ) -> anyhow::Result<()> {
        let relay = self.relay.as_str();
        match event {
            Event::Entry(entry) if unknown_kind(&entry) => {
                tracing::debug!(%origin, kind = %entry.entity_kind, "relayed entry of an unknown kind skipped");
            }
            Event::Entry(entry) => {
                let origin_key = match self.key {
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
                        self.key = Some(k);
                        k
                    }
                };
                if entry.public_key.as_slice() != origin_key.as_bytes() {
                    bail!("{relay} relayed entries under two keys for {origin}");
                }
                let (entry, signature) = checked(entry, origin, &origin_key)?;
                if let Some(seen) = &mut self.snapshot {
                    seen.insert((entry.kind, entry.entity_id.clone()));
                }
                batch.0.push((entry, signature));
            }
            Event::Heartbeat(h) => {
                batch.flush(store, origin).await?;
                match self.snapshot.take() {
                    Some(seen) => {
                        let dropped = store
                            .finish_snapshot(origin, &seen, h.latest_sequence, Some(h.generation))
                            .await?;
                        link.resync = false;
                        tracing::info!(%origin, %relay, records = seen.len(), dropped, "resynced from the relay's snapshot");
                    }
                    None => store.note_heartbeat(origin, h.latest_sequence).await?,
                }
            }
        }
        Ok(())
    }
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
