//! The node's own gRPC services, called in process as the signed-in person.
//!
//! A call is a real gRPC request (encoded, routed, passed through the
//! node's edge with its deadline, metrics and authentication) that never
//! touches a socket: the console's clients send it straight into the
//! node's router, with the person's session in the request's extensions
//! (which no remote client can set). The console so does exactly what the
//! person may do through the API, and nothing else.

use std::convert::Infallible;
use std::task::{Context, Poll};

use axum::body::Body;
use edufed_domain::session::PresentedSession;
use edufed_proto::v1::agreements_client::AgreementsClient;
use edufed_proto::v1::booking_client::BookingClient;
use edufed_proto::v1::calendar_client::CalendarClient;
use edufed_proto::v1::designations_client::DesignationsClient;
use edufed_proto::v1::directory_client::DirectoryClient;
use edufed_proto::v1::federation_client::FederationClient;
use edufed_proto::v1::mentoring_client::MentoringClient;
use edufed_proto::v1::notifications_client::NotificationsClient;
use edufed_proto::v1::reports_client::ReportsClient;
use edufed_proto::v1::routes_client::RoutesClient;
use edufed_proto::v1::trials_client::TrialsClient;
use futures::future::BoxFuture;
use tower::ServiceExt as _;

/// The node's gRPC router, behind its edge.
#[derive(Clone)]
pub struct Rpc {
    router: axum::Router,
}

impl Rpc {
    /// Calls into `router`: the node's gRPC services behind its edge.
    pub fn new(router: axum::Router) -> Self {
        Self { router }
    }

    /// A channel that calls as the holder of `session`, or anonymously.
    pub(crate) fn channel(&self, session: Option<&PresentedSession>) -> InProcess {
        InProcess {
            router: self.router.clone(),
            session: session.cloned(),
            authorization: None,
        }
    }

    /// A channel that calls with a program's `Authorization` header, which
    /// the node's edge checks as it checks any remote client's.
    pub(crate) fn bearer_channel(&self, authorization: http::HeaderValue) -> InProcess {
        InProcess {
            router: self.router.clone(),
            session: None,
            authorization: Some(authorization),
        }
    }
}

/// A tower service carrying gRPC requests into the node's router.
#[derive(Clone)]
pub(crate) struct InProcess {
    router: axum::Router,
    session: Option<PresentedSession>,
    authorization: Option<http::HeaderValue>,
}

impl tower::Service<http::Request<tonic::body::Body>> for InProcess {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        let mut request = request.map(Body::new);
        if let Some(session) = &self.session {
            request.extensions_mut().insert(session.clone());
        }
        if let Some(authorization) = &self.authorization {
            request
                .headers_mut()
                .insert(http::header::AUTHORIZATION, authorization.clone());
        }
        let router = self.router.clone();
        Box::pin(async move { router.oneshot(request).await })
    }
}

/// The clients of one page's calls, all as the same person.
pub(crate) struct Clients {
    channel: InProcess,
}

impl Clients {
    pub(crate) fn new(channel: InProcess) -> Self {
        Self { channel }
    }

    pub(crate) fn directory(&self) -> DirectoryClient<InProcess> {
        DirectoryClient::new(self.channel.clone())
    }

    pub(crate) fn calendar(&self) -> CalendarClient<InProcess> {
        CalendarClient::new(self.channel.clone())
    }

    pub(crate) fn booking(&self) -> BookingClient<InProcess> {
        BookingClient::new(self.channel.clone())
    }

    pub(crate) fn agreements(&self) -> AgreementsClient<InProcess> {
        AgreementsClient::new(self.channel.clone())
    }

    pub(crate) fn reports(&self) -> ReportsClient<InProcess> {
        ReportsClient::new(self.channel.clone())
    }

    pub(crate) fn federation(&self) -> FederationClient<InProcess> {
        FederationClient::new(self.channel.clone())
    }

    pub(crate) fn mentoring(&self) -> MentoringClient<InProcess> {
        MentoringClient::new(self.channel.clone())
    }

    pub(crate) fn trials(&self) -> TrialsClient<InProcess> {
        TrialsClient::new(self.channel.clone())
    }

    pub(crate) fn routes(&self) -> RoutesClient<InProcess> {
        RoutesClient::new(self.channel.clone())
    }

    pub(crate) fn privacy(&self) -> edufed_proto::v1::privacy_client::PrivacyClient<InProcess> {
        edufed_proto::v1::privacy_client::PrivacyClient::new(self.channel.clone())
    }

    pub(crate) fn audit(&self) -> edufed_proto::v1::audit_client::AuditClient<InProcess> {
        edufed_proto::v1::audit_client::AuditClient::new(self.channel.clone())
    }

    pub(crate) fn designations(&self) -> DesignationsClient<InProcess> {
        DesignationsClient::new(self.channel.clone())
    }

    pub(crate) fn notifications(&self) -> NotificationsClient<InProcess> {
        NotificationsClient::new(self.channel.clone())
    }
}
