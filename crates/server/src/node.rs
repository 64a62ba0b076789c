//! A node: prepared, listening, serving, and stopped in order.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use edufed_api::{
    AgreementsService, AuditService, BookingService, CalendarService, ChangeFeedService, Context,
    DesignationsService, DirectoryService, FederationService, FeedSettings, MentoringService,
    NotificationsService, PrivacyService, ReportsService, RoutesService, TrialsService,
};
use edufed_domain::time::Clock;
use edufed_proto::v1::agreements_server::AgreementsServer;
use edufed_proto::v1::audit_server::AuditServer;
use edufed_proto::v1::booking_server::BookingServer;
use edufed_proto::v1::calendar_server::CalendarServer;
use edufed_proto::v1::change_feed_server::ChangeFeedServer;
use edufed_proto::v1::designations_server::DesignationsServer;
use edufed_proto::v1::directory_server::DirectoryServer;
use edufed_proto::v1::federation_server::FederationServer;
use edufed_proto::v1::mentoring_server::MentoringServer;
use edufed_proto::v1::notifications_server::NotificationsServer;
use edufed_proto::v1::privacy_server::PrivacyServer;
use edufed_proto::v1::reports_server::ReportsServer;
use edufed_proto::v1::routes_server::RoutesServer;
use edufed_proto::v1::trials_server::TrialsServer;
use edufed_store::Store;
use edufed_worker::Workers;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;

use crate::config::Settings;
use crate::database::DatabaseMonitor;
use crate::http::{Edge, router};
use crate::metrics::Metrics;
use crate::startup::{InitReport, prepare};
use crate::workers::{AgreementLifecycle, Compactor, LogPoller};
use crate::{serve, tls};

/// A running node.
pub struct Node {
    addr: SocketAddr,
    node_id: String,
    tls: bool,
    store: Store,
    shutdown: CancellationToken,
    task: JoinHandle<()>,
}

impl Node {
    /// Prepares the node (identity, database, operator token on first
    /// start), binds its listener and starts serving.
    pub async fn start(settings: Settings) -> anyhow::Result<(Self, InitReport)> {
        Self::start_with_clock(settings, Clock::system()).await
    }

