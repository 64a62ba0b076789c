//! One router for gRPC and plain HTTP on the same port, and the edge every
//! gRPC call passes: authentication, a deadline, a span, metrics.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use edufed_domain::audit::CallOrigin;
use edufed_store::Store;
use tracing::Instrument as _;

use crate::limits::Caller;
use crate::metrics::Metrics;
use crate::serve::ClientAddress;

#[derive(Clone)]
pub(crate) struct Edge {
    pub(crate) store: Store,
    pub(crate) node_id: String,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) request_timeout: Duration,
    pub(crate) peer_tls: edufed_federation::PeerTls,
    pub(crate) reports: edufed_api::ReportsService,
    pub(crate) feeds: edufed_api::feeds::Feeds,
    pub(crate) database: crate::database::DatabaseState,
    pub(crate) limits: Arc<crate::limits::Limits>,
}

/// Who `principal`'s calls are counted against: their token or session,
/// or the peer that forwarded them.
fn caller_of(principal: &edufed_domain::policy::Principal) -> Caller {
    use edufed_domain::policy::Credential;
    match &principal.credential {
        Credential::Token(id) => Caller::Credential(format!("token:{id}")),
        Credential::Session(id) => Caller::Credential(format!("session:{id}")),
        Credential::Peer(node) => Caller::Peer(node.clone()),
    }
}

/// `response` to a call refused before it was read: its message is read
/// (within bounds) and dropped first, so that HTTP/2 need not reset the
/// stream, which it counts against the whole connection (and closes a
/// connection, with other callers' calls on it, after a thousand).
async fn refused(request: Request, response: Response) -> Response {
    const LIMIT: usize = 8 * 1024 * 1024;
    let _ = tokio::time::timeout(
        Duration::from_secs(1),
        axum::body::to_bytes(request.into_body(), LIMIT),
    )
    .await;
    response
}

/// 429 with when to come back, for the plain routes.
fn too_many(wait: Duration) -> Response {
    let seconds = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, seconds.to_string())],
        format!("too many requests; retry in {seconds} s\n"),
    )
        .into_response()
}

/// The gRPC routes plus `/healthz` and `/metrics`, behind the edge.
pub(crate) fn router(grpc: axum::Router, edge: Edge) -> axum::Router {
    let plain = axum::Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(edge.clone());
    grpc.merge(plain)
        .merge(crate::ics::routes(edge.feeds.clone()))
        .merge(crate::reports::routes(crate::reports::ReportRoutes {
            store: edge.store.clone(),
            reports: edge.reports.clone(),
        }))
        .layer(middleware::from_fn_with_state(edge, edge_layer))
}

/// Every request's address, for the audit trail of what its calls write:
/// the console's pages call the node in process, without an address of
/// their own.
pub(crate) async fn origin_layer(request: Request, next: Next) -> Response {
    let address = request
        .extensions()
        .get::<ClientAddress>()
        .map(|a| a.0.ip().to_string());
    let origin = CallOrigin::call(request.uri().path().to_owned(), address);
    edufed_store::audit::within(origin, next.run(request)).await
}

/// 200 while the database answers the node's checks, 503 from the check
/// that finds it gone until one finds it back.
async fn healthz(State(edge): State<Edge>) -> Response {
    if edge.database.is_up() {
        (StatusCode::OK, "ok\n").into_response()
    } else {
        database_unavailable()
    }
}

/// 503 with a hint to come back in a few seconds.
fn database_unavailable() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "5")],
        "database unavailable\n",
    )
        .into_response()
}

async fn metrics(State(edge): State<Edge>) -> Response {
    let latest = *edge.store.subscribe_latest().borrow();
    edge.metrics.set_latest_sequence(latest);
    edge.metrics
        .set_database_connections(edge.store.connections());
    if !edge.database.is_up() {
        // What the database holds waits for it; the rest is current.
        return metrics_page(&edge);
    }
    match edge.store.list_subscriptions().await {
        Ok(subscriptions) => edge
            .metrics
            .set_peers(&subscriptions, edge.store.clock().now()),
        Err(error) => tracing::warn!(%error, "cannot read subscriptions for /metrics"),
    }
    match edge.store.outbox_counts().await {
        Ok(counts) => edge.metrics.set_outbox(&counts),
        Err(error) => tracing::warn!(%error, "cannot read the outbox for /metrics"),
    }
    metrics_page(&edge)
}

