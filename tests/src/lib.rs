//! The harness of edufed's end-to-end tests: throwaway databases on both
//! backends, real nodes on port 0, and clients with tokens.
//!
//! PostgreSQL tests use the server at `EDUFED_TEST_POSTGRES_URL` (the
//! README's test command starts a throwaway cluster and sets it), creating
//! a fresh database per test. Without it they are skipped, unless
//! `EDUFED_REQUIRE_POSTGRES=1`, when they fail.

pub mod cluster;
pub mod console;
pub mod oidc;
pub mod smtp;
pub mod webhook;

use std::path::{Path, PathBuf};

use edufed_proto::v1::change_feed_client::ChangeFeedClient;
use edufed_proto::v1::directory_client::DirectoryClient;
use edufed_server::{Node, Settings};
use sqlx::Connection as _;
use tempfile::TempDir;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

/// The two storage backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An SQLite file in a temporary directory.
    Sqlite,
    /// A fresh database on the test PostgreSQL server.
    Postgres,
}

/// Runs an async test body once per backend:
/// `both_backends!(name, |backend| async move { … })` defines
/// `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                ($body)($crate::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                if $crate::postgres_admin_url().is_none() {
                    return;
                }
                ($body)($crate::Backend::Postgres).await;
            }
        }
    };
}

/// The test PostgreSQL server's URL, if there is one.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("EDUFED_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("EDUFED_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "EDUFED_REQUIRE_POSTGRES=1 but EDUFED_TEST_POSTGRES_URL is not set"
            );
            eprintln!("skipping: EDUFED_TEST_POSTGRES_URL is not set (scripts/test sets it)");
            None
        }
    }
}

/// A database for one test, dropped with its directory.
pub struct TestDb {
    /// The URL to give a node.
    pub url: String,
    /// Which backend.
    pub backend: Backend,
    /// Holds the SQLite file (and a scratch directory for PostgreSQL tests).
    pub dir: TempDir,
}

impl TestDb {
    /// Runs one statement on the database directly, behind the node's back
    /// (to play an attacker with access to the database).
    pub async fn execute(&self, sql: &str) -> u64 {
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&self.url)
            .await
            .expect("connect to the test database");
        let done = sqlx::query(sql)
            .execute(&mut conn)
            .await
            .expect("statement runs");
        conn.close().await.ok();
        done.rows_affected()
    }

    /// A new, empty database.
    pub async fn new(backend: Backend) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = match backend {
            Backend::Sqlite => format!("sqlite://{}", dir.path().join("edufed.db").display()),
            Backend::Postgres => create_postgres_database().await,
        };
        Self { url, backend, dir }
    }
}

/// Creates a fresh database on the test server and returns its URL.
pub async fn create_postgres_database() -> String {
    let admin = postgres_admin_url().expect("EDUFED_TEST_POSTGRES_URL");
    create_database(&admin, "edufed_test").await
}

/// Creates a database named `prefix` and a fresh UUID on the PostgreSQL
/// server that the URL `admin` reaches, and returns its URL: the
/// benchmarks make theirs on a server of their own choosing this way.
pub async fn create_database(admin: &str, prefix: &str) -> String {
    let name = format!("{prefix}_{}", uuid::Uuid::now_v7().simple());
    let mut conn = sqlx::PgConnection::connect(admin)
        .await
        .expect("connect to the PostgreSQL server");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create a database");
    conn.close().await.ok();
    let (base, _) = admin.rsplit_once('/').expect("a URL with a database name");
    let query = admin
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    format!("{base}/{name}{query}")
}

/// Settings for a test node: port 0 on loopback, its own data directory.
pub fn test_settings(data_dir: &Path, database_url: &str) -> Settings {
    Settings {
        listen: "127.0.0.1:0".parse().expect("address"),
        data_dir: data_dir.to_path_buf(),
        database_url: Some(database_url.to_owned()),
        shutdown_grace_secs: 5,
        // Tests drive a node with one token far harder than a person does;
        // the tests of the limits set them.
        rate_limit_per_second: 0,
        peer_rate_limit_per_second: 0,
        ..Settings::default()
    }
}

/// A running node with its database and operator token.
pub struct TestNode {
    /// The node.
    pub node: Node,
    /// The node's database.
    pub db: TestDb,
    /// The data directory.
    pub data_dir: PathBuf,
    /// The operator's token.
    pub operator_token: String,
}

impl TestNode {
    /// Starts a node on a fresh database of `backend`.
    pub async fn start(backend: Backend) -> Self {
        let db = TestDb::new(backend).await;
        Self::start_with(db, |_| {}).await
    }

