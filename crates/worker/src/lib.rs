//! Background work: a node's loops (polling the log, compacting it, moving
//! agreements on, following peers) are [`Worker`]s, and one runner does what
//! each would otherwise repeat: calling them, backing off after an error,
//! counting and logging errors, and stopping when the node stops.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rand::Rng as _;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// What a worker asks of the runner after a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerState {
    /// There is more to do now: call [`Worker::work`] again at once.
    Busy,
    /// Nothing to do until [`Worker::wait_for_work`] says so.
    Idle,
    /// Finished for good.
    Done,
}

/// A background loop, run by [`run`] or [`Workers::spawn`].
pub trait Worker: Send {
    /// Names the worker in logs.
    fn name(&self) -> String;

    /// Does one unit of work. An error is counted and logged by the runner,
    /// which backs off and then waits for work. The runner does not
    /// interrupt this call, so that a store write is never cut in half: one
    /// that may wait long (on a peer) must return soon after `must_exit` is
    /// cancelled.
    fn work(
        &mut self,
        must_exit: &CancellationToken,
    ) -> impl Future<Output = anyhow::Result<WorkerState>> + Send;

    /// Waits until there is work (a tick, a signal). Dropped unfinished when
    /// the node stops, so it must be cancel-safe.
    fn wait_for_work(&mut self) -> impl Future<Output = WorkerState> + Send;
}

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

/// Runs `worker` until it is done or `must_exit` is cancelled. It starts
/// with [`Worker::work`].
pub async fn run<W: Worker>(mut worker: W, must_exit: CancellationToken) {
    let name = worker.name();
    let mut consecutive_errors: u32 = 0;
    let mut state = WorkerState::Busy;
    loop {
        if must_exit.is_cancelled() {
            break;
        }
        state = match state {
            WorkerState::Busy => match worker.work(&must_exit).await {
                Ok(next) => {
                    consecutive_errors = 0;
                    next
                }
                Err(error) => {
                    consecutive_errors = consecutive_errors.saturating_add(1);
                    let delay = backoff(consecutive_errors);
                    tracing::warn!(
                        worker = %name,
                        consecutive_errors,
                        retry_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                        error = %format_args!("{error:#}"),
                        "worker failed"
                    );
                    tokio::select! {
                        biased;
                        () = must_exit.cancelled() => break,
                        () = tokio::time::sleep(delay) => WorkerState::Idle,
                    }
                }
            },
            WorkerState::Idle => tokio::select! {
                biased;
                () = must_exit.cancelled() => break,
                next = worker.wait_for_work() => next,
            },
            WorkerState::Done => break,
        };
    }
    tracing::debug!(worker = %name, "worker stopped");
}

/// The workers of one node: all stop when one token is cancelled, and
/// [`Workers::join`] waits for every one, including those that workers
/// started themselves.
#[derive(Clone)]
pub struct Workers {
    tracker: TaskTracker,
    must_exit: CancellationToken,
    /// Groups started with [`Workers::child`], joined with these.
    children: Arc<Mutex<Vec<Workers>>>,
}

impl Workers {
    /// Workers that stop when `must_exit` is cancelled.
    pub fn new(must_exit: CancellationToken) -> Self {
        Self {
            tracker: TaskTracker::new(),
            must_exit,
            children: Arc::default(),
        }
    }

    /// A group of workers that stops with these, or on its own with
    /// [`Workers::stop`]; [`Workers::join`] of these waits for it too.
    pub fn child(&self) -> Workers {
        let child = Workers::new(self.must_exit.child_token());
        let mut children = self.children.lock().unwrap_or_else(PoisonError::into_inner);
        children.retain(|c| !(c.tracker.is_closed() && c.tracker.is_empty()));
        children.push(child.clone());
        child
    }

    /// Tells these workers (and their children) to stop; [`Workers::join`]
    /// waits until they have.
    pub fn stop(&self) {
        self.must_exit.cancel();
    }

