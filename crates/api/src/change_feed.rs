//! The ChangeFeed service: `Watch` streams the change log from a cursor.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use edufed_domain::changes::EntityKind;
use edufed_domain::policy::{Action, Credential, Principal, Target, authorize, permitted};
use edufed_domain::{ErrorCode, FieldError, ServiceError};
use edufed_federation::NodeIdentity;
use edufed_proto::v1 as pb;
use edufed_proto::v1::change_feed_server::ChangeFeed;
use edufed_store::Store;
use edufed_store::changes::ChangeFilter;
use futures::Stream;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use crate::auth::{PeerCaller, principal};
use crate::convert::{ToProto as _, timestamp};
use crate::status::{ApiError, to_status};

/// How Watch streams behave.
#[derive(Debug, Clone)]
pub struct FeedSettings {
    /// Entries read from the store at a time.
    pub batch_size: u32,
    /// Streams open at once; more get RESOURCE_EXHAUSTED. A quarter of
    /// them only peers and the operator may take.
    pub max_streams: usize,
    /// Streams one person may hold, whatever their tokens and sessions.
    pub max_streams_per_person: usize,
    /// Watch and Relay streams one peer node may hold.
    pub max_streams_per_peer: usize,
}

impl Default for FeedSettings {
    fn default() -> Self {
        Self {
            batch_size: 500,
            max_streams: 1024,
            max_streams_per_person: 32,
            max_streams_per_peer: 512,
        }
    }
}

/// The `edufed.v1.ChangeFeed` service.
///
/// Streams wake when this process commits to the log; writes by another
/// replica on the same database reach them through the server's poller,
/// which calls [`Store::observe_latest`].
#[derive(Debug, Clone)]
pub struct ChangeFeedService {
    store: Store,
    identity: Arc<NodeIdentity>,
    settings: FeedSettings,
    shutdown: CancellationToken,
    streams: Arc<StreamCounts>,
}

impl ChangeFeedService {
    /// A service over `store`, signing what it publishes with the node's
    /// `identity`; its streams end when `shutdown` is cancelled.
    pub fn new(
        store: Store,
        identity: Arc<NodeIdentity>,
        settings: FeedSettings,
        shutdown: CancellationToken,
    ) -> Self {
        let streams = Arc::new(StreamCounts::default());
        Self {
            store,
            identity,
            settings,
            shutdown,
            streams,
        }
    }
}

impl ChangeFeedService {
    /// A place for one more stream of `reader`: within its own share (a
    /// person's or a peer's) and the node's, of which people other than the
    /// operator may take three quarters, so that a flood of one kind of
    /// caller never locks out the node's peers and its operator.
    fn permit(&self, reader: &Reader) -> Result<StreamPermit, Status> {
        let (key, own_limit, reserved) = match reader {
            Reader::Peer(peer) => (
                StreamOwner::Peer(peer.node_id.clone()),
                self.settings.max_streams_per_peer,
                true,
            ),
            Reader::Person(person) => (
                StreamOwner::Person(person.person_id.clone()),
                self.settings.max_streams_per_person,
                authorize(person, Action::ViewAllRecords, Target::Node).is_ok(),
            ),
        };
        let total = self.settings.max_streams;
        let shared = total - total / 4;
        let mut counts = self
            .streams
            .counts
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let (all, people, by_owner) = &mut *counts;
        let held = by_owner.get(&key).copied().unwrap_or(0);
        if held >= own_limit {
            return Err(to_status(&Refused::CallerBusy(own_limit)));
        }
        if *all >= total || (!reserved && *people >= shared) {
            return Err(to_status(&Refused::Busy));
        }
        *all += 1;
        if !reserved {
            *people += 1;
        }
        *by_owner.entry(key.clone()).or_insert(0) += 1;
        Ok(StreamPermit {
            counts: self.streams.clone(),
            key,
            reserved,
        })
    }
}

/// Who a stream is counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum StreamOwner {
    Person(edufed_domain::ids::PersonId),
    Peer(String),
}

/// Streams open: in all, of people outside the reserve, and per owner.
#[derive(Debug, Default)]
struct StreamCounts {
    counts: Mutex<(usize, usize, HashMap<StreamOwner, usize>)>,
}

