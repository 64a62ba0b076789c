//! Whether the node's database answers, checked twice a second on a
//! connection of its own. While it does not, the node says so at once:
//! gRPC health and `/healthz` report it not serving, calls get UNAVAILABLE
//! (which clients and forwarding nodes retry) instead of waiting for a pool
//! connection, and calls waiting on it when it went away are answered the
//! same. When it answers again, all of that is undone.

use std::sync::Arc;
use std::time::Duration;

use edufed_store::{Probe, Store};
use edufed_worker::{Worker, WorkerState};
use tokio::sync::watch;
use tokio::time::{Interval, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::metrics::Metrics;

/// How often the database is checked.
const CHECK_INTERVAL: Duration = Duration::from_millis(500);

/// Whether the database answered the last check; shared by the edge and
/// the plain routes.
#[derive(Clone)]
pub(crate) struct DatabaseState {
    up: watch::Receiver<bool>,
}

impl DatabaseState {
    /// Whether the database answered the last check.
    pub(crate) fn is_up(&self) -> bool {
        *self.up.borrow()
    }

    /// Returns once the database is found not answering.
    pub(crate) async fn gone(&self) {
        let mut up = self.up.clone();
        if up.wait_for(|up| !*up).await.is_err() {
            // The monitor stopped with the node: never.
            std::future::pending::<()>().await;
        }
    }
}

/// The worker that checks the database and tells everyone.
pub(crate) struct DatabaseMonitor {
    probe: Probe,
    timeout: Duration,
    up: watch::Sender<bool>,
    health: HealthReporter,
    services: Vec<&'static str>,
    metrics: Arc<Metrics>,
    stopping: CancellationToken,
    tick: Interval,
}

impl DatabaseMonitor {
    /// A monitor of `store` that gives a check `timeout` to answer, and the
    /// state it keeps. `services` are the names gRPC health reports on.
    pub(crate) fn new(
        store: &Store,
        timeout: Duration,
        health: HealthReporter,
        services: Vec<&'static str>,
        metrics: Arc<Metrics>,
        stopping: CancellationToken,
    ) -> (Self, DatabaseState) {
        let (up, receiver) = watch::channel(true);
        metrics.set_database_up(true);
        let mut tick = tokio::time::interval(CHECK_INTERVAL);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        (
            Self {
                probe: store.probe(),
                timeout,
                up,
                health,
                services,
                metrics,
                stopping,
                tick,
            },
            DatabaseState { up: receiver },
        )
    }

    async fn set(&mut self, up: bool) {
        if *self.up.borrow() == up || (up && self.stopping.is_cancelled()) {
            return;
        }
        self.up.send_replace(up);
        self.metrics.set_database_up(up);
        let status = if up {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        for service in std::iter::once("").chain(self.services.iter().copied()) {
            self.health.set_service_status(service, status).await;
        }
    }
}

impl Worker for DatabaseMonitor {
    fn name(&self) -> String {
        "database monitor".into()
    }

    async fn work(&mut self, _must_exit: &CancellationToken) -> anyhow::Result<WorkerState> {
        let answer = tokio::time::timeout(self.timeout, self.probe.check()).await;
        let up = match answer {
            Ok(Ok(())) => true,
            Ok(Err(error)) => {
                if *self.up.borrow() {
                    tracing::error!(%error, "the database is not answering; calls get UNAVAILABLE");
                }
                false
            }
            Err(_) => {
                self.probe.reset();
                if *self.up.borrow() {
                    tracing::error!(
                        timeout_ms = self.timeout.as_millis(),
                        "the database did not answer in time; calls get UNAVAILABLE"
                    );
                }
                false
            }
        };
        if up && !*self.up.borrow() {
            tracing::info!("the database answers again");
        }
        self.set(up).await;
        Ok(WorkerState::Idle)
    }

    async fn wait_for_work(&mut self) -> WorkerState {
        self.tick.tick().await;
        WorkerState::Busy
    }
}