    /// Starts `worker` on its own task. Aborting the handle stops it at
    /// once, wherever it is.
    pub fn spawn<W: Worker + 'static>(&self, worker: W) -> JoinHandle<()> {
        self.tracker.spawn(run(worker, self.must_exit.clone()))
    }

    /// Waits until every worker has stopped: after the token is cancelled,
    /// or once all are done.
    pub async fn join(&self) {
        self.tracker.close();
        self.tracker.wait().await;
        let children: Vec<Workers> = self
            .children
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
            .collect();
        for child in children {
            Box::pin(child.join()).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[test]
    fn backoff_grows_to_a_cap_with_jitter() {
        for attempt in 1..20 {
            let d = backoff(attempt);
            let base = (500u64 << (attempt - 1).min(6)).min(30_000);
            assert!(d >= Duration::from_millis(base) && d <= Duration::from_millis(base * 3 / 2));
        }
    }

    /// Works through a script of outcomes, then is done; counts its calls.
    struct Scripted {
        script: Vec<Result<WorkerState, &'static str>>,
        works: Arc<AtomicU32>,
        waits: Arc<AtomicU32>,
    }

    impl Worker for Scripted {
        fn name(&self) -> String {
            "scripted".into()
        }

        async fn work(&mut self, _: &CancellationToken) -> anyhow::Result<WorkerState> {
            self.works.fetch_add(1, Ordering::SeqCst);
            if self.script.is_empty() {
                return Ok(WorkerState::Done);
            }
            self.script.remove(0).map_err(anyhow::Error::msg)
        }

        async fn wait_for_work(&mut self) -> WorkerState {
            self.waits.fetch_add(1, Ordering::SeqCst);
            WorkerState::Busy
        }
    }

    #[tokio::test]
    async fn busy_works_again_idle_waits_an_error_retries_and_done_stops() {
        let works = Arc::new(AtomicU32::new(0));
        let waits = Arc::new(AtomicU32::new(0));
        let worker = Scripted {
            script: vec![
                Ok(WorkerState::Busy),
                Ok(WorkerState::Idle),
                Err("the database is away"),
                Ok(WorkerState::Busy),
            ],
            works: works.clone(),
            waits: waits.clone(),
        };
        run(worker, CancellationToken::new()).await;
        // Four scripted calls and the one that said done; a wait after the
        // idle call and one after the error's backoff.
        assert_eq!(works.load(Ordering::SeqCst), 5);
        assert_eq!(waits.load(Ordering::SeqCst), 2);
    }

    /// Fails every time, and says so on a channel.
    struct Failing(tokio::sync::mpsc::UnboundedSender<()>);

    impl Worker for Failing {
        fn name(&self) -> String {
            "failing".into()
        }

        async fn work(&mut self, _: &CancellationToken) -> anyhow::Result<WorkerState> {
            let _ = self.0.send(());
            anyhow::bail!("always")
        }

        async fn wait_for_work(&mut self) -> WorkerState {
            WorkerState::Busy
        }
    }

    /// Never has work.
    struct Waiting;

    impl Worker for Waiting {
        fn name(&self) -> String {
            "waiting".into()
        }

        async fn work(&mut self, _: &CancellationToken) -> anyhow::Result<WorkerState> {
            Ok(WorkerState::Idle)
        }

        async fn wait_for_work(&mut self) -> WorkerState {
            std::future::pending().await
        }
    }

    #[tokio::test]
    async fn cancelling_stops_workers_waiting_or_backing_off_and_join_waits_for_all() {
        let must_exit = CancellationToken::new();
        let workers = Workers::new(must_exit.clone());
        let (failed, mut failures) = tokio::sync::mpsc::unbounded_channel();
        workers.spawn(Failing(failed));
        workers.spawn(Waiting);
        failures.recv().await.expect("the failing worker ran");
        must_exit.cancel();
        // A hang guard, not a timing assertion: without the cancellation
        // neither worker would ever stop.
        tokio::time::timeout(Duration::from_secs(60), workers.join())
            .await
            .expect("both workers stopped");
    }
}
