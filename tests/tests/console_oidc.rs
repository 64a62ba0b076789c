//! Signing in through the region's identity provider, in a real Chromium
//! against a real OpenID Connect provider (panva's oidc-provider), on both
//! backends: an account bound by its verified e-mail and one by an
//! invitation; an unknown account and an unverified e-mail refused; ID
//! tokens tampered with (signature, audience, expiry, a replayed nonce)
//! and answers meant for another browser or another sign-in refused; the
//! provider's keys rotated; signing out there too; and a removed member
//! and an unbound account losing their sessions at once.

use edufed_proto::v1 as pb;
use edufed_tests::console::journey_with;
use edufed_tests::oidc::{Account, Client, OidcProvider};
use edufed_tests::{Backend, TestDb, TestNode, both_backends, http_get, member, org_request};
use serde_json::json;

fn account(email: &str, verified: bool, name: &str) -> Account {
    Account {
        email: email.into(),
        email_verified: verified,
        name: name.into(),
    }
}

/// A free loopback address for the node, known before it starts: the
/// provider must know the node's redirect URI first.
fn free_addr() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("address")
}

both_backends!(
    people_sign_in_through_the_regions_identity_provider,
    |backend: Backend| async move {
        let addr = free_addr();
        let base = format!("http://{addr}");
        let Some(provider) = OidcProvider::start(
            &[Client {
                client_id: "edufed-gym24".into(),
                client_secret: "a-long-client-secret-of-the-node".into(),
                redirect_uris: vec![
                    format!("{base}/sign-in/oidc/region/callback"),
                    format!("{base}/sign-in/oidc/university/callback"),
                ],
                post_logout_redirect_uris: vec![format!("{base}/signed-out")],
            }],
            &[
                (
                    "deputy-sub",
                    account("deputy@gym24.example", true, "Филатова Анна Борисовна"),
                ),
                (
                    "teacher-sub",
                    account("s.petrov@mail.example", false, "Петров Сергей"),
                ),
                (
                    "stranger-sub",
                    account("stranger@mail.example", true, "Незнакомец"),
                ),
                (
                    "unverified-sub",
                    account("director@gym24.example", false, "Кто-то"),
                ),
            ],
        )
        .await
        else {
            return;
        };
        let db = TestDb::new(backend).await;
        let secret_file = db.dir.path().join("oidc.secret");
        std::fs::write(&secret_file, "a-long-client-secret-of-the-node\n").unwrap();
        let issuer = provider.issuer.clone();
        let node = TestNode::start_with(db, |s| {
            s.listen = addr;
            // Two issuers: the region's broker and a university's own (the
            // same provider here, answering at its own door).
            s.oidc = vec![
                edufed_server::OidcIssuer {
                    name: "region".into(),
                    label: "Госуслуги".into(),
                    issuer: issuer.clone(),
                    client_id: "edufed-gym24".into(),
                    client_secret_file: Some(secret_file.clone()),
                },
                edufed_server::OidcIssuer {
                    name: "university".into(),
                    label: "ТГУ".into(),
                    issuer,
                    client_id: "edufed-gym24".into(),
                    client_secret_file: Some(secret_file),
                },
            ];
        })
        .await;
        let mut op = node.operator().await;
        op.create_organization(org_request("gym24")).await.unwrap();
        let (deputy, _) = member(
            &node,
            "gym24",
            pb::Role::Coordinator,
            "deputy@gym24.example",
        )
        .await;
        let (teacher, _) = member(&node, "gym24", pb::Role::Teacher, "teacher@gym24.example").await;
        let (director, _) = member(&node, "gym24", pb::Role::Admin, "director@gym24.example").await;
        let director_link = op
            .create_sign_in_link(pb::CreateSignInLinkRequest {
                person_id: director.to_string(),
                ttl: None,
                invitation: false,
            })
            .await
            .unwrap()
            .into_inner()
            .url;
        let invitation = op
            .create_sign_in_link(pb::CreateSignInLinkRequest {
                person_id: teacher.to_string(),
                ttl: None,
                invitation: true,
            })
            .await
            .unwrap()
            .into_inner();
        assert!(
            invitation.url.contains("/invitation/"),
            "{}",
            invitation.url
        );
        // An invitation starts no session by itself.
        let refused = op
            .start_session(pb::StartSessionRequest {
                link_secret: invitation.secret.clone(),
                user_agent: String::new(),
            })
            .await
            .unwrap_err();
        assert_eq!(refused.code(), tonic::Code::FailedPrecondition);

        let provider_addr = provider.addr();
        let found = journey_with(
            "oidc",
            json!({
                "node": base,
                "provider": provider.issuer,
                "director": director_link,
                "teacher": teacher.to_string(),
            }),
            |label, _| {
                let mut op = op.clone();
                let (deputy, teacher) = (deputy.clone(), teacher.clone());
                async move {
                    match label.as_str() {
                        "rotate" => {
                            let (status, body) =
                                edufed_tests::http_post(provider_addr, "/__test/rotate", "").await;
                            assert_eq!(status, 200, "{body}");
                        }
                        "remove-teacher" => {
                            op.remove_member(pb::RemoveMemberRequest {
                                organization: "gym24".into(),
                                person_id: teacher.to_string(),
                            })
                            .await
                            .unwrap();
                        }
                        "unbind-deputy" => {
                            let unbound = op
                                .unbind_identity(pb::UnbindIdentityRequest {
                                    person_id: deputy.to_string(),
                                    issuer: "region".into(),
                                })
                                .await
                                .unwrap()
                                .into_inner();
                            assert_eq!(unbound.subject, "deputy-sub");
                        }
                        other => panic!("no pause {other}"),
                    }
                    json!({})
                }
            },
        )
        .await;
        let Some(_) = found else {
            return;
        };
        // The deputy's account was unbound: signing in again binds it again
        // by the verified e-mail, and the accounts are as the journey left.
        let identities = op
            .list_identities(pb::ListIdentitiesRequest {
                person_id: teacher.to_string(),
            })
            .await
            .unwrap()
            .into_inner()
            .identities;
        assert_eq!(identities.len(), 1);
        assert_eq!(identities[0].subject, "teacher-sub");
        assert_eq!(
            identities[0].bound_by,
            pb::IdentityBinding::Invitation as i32
        );
        let required = op
            .get_sign_in_requirement(pb::GetSignInRequirementRequest {
                organization: "gym24".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(required.issuer, "region", "set in the console");
        // The metrics count each outcome.
        let (_, metrics) = http_get(node.node.addr(), "/metrics").await;
        for outcome in [
            "ok",
            "unbound",
            "mix_up",
            "unverified_email",
            "signature",
            "audience",
            "expired",
            "nonce",
            "state",
        ] {
            assert!(
                metrics.contains(&format!(
                    "edufed_sign_ins_total{{issuer=\"region\",outcome=\"{outcome}\"}}"
                )) || metrics.contains(&format!(
                    "edufed_sign_ins_total{{issuer=\"unknown\",outcome=\"{outcome}\"}}"
                )),
                "no {outcome} in\n{}",
                metrics
                    .lines()
                    .filter(|l| l.contains("sign_ins"))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
        node.node.stop().await.unwrap();
        drop(provider);
    }
);

both_backends!(
    an_organization_may_require_its_identity_provider,
    |backend: Backend| async move {
        let Some(provider) = OidcProvider::start(
            &[Client {
                client_id: "edufed".into(),
                client_secret: "s3cret-s3cret".into(),
                redirect_uris: vec!["http://127.0.0.1:9/sign-in/oidc/region/callback".into()],
                post_logout_redirect_uris: Vec::new(),
            }],
            &[],
        )
        .await
        else {
            return;
        };
        let issuer = provider.issuer.clone();
        let node = TestNode::start_with(TestDb::new(backend).await, |s| {
            s.oidc = vec![edufed_server::OidcIssuer {
                name: "region".into(),
                label: "Госуслуги".into(),
                issuer,
                client_id: "edufed".into(),
                client_secret_file: None,
            }];
        })
        .await;
        let mut op = node.operator().await;
        op.create_organization(org_request("gym24")).await.unwrap();
        let (deputy, _) = member(
            &node,
            "gym24",
            pb::Role::Coordinator,
            "deputy@gym24.example",
        )
        .await;
        let link = op
            .create_sign_in_link(pb::CreateSignInLinkRequest {
                person_id: deputy.to_string(),
                ttl: None,
                invitation: false,
            })
            .await
            .unwrap()
            .into_inner();
        // An issuer the node does not know is refused, naming the field.
        let unknown = op
            .set_sign_in_requirement(pb::SetSignInRequirementRequest {
                organization: "gym24".into(),
                issuer: "elsewhere".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(unknown.code(), tonic::Code::InvalidArgument);
        assert!(
            unknown.message().contains("issuer"),
            "{}",
            unknown.message()
        );
        let required = op
            .set_sign_in_requirement(pb::SetSignInRequirementRequest {
                organization: "gym24".into(),
                issuer: "region".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(required.issuer, "region");
        // The link issued before no longer works, and no new one is issued;
        // an invitation still is.
        let lapsed = op
            .start_session(pb::StartSessionRequest {
                link_secret: link.secret,
                user_agent: String::new(),
            })
            .await
            .unwrap_err();
        assert_eq!(lapsed.code(), tonic::Code::Unauthenticated, "{lapsed:?}");
        let refused = op
            .create_sign_in_link(pb::CreateSignInLinkRequest {
                person_id: deputy.to_string(),
                ttl: None,
                invitation: false,
            })
            .await
            .unwrap_err();
        assert_eq!(refused.code(), tonic::Code::FailedPrecondition);
        assert!(
            refused.message().contains("gym24") && refused.message().contains("region"),
            "{}",
            refused.message()
        );
        op.create_sign_in_link(pb::CreateSignInLinkRequest {
            person_id: deputy.to_string(),
            ttl: None,
            invitation: true,
        })
        .await
        .unwrap();
        // No one invites themselves: an invitation binds whoever completes it.
        let own = op
            .create_sign_in_link(pb::CreateSignInLinkRequest {
                person_id: String::new(),
                ttl: None,
                invitation: true,
            })
            .await
            .unwrap_err();
        assert_eq!(own.code(), tonic::Code::InvalidArgument);
        assert!(own.message().contains("person_id"), "{}", own.message());
        // Lifted, links work again.
        op.set_sign_in_requirement(pb::SetSignInRequirementRequest {
            organization: "gym24".into(),
            issuer: String::new(),
        })
        .await
        .unwrap();
        let read = op
            .get_sign_in_requirement(pb::GetSignInRequirementRequest {
                organization: "gym24".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(read.issuer, "");
        op.create_sign_in_link(pb::CreateSignInLinkRequest {
            person_id: deputy.to_string(),
            ttl: None,
            invitation: false,
        })
        .await
        .unwrap();
        // The issuers are listed to anyone, with where to sign out there.
        let listed = edufed_proto::v1::directory_client::DirectoryClient::new(node.channel().await)
            .list_issuers(pb::ListIssuersRequest { logout_urls: true })
            .await
            .unwrap()
            .into_inner()
            .issuers;
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].label, "Госуслуги");
        assert!(
            listed[0].logout_url.contains("post_logout_redirect_uri"),
            "{:?}",
            listed[0]
        );
        node.node.stop().await.unwrap();
        drop(provider);
    }
);
