//! The node's own background workers; the followers of peers are
//! edufed-federation's.

use std::time::Duration;

use anyhow::Context as _;
use edufed_store::Store;
use edufed_worker::{Worker, WorkerState};
use tokio::time::{Instant, Interval, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

/// How often a PostgreSQL node looks for log entries written by another
/// replica, to wake its Watch streams.
const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// How often the change log is compacted.
const COMPACTION_INTERVAL: Duration = Duration::from_secs(3600);

/// Ticks every `period`, the first one a period from now: the runner works
/// once at start.
fn ticks(period: Duration, missed: MissedTickBehavior) -> Interval {
    let mut tick = tokio::time::interval_at(Instant::now() + period, period);
    tick.set_missed_tick_behavior(missed);
    tick
}

/// One poller per process, instead of one per stream.
pub(crate) struct LogPoller {
    store: Store,
    tick: Interval,
}

impl LogPoller {
    pub(crate) fn new(store: Store) -> Self {
        Self {
            store,
            tick: ticks(POLL_INTERVAL, MissedTickBehavior::Delay),
        }
    }
}

impl Worker for LogPoller {
    fn name(&self) -> String {
        "change log poller".into()
    }

    async fn work(&mut self, _must_exit: &CancellationToken) -> anyhow::Result<WorkerState> {
        self.store
            .sequence_log()
            .await
            .context("cannot number the change log's new entries")?;
        let latest = self
            .store
            .latest_sequence()
            .await
            .context("cannot read the change log's latest sequence")?;
        self.store.observe_latest(latest);
        Ok(WorkerState::Idle)
    }

    async fn wait_for_work(&mut self) -> WorkerState {
        self.tick.tick().await;
        WorkerState::Busy
    }
}

/// Applies the transitions time brings to agreements (in force from the
/// first day, expired after the last, terminated when notice runs out), as
/// the store's clock reads.
pub(crate) struct AgreementLifecycle {
    store: Store,
    tick: Interval,
}

impl AgreementLifecycle {
    pub(crate) fn new(store: Store, every: Duration) -> Self {
        Self {
            store,
            tick: ticks(every, MissedTickBehavior::Delay),
        }
    }
}

impl Worker for AgreementLifecycle {
    fn name(&self) -> String {
        "agreement lifecycle".into()
    }

    async fn work(&mut self, _must_exit: &CancellationToken) -> anyhow::Result<WorkerState> {
        let origin = edufed_domain::audit::CallOrigin::work(self.name());
        let changed = edufed_store::audit::within(origin, self.store.advance_agreements())
            .await
            .context("agreement lifecycle check failed")?;
        if changed > 0 {
            tracing::info!(changed, "agreements moved on by time");
        }
        Ok(WorkerState::Idle)
    }

    async fn wait_for_work(&mut self) -> WorkerState {
        self.tick.tick().await;
        WorkerState::Busy
    }
}

/// Deletes change-log entries and audit entries older than their
/// retentions, by the store's clock.
pub(crate) struct Compactor {
    store: Store,
    retention: chrono::Duration,
    audit_retention: chrono::Duration,
    tick: Interval,
}

impl Compactor {
    pub(crate) fn new(
        store: Store,
        retention: chrono::Duration,
        audit_retention: chrono::Duration,
    ) -> Self {
        Self {
            store,
            retention,
            audit_retention,
            tick: ticks(COMPACTION_INTERVAL, MissedTickBehavior::Burst),
        }
    }
}

impl Worker for Compactor {
    fn name(&self) -> String {
        "change log compaction".into()
    }

    async fn work(&mut self, _must_exit: &CancellationToken) -> anyhow::Result<WorkerState> {
        let before = self.store.clock().now() - self.retention;
        let deleted = self
            .store
            .compact_changes(before)
            .await
            .context("change log compaction failed")?;
        if deleted > 0 {
            tracing::info!(deleted, "change log compacted");
        }
        let expired = self
            .store
            .expire_audit(self.store.clock().now() - self.audit_retention)
            .await
            .context("audit trail expiry failed")?;
        if expired > 0 {
            tracing::info!(expired, "audit entries past their retention deleted");
        }
        Ok(WorkerState::Idle)
    }

    async fn wait_for_work(&mut self) -> WorkerState {
        self.tick.tick().await;
        WorkerState::Busy
    }
}

/// How often names past their retention are looked for.
const RETENTION_INTERVAL: Duration = Duration::from_secs(6 * 3600);

/// Replaces by the role the names on activities (and their registrations)
/// that ended longer ago than the retention, by the store's clock.
pub(crate) struct PersonalDataRetention {
    store: Store,
    retention: chrono::Duration,
    tick: Interval,
}

impl PersonalDataRetention {
    pub(crate) fn new(store: Store, retention: chrono::Duration) -> Self {
        Self {
            store,
            retention,
            tick: ticks(RETENTION_INTERVAL, MissedTickBehavior::Delay),
        }
    }
}

impl Worker for PersonalDataRetention {
    fn name(&self) -> String {
        "personal data retention".into()
    }

    async fn work(&mut self, _must_exit: &CancellationToken) -> anyhow::Result<WorkerState> {
        let origin = edufed_domain::audit::CallOrigin::work(self.name());
        let before = self.store.clock().now() - self.retention;
        let changed = edufed_store::audit::within(origin, self.store.expire_personal_data(before))
            .await
            .context("personal data retention failed")?;
        if changed > 0 {
            tracing::info!(changed, "names past their retention replaced by the role");
        }
        Ok(WorkerState::Idle)
    }

    async fn wait_for_work(&mut self) -> WorkerState {
        self.tick.tick().await;
        WorkerState::Busy
    }
}
