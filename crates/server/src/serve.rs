//! The accept loop: plaintext or TLS connections, HTTP/1.1 and HTTP/2 on one
//! port, and a graceful drain on shutdown.
//!
//! A connection costs the node an open file, so none is kept for nothing: one
//! that sends no request within the header timeout, or none for the idle
//! timeout after its last call ended, is closed (HTTP/2 with a GOAWAY); HTTP/2
//! peers that stop answering pings are dropped; one client address holds at
//! most `per_address` connections (an IPv6 client its /64); and the node as a
//! whole at most `max_connections`, which leaves files for its database and
//! its peers. Connections over a cap are closed as soon as they are accepted.

use std::collections::HashMap;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::body::Bytes;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt as _;

use crate::metrics::Metrics;

/// How long a connection may keep the node's resources for nothing, and how
/// many it may hold.
#[derive(Debug, Clone)]
pub(crate) struct ConnectionLimits {
    /// TLS handshake, and a connection's first request (its headers, on
    /// HTTP/1.1) must arrive within this.
    pub(crate) header_timeout: Duration,
    /// A connection with no call in flight is closed this long after its
    /// last call ended.
    pub(crate) idle_timeout: Duration,
    /// Connections from one address (an IPv6 /64); 0 for no cap.
    pub(crate) per_address: usize,
    /// Connections to the node at once.
    pub(crate) max_connections: usize,
}

/// Files kept back from connections for the node's own use: its database,
/// its data directory, its calls to peers and identity providers.
const FILES_RESERVED: u64 = 128;

/// Raises the process's soft limit on open files to its hard limit (as a
/// server does: systemd's default soft limit is 1 024) and returns how many
/// connections the node may hold within it, keeping files for its
/// `database_connections` and its own use.
pub(crate) fn connection_budget(database_connections: u32) -> usize {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let soft = match (limit.current, limit.maximum) {
        (Some(current), Some(maximum)) if current < maximum => {
            let raised = Rlimit {
                current: Some(maximum),
                maximum: Some(maximum),
            };
            match setrlimit(Resource::Nofile, raised) {
                Ok(()) => Some(maximum),
                Err(error) => {
                    tracing::debug!(%error, "cannot raise the open-file limit");
                    Some(current)
                }
            }
        }
        (Some(current), None) => {
            let raised = Rlimit {
                current: None,
                maximum: None,
            };
            setrlimit(Resource::Nofile, raised).map_or(Some(current), |()| None)
        }
        (current, _) => current,
    };
    match soft {
        None => usize::MAX,
        Some(soft) => {
            let reserved = FILES_RESERVED + 2 * u64::from(database_connections);
            usize::try_from(soft.saturating_sub(reserved).max(16)).unwrap_or(usize::MAX)
        }
    }
}

