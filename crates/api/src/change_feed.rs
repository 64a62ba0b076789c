//! The ChangeFeed service: `Watch` streams the change log from a cursor.

use std::collections::HashMap;
use std::pin::Pin;
use std::time::Duration;

use edufed_domain::FieldError;
use edufed_domain::changes::{EntityKind, Error as LogError};
use edufed_domain::policy::{Action, Principal, Target, authorize};
use edufed_proto::v1 as pb;
use edufed_proto::v1::change_feed_server::ChangeFeed;
use edufed_store::Store;
use edufed_store::changes::ChangeFilter;
use futures::Stream;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::{Code, Request, Response, Status};
use tonic_types::{ErrorDetails, StatusExt as _};

use crate::auth::principal;
use crate::convert::{ToProto as _, timestamp};
use crate::status::{ApiError, to_status};

/// How Watch streams behave.
#[derive(Debug, Clone)]
pub struct FeedSettings {
    /// How often a stream re-reads the log even without a local wake-up, so
    /// that writes by another replica of the node on the same database show up.
    pub poll_interval: Duration,
    /// Entries read from the store at a time.
    pub batch_size: u32,
}

impl Default for FeedSettings {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(1),
            batch_size: 500,
        }
    }
}

/// The `edufed.v1.ChangeFeed` service.
#[derive(Debug, Clone)]
pub struct ChangeFeedService {
    store: Store,
    settings: FeedSettings,
    shutdown: CancellationToken,
}

impl ChangeFeedService {
    /// A service over `store`; its streams end when `shutdown` is cancelled.
    pub fn new(store: Store, settings: FeedSettings, shutdown: CancellationToken) -> Self {
        Self {
            store,
            settings,
            shutdown,
        }
    }
}

const MAX_KINDS: usize = 32;

/// The entries `caller` may see: all for the operator, else those of the
/// organizations where the policy lets them watch.
fn visible_to(caller: &Principal, kinds: Vec<EntityKind>) -> ChangeFilter {
    let organizations = (!caller.operator).then(|| {
        caller
            .memberships
            .iter()
            .map(|(org, _)| org)
            .filter(|org| {
                authorize(caller, Action::WatchChanges, Target::Organization(org)).is_ok()
            })
            .cloned()
            .collect()
    });
    ChangeFilter {
        kinds,
        organizations,
    }
}

/// The resync answer: OUT_OF_RANGE with a machine-readable reason.
fn log_status(error: &LogError) -> Status {
    match error {
        LogError::CursorExpired { oldest, latest, .. } => {
            let metadata = HashMap::from([
                ("oldest_sequence".to_owned(), oldest.to_string()),
                ("latest_sequence".to_owned(), latest.to_string()),
            ]);
            Status::with_error_details(
                Code::OutOfRange,
                error.to_string(),
                ErrorDetails::with_error_info("CURSOR_EXPIRED", "edufed.v1", metadata),
            )
        }
        other => to_status(other),
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
        let caller = principal(&request)?;
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
            Ok((
                visible_to(&caller, kinds),
                Duration::from_secs(u64::from(heartbeat)),
            ))
        })()
        .map_err(|e| Status::from(ApiError::from(e)))?;

        let bounds = self.store.log_bounds().await.map_err(|e| to_status(&e))?;
        bounds
            .check_cursor(req.after_sequence)
            .map_err(|e| log_status(&e))?;

        let (tx, rx) = mpsc::channel(64);
        let pump = Pump {
            store: self.store.clone(),
            filter,
            cursor: req.after_sequence,
            heartbeat,
            settings: self.settings.clone(),
            shutdown: self.shutdown.clone(),
            tx,
        };
        tokio::spawn(pump.run());
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}

/// Feeds one Watch stream: drains the log after the cursor, then waits for
/// a wake-up, a poll tick or a heartbeat.
struct Pump {
    store: Store,
    filter: ChangeFilter,
    cursor: u64,
    heartbeat: Duration,
    settings: FeedSettings,
    shutdown: CancellationToken,
    tx: mpsc::Sender<Result<pb::WatchResponse, Status>>,
}

enum Stop {
    ClientGone,
    Failed(Status),
}

impl Pump {
    async fn run(mut self) {
        let mut wake = self.store.subscribe_latest();
        let mut heartbeat = tokio::time::interval(self.heartbeat);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        heartbeat.reset();
        let mut poll = tokio::time::interval(self.settings.poll_interval);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            if let Err(stop) = self.drain().await {
                if let Stop::Failed(status) = stop {
                    let _ = self.tx.send(Err(status)).await;
                }
                return;
            }
            tokio::select! {
                biased;
                () = self.shutdown.cancelled() => {
                    let status = Status::unavailable("the node is shutting down; reconnect with your last cursor");
                    let _ = self.tx.send(Err(status)).await;
                    return;
                }
                () = self.tx.closed() => return,
                changed = wake.changed() => {
                    if changed.is_err() {
                        return;
                    }
                }
                _ = heartbeat.tick() => {
                    if self.send_heartbeat().await.is_err() {
                        return;
                    }
                }
                _ = poll.tick() => {}
            }
        }
    }

    /// Sends every visible entry after the cursor.
    async fn drain(&mut self) -> Result<(), Stop> {
        loop {
            let batch = self
                .store
                .read_changes(self.cursor, self.settings.batch_size, &self.filter)
                .await
                .map_err(|e| Stop::Failed(log_status(&e)))?;
            let full = batch.len() as u32 == self.settings.batch_size;
            for entry in batch {
                self.cursor = entry.sequence;
                let message = pb::WatchResponse {
                    event: Some(pb::watch_response::Event::Entry(entry.to_proto())),
                };
                self.tx
                    .send(Ok(message))
                    .await
                    .map_err(|_| Stop::ClientGone)?;
            }
            if !full {
                return Ok(());
            }
        }
    }

    /// Reads the latest sequence, sends what came before it, then a
    /// heartbeat with it: the heartbeat is a cursor that skips nothing.
    async fn send_heartbeat(&mut self) -> Result<(), Stop> {
        let latest = self
            .store
            .latest_sequence()
            .await
            .map_err(|e| Stop::Failed(to_status(&e)))?;
        self.drain().await?;
        // Entries the filter hides still move the cursor forward.
        self.cursor = self.cursor.max(latest);
        let message = pb::WatchResponse {
            event: Some(pb::watch_response::Event::Heartbeat(pb::Heartbeat {
                latest_sequence: self.cursor,
                time: Some(timestamp(edufed_domain::time::now())),
            })),
        };
        self.tx
            .send(Ok(message))
            .await
            .map_err(|_| Stop::ClientGone)
    }
}
