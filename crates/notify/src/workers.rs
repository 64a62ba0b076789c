//! The two loops: the notifier fills the outbox from the change log as it
//! grows; the sender empties it, a few messages at a time.

use std::sync::Arc;

use anyhow::Context as _;
use edufed_domain::notify::Channel;
use edufed_store::Store;
use edufed_store::notify::Queued;
use edufed_worker::{Worker, WorkerState};
use tokio::sync::{Notify, watch};
use tokio::time::{Instant, Interval, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use crate::compose::Composer;
use crate::mail::Mailer;
use crate::settings::Settings;
use crate::webhook::Webhooks;

/// Log entries the notifier reads in one transaction.
const FILL_BATCH: u32 = 500;
/// Notifications the sender takes at once.
const CLAIM_BATCH: u32 = 200;
/// How often the notifier looks at the log without being woken (another
/// replica's writes on PostgreSQL wake it through the log poller too).
const FILL_TICK: std::time::Duration = std::time::Duration::from_secs(5);
/// How long the notifier lets the log grow after a write wakes it, so that
/// a burst of writes is read in one transaction rather than one each.
const FILL_GATHER: std::time::Duration = std::time::Duration::from_millis(200);

fn ticks(period: std::time::Duration) -> Interval {
    let mut tick = tokio::time::interval_at(Instant::now() + period, period);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    tick
}

/// Follows the node's change log and writes the news it means to the
/// outbox; wakes the sender when it wrote some.
pub struct Notifier {
    store: Store,
    latest: watch::Receiver<u64>,
    tick: Interval,
    wake_sender: Arc<Notify>,
}

impl Notifier {
    /// A notifier over `store` that wakes `wake_sender` after each fill.
    pub fn new(store: Store, wake_sender: Arc<Notify>) -> Self {
        Self {
            latest: store.subscribe_latest(),
            store,
            tick: ticks(FILL_TICK),
            wake_sender,
        }
    }
}

impl Worker for Notifier {
    fn name(&self) -> String {
        "notifier".into()
    }

    async fn work(&mut self, _must_exit: &CancellationToken) -> anyhow::Result<WorkerState> {
        self.latest.borrow_and_update();
        let passed = self
            .store
            .fill_outbox(FILL_BATCH)
            .await
            .context("cannot fill the notification outbox")?;
        if passed > 0 {
            self.wake_sender.notify_one();
        }
        Ok(if passed >= FILL_BATCH as usize {
            WorkerState::Busy
        } else {
            WorkerState::Idle
        })
    }

    async fn wait_for_work(&mut self) -> WorkerState {
        tokio::select! {
            changed = self.latest.changed() => {
                if changed.is_err() {
                    // The store is gone; the tick still works.
                    self.tick.tick().await;
                } else {
                    tokio::time::sleep(FILL_GATHER).await;
                }
            }
            _ = self.tick.tick() => {}
        }
        WorkerState::Busy
    }
}

/// Delivers what the outbox holds due: e-mail when the node has a mail
/// server, webhooks always.
pub struct Sender {
    store: Store,
    composer: Composer,
    mailer: Option<Mailer>,
    webhooks: Webhooks,
    settings: Settings,
    wake: Arc<Notify>,
    tick: Interval,
    /// E-mail is not tried before this, after the mail server failed
    /// every message of a chunk.
    email_paused_until: Option<chrono::DateTime<chrono::Utc>>,
    /// How many chunks in a row the mail server failed entirely.
    email_down: u32,
}

/// What became of one attempt.
enum Outcome {
    Sent(String),
    Failed(String, String, Channel),
}

impl Sender {
    /// A sender woken by `wake` and every `settings.poll`.
    pub fn new(
        store: Store,
        composer: Composer,
        mailer: Option<Mailer>,
        settings: Settings,
        wake: Arc<Notify>,
    ) -> anyhow::Result<Self> {
        let timeout = settings
            .smtp
            .as_ref()
            .map_or(std::time::Duration::from_secs(30), |s| s.timeout);
        Ok(Self {
            webhooks: Webhooks::new(timeout)?,
            tick: ticks(settings.poll),
            store,
            composer,
            mailer,
            settings,
            wake,
            email_paused_until: None,
            email_down: 0,
        })
    }

    /// Delivers one notification.
    async fn deliver(&self, queued: Queued) -> Outcome {
        let result = match queued.channel {
            Channel::Email => self.email(&queued).await,
            Channel::Webhook => self.webhook(&queued).await,
        };
        match result {
            Ok(()) => Outcome::Sent(queued.key),
            Err(error) => {
                tracing::warn!(
                    key = %queued.key,
                    channel = %queued.channel,
                    attempts = queued.attempts + 1,
                    error = %format_args!("{error:#}"),
                    "notification not delivered"
                );
                Outcome::Failed(queued.key, format!("{error:#}"), queued.channel)
            }
        }
    }

    async fn email(&self, queued: &Queued) -> anyhow::Result<()> {
        let mailer = self
            .mailer
            .as_ref()
            .context("no mail server is configured")?;
        let mail = self.composer.email(queued, &mailer.host()).await?;
        mailer.send(&mail).await
    }

    /// Sends each person's digest of `claimed` (ordered by person) as one
    /// message, and records it for every notification in it.
    async fn send_digests(&self, claimed: Vec<Queued>) -> anyhow::Result<()> {
        let Some(mailer) = &self.mailer else {
            return Ok(());
        };
        let mut groups: Vec<Vec<Queued>> = Vec::new();
        for queued in claimed {
            match groups.last_mut() {
                Some(group)
                    if group[0].person_id == queued.person_id
                        && group[0].address == queued.address =>
                {
                    group.push(queued);
                }
                _ => groups.push(vec![queued]),
            }
        }
        for group in groups {
            let keys: Vec<String> = group.iter().map(|q| q.key.clone()).collect();
            let sent = async {
                let mail = self.composer.digest(&group, &mailer.host()).await?;
                mailer.send(&mail).await
            }
            .await;
            match sent {
                Ok(()) => self.store.notifications_sent(&keys).await?,
                Err(error) => {
                    tracing::warn!(
                        to = %group[0].address,
                        error = %format_args!("{error:#}"),
                        "digest not delivered"
                    );
                    let failed: Vec<(String, String)> = keys
                        .into_iter()
                        .map(|key| (key, format!("{error:#}")))
                        .collect();
                    self.store
                        .notifications_failed(&failed, self.settings.give_up_after)
                        .await?;
                }
            }
        }
        Ok(())
    }

    async fn webhook(&self, queued: &Queued) -> anyhow::Result<()> {
        let hook = self
            .store
            .webhook(&queued.org_id)
            .await?
            .context("the organization no longer has a webhook")?;
        let body = self.composer.webhook_body(queued).await?;
        let now = self.store.clock().now();
        self.webhooks
            .post(&queued.address, &hook.secret, &queued.key, body, now)
            .await
    }
}

impl Worker for Sender {
    fn name(&self) -> String {
        "notification sender".into()
    }

    async fn work(&mut self, must_exit: &CancellationToken) -> anyhow::Result<WorkerState> {
        let now = self.store.clock().now();
        let email_up = self.mailer.is_some() && self.email_paused_until.is_none_or(|t| t <= now);
        let mut channels = vec![Channel::Webhook];
        if email_up {
            channels.push(Channel::Email);
        }
        let mut claimed = std::collections::VecDeque::new();
        for channel in channels {
            claimed.extend(
                self.store
                    .claim_due_notifications(channel, CLAIM_BATCH, self.settings.lease)
                    .await
                    .context("cannot claim notifications")?,
            );
        }
        if email_up {
            let digests = self
                .store
                .claim_due_digests(CLAIM_BATCH, self.settings.lease)
                .await
                .context("cannot claim digests")?;
            self.send_digests(digests).await?;
        }
        if claimed.is_empty() {
            return Ok(WorkerState::Idle);
        }
        let full = claimed.len() >= CLAIM_BATCH as usize;
        // A few at a time, each few recorded as soon as it is done: a node
        // killed mid-batch sends again only what it had not recorded.
        let at_once = self.settings.concurrency.max(1);
        while !claimed.is_empty() {
            let chunk: Vec<Queued> = claimed.drain(..at_once.min(claimed.len())).collect();
            let emails = chunk.iter().filter(|q| q.channel == Channel::Email).count();
            let outcomes =
                futures::future::join_all(chunk.into_iter().map(|q| self.deliver(q))).await;
            let mut sent = Vec::new();
            let mut failed = Vec::new();
            let mut emails_failed = 0;
            for outcome in outcomes {
                match outcome {
                    Outcome::Sent(key) => sent.push(key),
                    Outcome::Failed(key, error, channel) => {
                        if channel == Channel::Email {
                            emails_failed += 1;
                        }
                        failed.push((key, error));
                    }
                }
            }
            self.store
                .notifications_sent(&sent)
                .await
                .context("cannot record deliveries")?;
            self.store
                .notifications_failed(&failed, self.settings.give_up_after)
                .await
                .context("cannot record failed deliveries")?;
            if emails > 0 && emails_failed == emails {
                // The mail server is down (or refuses everything): stop
                // trying it for a while instead of failing each message
                // in turn, and give back the rest untried.
                self.email_down = self.email_down.saturating_add(1);
                let until =
                    self.store.clock().now() + edufed_domain::notify::retry_delay(self.email_down);
                self.email_paused_until = Some(until);
                let (untried, rest): (Vec<Queued>, Vec<Queued>) =
                    claimed.drain(..).partition(|q| q.channel == Channel::Email);
                claimed.extend(rest);
                let keys: Vec<String> = untried.into_iter().map(|q| q.key).collect();
                self.store
                    .release_notifications(&keys, until)
                    .await
                    .context("cannot give back notifications")?;
                tracing::warn!(%until, failures = self.email_down, "the mail server fails every message; paused");
            } else if emails > 0 {
                self.email_down = 0;
                self.email_paused_until = None;
            }
            if must_exit.is_cancelled() {
                // The rest go back to the queue when the lease runs out.
                break;
            }
        }
        Ok(if full && !must_exit.is_cancelled() {
            WorkerState::Busy
        } else {
            WorkerState::Idle
        })
    }

    async fn wait_for_work(&mut self) -> WorkerState {
        tokio::select! {
            () = self.wake.notified() => {}
            _ = self.tick.tick() => {}
        }
        WorkerState::Busy
    }
}

/// Brings the news time brings: reminders before lessons and word of
/// agreements ending, checked every minute.
pub struct Reminders {
    store: Store,
    reminder_days: Vec<u32>,
    expiring_days: Vec<u32>,
    tick: Interval,
    wake_sender: Arc<Notify>,
}

impl Reminders {
    /// Reminders `reminder_days` before lessons and `expiring_days`
    /// before agreements end.
    pub fn new(
        store: Store,
        reminder_days: Vec<u32>,
        expiring_days: Vec<u32>,
        wake_sender: Arc<Notify>,
    ) -> Self {
        Self {
            store,
            reminder_days,
            expiring_days,
            tick: ticks(std::time::Duration::from_secs(60)),
            wake_sender,
        }
    }
}

impl Worker for Reminders {
    fn name(&self) -> String {
        "reminders".into()
    }

    async fn work(&mut self, _must_exit: &CancellationToken) -> anyhow::Result<WorkerState> {
        self.store
            .queue_reminders(&self.reminder_days, &self.expiring_days)
            .await
            .context("cannot queue reminders")?;
        self.wake_sender.notify_one();
        Ok(WorkerState::Idle)
    }

    async fn wait_for_work(&mut self) -> WorkerState {
        self.tick.tick().await;
        WorkerState::Busy
    }
}