/// One stream's place in the counts, given back when the stream ends.
#[derive(Debug)]
struct StreamPermit {
    counts: Arc<StreamCounts>,
    key: StreamOwner,
    reserved: bool,
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        let mut counts = self.counts.counts.lock().unwrap_or_else(|e| e.into_inner());
        let (all, people, by_owner) = &mut *counts;
        *all = all.saturating_sub(1);
        if !self.reserved {
            *people = people.saturating_sub(1);
        }
        if let Some(held) = by_owner.get_mut(&self.key) {
            *held -= 1;
            if *held == 0 {
                by_owner.remove(&self.key);
            }
        }
    }
}

const MAX_KINDS: usize = 32;

/// The entries `caller` may see: all for the operator, else those of the
/// organizations where the policy lets them watch.
fn visible_to(caller: &Principal, kinds: Vec<EntityKind>) -> ChangeFilter {
    let organizations = permitted(caller, Action::WatchChanges).organizations();
    ChangeFilter {
        kinds,
        organizations,
    }
}

/// Why a stream was refused or ended.
#[derive(Debug, thiserror::Error)]
enum Refused {
    /// The node serves as many streams as it may.
    #[error("this node serves as many Watch streams as it may; retry later")]
    Busy,
    /// The caller holds as many streams as one caller may.
    #[error("you hold {0} Watch streams, as many as one caller may; close one first")]
    CallerBusy(usize),
    /// Relay is for peers.
    #[error("Relay is for pinned peer nodes, with a node credential")]
    NotPeer,
    /// The node does not follow the origin asked for.
    #[error("this node does not follow node {0}, so it has nothing of it to relay")]
    NotFollowed(String),
    /// The reading node is no longer pinned.
    #[error("node {0} is no longer a pinned peer of this node")]
    Unpinned(String),
    /// The node is stopping.
    #[error("the node is shutting down; reconnect with your last cursor")]
    ShuttingDown,
    /// The relay read the origin's records again from a snapshot since the
    /// caller's copies were made.
    #[error(
        "this node has read node {0}'s records again from a snapshot since your copies were made; read its snapshot"
    )]
    Resynced(String),
}

impl ServiceError for Refused {
    fn error_code(&self) -> ErrorCode {
        match self {
            Refused::Busy | Refused::CallerBusy(_) => ErrorCode::ResourceExhausted,
            Refused::NotPeer | Refused::Unpinned(_) => ErrorCode::Unauthenticated,
            Refused::NotFollowed(_) => ErrorCode::NotFound,
            Refused::ShuttingDown => ErrorCode::Unavailable,
            Refused::Resynced(_) => ErrorCode::OutOfRange,
        }
    }
}

/// The longest heartbeat a peer's stream gets, in seconds.
const PEER_HEARTBEAT_MAX_SECS: u32 = 10;

/// Who reads a stream: a person with a token, or a pinned peer node, which
/// gets only what the network shares and what concerns the organizations it
/// hosts (their own registrations and bookings, say).
#[derive(Clone)]
enum Reader {
    Person(Principal),
    Peer(PeerCaller),
}

impl Reader {
    fn filter(&self, kinds: Vec<EntityKind>) -> ChangeFilter {
        match self {
            Reader::Person(person) => visible_to(person, kinds),
            Reader::Peer(peer) => ChangeFilter {
                kinds,
                organizations: Some(peer.organizations.clone()),
            },
        }
    }
}

type WatchStream = Pin<Box<dyn Stream<Item = Result<pb::WatchResponse, Status>> + Send>>;

#[tonic::async_trait]
impl ChangeFeed for ChangeFeedService {
    type WatchStream = WatchStream;