    /// Starts a node on `db`, with settings adjusted by `adjust`.
    pub async fn start_with(db: TestDb, adjust: impl FnOnce(&mut Settings)) -> Self {
        Self::start_with_clock(db, edufed_domain::time::Clock::system(), adjust).await
    }

    /// Starts a node on `db` that reads time from `clock`.
    pub async fn start_with_clock(
        db: TestDb,
        clock: edufed_domain::time::Clock,
        adjust: impl FnOnce(&mut Settings),
    ) -> Self {
        let data_dir = db.dir.path().join("data");
        let mut settings = test_settings(&data_dir, &db.url);
        adjust(&mut settings);
        let (node, report) = Node::start_with_clock(settings, clock)
            .await
            .expect("node starts");
        let token_file = report
            .operator_token_file
            .expect("first start writes the operator token");
        let operator_token = std::fs::read_to_string(token_file)
            .expect("operator token")
            .trim()
            .to_owned();
        Self {
            node,
            db,
            data_dir,
            operator_token,
        }
    }

    /// Starts a node again on `db` whose data directory (`<db dir>/data`)
    /// already holds its key (restored, or from an earlier start), with
    /// the operator token it had.
    pub async fn resume(
        db: TestDb,
        operator_token: &str,
        adjust: impl FnOnce(&mut Settings),
    ) -> Self {
        let data_dir = db.dir.path().join("data");
        let mut settings = test_settings(&data_dir, &db.url);
        adjust(&mut settings);
        let (node, _) = Node::start(settings).await.expect("node starts");
        Self {
            node,
            db,
            data_dir,
            operator_token: operator_token.to_owned(),
        }
    }

    /// A channel to the node.
    pub async fn channel(&self) -> Channel {
        Channel::from_shared(self.node.url())
            .expect("url")
            .connect()
            .await
            .expect("connect")
    }

    /// A Directory client using `token` (none when empty).
    pub async fn directory(
        &self,
        token: &str,
    ) -> DirectoryClient<InterceptedService<Channel, Bearer>> {
        DirectoryClient::with_interceptor(self.channel().await, Bearer::new(token))
    }

    /// A ChangeFeed client using `token`.
    pub async fn change_feed(
        &self,
        token: &str,
    ) -> ChangeFeedClient<InterceptedService<Channel, Bearer>> {
        ChangeFeedClient::with_interceptor(self.channel().await, Bearer::new(token))
    }

    /// Adds a new person to `org` with `role` (as the operator) and returns
    /// a token of theirs.
    pub async fn member_token(&self, org: &str, role: edufed_proto::v1::Role) -> String {
        use edufed_proto::v1 as pb;
        let mut op = self.operator().await;
        let member = op
            .add_member(pb::AddMemberRequest {
                organization: org.into(),
                person: Some(pb::add_member_request::Person::NewPerson(pb::NewPerson {
                    display_name: format!("{org} {role:?}"),
                    email: String::new(),
                })),
                role: role.into(),
            })
            .await
            .expect("add member")
            .into_inner();
        op.create_token(pb::CreateTokenRequest {
            person_id: member.person.expect("person").id,
            name: "test".into(),
            // The longest a token lives: tests move a node's clock by months.
            ttl: Some(prost_types::Duration {
                seconds: 2 * 365 * 24 * 3600,
                nanos: 0,
            }),
        })
        .await
        .expect("create token")
        .into_inner()
        .secret
    }

    /// The operator's Federation client.
    pub async fn federation(
        &self,
    ) -> edufed_proto::v1::federation_client::FederationClient<InterceptedService<Channel, Bearer>>
    {
        edufed_proto::v1::federation_client::FederationClient::with_interceptor(
            self.channel().await,
            Bearer::new(&self.operator_token),
        )
    }

    /// The operator's Directory client.
    pub async fn operator(&self) -> DirectoryClient<InterceptedService<Channel, Bearer>> {
        self.directory(&self.operator_token).await
    }
}

/// The slugs of every organization `node` lists, page by page.
pub async fn all_slugs(node: &TestNode) -> std::collections::BTreeSet<String> {
    use edufed_proto::v1 as pb;
    let mut directory = node.operator().await;
    let mut slugs = std::collections::BTreeSet::new();
    let mut page_token = String::new();
    loop {
        let page = directory
            .list_organizations(pb::ListOrganizationsRequest {
                page_size: 500,
                page_token: page_token.clone(),
                ..Default::default()
            })
            .await
            .expect("list organizations")
            .into_inner();
        slugs.extend(page.organizations.into_iter().map(|o| o.slug));
        if page.next_page_token.is_empty() {
            return slugs;
        }
        page_token = page.next_page_token;
    }
}

