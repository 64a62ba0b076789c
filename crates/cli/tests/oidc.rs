//! `edufed oidc check` against a real OpenID Connect provider: what each
//! configured issuer offers, and which fail and why.

use edufed_tests::oidc::{Client, OidcProvider};

mod common;

use common::{edufed, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_checks_the_configured_issuers() {
    let Some(mut provider) = OidcProvider::start(
        &[Client {
            client_id: "edufed".into(),
            client_secret: "s3cret".into(),
            redirect_uris: vec!["http://127.0.0.1:9/oidc/callback".into()],
            post_logout_redirect_uris: Vec::new(),
        }],
        &[],
    )
    .await
    else {
        return;
    };
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("client-secret"), "s3cret\n").unwrap();
    let issuer = |name: &str, url: &str| {
        format!(
            "[[oidc]]\nname = \"{name}\"\nlabel = \"Войти через Госуслуги\"\nissuer = \"{url}\"\n\
             client_id = \"edufed\"\nclient_secret_file = \"client-secret\"\n"
        )
    };
    std::fs::write(
        cwd.path().join("good.toml"),
        issuer("region", &provider.issuer),
    )
    .unwrap();
    let (ok, out, err) = run(
        edufed(cwd.path()),
        &["oidc", "check", "--config", "good.toml"],
    )
    .await;
    assert!(ok, "{out}{err}");
    assert!(
        out.contains(&format!("region: ok, {}", provider.issuer)),
        "{out}"
    );
    assert!(out.contains("PKCE S256: yes"), "{out}");
    assert!(out.contains("device flow (edufed login): yes"), "{out}");
    assert!(out.contains("confidential (secret read)"), "{out}");
    assert!(!out.contains("s3cret"), "the secret is never printed");

    // One issuer that is not there: named, with why, and a failing exit.
    std::fs::write(
        cwd.path().join("mixed.toml"),
        format!(
            "{}{}",
            issuer("region", &provider.issuer),
            issuer("nowhere", &format!("{}/realms/nowhere", provider.issuer))
        ),
    )
    .unwrap();
    let (ok, out, err) = run(
        edufed(cwd.path()),
        &["oidc", "check", "--config", "mixed.toml"],
    )
    .await;
    assert!(!ok);
    assert!(
        out.contains("region: ok") && out.contains("nowhere: FAILED"),
        "{out}"
    );
    assert!(err.contains("nowhere"), "{err}");

    // A configuration that cannot work is refused before any request.
    std::fs::write(
        cwd.path().join("plain.toml"),
        issuer("region", "http://idp.example.org/realms/tomsk"),
    )
    .unwrap();
    let (ok, _, err) = run(
        edufed(cwd.path()),
        &["oidc", "check", "--config", "plain.toml"],
    )
    .await;
    assert!(!ok);
    assert!(err.contains("https://"), "{err}");
    provider.stop().await;
}