    /// Like [`Node::start`], reading time from `clock`: tests move it to see
    /// agreements come into force and expire without waiting.
    pub async fn start_with_clock(
        settings: Settings,
        clock: Clock,
    ) -> anyhow::Result<(Self, InitReport)> {
        settings.validate()?;
        let tls_config = match (&settings.tls_cert, &settings.tls_key) {
            (Some(cert), Some(key)) => Some(tls::server_config(
                cert,
                key,
                settings.tls_client_ca.as_deref(),
            )?),
            _ => None,
        };
        let prepared = prepare(&settings, false).await?;
        let store = prepared
            .store
            .with_clock(clock)
            .with_session_lifetimes(settings.session_lifetimes()?);
        let identity = Arc::new(prepared.identity);
        let node_id = identity.node_id();
        let listener = match TcpListener::bind(settings.listen).await {
            Ok(listener) => listener,
            Err(error) => {
                store.close().await;
                return Err(error).with_context(|| format!("cannot listen on {}", settings.listen));
            }
        };
        let addr = listener.local_addr()?;
        let shutdown = CancellationToken::new();

        let limit = settings.max_message_bytes;
        // Every service takes and sends messages up to the same size.
        macro_rules! server {
            ($server:ident, $service:expr) => {
                $server::new($service)
                    .max_decoding_message_size(limit)
                    .max_encoding_message_size(limit)
            };
        }
        let peer_tls = edufed_federation::PeerTls {
            ca_pem: match &settings.peer_ca {
                Some(path) => Some(
                    std::fs::read(path)
                        .with_context(|| format!("cannot read peer_ca {}", path.display()))?,
                ),
                None => None,
            },
            identity: match (&settings.tls_cert, &settings.tls_key) {
                (Some(cert), Some(key)) => Some((
                    std::fs::read(cert)
                        .with_context(|| format!("cannot read {}", cert.display()))?,
                    std::fs::read(key).with_context(|| format!("cannot read {}", key.display()))?,
                )),
                _ => None,
            },
        };
        let public_url = settings.public_url.clone().unwrap_or_else(|| {
            let scheme = if tls_config.is_some() {
                "https"
            } else {
                "http"
            };
            format!("{scheme}://{addr}")
        });
        let metrics = Arc::new(Metrics::new());
        // People sign in through the configured identity providers.
        let issuers = settings.issuers(&public_url)?.map(|issuers| {
            let metrics = metrics.clone();
            issuers.observed_by(Arc::new(move |issuer: &str, outcome: &str| {
                metrics.record_sign_in(issuer, outcome);
            }))
        });
        // Writes to records other nodes own go to their home nodes.
        let mut ctx = Context::new(store.clone(), identity.clone())
            .forwarding_with(edufed_federation::Forwarder::new(
                store.clone(),
                identity.clone(),
                peer_tls.clone(),
            ))
            .reached_at(public_url.clone());
        if let Some(issuers) = issuers {
            ctx = ctx.signing_in_with(issuers);
        }
        // Notifications: the notifier fills the outbox from the log, the
        // sender delivers it; neither is on a write's path.
        let smtp = settings.smtp()?;
        let mailer = smtp.as_ref().map(edufed_notify::Mailer::new).transpose()?;
        let wake_sender = Arc::new(tokio::sync::Notify::new());
        let sender = edufed_notify::Sender::new(
            store.clone(),
            edufed_notify::Composer::new(store.clone(), identity.clone(), &public_url),
            mailer.clone(),
            edufed_notify::Settings {
                smtp,
                public_url: public_url.clone(),
                give_up_after: chrono::Duration::hours(
                    i64::try_from(settings.notify_give_up_hours).unwrap_or(48),
                ),
                poll: Duration::from_secs(5),
                lease: chrono::Duration::seconds(
                    i64::try_from(settings.notify_lease_secs).unwrap_or(120),
                ),
                concurrency: 16,
            },
            wake_sender.clone(),
        )?;
        let notifications = server!(
            NotificationsServer,
            NotificationsService::new(
                ctx.clone(),
                edufed_notify::Tester::new(store.clone(), mailer, &public_url)?
            )
        );
        let directory = server!(DirectoryServer, DirectoryService::new(ctx.clone()));
        let feed = server!(
            ChangeFeedServer,
            ChangeFeedService::new(
                store.clone(),
                identity.clone(),
                FeedSettings {
                    max_streams: settings.max_watch_streams,
                    max_streams_per_person: settings.max_watch_streams_per_person,
                    max_streams_per_peer: settings.max_watch_streams_per_peer,
                    ..FeedSettings::default()
                },
                shutdown.clone(),
            )
        );
        let calendar = server!(CalendarServer, CalendarService::new(ctx.clone()));
        let booking = server!(BookingServer, BookingService::new(ctx.clone()));
        let agreements_server = server!(AgreementsServer, AgreementsService::new(ctx.clone()));
        let mentoring = server!(MentoringServer, MentoringService::new(ctx.clone()));
        let trials = server!(TrialsServer, TrialsService::new(ctx.clone()));
        let designations = server!(DesignationsServer, DesignationsService::new(ctx.clone()));
        let routes = server!(RoutesServer, RoutesService::new(ctx.clone()));
        let audit = server!(AuditServer, AuditService::new(ctx.clone()));
        let privacy = server!(
            PrivacyServer,
            PrivacyService::new(
                ctx.clone(),
                settings.personal_data_retention_days,
                settings.audit_retention_days,
            )
        );
        let federation = server!(
            FederationServer,
            FederationService::new(
                store.clone(),
                identity.clone(),
                peer_tls.clone(),
                settings.node_name.clone(),
                public_url.clone(),
            )
        );
        let reports = ReportsService::new(store.clone());
        let reports_server = server!(ReportsServer, reports.clone());
        let (health, health_service) = tonic_health::server::health_reporter();
        let services = {
            use tonic::server::NamedService;
            vec![
                <FederationServer<FederationService> as NamedService>::NAME,
                <AgreementsServer<AgreementsService> as NamedService>::NAME,
                <BookingServer<BookingService> as NamedService>::NAME,
                <MentoringServer<MentoringService> as NamedService>::NAME,
                <TrialsServer<TrialsService> as NamedService>::NAME,
                <DesignationsServer<DesignationsService> as NamedService>::NAME,
                <RoutesServer<RoutesService> as NamedService>::NAME,
                <AuditServer<AuditService> as NamedService>::NAME,
                <PrivacyServer<PrivacyService> as NamedService>::NAME,
                <ReportsServer<ReportsService> as NamedService>::NAME,
                <NotificationsServer<NotificationsService> as NamedService>::NAME,
                <CalendarServer<CalendarService> as NamedService>::NAME,
                <DirectoryServer<DirectoryService> as NamedService>::NAME,
                <ChangeFeedServer<ChangeFeedService> as NamedService>::NAME,
            ]
        };
        for service in &services {
            health
                .set_service_status(*service, tonic_health::ServingStatus::Serving)
                .await;
        }
        let limits = Arc::new(crate::limits::Limits::new(
            settings.rate_settings(),
            metrics.clone(),
        ));
        let (database_monitor, database) = DatabaseMonitor::new(
            &store,
            Duration::from_millis(settings.database_timeout_ms),
            health.clone(),
            services,
            metrics.clone(),
            shutdown.clone(),
        );
        let reflection = || {
            tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(edufed_proto::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        };
        let reflection_v1 = reflection().build_v1().context("reflection")?;
        let reflection_v1alpha = reflection().build_v1alpha().context("reflection")?;

        let grpc = Routes::new(directory)
            .add_service(feed)
            .add_service(calendar)
            .add_service(booking)
            .add_service(agreements_server)
            .add_service(mentoring)
            .add_service(trials)
            .add_service(designations)
            .add_service(routes)
            .add_service(audit)
            .add_service(privacy)
            .add_service(federation)
            .add_service(reports_server)
            .add_service(notifications)
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
            .prepare()
            .into_axum_router();
        let app = router(
            grpc,
            Edge {
                store: store.clone(),
                node_id: node_id.clone(),
                metrics: metrics.clone(),
                request_timeout: Duration::from_secs(settings.request_timeout_secs),
                peer_tls: peer_tls.clone(),
                reports,
                feeds: edufed_api::feeds::Feeds::new(ctx.clone()),
                database,
                limits: limits.clone(),
            },
        );
        // The console calls the same router in process, as the signed-in
        // person; its pages sit beside the API on the same port.
        let console = edufed_web::Console::new(
            edufed_web::Rpc::new(app.clone()),
            edufed_web::Settings {
                secure_cookies: tls_config.is_some(),
            },
            store.clock().clone(),
        );
        let app = app
            .merge(console.routes())
            .layer(axum::middleware::from_fn(crate::http::origin_layer));

        let connection_limits = serve::ConnectionLimits {
            header_timeout: Duration::from_secs(settings.header_timeout_secs),
            idle_timeout: Duration::from_secs(settings.idle_timeout_secs),
            per_address: settings.max_connections_per_address,
            max_connections: serve::connection_budget(settings.max_connections),
        };
        let reminder_days = settings.reminder_days.clone();
        let expiring_days = settings.agreement_expiring_days.clone();
        let retention = chrono::Duration::days(i64::from(settings.changelog_retention_days));
        let audit_retention = chrono::Duration::days(i64::from(settings.audit_retention_days));
        let names_retention =
            chrono::Duration::days(i64::from(settings.personal_data_retention_days));
        let grace = Duration::from_secs(settings.shutdown_grace_secs);
        let agreement_check = Duration::from_secs(settings.agreement_check_secs);
        let task = tokio::spawn({
            let store = store.clone();
            let shutdown = shutdown.clone();
            async move {
                let workers = Workers::new(shutdown.clone());
                workers.spawn(database_monitor);
                // The work done once for the node: on one replica at a time
                // where replicas share the database (leader.rs).
                let background: crate::leader::Start = Box::new({
                    let store = store.clone();
                    move |w: &Workers| {
                        w.spawn(Compactor::new(store.clone(), retention, audit_retention));
                        w.spawn(edufed_federation::sync::Supervisor::new(
                            store.clone(),
                            identity.clone(),
                            peer_tls.clone(),
                            w.clone(),
                        ));
                        w.spawn(AgreementLifecycle::new(store.clone(), agreement_check));
                        w.spawn(crate::workers::PersonalDataRetention::new(
                            store.clone(),
                            names_retention,
                        ));
                        w.spawn(edufed_notify::Notifier::new(
                            store.clone(),
                            wake_sender.clone(),
                        ));
                        w.spawn(edufed_notify::Reminders::new(
                            store.clone(),
                            reminder_days.clone(),
                            expiring_days.clone(),
                            wake_sender.clone(),
                        ));
                    }
                });
                // Every replica sends what the outbox holds (each message
                // claimed by one) and wakes its own Watch streams.
                workers.spawn(sender);
                // Unique even where replicas share an address and a pid
                // (containers): the process's own random hash keys.
                let holder = format!(
                    "{addr} pid {} #{:08x}",
                    std::process::id(),
                    std::hash::BuildHasher::hash_one(
                        &std::collections::hash_map::RandomState::new(),
                        0u8
                    ) & 0xffff_ffff
                );
                if store.has_other_writers() {
                    workers.spawn(LogPoller::new(store.clone()));
                    workers.spawn(crate::leader::Leader::new(
                        store.clone(),
                        holder.clone(),
                        metrics.clone(),
                        workers.clone(),
                        background,
                    ));
                } else {
                    background(&workers);
                    metrics.set_leader(Some(1));
                }
                // Limiters forget callers not seen for a while.
                let tidy = {
                    let shutdown = shutdown.clone();
                    async move {
                        let mut every = tokio::time::interval(Duration::from_secs(60));
                        loop {
                            tokio::select! {
                                () = shutdown.cancelled() => break,
                                _ = every.tick() => limits.tidy(),
                            }
                        }
                    }
                };
                // Health says NOT_SERVING as soon as the drain begins.
                let not_serving = {
                    let shutdown = shutdown.clone();
                    async move {
                        shutdown.cancelled().await;
                        health
                            .set_service_status("", tonic_health::ServingStatus::NotServing)
                            .await;
                    }
                };
                tokio::join!(
                    serve::serve(
                        listener,
                        tls_config,
                        app,
                        shutdown.clone(),
                        grace,
                        connection_limits,
                        metrics,
                    ),
                    not_serving,
                    tidy
                );
                workers.join().await;
                if store.has_other_writers() {
                    crate::leader::release(&store, &holder).await;
                }
                if tokio::time::timeout(grace, store.close()).await.is_err() {
                    tracing::warn!("database connections still busy after the grace period");
                }
                tracing::info!("node stopped");
            }
        });
        tracing::info!(%addr, node_id = %node_id, tls = settings.tls_cert.is_some(), "node serving");
        Ok((
            Self {
                addr,
                node_id,
                tls: settings.tls_cert.is_some(),
                store,
                shutdown,
                task,
            },
            prepared.report,
        ))
    }

    /// Where the node listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The node's URL for clients.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The node's id.
    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    /// The node's store, for tests and tools running in the same process.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// A token that stops the node when cancelled.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Waits until the node has stopped.
    pub async fn wait(self) -> anyhow::Result<()> {
        self.task.await.context("the node's task failed")
    }

    /// Stops the node in order and waits for it.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        self.wait().await
    }
}