/// Every node pins every other and follows its log.
pub async fn full_mesh(nodes: &[&TestNode]) {
    for from in nodes {
        for to in nodes {
            if from.node.node_id() == to.node.node_id() {
                continue;
            }
            from.federation()
                .await
                .add_peer(edufed_proto::v1::AddPeerRequest {
                    url: to.node.url(),
                    fingerprint: to.node.node_id().into(),
                })
                .await
                .unwrap();
        }
    }
    for from in nodes {
        for to in nodes {
            if from.node.node_id() != to.node.node_id() {
                from.federation()
                    .await
                    .subscribe(edufed_proto::v1::SubscribeRequest {
                        node_id: to.node.node_id().into(),
                        entity_kinds: vec![],
                        via: String::new(),
                        activity_filter: None,
                    })
                    .await
                    .unwrap();
            }
        }
    }
}

/// Waits up to fifteen seconds for `found` to give something.
pub async fn eventually<T, F, Fut>(what: &str, mut found: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..150 {
        if let Some(value) = found().await {
            return value;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{what} never happened");
}

/// Sends `authorization: Bearer <token>` when the token is not empty.
#[derive(Clone)]
pub struct Bearer(Option<MetadataValue<Ascii>>);

impl Bearer {
    /// For `token`; no header when empty.
    pub fn new(token: &str) -> Self {
        Self((!token.is_empty()).then(|| format!("Bearer {token}").parse().expect("ascii token")))
    }
}

impl Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

/// A plain HTTP/1.1 GET, returning the status code and body.
pub async fn http_get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    http_get_with(addr, path, None).await
}

/// A plain HTTP/1.1 GET with `Authorization: Bearer <token>` when given.
pub async fn http_get_with(
    addr: std::net::SocketAddr,
    path: &str,
    token: Option<&str>,
) -> (u16, String) {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth
        .as_deref()
        .map(|a| vec![("Authorization", a)])
        .unwrap_or_default();
    http_get_headers(addr, path, &headers).await
}

/// A plain HTTP/1.1 POST of a form `body`, with no cookie and no fetch
/// metadata (as a mail client's one-click unsubscribe), returning the
/// status code and body.
pub async fn http_post(addr: std::net::SocketAddr, path: &str, body: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// A plain HTTP/1.1 GET with the given request headers (a session's
/// `Cookie`, say), returning the status code and body.
pub async fn http_get_headers(
    addr: std::net::SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, String) {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    http_get_over(stream, addr, path, headers).await
}

/// A plain HTTP/1.1 GET from the loopback address `from` (`127.0.0.2`: all
/// of 127/8 is this machine), as another client would connect.
pub async fn http_get_from(addr: std::net::SocketAddr, from: &str, path: &str) -> (u16, String) {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind(format!("{from}:0").parse().expect("address"))
        .expect("bind");
    let stream = socket.connect(addr).await.expect("connect");
    http_get_over(stream, addr, path, &[]).await
}

async fn http_get_over(
    mut stream: tokio::net::TcpStream,
    addr: std::net::SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let extra: String = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// Adds a person with the e-mail address `email` to `org` as `role`;
/// their id and a token.
pub async fn member(
    node: &TestNode,
    org: &str,
    role: edufed_proto::v1::Role,
    email: &str,
) -> (edufed_domain::ids::PersonId, String) {
    member_through(&mut node.operator().await, org, role, email).await
}

/// [`member`] through `operator`, a directory client as the node's
/// operator (for a node run as a process); a person without an address
/// is named by their organization and role.
pub async fn member_through(
    operator: &mut DirectoryClient<InterceptedService<Channel, Bearer>>,
    org: &str,
    role: edufed_proto::v1::Role,
    email: &str,
) -> (edufed_domain::ids::PersonId, String) {
    use edufed_proto::v1 as pb;
    let display_name = if email.is_empty() {
        format!("{org} {role:?}")
    } else {
        email.to_owned()
    };
    let added = operator
        .add_member(pb::AddMemberRequest {
            organization: org.into(),
            person: Some(pb::add_member_request::Person::NewPerson(pb::NewPerson {
                display_name,
                email: email.into(),
            })),
            role: role.into(),
        })
        .await
        .unwrap()
        .into_inner();
    let id = added.person.unwrap().id;
    let token = operator
        .create_token(pb::CreateTokenRequest {
            person_id: id.clone(),
            name: "test".into(),
            ttl: None,
        })
        .await
        .unwrap()
        .into_inner()
        .secret;
    (edufed_domain::ids::PersonId::from_stored(id), token)
}

/// A director signing under the charter.
pub fn signatory(name: &str) -> Option<edufed_proto::v1::Signatory> {
    use edufed_proto::v1 as pb;
    Some(pb::Signatory {
        name: name.into(),
        position: "директор".into(),
        basis: "Устава".into(),
    })
}

/// A network-form agreement between the school `mgml` and the technopark
/// `kvantorium`: 68 hours of «Технология» for grades 7–8, taught by the
/// technopark, with `pledged` lab hours for the term.
pub fn network_form(
    valid_from: chrono::NaiveDate,
    valid_to: chrono::NaiveDate,
    pledged: u32,
) -> edufed_proto::v1::AgreementContent {
    use edufed_proto::v1 as pb;
    pb::AgreementContent {
        kind: pb::AgreementKind::NetworkForm.into(),
        number: "№12-сф".into(),
        dated: valid_from.to_string(),
        title: "Договор о сетевой форме реализации программы: «Технология»".into(),
        valid_from: valid_from.to_string(),
        valid_to: valid_to.to_string(),
        parties: vec![
            pb::Party {
                org: "mgml".into(),
                role: pb::PartyRole::Base.into(),
                signatory: signatory("Петрова Анна Сергеевна"),
            },
            pb::Party {
                org: "kvantorium".into(),
                role: pb::PartyRole::Participant.into(),
                signatory: signatory("Сидоров Олег Игоревич"),
            },
        ],
        programme: Some(pb::Programme {
            name: "ООП основного общего образования".into(),
            kind: "основная общеобразовательная".into(),
            level: "основное общее образование".into(),
            focus: "техническая".into(),
            parts: vec![pb::ProgrammePart {
                kind: pb::PartKind::Subject.into(),
                name: "Технология".into(),
                hours: 68,
                grade_min: 7,
                grade_max: 8,
            }],
        }),
        students: Some(pb::Students {
            status: "обучающиеся базовой организации".into(),
            admission: "по приказу базовой организации".into(),
            grade_min: 7,
            grade_max: 8,
            planned_headcount: 50,
        }),
        duties: vec![pb::Duty {
            org: "kvantorium".into(),
            part: "Технология".into(),
            hours: 68,
            description: "проводит уроки в лабораториях технопарка".into(),
        }],
        resources: vec![pb::Pledge {
            org: "kvantorium".into(),
            resource_id: String::new(),
            description: "лаборатории технопарка".into(),
            hours: pledged,
            period: pb::PledgePeriod::Term.into(),
        }],
        documents: vec![pb::CompletionDocument {
            name: "аттестат об основном общем образовании".into(),
            issuer: "mgml".into(),
        }],
        amendment_procedure: "дополнительным соглашением".into(),
        termination_procedure: "по соглашению сторон или с уведомлением за 30 дней".into(),
        termination_notice_days: 30,
        planned_teachers: 3,
        planned_students: 50,
        notes: String::new(),
    }
}

/// A valid organization request with the given slug.
pub fn org_request(slug: &str) -> edufed_proto::v1::CreateOrganizationRequest {
    edufed_proto::v1::CreateOrganizationRequest {
        slug: slug.to_owned(),
        kind: edufed_proto::v1::OrganizationKind::School.into(),
        full_name: format!("Школа {slug}"),
        short_name: slug.to_owned(),
        city: "Томск".to_owned(),
        time_zone: "Asia/Tomsk".to_owned(),
        contacts: None,
        inn: String::new(),
    }
}

/// A TCP relay in front of a node, which a test can cut (every open
/// connection dropped, new ones refused) and heal: a network partition.
pub struct Partition {
    /// Where to connect instead of the node.
    pub addr: std::net::SocketAddr,
    open: std::sync::Arc<std::sync::atomic::AtomicBool>,
    links: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Partition {
    /// A relay to `target`, open.
    pub async fn start(target: std::net::SocketAddr) -> Self {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let open = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let links = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let accept = {
            let (open, links) = (open.clone(), links.clone());
            tokio::spawn(async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    if !open.load(Ordering::SeqCst) {
                        continue;
                    }
                    let task = tokio::spawn(async move {
                        if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                    links.lock().expect("links").push(task.abort_handle());
                }
            })
        };
        Self {
            addr,
            open,
            links,
            accept,
        }
    }

    /// The relay's URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Drops every open connection and refuses new ones.
    pub fn cut(&self) {
        self.open.store(false, std::sync::atomic::Ordering::SeqCst);
        for link in self.links.lock().expect("links").drain(..) {
            link.abort();
        }
    }

    /// Lets connections through again.
    pub fn heal(&self) {
        self.open.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for Partition {
    fn drop(&mut self) {
        self.cut();
        self.accept.abort();
    }
}

/// A public two-hour in-person course for grades 9–11, `days` from today
/// at 15:00 in the publisher's zone.
pub fn public_course(title: &str, days: i64) -> edufed_proto::v1::ActivityDetails {
    use edufed_proto::v1 as pb;
    let day = (chrono::Utc::now() + chrono::Duration::days(days)).date_naive();
    pb::ActivityDetails {
        title: title.into(),
        kind: pb::ActivityKind::Course.into(),
        audience: Some(pb::Audience {
            students: Some(pb::GradeRange { min: 9, max: 11 }),
            ..Default::default()
        }),
        format: pb::Format::InPerson.into(),
        place: Some(pb::Place {
            kind: pb::PlaceKind::AtPublisher.into(),
            value: String::new(),
        }),
        visibility: pb::Visibility::Public.into(),
        capacity: 60,
        schedule: Some(pb::Schedule {
            time_zone: String::new(),
            start: format!("{day}T15:00"),
            end: format!("{day}T17:00"),
            all_day: false,
            recurrence: None,
        }),
        ..Default::default()
    }
}

/// Publishes `details` for `publisher` straight through the store, as the
/// node's operator: how store tests and benchmarks seed a calendar.
pub async fn publish_as_operator(
    store: &edufed_store::Store,
    publisher: &edufed_domain::ids::OrgId,
    details: edufed_domain::calendar::ActivityDetails,
) -> edufed_domain::calendar::Activity {
    store
        .publish_activity(
            edufed_domain::calendar::decide::Publish {
                publisher: publisher.clone(),
                details,
                status: edufed_domain::calendar::ActivityStatus::Published,
            },
            &operator(),
        )
        .await
        .expect("the activity is published")
}

/// The node's operator as the store's decisions see a caller: may act on
/// every organization's records (but sign for none).
pub fn operator() -> edufed_domain::policy::Principal {
    edufed_domain::policy::Principal {
        person_id: edufed_domain::ids::PersonId::from_stored("operator".into()),
        credential: edufed_domain::policy::Credential::Token(
            edufed_domain::ids::TokenId::from_stored("operator-token".into()),
        ),
        operator: true,
        memberships: Vec::new(),
    }
}

/// The calendar's search over `from`..`to` with no other filter, for a
/// test or benchmark to narrow with struct update syntax.
pub fn occurrences_between(
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
) -> edufed_domain::calendar::OccurrenceFilter {
    edufed_domain::calendar::OccurrenceFilter {
        from,
        to,
        publisher: None,
        kind: None,
        direction: None,
        grade: None,
        subject: None,
        format: None,
        min_free_seats: None,
        agreement_id: None,
        query: None,
        include_cancelled: false,
        mentoring: None,
        host_designation: None,
    }
}

/// A one-off request of `org`'s to book `resource` for a technology lesson
/// of twelve, from `start` to `end` local to the resource's zone (as a
/// client sends them).
pub fn lesson_request(
    resource: &edufed_domain::ids::ResourceId,
    org: &edufed_domain::ids::OrgId,
    start: chrono::NaiveDateTime,
    end: chrono::NaiveDateTime,
) -> edufed_domain::booking::Request {
    edufed_domain::booking::Request {
        resource: resource.clone(),
        requester: org.clone(),
        start,
        end,
        recurrence: None,
        purpose: "Технология".into(),
        headcount: 12,
        activity: None,
        agreement: None,
        hold: None,
        skip_conflicts: false,
    }
}

/// A public in-person activity for pupils of `grades` at its publisher's,
/// nothing else set and not yet validated: the domain's counterpart of
/// [`public_course`], for store tests and benchmarks to complete with struct
/// update syntax.
pub fn pupils_activity(
    title: String,
    kind: edufed_domain::calendar::ActivityKind,
    grades: edufed_domain::calendar::GradeRange,
    schedule: edufed_domain::calendar::Schedule,
) -> edufed_domain::calendar::ActivityDetails {
    use edufed_domain::calendar as c;
    c::ActivityDetails {
        title,
        description: String::new(),
        kind,
        direction: None,
        subjects: vec![],
        audience: c::Audience {
            students: Some(grades),
            teachers: false,
            parents: false,
            university_students: false,
        },
        format: c::Format::InPerson,
        place: c::Place::AtPublisher,
        coordinator: None,
        partners: vec![],
        capacity: None,
        quotas: vec![],
        registration: c::RegistrationWindow::default(),
        visibility: c::Visibility::Public,
        agreement_id: None,
        schedule,
        mentoring: None,
        trial: None,
        venues: Vec::new(),
    }
}