/// HTTP/2 pings after this long without a frame from the client…
const KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(30);
/// …and drops the connection when the ping is not answered within this.
const KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(20);
/// A connection asked to close (idle, draining) that does not within this is
/// dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// Serves `app` until `shutdown` is cancelled, then stops accepting and
/// waits up to `grace` for open connections to finish their calls.
pub(crate) async fn serve(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    app: axum::Router,
    shutdown: CancellationToken,
    grace: Duration,
    limits: ConnectionLimits,
    metrics: Arc<Metrics>,
) {
    let connections = TaskTracker::new();
    let draining = CancellationToken::new();
    let tls = tls.map(TlsAcceptor::from);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(256)
        .keep_alive_interval(KEEP_ALIVE_INTERVAL)
        .keep_alive_timeout(KEEP_ALIVE_TIMEOUT);
    let counts = Arc::new(AddressCounts::default());
    loop {
        let (stream, peer) = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: back off, keep serving.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let slot = match counts.admit(peer.ip(), &limits) {
            Ok(slot) => slot,
            Err(reason) => {
                tracing::debug!(%peer, reason, "connection refused");
                metrics.connection_refused(reason);
                drop(stream);
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let activity = Arc::new(Activity::new());
        let service = TowerToHyperService::new(Counted {
            app: app.clone(),
            activity: activity.clone(),
            peer,
        });
        let builder = builder.clone();
        let tls = tls.clone();
        let limits = limits.clone();
        let draining = draining.clone();
        let metrics = metrics.clone();
        metrics.connection_open(1);
        connections.spawn(async move {
            let _slot = slot;
            let result = match tls {
                None => {
                    let connection =
                        builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                    run(connection, &activity, &limits, &draining, &metrics).await
                }
                Some(acceptor) => {
                    let stream =
                        match tokio::time::timeout(limits.header_timeout, acceptor.accept(stream))
                            .await
                        {
                            Ok(Ok(stream)) => stream,
                            Ok(Err(error)) => {
                                tracing::debug!(%peer, %error, "TLS handshake failed");
                                metrics.connection_open(-1);
                                return;
                            }
                            Err(_) => {
                                tracing::debug!(%peer, "TLS handshake timed out");
                                metrics.connection_open(-1);
                                return;
                            }
                        };
                    let connection =
                        builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                    run(connection, &activity, &limits, &draining, &metrics).await
                }
            };
            metrics.connection_open(-1);
            if let Err(error) = result {
                tracing::debug!(%peer, %error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    connections.close();
    tracing::info!(connections = connections.len(), "draining connections");
    draining.cancel();
    if tokio::time::timeout(grace, connections.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            grace_secs = grace.as_secs(),
            "connections still open after the grace period; closing them"
        );
    }
}

/// Drives one connection until it ends; asks it to close when it idles or
/// the node drains, and drops it if it does not close soon after an idle
/// close.
async fn run<C>(
    connection: auto::UpgradeableConnection<'_, C, Served, TokioExecutor>,
    activity: &Activity,
    limits: &ConnectionLimits,
    draining: &CancellationToken,
    metrics: &Metrics,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>>
where
    C: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let mut connection = std::pin::pin!(connection);
    let idled = tokio::select! {
        result = connection.as_mut() => return result,
        () = activity.idle(limits.header_timeout, limits.idle_timeout) => true,
        () = draining.cancelled() => false,
    };
    connection.as_mut().graceful_shutdown();
    if !idled {
        // Draining: the caller bounds the wait for calls in flight.
        return connection.await;
    }
    metrics.connection_closed_idle();
    match tokio::time::timeout(CLOSE_GRACE, connection).await {
        Ok(result) => result,
        Err(_) => Ok(()),
    }
}

type Served = TowerToHyperService<Counted>;

/// The app, counting its calls in flight on the connection's activity until
/// each response's body is done.
#[derive(Clone)]
struct Counted {
    app: axum::Router,
    activity: Arc<Activity>,
    peer: std::net::SocketAddr,
}

/// The address a request came from, in its extensions.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientAddress(pub(crate) std::net::SocketAddr);

impl tower::Service<http::Request<hyper::body::Incoming>> for Counted {
    type Response = http::Response<Body>;
    type Error = std::convert::Infallible;
    type Future =
        Pin<Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: http::Request<hyper::body::Incoming>) -> Self::Future {
        request.extensions_mut().insert(ClientAddress(self.peer));
        let call = Call::begin(self.activity.clone());
        let app = self.app.clone();
        Box::pin(async move {
            let response = app.oneshot(request.map(Body::new)).await?;
            Ok(response.map(|body| Body::new(CallBody { body, _call: call })))
        })
    }
}

/// What a connection has been doing: its calls in flight, how many it has
/// made, and when the last one ended.
struct Activity {
    state: Mutex<ActivityState>,
    changed: Notify,
}

struct ActivityState {
    in_flight: usize,
    calls: u64,
    since: Instant,
}

impl Activity {
    fn new() -> Self {
        Self {
            state: Mutex::new(ActivityState {
                in_flight: 0,
                calls: 0,
                since: Instant::now(),
            }),
            changed: Notify::new(),
        }
    }

    fn update(&self, change: impl FnOnce(&mut ActivityState)) {
        change(&mut self.state.lock().unwrap_or_else(|e| e.into_inner()));
        self.changed.notify_one();
    }

    /// Returns when the connection has made no call within `first` of
    /// opening, or has had none in flight for `idle`.
    async fn idle(&self, first: Duration, idle: Duration) {
        loop {
            let deadline = {
                let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
                if state.in_flight > 0 {
                    None
                } else if state.calls == 0 {
                    Some(state.since + first)
                } else {
                    Some(state.since + idle)
                }
            };
            match deadline {
                None => self.changed.notified().await,
                Some(deadline) if deadline <= Instant::now() => return,
                Some(deadline) => {
                    tokio::select! {
                        () = self.changed.notified() => {}
                        () = tokio::time::sleep_until(deadline) => {}
                    }
                }
            }
        }
    }
}

/// One call in flight; ends when dropped with its response's body.
struct Call(Arc<Activity>);

impl Call {
    fn begin(activity: Arc<Activity>) -> Self {
        activity.update(|state| {
            state.in_flight += 1;
            state.calls += 1;
        });
        Self(activity)
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        self.0.update(|state| {
            state.in_flight = state.in_flight.saturating_sub(1);
            state.since = Instant::now();
        });
    }
}

/// A response body that holds its call open until it is sent or dropped.
struct CallBody {
    body: Body,
    _call: Call,
}

impl http_body::Body for CallBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// Open connections per client address, and in all.
#[derive(Default)]
struct AddressCounts {
    counts: Mutex<(usize, HashMap<IpAddr, usize>)>,
}

/// A connection's place in the counts, given back when dropped.
struct Slot {
    counts: Arc<AddressCounts>,
    key: IpAddr,
}

/// The address a client's connections are counted under: an IPv4 address,
/// or the /64 an IPv6 one is in (one host usually has a whole /64).
pub(crate) fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(prefix.into())
            }
        },
    }
}

impl AddressCounts {
    fn admit(
        self: &Arc<Self>,
        ip: IpAddr,
        limits: &ConnectionLimits,
    ) -> Result<Slot, &'static str> {
        let key = address_key(ip);
        let mut guard = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let (total, by_address) = &mut *guard;
        if *total >= limits.max_connections {
            return Err("node_full");
        }
        let count = by_address.entry(key).or_insert(0);
        if limits.per_address > 0 && *count >= limits.per_address {
            return Err("per_address");
        }
        *count += 1;
        *total += 1;
        Ok(Slot {
            counts: self.clone(),
            key,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut guard = self.counts.counts.lock().unwrap_or_else(|e| e.into_inner());
        let (total, by_address) = &mut *guard;
        *total = total.saturating_sub(1);
        if let Some(count) = by_address.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                by_address.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(address_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn an_address_over_its_share_is_refused_and_its_slots_come_back() {
        let counts = Arc::new(AddressCounts::default());
        let limits = ConnectionLimits {
            header_timeout: Duration::from_secs(1),
            idle_timeout: Duration::from_secs(1),
            per_address: 2,
            max_connections: 3,
        };
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let first = counts.admit(a, &limits).unwrap();
        let _second = counts.admit(a, &limits).unwrap();
        assert_eq!(counts.admit(a, &limits).err(), Some("per_address"));
        let _third = counts.admit(b, &limits).unwrap();
        assert_eq!(counts.admit(b, &limits).err(), Some("node_full"));
        drop(first);
        assert!(counts.admit(a, &limits).is_ok());
    }
}
