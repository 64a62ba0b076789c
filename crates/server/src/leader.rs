//! The node's background work (the agreement lifecycle, following peers,
//! filling the outbox, reminders, compaction) runs on one replica at a
//! time: the one holding the lease [`LEASE`] in the database. Replicas of
//! one node share a PostgreSQL database; a node on SQLite is one process
//! and does its work without a lease.
//!
//! The holder renews the lease every [`RENEW_EVERY`] for [`LEASE_TTL`].
//! It stops its work when a renewal has not succeeded for half the TTL,
//! and another replica takes the lease only once it has expired, so the
//! two never work at once; a replica that stops cleanly gives the lease up
//! for another to take at once. The work of a term runs under a
//! cancellation token of its own, stopped and joined when the term ends.

use std::sync::Arc;
use std::time::Duration;

use edufed_store::Store;
use edufed_worker::{Worker, WorkerState, Workers};
use tokio::time::{Instant, Interval, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;

/// The lease of the node's background work.
pub const LEASE: &str = "background work";

/// How long a lease lasts without renewal.
pub(crate) const LEASE_TTL: Duration = Duration::from_secs(6);

/// How often the holder renews it, and another replica tries to take it.
pub(crate) const RENEW_EVERY: Duration = Duration::from_millis(1500);

/// The longest the work of an ended term is waited for before the next
/// renewal; it has stopped by then or stops on its own soon after.
const JOIN_WAIT: Duration = Duration::from_secs(2);

/// Starts the work of a term on the workers it is given.
pub(crate) type Start = Box<dyn Fn(&Workers) + Send>;

struct Running {
    term: u64,
    workers: Workers,
}

/// Holds (or waits for) the lease and runs the work while it is held.
pub(crate) struct Leader {
    store: Store,
    holder: String,
    start: Start,
    metrics: Arc<Metrics>,
    /// The node's workers, of which each term's are a child group.
    node_workers: Workers,
    running: Option<Running>,
    /// When the lease was last renewed.
    renewed: Option<Instant>,
    tick: Interval,
}

impl Leader {
    pub(crate) fn new(
        store: Store,
        holder: String,
        metrics: Arc<Metrics>,
        node_workers: Workers,
        start: Start,
    ) -> Self {
        let mut tick = tokio::time::interval(RENEW_EVERY);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Self {
            store,
            holder,
            start,
            metrics,
            node_workers,
            running: None,
            renewed: None,
            tick,
        }
    }

    async fn stop(&mut self, why: &str) {
        let Some(running) = self.running.take() else {
            return;
        };
        tracing::info!(
            term = running.term,
            why,
            "background work stops on this replica"
        );
        running.workers.stop();
        if tokio::time::timeout(JOIN_WAIT, running.workers.join())
            .await
            .is_err()
        {
            tracing::warn!(term = running.term, "background work still stopping");
        }
        self.metrics.set_leader(None);
    }
}

impl Worker for Leader {
    fn name(&self) -> String {
        "leader".into()
    }

    async fn work(&mut self, _must_exit: &CancellationToken) -> anyhow::Result<WorkerState> {
        let ttl = chrono::Duration::from_std(LEASE_TTL).unwrap_or_default();
        let held =
            tokio::time::timeout(RENEW_EVERY, self.store.hold_lease(LEASE, &self.holder, ttl))
                .await;
        match held {
            Ok(Ok(Some(term))) => {
                self.renewed = Some(Instant::now());
                if self.running.as_ref().is_some_and(|r| r.term != term) {
                    self.stop("a new term").await;
                }
                if self.running.is_none() {
                    tracing::info!(term, holder = %self.holder, "background work starts on this replica");
                    let workers = self.node_workers.child();
                    (self.start)(&workers);
                    self.running = Some(Running { term, workers });
                    self.metrics.set_leader(Some(term));
                }
            }
            Ok(Ok(None)) => self.stop("another replica holds the lease").await,
            Ok(Err(error)) => {
                tracing::warn!(%error, "the background work's lease was not renewed");
            }
            Err(_) => tracing::warn!("renewing the background work's lease took too long"),
        }
        // Without a renewal for half the lease, stop: another replica may
        // take it once it expires.
        if self.renewed.is_none_or(|at| at.elapsed() > LEASE_TTL / 2) {
            self.stop("the lease could not be renewed").await;
        }
        Ok(WorkerState::Idle)
    }

    async fn wait_for_work(&mut self) -> WorkerState {
        self.tick.tick().await;
        WorkerState::Busy
    }
}

/// Gives the lease up when a replica stops, so another takes it at once.
pub(crate) async fn release(store: &Store, holder: &str) {
    if let Err(error) = store.release_lease(LEASE, holder).await {
        tracing::warn!(%error, "the background work's lease was not given up");
    }
}