fn metrics_page(edge: &Edge) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        edge.metrics.render(),
    )
        .into_response()
}

/// The plain HTTP paths; everything else is a call and passes the edge.
fn is_plain(request: &Request) -> bool {
    let path = request.uri().path();
    matches!(path, "/healthz" | "/metrics")
        || path.starts_with("/ics/")
        || path.starts_with("/reports/")
}

/// The client's `grpc-timeout` header (e.g. `500m`, `10S`), if valid.
fn client_deadline(request: &Request) -> Option<Duration> {
    let value = request.headers().get("grpc-timeout")?.to_str().ok()?;
    if value.len() < 2 || value.len() > 9 {
        return None;
    }
    let (digits, unit) = value.split_at(value.len() - 1);
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount.saturating_mul(3600)),
        "M" => Duration::from_secs(amount.saturating_mul(60)),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

async fn edge_layer(State(edge): State<Edge>, mut request: Request, next: Next) -> Response {
    let client = request
        .extensions()
        .get::<ClientAddress>()
        .map(|address| address.0.ip());
    if is_plain(&request) {
        let path = request.uri().path();
        let served_from_data = path.starts_with("/ics/") || path.starts_with("/reports/");
        if served_from_data && !edge.database.is_up() {
            return database_unavailable();
        }
        if served_from_data
            && let Some(ip) = client
            && let Err(wait) = edge.limits.check(&Caller::Address(ip))
        {
            return too_many(wait);
        }
        return next.run(request).await;
    }
    let path = request.uri().path().to_owned();
    let started = Instant::now();
    let span = tracing::info_span!("rpc", method = %path, person = tracing::field::Empty);
    // The console's calls come in process: their address is the page's.
    let mut origin = CallOrigin::call(
        path.clone(),
        client
            .map(|ip| ip.to_string())
            .or_else(|| edufed_store::audit::current().and_then(|o| o.address)),
    );
    // Health and reflection need no database; every other call is answered
    // UNAVAILABLE at once while the database is gone, and when it goes
    // while the call waits on it.
    let needs_database =
        !(path.starts_with("/grpc.health.") || path.starts_with("/grpc.reflection."));
    let database = edge.database.clone();
    let limited = needs_database;
    let call = async {
        let rate_limited = |wait| edufed_api::status::rate_limited(wait).into_http::<Body>();
        // An address whose credentials keep failing is refused before the
        // next one is looked up.
        let presents_credential = request.headers().contains_key(header::AUTHORIZATION)
            || request
                .headers()
                .contains_key(edufed_federation::NODE_HEADER);
        if limited
            && presents_credential
            && let Some(ip) = client
            && let Err(wait) = edge.limits.may_authenticate(ip)
        {
            return refused(request, rate_limited(wait)).await;
        }
        let failed = |status: tonic::Status| {
            if status.code() == tonic::Code::Unauthenticated
                && let Some(ip) = client
            {
                edge.limits.failed(ip);
            }
            status.into_http::<Body>()
        };
        // The console's calls carry the person's session in their
        // extensions; every other call its credential in its headers.
        let session = request
            .extensions()
            .get::<edufed_domain::session::PresentedSession>()
            .cloned();
        let authenticated = match session {
            Some(secret) => edufed_api::auth::authenticate_session(&edge.store, &secret)
                .await
                .map(Some),
            None => edufed_api::auth::authenticate(&edge.store, request.headers()).await,
        };
        match authenticated {
            Err(status) => return refused(request, failed(status)).await,
            Ok(Some(principal)) => {
                tracing::Span::current().record("person", principal.person_id.as_str());
                if limited && let Err(wait) = edge.limits.check(&caller_of(&principal)) {
                    return refused(request, rate_limited(wait)).await;
                }
                origin.credential = Some(principal.credential.clone());
                request.extensions_mut().insert(principal);
            }
            Ok(None) => {
                let now = edge.store.clock().now();
                match edufed_api::auth::authenticate_peer(
                    &edge.store,
                    request.headers(),
                    &edge.node_id,
                    now,
                )
                .await
                {
                    Err(status) => return refused(request, failed(status)).await,
                    Ok(Some(peer)) => {
                        tracing::Span::current().record("person", format!("node:{}", peer.node_id));
                        if limited
                            && let Err(wait) =
                                edge.limits.check(&Caller::Peer(peer.node_id.clone()))
                        {
                            return refused(request, rate_limited(wait)).await;
                        }
                        match edufed_api::forward::acting_principal(
                            &edge.store,
                            &edge.peer_tls,
                            &peer,
                            request.uri().path(),
                            request.headers(),
                        )
                        .await
                        {
                            Err(error) => return error.into_status().into_http::<Body>(),
                            Ok(Some((principal, incoming))) => {
                                tracing::Span::current()
                                    .record("person", principal.person_id.as_str());
                                origin.credential = Some(principal.credential.clone());
                                origin.acting_name = incoming.name.clone();
                                request.extensions_mut().insert(principal);
                                request.extensions_mut().insert(incoming);
                            }
                            Ok(None) => {}
                        }
                        request.extensions_mut().insert(peer);
                    }
                    Ok(None) => {
                        if limited
                            && let Some(ip) = client
                            && let Err(wait) = edge.limits.check(&Caller::Address(ip))
                        {
                            return refused(request, rate_limited(wait)).await;
                        }
                    }
                }
            }
        }
        // The deadline covers a call until its response headers: a unary
        // call entirely, a stream until it starts.
        let deadline =
            client_deadline(&request).map_or(edge.request_timeout, |d| d.min(edge.request_timeout));
        let call = edufed_store::audit::within(origin, next.run(request));
        match tokio::time::timeout(deadline, call).await {
            Ok(response) => response,
            Err(_) => edufed_api::status::deadline_exceeded(deadline).into_http::<Body>(),
        }
    };
    let response = async {
        if !needs_database {
            return call.await;
        }
        tokio::select! {
            biased;
            () = database.gone() => edufed_api::status::database_unavailable().into_http::<Body>(),
            response = call => response,
        }
    }
    .instrument(span)
    .await;
    // Bytes that are not the method's message: tonic says INTERNAL (in the
    // trailers, or the headers of a trailers-only answer), which blames
    // the node and trips its alerts; it is the client's request.
    let response = client_fault(response);
    let code = response
        .headers()
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("0");
    edge.metrics.record_rpc(&path, code, started.elapsed());
    if code != "0" {
        tracing::debug!(method = %path, code, "rpc failed");
    }
    response
}

