//! How fast one caller may call: per token or console session, per peer
//! node, and per client address for calls without a credential (calendar
//! feeds, organization reads, the descriptor). A caller over its rate gets
//! RESOURCE_EXHAUSTED (429 on the plain routes) saying when to retry; the
//! others are served as before. An address whose credentials keep failing
//! is refused before its next one is even looked up, so guessing tokens
//! costs the node (and its other clients) next to nothing.
//!
//! Generic cell rate limiting by governor, one state per key; states not
//! used for a while are dropped every minute.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::metrics::Metrics;

/// A sustained rate and a burst; a rate of 0 is no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rate {
    /// Calls per second, sustained.
    pub(crate) per_second: u32,
    /// Calls at once after a quiet spell.
    pub(crate) burst: u32,
}

/// The limits a node enforces.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RateSettings {
    pub(crate) credential: Rate,
    pub(crate) peer: Rate,
    pub(crate) address: Rate,
    /// Failed authentications per minute from one address, and a burst.
    pub(crate) failed_auth_per_minute: u32,
    pub(crate) failed_auth_burst: u32,
}

/// Who a call is counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Caller {
    /// A token or a console session, by its id.
    Credential(String),
    /// A peer node, by its id.
    Peer(String),
    /// A call with no credential, by the client's address (an IPv6 /64).
    Address(IpAddr),
}

type Limiter<K> = DefaultKeyedRateLimiter<K>;

fn limiter<K: std::hash::Hash + Eq + Clone>(rate: Rate) -> Option<Limiter<K>> {
    let per_second = NonZeroU32::new(rate.per_second)?;
    let burst = NonZeroU32::new(rate.burst.max(1)).unwrap_or(NonZeroU32::MIN);
    Some(Limiter::keyed(
        Quota::per_second(per_second).allow_burst(burst),
    ))
}

/// The node's limiters.
pub(crate) struct Limits {
    credentials: Option<Limiter<String>>,
    peers: Option<Limiter<String>>,
    addresses: Option<Limiter<IpAddr>>,
    failures: Option<Limiter<IpAddr>>,
    /// Addresses refused credentials until the instant given.
    blocked: Mutex<HashMap<IpAddr, Instant>>,
    metrics: Arc<Metrics>,
}

impl Limits {
    pub(crate) fn new(settings: RateSettings, metrics: Arc<Metrics>) -> Self {
        metrics.set_rate_limits(&settings);
        let failures = NonZeroU32::new(settings.failed_auth_per_minute).and_then(|n| {
            let period = Duration::from_secs(60) / n.get();
            Quota::with_period(period).map(|quota| {
                Limiter::keyed(quota.allow_burst(
                    NonZeroU32::new(settings.failed_auth_burst.max(1)).unwrap_or(NonZeroU32::MIN),
                ))
            })
        });
        Self {
            credentials: limiter(settings.credential),
            peers: limiter(settings.peer),
            addresses: limiter(settings.address),
            failures,
            blocked: Mutex::new(HashMap::new()),
            metrics,
        }
    }

    /// Counts a call of `caller`; `Err(wait)` when it is over its rate.
    pub(crate) fn check(&self, caller: &Caller) -> Result<(), Duration> {
        let now = DefaultClock::default().now();
        let (outcome, kind) = match caller {
            Caller::Credential(key) => (
                self.credentials.as_ref().map(|l| l.check_key(key)),
                "credential",
            ),
            Caller::Peer(key) => (self.peers.as_ref().map(|l| l.check_key(key)), "peer"),
            Caller::Address(ip) => (
                self.addresses
                    .as_ref()
                    .map(|l| l.check_key(&crate::serve::address_key(*ip))),
                "address",
            ),
        };
        match outcome {
            Some(Err(not_until)) => {
                self.metrics.rate_limited(kind);
                Err(not_until.wait_time_from(now))
            }
            _ => Ok(()),
        }
    }

    /// Whether `ip` may present a credential now; `Err(wait)` while its
    /// failures keep it out.
    pub(crate) fn may_authenticate(&self, ip: IpAddr) -> Result<(), Duration> {
        let key = crate::serve::address_key(ip);
        let blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
        match blocked.get(&key) {
            Some(until) if *until > Instant::now() => {
                self.metrics.rate_limited("failed_auth");
                Err(*until - Instant::now())
            }
            _ => Ok(()),
        }
    }

    /// A credential from `ip` did not check out.
    pub(crate) fn failed(&self, ip: IpAddr) {
        let Some(failures) = &self.failures else {
            return;
        };
        let key = crate::serve::address_key(ip);
        let now = DefaultClock::default().now();
        if let Err(not_until) = failures.check_key(&key) {
            let wait = not_until.wait_time_from(now);
            self.blocked
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(key, Instant::now() + wait);
        }
    }

    /// Forgets the states of callers not seen lately.
    pub(crate) fn tidy(&self) {
        for limiter in [&self.credentials, &self.peers].into_iter().flatten() {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        for limiter in [&self.addresses, &self.failures].into_iter().flatten() {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        let now = Instant::now();
        self.blocked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, until| *until > now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_second: u32, burst: u32) -> Limits {
        let rate = Rate { per_second, burst };
        Limits::new(
            RateSettings {
                credential: rate,
                peer: rate,
                address: rate,
                failed_auth_per_minute: 60,
                failed_auth_burst: 3,
            },
            Arc::new(Metrics::new()),
        )
    }

    #[test]
    fn a_caller_over_its_burst_waits_and_others_do_not() {
        let limits = limits(1, 3);
        let busy = Caller::Credential("t1".into());
        for _ in 0..3 {
            assert!(limits.check(&busy).is_ok());
        }
        let wait = limits.check(&busy).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(1));
        assert!(limits.check(&Caller::Credential("t2".into())).is_ok());
        assert!(limits.check(&Caller::Peer("t1".into())).is_ok());
    }

    #[test]
    fn no_rate_is_no_limit() {
        let limits = limits(0, 0);
        for _ in 0..10_000 {
            assert!(
                limits
                    .check(&Caller::Address("192.0.2.1".parse().unwrap()))
                    .is_ok()
            );
        }
    }

    #[test]
    fn failures_keep_an_address_out_for_a_while() {
        let limits = limits(1, 1);
        let ip: IpAddr = "192.0.2.9".parse().unwrap();
        for _ in 0..3 {
            assert!(limits.may_authenticate(ip).is_ok());
            limits.failed(ip);
        }
        limits.failed(ip);
        let wait = limits.may_authenticate(ip).unwrap_err();
        assert!(wait <= Duration::from_secs(1));
        assert!(
            limits
                .may_authenticate("192.0.2.10".parse().unwrap())
                .is_ok()
        );
    }
}
