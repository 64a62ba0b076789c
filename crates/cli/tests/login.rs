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
            redirect_uris: vec!["http://127.0.0.1:9/sign-in/oidc/region/callback".into()],
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
    let (deputy, _) = edufed_tests::member_through(
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

    sign_in(person()).await;

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

    // What the node offers, and the person's bound account.
    let (ok, out, err) = run(person(), &["oidc", "issuers"]).await;
    assert!(
        ok && out.contains("region") && out.contains("Госуслуги"),
        "{out}{err}"
    );
    sign_in(person()).await;
    let (ok, out, err) = run(person(), &["oidc", "accounts"]).await;
    assert!(
        ok && out.contains("deputy@gym24.example") && out.contains("email"),
        "{out}{err}"
    );

    // The school requires the region's provider: no one-time links then.
    let operator = || {
        let mut command = edufed(cwd.path());
        command.env("EDUFED_SERVER", &served.url);
        command
    };
    let (ok, out, err) = run(
        operator(),
        &["oidc", "require", "--org", "gym24", "--issuer", "region"],
    )
    .await;
    assert!(ok && out.contains("only through region"), "{out}{err}");
    let (ok, _, err) = run(operator(), &["login-link", "--person", &deputy.to_string()]).await;
    assert!(
        !ok && err.contains("requires its members to sign in through region"),
        "{err}"
    );
    let (ok, out, err) = run(
        operator(),
        &[
            "login-link",
            "--person",
            &deputy.to_string(),
            "--invitation",
        ],
    )
    .await;
    assert!(ok && out.contains("/invitation/"), "{out}{err}");

    // Unbinding the account revokes the command line's token it issued.
    let (ok, out, err) = run(
        operator(),
        &[
            "oidc",
            "unbind",
            "--person",
            &deputy.to_string(),
            "--issuer",
            "region",
        ],
    )
    .await;
    assert!(ok && out.contains("deputy@gym24.example"), "{out}{err}");
    let (ok, _, err) = run(person(), &["whoami"]).await;
    assert!(!ok && err.contains("revoked"), "{err}");
    terminate(served).await;
    drop(provider);
}

/// Runs `edufed login` as `command`, confirming its code at the provider in
/// a real browser as the deputy; panics unless it signs in.
async fn sign_in(mut command: tokio::process::Command) {
    let mut login = command
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
    let confirmed = edufed_tests::console::journey(
        "device",
        serde_json::json!({ "url": url, "code": code, "login": "deputy-sub" }),
    )
    .await;
    assert!(
        confirmed.is_some(),
        "the browser is there when the provider is"
    );
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
    assert!(
        stdout.contains("signed in as deputy@gym24.example"),
        "{stdout}"
    );
}
