//! The tests' OpenID Connect provider is a real one: it publishes its
//! discovery document and signing keys, offers the code flow with PKCE and
//! the device flow, and refuses a client it does not know; the node's
//! relying party discovers it.

use edufed_tests::http_get;
use edufed_tests::oidc::{Account, Client, OidcProvider};

#[tokio::test]
async fn the_provider_publishes_what_a_relying_party_discovers() {
    let Some(mut provider) = OidcProvider::start(
        &[Client {
            client_id: "edufed".into(),
            client_secret: "s3cret".into(),
            redirect_uris: vec!["http://127.0.0.1:9/oidc/callback".into()],
            post_logout_redirect_uris: Vec::new(),
        }],
        &[(
            "deputy",
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
    let (status, body) = http_get(provider.addr(), "/.well-known/openid-configuration").await;
    assert_eq!(status, 200, "{body}");
    let discovery: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(discovery["issuer"], provider.issuer.as_str());
    assert_eq!(discovery["code_challenge_methods_supported"][0], "S256");
    assert!(discovery["device_authorization_endpoint"].is_string());
    assert!(discovery["end_session_endpoint"].is_string());
    let (status, body) = http_get(provider.addr(), "/jwks").await;
    assert_eq!(status, 200);
    let keys: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(!keys["keys"].as_array().unwrap().is_empty());
    // An authorization request from an unknown client is refused.
    let (status, _) = http_get(
        provider.addr(),
        "/auth?client_id=stranger&response_type=code&scope=openid\
         &redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&code_challenge=x&code_challenge_method=S256",
    )
    .await;
    assert_eq!(status, 400);
    // The relying party's discovery reads the same, and its keys.
    let found = edufed_identity::discover(&provider.issuer).await.unwrap();
    assert_eq!(found.issuer, provider.issuer);
    assert!(found.keys >= 1 && found.pkce_s256);
    assert!(found.device_authorization_endpoint.is_some());
    assert!(found.end_session_endpoint.is_some());
    // An issuer that is not there, or that names another, is refused.
    let elsewhere = format!("{}/realms/nowhere", provider.issuer);
    let refused = edufed_identity::discover(&elsewhere).await.unwrap_err();
    assert!(
        format!("{refused:#}").contains("discovery document"),
        "{refused:#}"
    );
    provider.stop().await;
}