    async fn watch(
        &self,
        request: Request<pb::WatchRequest>,
    ) -> Result<Response<WatchStream>, Status> {
        let caller = match request.extensions().get::<PeerCaller>() {
            Some(peer) => Reader::Peer(peer.clone()),
            None => Reader::Person(principal(&request)?),
        };
        let req = request.into_inner();
        let (filter, heartbeat) = (|| {
            if req.entity_kinds.len() > MAX_KINDS {
                return Err(FieldError::new(
                    "entity_kinds",
                    format!("at most {MAX_KINDS} kinds"),
                ));
            }
            let kinds = req
                .entity_kinds
                .iter()
                .map(|k| EntityKind::parse("entity_kinds", k))
                .collect::<Result<Vec<_>, _>>()?;
            let heartbeat = match req.heartbeat_seconds {
                0 => 15,
                s @ 1..=300 => s,
                _ => {
                    return Err(FieldError::new(
                        "heartbeat_seconds",
                        "must be between 1 and 300",
                    ));
                }
            };
            // A peer's pin is checked at every heartbeat: often enough that
            // an unpinned peer loses its stream within seconds.
            let heartbeat = match caller {
                Reader::Peer(_) => heartbeat.min(PEER_HEARTBEAT_MAX_SECS),
                Reader::Person(_) => heartbeat,
            };
            Ok((
                caller.filter(kinds),
                Duration::from_secs(u64::from(heartbeat)),
            ))
        })()
        .map_err(|e| Status::from(ApiError::from(e)))?;

        if !req.snapshot {
            let bounds = self.store.log_bounds().await.map_err(|e| to_status(&e))?;
            bounds
                .check_cursor(req.after_sequence)
                .map_err(|e| to_status(&e))?;
        }

        let permit = self.permit(&caller)?;
        let (tx, rx) = mpsc::channel(64);
        let pump = Pump {
            store: self.store.clone(),
            identity: self.identity.clone(),
            caller,
            kinds: filter.kinds.clone(),
            filter,
            cursor: if req.snapshot { 0 } else { req.after_sequence },
            snapshot: req.snapshot,
            heartbeat,
            settings: self.settings.clone(),
            shutdown: self.shutdown.clone(),
            tx,
            _permit: permit,
        };
        tokio::spawn(pump.run());
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    type RelayStream = WatchStream;

    async fn relay(
        &self,
        request: Request<pb::RelayRequest>,
    ) -> Result<Response<WatchStream>, Status> {
        let peer = request
            .extensions()
            .get::<PeerCaller>()
            .cloned()
            .ok_or_else(|| to_status(&Refused::NotPeer))?;
        let req = request.into_inner();
        let origin = edufed_domain::federation::parse_fingerprint("origin", &req.origin)
            .map_err(|e| Status::from(ApiError::from(e)))?;
        let heartbeat = match req.heartbeat_seconds {
            0 => 15,
            s @ 1..=300 => s,
            _ => {
                return Err(ApiError::from(FieldError::new(
                    "heartbeat_seconds",
                    "must be between 1 and 300",
                ))
                .into());
            }
        }
        .min(PEER_HEARTBEAT_MAX_SECS);
        let public_key = match self.store.get_peer(&origin).await {
            Ok(pinned) => pinned.descriptor.public_key.to_vec(),
            Err(edufed_domain::federation::Error::NotFound(_)) => {
                return Err(to_status(&Refused::NotFollowed(origin)));
            }
            Err(other) => return Err(to_status(&other)),
        };
        // Copies made before this node last read the origin again from a
        // snapshot may hold records since dropped here.
        let generation = self
            .store
            .relay_generation(&origin)
            .await
            .map_err(|e| to_status(&e))?;
        if !req.snapshot && req.generation != generation {
            return Err(to_status(&Refused::Resynced(origin)));
        }
        let permit = self.permit(&Reader::Peer(peer.clone()))?;
        let (tx, rx) = mpsc::channel(64);
        let relay = Relayer {
            store: self.store.clone(),
            reader: peer.node_id,
            origin,
            public_key,
            generation,
            cursor: if req.snapshot { 0 } else { req.after_sequence },
            heartbeat: Duration::from_secs(u64::from(heartbeat)),
            batch: self.settings.batch_size,
            shutdown: self.shutdown.clone(),
            tx,
            _permit: permit,
        };
        tokio::spawn(relay.run());
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}

/// Feeds one Relay stream: the origin's relayable mirrors after the cursor,
/// read again whenever this process applies peers' entries, and every
/// second for what another replica applied; with heartbeats.
struct Relayer {
    store: Store,
    reader: String,
    origin: String,
    public_key: Vec<u8>,
    /// This node's generation of the origin's records when the stream
    /// began; the stream ends when it moves on.
    generation: u64,
    cursor: u64,
    heartbeat: Duration,
    batch: u32,
    shutdown: CancellationToken,
    tx: mpsc::Sender<Result<pb::WatchResponse, Status>>,
    _permit: StreamPermit,
}

impl Relayer {
    async fn run(mut self) {
        let status = match self.pump().await {
            Ok(()) => return,
            Err(status) => status,
        };
        let _ = tokio::time::timeout(Duration::from_secs(1), self.tx.send(Err(status))).await;
    }

    async fn send(&self, message: pb::WatchResponse) -> Result<(), Option<Status>> {
        tokio::select! {
            () = self.shutdown.cancelled() => Err(Some(to_status(&Refused::ShuttingDown))),
            sent = self.tx.send(Ok(message)) => sent.map_err(|_| None),
        }
    }

    async fn pump(&mut self) -> Result<(), Status> {
        let mut last_heartbeat = tokio::time::Instant::now() - self.heartbeat;
        let mut wake = self.store.subscribe_mirrored();
        loop {
            wake.mark_unchanged();
            loop {
                let batch = self
                    .store
                    .relayable_mirrors(&self.origin, self.cursor, self.batch)
                    .await
                    .map_err(|e| to_status(&e))?;
                let full = batch.len() as u32 == self.batch;
                for mirror in batch {
                    let sequence = mirror.entry.sequence;
                    let entry = pb::ChangeEntry {
                        node_id: self.origin.clone(),
                        signature: mirror.signature,
                        public_key: self.public_key.clone(),
                        ..mirror.entry.to_proto()
                    };
                    match self
                        .send(pb::WatchResponse {
                            event: Some(pb::watch_response::Event::Entry(entry)),
                        })
                        .await
                    {
                        Ok(()) => self.cursor = sequence,
                        Err(Some(status)) => return Err(status),
                        Err(None) => return Ok(()),
                    }
                }
                if !full {
                    break;
                }
            }
            let generation = self
                .store
                .relay_generation(&self.origin)
                .await
                .map_err(|e| to_status(&e))?;
            if generation != self.generation {
                return Err(to_status(&Refused::Resynced(self.origin.clone())));
            }
            if last_heartbeat.elapsed() >= self.heartbeat {
                // The reader must still be pinned here.
                if self.store.get_peer(&self.reader).await.is_err() {
                    return Err(to_status(&Refused::Unpinned(self.reader.clone())));
                }
                let heartbeat = pb::WatchResponse {
                    event: Some(pb::watch_response::Event::Heartbeat(pb::Heartbeat {
                        latest_sequence: self.cursor,
                        time: Some(timestamp(self.store.clock().now())),
                        generation: self.generation,
                    })),
                };
                match self.send(heartbeat).await {
                    Ok(()) => last_heartbeat = tokio::time::Instant::now(),
                    Err(Some(status)) => return Err(status),
                    Err(None) => return Ok(()),
                }
            }
            tokio::select! {
                () = self.shutdown.cancelled() => {
                    return Err(to_status(&Refused::ShuttingDown));
                }
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
                changed = wake.changed() => {
                    if changed.is_err() {
                        return Err(to_status(&Refused::ShuttingDown));
                    }
                }
            }
        }
    }
}

/// Feeds one Watch stream: drains the log after the cursor, then waits for
/// a wake-up or a heartbeat.
struct Pump {
    store: Store,
    identity: Arc<NodeIdentity>,
    caller: Reader,
    kinds: Vec<EntityKind>,
    filter: ChangeFilter,
    cursor: u64,
    /// Reads the retained log from its start, without a cursor check.
    snapshot: bool,
    heartbeat: Duration,
    settings: FeedSettings,
    shutdown: CancellationToken,
    tx: mpsc::Sender<Result<pb::WatchResponse, Status>>,
    _permit: StreamPermit,
}

enum Stop {
    ClientGone,
    ShuttingDown,
    Failed(Status),
}

impl Pump {
    async fn run(mut self) {
        let mut wake = self.store.subscribe_latest();
        let mut heartbeat = tokio::time::interval(self.heartbeat);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        heartbeat.reset();
        let stop = loop {
            if let Err(stop) = self.drain().await {
                break stop;
            }
            // Heartbeats come before wake-ups, so a stream whose filter hides
            // a busy log still gets them and its cursor moves on.
            let step = tokio::select! {
                biased;
                () = self.shutdown.cancelled() => Err(Stop::ShuttingDown),
                () = self.tx.closed() => Err(Stop::ClientGone),
                _ = heartbeat.tick() => self.send_heartbeat().await,
                changed = wake.changed() => changed.map_err(|_| Stop::ShuttingDown),
            };
            if let Err(stop) = step {
                break stop;
            }
        };
        let status = match stop {
            Stop::ClientGone => return,
            Stop::ShuttingDown => to_status(&Refused::ShuttingDown),
            Stop::Failed(status) => status,
        };
        // The client may be stuck; do not wait for it long.
        let _ = tokio::time::timeout(Duration::from_secs(1), self.tx.send(Err(status))).await;
    }

    /// Sends a message, unless the node shuts down first.
    async fn send(&self, message: pb::WatchResponse) -> Result<(), Stop> {
        tokio::select! {
            () = self.shutdown.cancelled() => Err(Stop::ShuttingDown),
            sent = self.tx.send(Ok(message)) => sent.map_err(|_| Stop::ClientGone),
        }
    }

    /// Sends every visible entry after the cursor.
    async fn drain(&mut self) -> Result<(), Stop> {
        loop {
            let batch = self
                .store
                .read_log(
                    self.cursor,
                    self.settings.batch_size,
                    &self.filter,
                    !self.snapshot,
                )
                .await
                .map_err(|e| Stop::Failed(to_status(&e)))?;
            let full = batch.len() as u32 == self.settings.batch_size;
            let node_id = self.identity.node_id();
            for entry in batch {
                let sequence = entry.sequence;
                let signature = self.identity.sign(entry.statement(&node_id).as_bytes());
                self.send(pb::WatchResponse {
                    event: Some(pb::watch_response::Event::Entry(pb::ChangeEntry {
                        node_id: node_id.clone(),
                        signature: signature.to_vec(),
                        ..entry.to_proto()
                    })),
                })
                .await?;
                self.cursor = sequence;
            }
            if !full {
                return Ok(());
            }
        }
    }

    /// Checks the caller's token again (it may have been revoked, or their
    /// memberships changed), reads the latest sequence, sends what came
    /// before it, then a heartbeat with it: a cursor that skips nothing.
    async fn send_heartbeat(&mut self) -> Result<(), Stop> {
        let caller = match &self.caller {
            Reader::Person(person) => Reader::Person(
                match &person.credential {
                    Credential::Token(token) => self.store.reauthenticate(token).await,
                    Credential::Session(session) => {
                        self.store.reauthenticate_session(session).await
                    }
                    Credential::Peer(_) => Ok(person.clone()),
                }
                .map_err(|e| Stop::Failed(to_status(&e)))?,
            ),
            // A peer unpinned meanwhile loses its stream.
            Reader::Peer(peer) => {
                let pinned = self
                    .store
                    .get_peer(&peer.node_id)
                    .await
                    .map_err(|e| match e {
                        edufed_domain::federation::Error::NotFound(_) => {
                            Stop::Failed(to_status(&Refused::Unpinned(peer.node_id.clone())))
                        }
                        other => Stop::Failed(to_status(&other)),
                    })?;
                Reader::Peer(PeerCaller {
                    node_id: pinned.descriptor.node_id,
                    organizations: pinned
                        .descriptor
                        .organizations
                        .into_iter()
                        .map(|o| o.id)
                        .collect(),
                })
            }
        };
        self.filter = caller.filter(self.kinds.clone());
        self.caller = caller;
        let latest = self
            .store
            .latest_sequence()
            .await
            .map_err(|e| Stop::Failed(to_status(&e)))?;
        self.drain().await?;
        // Entries the filter hides still move the cursor forward.
        self.cursor = self.cursor.max(latest);
        self.send(pb::WatchResponse {
            event: Some(pb::watch_response::Event::Heartbeat(pb::Heartbeat {
                latest_sequence: self.cursor,
                time: Some(timestamp(self.store.clock().now())),
                generation: 0,
            })),
        })
        .await
    }
}
