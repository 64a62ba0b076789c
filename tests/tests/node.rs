//! A node's life: first start, TLS and client certificates, replicas that
//! start together on one PostgreSQL database.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use edufed_proto::v1 as pb;
use edufed_proto::v1::directory_client::DirectoryClient;
use edufed_server::{KEY_FILE, Node, OPERATOR_TOKEN_FILE};
use edufed_tests::{Backend, Bearer, TestDb, TestNode, test_settings};
use rcgen::{BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyPair};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn first_start_creates_identity_and_operator_token() {
    let node = TestNode::start(Backend::Sqlite).await;
    assert_eq!(mode(&node.data_dir.join(KEY_FILE)), 0o600);
    assert_eq!(mode(&node.data_dir.join(OPERATOR_TOKEN_FILE)), 0o600);
    assert_eq!(mode(&node.data_dir), 0o700);
    let me = node
        .operator()
        .await
        .who_am_i(pb::WhoAmIRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(me.person.unwrap().operator);
    let node_id = node.node.node_id().to_owned();
    assert_eq!(me.node_id, node_id);
    let url = node.db.url.clone();
    let data_dir = node.data_dir.clone();
    node.node.stop().await.unwrap();

    // A restart keeps the identity and issues no new token.
    let (again, report) = Node::start(test_settings(&data_dir, &url)).await.unwrap();
    assert_eq!(again.node_id(), node_id);
    assert!(!report.created);
    assert!(report.operator_token_file.is_none());
    let token = std::fs::read_to_string(data_dir.join(OPERATOR_TOKEN_FILE)).unwrap();
    let channel = Channel::from_shared(again.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    DirectoryClient::with_interceptor(channel, Bearer::new(token.trim()))
        .who_am_i(pb::WhoAmIRequest {})
        .await
        .expect("the operator token survives restarts");
    again.stop().await.unwrap();

    // `edufed init --rotate-operator-token` issues a new one.
    let settings = test_settings(&data_dir, &url);
    let report = edufed_server::initialize(&settings, true).await.unwrap();
    let rotated = std::fs::read_to_string(report.operator_token_file.unwrap()).unwrap();
    assert_ne!(rotated, token);
}

struct Pki {
    dir: tempfile::TempDir,
    ca: rcgen::Certificate,
    ca_key: KeyPair,
}

impl Pki {
    fn new() -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_key = KeyPair::generate().unwrap();
        let ca = params.self_signed(&ca_key).unwrap();
        let pki = Self {
            dir: tempfile::tempdir().unwrap(),
            ca,
            ca_key,
        };
        std::fs::write(pki.path("ca.pem"), pki.ca.pem()).unwrap();
        pki
    }

    fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    /// Issues a certificate and key, written as `<name>.pem` and `<name>.key`.
    fn issue(
        &self,
        name: &str,
        sans: &[&str],
        purpose: ExtendedKeyUsagePurpose,
    ) -> (String, String) {
        let mut params =
            CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
        params.extended_key_usages = vec![purpose];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.ca, &self.ca_key).unwrap();
        std::fs::write(self.path(&format!("{name}.pem")), cert.pem()).unwrap();
        std::fs::write(self.path(&format!("{name}.key")), key.serialize_pem()).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

async fn tls_call(url: &str, ca_pem: &str, identity: Option<(&str, &str)>) -> Result<(), String> {
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(ca_pem))
        .domain_name("localhost");
    if let Some((cert, key)) = identity {
        tls = tls.identity(Identity::from_pem(cert, key));
    }
    let channel = Channel::from_shared(url.to_owned())
        .unwrap()
        .tls_config(tls)
        .map_err(|e| e.to_string())?
        .connect()
        .await
        .map_err(|e| format!("{e:?}"))?;
    DirectoryClient::new(channel)
        .list_organizations(pb::ListOrganizationsRequest::default())
        .await
        .map(|_| ())
        .map_err(|e| format!("{e:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tls_and_client_certificates() {
    let pki = Pki::new();
    pki.issue(
        "server",
        &["localhost", "127.0.0.1"],
        ExtendedKeyUsagePurpose::ServerAuth,
    );
    let (client_cert, client_key) = pki.issue(
        "client",
        &["hub.edufed.test"],
        ExtendedKeyUsagePurpose::ClientAuth,
    );
    let ca_pem = pki.ca.pem();

    // TLS: a client trusting the CA gets through; a plaintext one does not.
    let db = TestDb::new(Backend::Sqlite).await;
    let node = TestNode::start_with(db, |s| {
        s.tls_cert = Some(pki.path("server.pem"));
        s.tls_key = Some(pki.path("server.key"));
    })
    .await;
    let url = node.node.url();
    assert!(url.starts_with("https://"));
    tls_call(&url, &ca_pem, None).await.expect("TLS call");
    let plaintext = format!("http://{}", node.node.addr());
    let refused = match Channel::from_shared(plaintext).unwrap().connect().await {
        Ok(channel) => DirectoryClient::new(channel)
            .list_organizations(pb::ListOrganizationsRequest::default())
            .await
            .is_err(),
        Err(_) => true,
    };
    assert!(refused, "plaintext is not served on a TLS listener");
    node.node.stop().await.unwrap();

    // Mutual TLS: only clients with a certificate from the CA.
    let db = TestDb::new(Backend::Sqlite).await;
    let node = TestNode::start_with(db, |s| {
        s.tls_cert = Some(pki.path("server.pem"));
        s.tls_key = Some(pki.path("server.key"));
        s.tls_client_ca = Some(pki.path("ca.pem"));
    })
    .await;
    let url = node.node.url();
    tls_call(&url, &ca_pem, Some((&client_cert, &client_key)))
        .await
        .expect("a client with a certificate from the CA");
    assert!(
        tls_call(&url, &ca_pem, None).await.is_err(),
        "no client certificate"
    );
    let stranger = Pki::new();
    let (bad_cert, bad_key) =
        stranger.issue("client", &["x.test"], ExtendedKeyUsagePurpose::ClientAuth);
    assert!(
        tls_call(&url, &ca_pem, Some((&bad_cert, &bad_key)))
            .await
            .is_err(),
        "a certificate from another CA"
    );
    node.node.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_starting_together_migrate_once() {
    if edufed_tests::postgres_admin_url().is_none() {
        return;
    }
    let db = TestDb::new(Backend::Postgres).await;
    let data_dir = db.dir.path().join("data");
    let (a, b) = tokio::join!(
        Node::start(test_settings(&data_dir, &db.url)),
        Node::start(test_settings(&data_dir, &db.url))
    );
    let ((a, report_a), (b, report_b)) = (a.expect("first replica"), b.expect("second replica"));
    assert_eq!(
        a.node_id(),
        b.node_id(),
        "replicas share the data directory's identity"
    );
    assert_eq!(
        [report_a.created, report_b.created]
            .iter()
            .filter(|c| **c)
            .count(),
        1,
        "one replica created the identity"
    );

    use sqlx::Connection as _;
    let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT version, COUNT(*) FROM _sqlx_migrations GROUP BY version ORDER BY version",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let files = std::fs::read_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../migrations/postgres"
    ))
    .unwrap()
    .count();
    assert_eq!(rows.len(), files, "every migration applied");
    assert!(
        rows.iter().all(|(_, n)| *n == 1),
        "each exactly once: {rows:?}"
    );
    let operators: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM people WHERE operator = 1")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(operators, 1);

    for node in [&a, &b] {
        let (status, _) = edufed_tests::http_get(node.addr(), "/healthz").await;
        assert_eq!(status, 200);
    }
    // A write on one replica is seen by the other.
    let token = std::fs::read_to_string(data_dir.join(OPERATOR_TOKEN_FILE)).unwrap();
    let client = |url: String| {
        let token = token.trim().to_owned();
        async move {
            let channel = Channel::from_shared(url).unwrap().connect().await.unwrap();
            DirectoryClient::with_interceptor(channel, Bearer::new(&token))
        }
    };
    client(a.url())
        .await
        .create_organization(edufed_tests::org_request("tsu"))
        .await
        .unwrap();
    client(b.url())
        .await
        .get_organization(pb::GetOrganizationRequest {
            organization: "tsu".into(),
        })
        .await
        .unwrap();
    a.stop().await.unwrap();
    b.stop().await.unwrap();
}
