//! Prometheus metrics of one node, served at `/metrics`. Each node has its
//! own registry, so several nodes in one process (tests, `edufed demo`)
//! report separately.

use std::collections::HashSet;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use prost::Message as _;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RpcLabels {
    method: String,
    code: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PeerLabels {
    peer: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutboxLabels {
    channel: String,
    state: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SignInLabels {
    issuer: String,
    outcome: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MethodLabels {
    method: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: String,
}

type HistogramFamily = Family<MethodLabels, Histogram, fn() -> Histogram>;

/// The node's metrics.
#[derive(Debug)]
pub(crate) struct Metrics {
    sign_ins: Family<SignInLabels, Counter>,
    known: HashSet<String>,
    registry: Registry,
    rpcs: Family<RpcLabels, Counter>,
    latency: HistogramFamily,
    latest_sequence: Gauge,
    peer_connected: Family<PeerLabels, Gauge>,
    peer_lag_entries: Family<PeerLabels, Gauge>,
    peer_lag_seconds: Family<PeerLabels, Gauge>,
    notifications: Family<OutboxLabels, Gauge>,
    connections_open: Gauge,
    connections_refused: Family<ReasonLabels, Counter>,
    connections_closed_idle: Counter,
    database_up: Gauge,
    database_connections: Family<PoolLabels, Gauge>,
    leader: Gauge,
    leader_term: Gauge,
    rate_limited: Family<KindLabels, Counter>,
    rate_limits: Family<LimitLabels, Gauge>,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    pool: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimitLabels {
    kind: String,
    quantity: String,
}

/// Every method the node serves, as `/package.Service/Method`, read from
/// the descriptor sets. Other paths are counted as "unknown", so a client
/// cannot grow the label set.
fn known_methods() -> HashSet<String> {
    let mut methods = HashSet::new();
    for encoded in [
        edufed_proto::FILE_DESCRIPTOR_SET,
        tonic_health::pb::FILE_DESCRIPTOR_SET,
    ] {
        let Ok(set) = prost_types::FileDescriptorSet::decode(encoded) else {
            continue;
        };
        for file in set.file {
            let package = file.package.unwrap_or_default();
            for service in file.service {
                for method in service.method {
                    methods.insert(format!(
                        "/{package}.{}/{}",
                        service.name.clone().unwrap_or_default(),
                        method.name.unwrap_or_default()
                    ));
                }
            }
        }
    }
    for reflection in ["v1", "v1alpha"] {
        methods.insert(format!(
            "/grpc.reflection.{reflection}.ServerReflection/ServerReflectionInfo"
        ));
    }
    methods
}

impl Metrics {
    pub(crate) fn new() -> Self {
        let mut registry = Registry::default();
        let rpcs = Family::<RpcLabels, Counter>::default();
        registry.register(
            "edufed_rpc_requests",
            "gRPC calls handled, by method and status code",
            rpcs.clone(),
        );
        let latency: HistogramFamily =
            Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.0005, 2.0, 16)));
        registry.register(
            "edufed_rpc_duration_seconds",
            "Time from a gRPC call's arrival to its response headers, by method",
            latency.clone(),
        );
        let latest_sequence = Gauge::default();
        registry.register(
            "edufed_change_log_latest_sequence",
            "The latest sequence of the node's change log",
            latest_sequence.clone(),
        );
        let peer_connected = Family::<PeerLabels, Gauge>::default();
        registry.register(
            "edufed_peer_connected",
            "Whether the stream from a subscribed peer is open (1) or not (0)",
            peer_connected.clone(),
        );
        let peer_lag_entries = Family::<PeerLabels, Gauge>::default();
        registry.register(
            "edufed_peer_lag_entries",
            "Entries of a subscribed peer's log not applied yet (an upper bound)",
            peer_lag_entries.clone(),
        );
        let peer_lag_seconds = Family::<PeerLabels, Gauge>::default();
        registry.register(
            "edufed_peer_lag_seconds",
            "Seconds since a subscribed peer was last heard from",
            peer_lag_seconds.clone(),
        );
        let notifications = Family::<OutboxLabels, Gauge>::default();
        registry.register(
            "edufed_notifications",
            "Notifications in the outbox by channel (email, webhook) and state: queued, \
             retrying (queued after a failed attempt), sent, failed (given up)",
            notifications.clone(),
        );
        let sign_ins = Family::<SignInLabels, Counter>::default();
        registry.register(
            "edufed_sign_ins",
            "Sign-ins through identity providers by issuer and outcome: ok, or why one was \
             refused (state, signature, audience, expired, nonce, issuer, exchange, unbound, \
             unverified_email, issuer_required, binding, invitation, unreachable…)",
            sign_ins.clone(),
        );
        let connections_open = Gauge::default();
        registry.register(
            "edufed_connections_open",
            "Client connections open now",
            connections_open.clone(),
        );
        let connections_refused = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "edufed_connections_refused",
            "Connections closed as soon as they were accepted, by reason: per_address (the \
             client's address holds max_connections_per_address), node_full (the node holds \
             as many as its open-file limit leaves room for)",
            connections_refused.clone(),
        );
        let connections_closed_idle = Counter::default();
        registry.register(
            "edufed_connections_closed_idle",
            "Connections closed for sending no request within header_timeout_secs, or none \
             for idle_timeout_secs",
            connections_closed_idle.clone(),
        );
        let database_up = Gauge::default();
        registry.register(
            "edufed_database_up",
            "Whether the database answered the node's last check (1) or not (0)",
            database_up.clone(),
        );
        let database_connections = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "edufed_database_connections",
            "Connections to the database open now, by pool: read, feed and write on SQLite \
             (one writer; readers open as calls need them, at most eight or two a core, and \
             close after 30 s idle; feed, at most two, read for followers' streams), read on \
             PostgreSQL, whose one pool serves everything",
            database_connections.clone(),
        );
        let leader = Gauge::default();
        registry.register(
            "edufed_leader",
            "Whether this replica does the node's background work now (1) or another does (0)",
            leader.clone(),
        );
        let leader_term = Gauge::default();
        registry.register(
            "edufed_leader_term",
            "The term of the background work's lease this replica last held",
            leader_term.clone(),
        );
        let rate_limited = Family::<KindLabels, Counter>::default();
        registry.register(
            "edufed_rate_limited",
            "Calls refused for going over a rate, by whose rate: credential (a token or a \
             console session), peer, address (calls without a credential), failed_auth (an \
             address whose credentials kept failing)",
            rate_limited.clone(),
        );
        let rate_limits = Family::<LimitLabels, Gauge>::default();
        registry.register(
            "edufed_rate_limit",
            "The configured limits: calls per second sustained (quantity=\"per_second\"; per \
             minute for failed_auth) and burst, by kind; 0 is no limit",
            rate_limits.clone(),
        );
        Self {
            rate_limited,
            rate_limits,
            connections_open,
            connections_refused,
            connections_closed_idle,
            database_up,
            database_connections,
            leader,
            leader_term,
            sign_ins,
            notifications,
            known: known_methods(),
            registry,
            rpcs,
            latency,
            latest_sequence,
            peer_connected,
            peer_lag_entries,
            peer_lag_seconds,
        }
    }

    /// Sets the per-peer gauges from the subscriptions as they are now;
    /// peers no longer followed disappear. Labels are the operator's
    /// subscriptions, so their number stays bounded.
    pub(crate) fn set_peers(
        &self,
        subscriptions: &[edufed_domain::federation::Subscription],
        now: chrono::DateTime<chrono::Utc>,
    ) {
        self.peer_connected.clear();
        self.peer_lag_entries.clear();
        self.peer_lag_seconds.clear();
        for s in subscriptions {
            let labels = PeerLabels {
                peer: s.peer_id.clone(),
            };
            self.peer_connected
                .get_or_create(&labels)
                .set(i64::from(s.connected));
            self.peer_lag_entries
                .get_or_create(&labels)
                .set(i64::try_from(s.lag_entries()).unwrap_or(i64::MAX));
            self.peer_lag_seconds
                .get_or_create(&labels)
                .set(s.last_contact.map_or(-1, |at| (now - at).num_seconds()));
        }
    }

    /// A connection opened (`+1`) or closed (`-1`).
    pub(crate) fn connection_open(&self, delta: i64) {
        self.connections_open.inc_by(delta);
    }

    /// A connection closed as soon as it was accepted, and why.
    pub(crate) fn connection_refused(&self, reason: &str) {
        self.connections_refused
            .get_or_create(&ReasonLabels {
                reason: reason.to_owned(),
            })
            .inc();
    }

    /// A connection closed for idleness.
    pub(crate) fn connection_closed_idle(&self) {
        self.connections_closed_idle.inc();
    }

    /// A call refused for going over `kind`'s rate.
    pub(crate) fn rate_limited(&self, kind: &str) {
        self.rate_limited
            .get_or_create(&KindLabels {
                kind: kind.to_owned(),
            })
            .inc();
    }

    /// The configured limits, as gauges.
    pub(crate) fn set_rate_limits(&self, settings: &crate::limits::RateSettings) {
        let set = |kind: &str, quantity: &str, value: u32| {
            self.rate_limits
                .get_or_create(&LimitLabels {
                    kind: kind.to_owned(),
                    quantity: quantity.to_owned(),
                })
                .set(i64::from(value));
        };
        for (kind, rate) in [
            ("credential", settings.credential),
            ("peer", settings.peer),
            ("address", settings.address),
        ] {
            set(kind, "per_second", rate.per_second);
            set(kind, "burst", rate.burst);
        }
        set("failed_auth", "per_minute", settings.failed_auth_per_minute);
        set("failed_auth", "burst", settings.failed_auth_burst);
    }

    /// Whether the database answers.
    pub(crate) fn set_database_up(&self, up: bool) {
        self.database_up.set(i64::from(up));
    }

    /// The database's open connections, by pool.
    pub(crate) fn set_database_connections(&self, open: edufed_store::Connections) {
        for (pool, open) in [
            ("read", Some(open.read)),
            ("feed", open.feed),
            ("write", open.write),
        ] {
            let Some(open) = open else { continue };
            self.database_connections
                .get_or_create(&PoolLabels {
                    pool: pool.to_owned(),
                })
                .set(i64::from(open));
        }
    }

    /// Whether this replica leads the background work, and in which term.
    pub(crate) fn set_leader(&self, term: Option<u64>) {
        self.leader.set(i64::from(term.is_some()));
        if let Some(term) = term {
            self.leader_term
                .set(i64::try_from(term).unwrap_or(i64::MAX));
        }
    }

    /// Sets the outbox gauges from its counts now.
    pub(crate) fn set_outbox(&self, counts: &[edufed_store::notify::OutboxCounts]) {
        for c in counts {
            let channel = c.channel.map_or("unknown", |c| c.as_str()).to_owned();
            for (state, n) in [
                ("queued", c.queued),
                ("retrying", c.retrying),
                ("sent", c.sent),
                ("failed", c.failed),
            ] {
                self.notifications
                    .get_or_create(&OutboxLabels {
                        channel: channel.clone(),
                        state: state.to_owned(),
                    })
                    .set(i64::try_from(n).unwrap_or(i64::MAX));
            }
        }
    }

    /// Counts one sign-in through an identity provider.
    pub(crate) fn record_sign_in(&self, issuer: &str, outcome: &str) {
        self.sign_ins
            .get_or_create(&SignInLabels {
                issuer: issuer.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// Records one gRPC call.
    pub(crate) fn record_rpc(&self, path: &str, code: &str, elapsed: Duration) {
        let method = if self.known.contains(path) {
            path.trim_start_matches('/').to_owned()
        } else {
            "unknown".to_owned()
        };
        let code = if code.len() <= 2 && code.bytes().all(|b| b.is_ascii_digit()) {
            code_name(code).to_owned()
        } else {
            "UNKNOWN".to_owned()
        };
        self.rpcs
            .get_or_create(&RpcLabels {
                method: method.clone(),
                code,
            })
            .inc();
        self.latency
            .get_or_create(&MethodLabels { method })
            .observe(elapsed.as_secs_f64());
    }

    /// Updates the change-log gauge.
    pub(crate) fn set_latest_sequence(&self, sequence: u64) {
        self.latest_sequence
            .set(i64::try_from(sequence).unwrap_or(i64::MAX));
    }

    /// The text exposition format.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

fn code_name(code: &str) -> &'static str {
    match code {
        "0" => "OK",
        "1" => "CANCELLED",
        "2" => "UNKNOWN",
        "3" => "INVALID_ARGUMENT",
        "4" => "DEADLINE_EXCEEDED",
        "5" => "NOT_FOUND",
        "6" => "ALREADY_EXISTS",
        "7" => "PERMISSION_DENIED",
        "8" => "RESOURCE_EXHAUSTED",
        "9" => "FAILED_PRECONDITION",
        "10" => "ABORTED",
        "11" => "OUT_OF_RANGE",
        "12" => "UNIMPLEMENTED",
        "13" => "INTERNAL",
        "14" => "UNAVAILABLE",
        "15" => "DATA_LOSS",
        "16" => "UNAUTHENTICATED",
        _ => "UNKNOWN",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_calls_by_method_and_code() {
        let metrics = Metrics::new();
        metrics.record_rpc(
            "/edufed.v1.Directory/GetOrganization",
            "5",
            Duration::from_millis(3),
        );
        metrics.record_rpc("/random/garbage", "0", Duration::from_millis(1));
        metrics.record_rpc(
            "/edufed.v1.Directory/Invented",
            "12",
            Duration::from_millis(1),
        );
        metrics.record_rpc(
            "/grpc.health.v1.Health/Check",
            "0",
            Duration::from_millis(1),
        );
        let text = metrics.render();
        assert!(text.contains(
            "edufed_rpc_requests_total{method=\"edufed.v1.Directory/GetOrganization\",code=\"NOT_FOUND\"} 1"
        ));
        assert!(text.contains("method=\"unknown\""));
        assert!(!text.contains("Invented"));
        assert!(text.contains("method=\"grpc.health.v1.Health/Check\""));
        assert!(text.contains("edufed_rpc_duration_seconds_bucket"));
    }
}
