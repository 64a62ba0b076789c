//! `edufed login` signs the command line in through the node's identity
//! provider with the device flow, against a real provider and a node run
//! as a process: the person confirms the code in a real browser, the token
//! is kept for that node readable by them alone and used by later
//! commands; `edufed logout` revokes and forgets it.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use edufed_proto::v1 as pb;
use edufed_tests::oidc::{Account, Client, OidcProvider};
use tokio::io::{AsyncBufReadExt as _, BufReader};

mod common;

use common::{edufed, run, serve, terminate};

fn operator_token(cwd: &Path) -> String {
    std::fs::read_to_string(cwd.join("edufed-data/operator.token"))
        .unwrap()
        .trim()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_signs_the_command_line_in_at_the_identity_provider() {
    let Some(provider) = OidcProvider::start(
        &[Client {
            client_id: "edufed".into(),
            client_secret: "a-secret-of-the-node".into(),
            redirect_uris: vec!["http://127.0.0.1:9/sign-in/oidc/callback".into()],
            post_logout_redirect_uris: Vec::new(),
        }],
        &[(
            "deputy-sub",
            Account {
                email: "deputy@gym24.example".into(),
                email_verified: true,
                name: "Филатова Анна Борисовна".into(),
            },
        )],
    )
    .await
    else {
        return;
    };
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("client-secret"), "a-secret-of-the-node\n").unwrap();
    std::fs::write(
        cwd.path().join("node.toml"),
        format!(
            "listen = \"127.0.0.1:0\"\n[[oidc]]\nname = \"region\"\nlabel = \"Госуслуги\"\n\
             issuer = \"{}\"\nclient_id = \"edufed\"\nclient_secret_file = \"client-secret\"\n",
            provider.issuer
        ),
    )
    .unwrap();
    let served = serve(edufed(cwd.path()), &["--config", "node.toml"]).await;
    let channel = tonic::transport::Channel::from_shared(served.url.clone())
        .unwrap()
        .connect_lazy();
    let mut directory = pb::directory_client::DirectoryClient::with_interceptor(
        channel,
        edufed_tests::Bearer::new(&operator_token(cwd.path())),
    );
    directory
        .create_organization(edufed_tests::org_request("gym24"))
        .await
        .unwrap();
    edufed_tests::member_through(
        &mut directory,
        "gym24",
        pb::Role::Coordinator,
        "deputy@gym24.example",
    )
    .await;
    // The person's own directory: no operator token in reach, a
    // configuration directory of their own.
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config");
    let person = || {
        let mut command = edufed(home.path());
        command
            .env("EDUFED_SERVER", &served.url)
            .env("EDUFED_CONFIG_DIR", &config);
        command
    };
    let (ok, _, err) = run(person(), &["whoami"]).await;
    assert!(!ok, "no token yet: {err}");

    let mut login = person()
        .arg("login")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut said = BufReader::new(login.stderr.take().unwrap()).lines();
    let (url, code) = tokio::time::timeout(Duration::from_secs(30), async {
        let mut url = None;
        while let Some(line) = said.next_line().await.unwrap() {
            if line.starts_with("  http") {
                url = Some(line.trim().to_owned());
            }
            if let Some(code) = line.strip_prefix("and confirm the code ") {
                return (url.expect("the URL comes first"), code.trim().to_owned());
            }
        }
        panic!("edufed login said no code");
    })
    .await
    .expect("edufed login shows a code");
    assert!(url.starts_with(&provider.issuer), "{url}");
    let confirmed = edufed_tests::console::journey(
        "device",
        serde_json::json!({ "url": url, "code": code, "login": "deputy-sub" }),
    )
    .await;
    if confirmed.is_none() {
        return;
    }
    let out = tokio::time::timeout(Duration::from_secs(60), login.wait_with_output())
        .await
        .expect("edufed login finishes once the code is confirmed")
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut rest = String::new();
    while let Ok(Some(line)) = said.next_line().await {
        rest.push_str(&line);
        rest.push('\n');
    }
    assert!(out.status.success(), "{stdout}{rest}");
    assert!(stdout.contains("signed in as deputy@gym24.example"), "{stdout}");

    // Kept for this node, for the person alone.
    let file = config.join("credentials.json");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let kept: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let entry = &kept[served.url.trim_end_matches('/')];
    assert_eq!(entry["issuer"], "region");
    assert!(entry["token"].as_str().unwrap().starts_with("edufed_"));

    // Later commands use it.
    let (ok, out, err) = run(person(), &["whoami"]).await;
    assert!(ok, "{err}");
    assert!(out.contains("deputy@gym24.example"), "{out}");

    // Logging out revokes it at the node, and forgets it here.
    let token = entry["token"].as_str().unwrap().to_owned();
    let (ok, out, err) = run(person(), &["logout"]).await;
    assert!(ok, "{err}");
    assert!(out.contains("revoked"), "{out}");
    let (ok, _, err) = run(person(), &["--token", &token, "whoami"]).await;
    assert!(!ok && err.contains("revoked"), "{err}");
    let (ok, _, _) = run(person(), &["whoami"]).await;
    assert!(!ok, "forgotten");
    let (ok, _, err) = run(person(), &["logout"]).await;
    assert!(!ok && err.contains("not signed in"), "{err}");
    terminate(served).await;
    drop(provider);
}