/// Whether `fields` (headers or trailers) carry tonic's INTERNAL for a
/// request it could not decode.
fn undecodable(fields: &axum::http::HeaderMap) -> bool {
    fields.get("grpc-status").and_then(|v| v.to_str().ok()) == Some("13")
        && fields
            .get("grpc-message")
            .and_then(|v| v.to_str().ok())
            // Sent percent-encoded (spaces as %20).
            .is_some_and(|m| {
                m.replace("%20", " ")
                    .starts_with("failed to decode Protobuf message")
            })
}

/// `response` with an undecodable request's INTERNAL turned into the
/// INVALID_ARGUMENT it is, wherever the status travels.
fn client_fault(response: Response<Body>) -> Response<Body> {
    use http_body_util::BodyExt as _;
    let replace = |fields: &mut axum::http::HeaderMap| {
        let status = edufed_api::status::undecodable().into_http::<Body>();
        for name in ["grpc-status", "grpc-message", "grpc-status-details-bin"] {
            fields.remove(name);
            if let Some(value) = status.headers().get(name) {
                fields.insert(name, value.clone());
            }
        }
    };
    if undecodable(response.headers()) {
        let (mut parts, body) = response.into_parts();
        replace(&mut parts.headers);
        return Response::from_parts(parts, body);
    }
    response.map(|body| {
        Body::new(body.map_frame(move |frame| match frame.into_trailers() {
            Ok(mut trailers) => {
                if undecodable(&trailers) {
                    replace(&mut trailers);
                }
                http_body::Frame::trailers(trailers)
            }
            Err(frame) => frame,
        }))
    })
}
