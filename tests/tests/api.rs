//! The gRPC API end to end: a real node on port 0, the generated clients.

use edufed_proto::v1 as pb;
use edufed_tests::{Backend, TestNode, both_backends, http_get, org_request};
use tonic::Code;
use tonic_types::StatusExt as _;

fn field_of(status: &tonic::Status) -> String {
    status
        .get_error_details()
        .bad_request()
        .and_then(|b| b.field_violations.first().map(|v| v.field.clone()))
        .unwrap_or_default()
}

both_backends!(
    reflection_health_healthz_and_metrics,
    |backend| async move {
        let node = TestNode::start(backend).await;
        let channel = node.channel().await;

        use tonic_reflection::pb::v1::ServerReflectionRequest;
        use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
        let mut reflection = ServerReflectionClient::new(channel.clone());
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut responses = reflection
            .server_reflection_info(futures::stream::iter([request]))
            .await
            .unwrap()
            .into_inner();
        let response = responses.message().await.unwrap().unwrap();
        let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
            panic!("unexpected reflection answer");
        };
        let services: Vec<_> = list.service.iter().map(|s| s.name.as_str()).collect();
        for expected in [
            "edufed.v1.Directory",
            "edufed.v1.ChangeFeed",
            "grpc.health.v1.Health",
        ] {
            assert!(
                services.contains(&expected),
                "{expected} missing from {services:?}"
            );
        }
        // The v1alpha protocol, which older tools speak, answers too.
        {
            use tonic_reflection::pb::v1alpha::ServerReflectionRequest;
            use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient;
            use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest;
            let mut old = ServerReflectionClient::new(channel.clone());
            let request = ServerReflectionRequest {
                host: String::new(),
                message_request: Some(MessageRequest::FileContainingSymbol(
                    "edufed.v1.Directory".into(),
                )),
            };
            let mut responses = old
                .server_reflection_info(futures::stream::iter([request]))
                .await
                .unwrap()
                .into_inner();
            assert!(
                responses
                    .message()
                    .await
                    .unwrap()
                    .unwrap()
                    .message_response
                    .is_some()
            );
        }

        use tonic_health::pb::HealthCheckRequest;
        use tonic_health::pb::health_check_response::ServingStatus;
        use tonic_health::pb::health_client::HealthClient;
        let mut health = HealthClient::new(channel.clone());
        for service in ["", "edufed.v1.Directory", "edufed.v1.ChangeFeed"] {
            let status = health
                .check(HealthCheckRequest {
                    service: service.into(),
                })
                .await
                .unwrap()
                .into_inner()
                .status;
            assert_eq!(status, ServingStatus::Serving as i32, "{service:?}");
        }

        let (status, body) = http_get(node.node.addr(), "/healthz").await;
        assert_eq!((status, body.trim()), (200, "ok"));

        let mut directory = node.directory("").await;
        directory
            .list_organizations(pb::ListOrganizationsRequest::default())
            .await
            .unwrap();
        directory
            .get_organization(pb::GetOrganizationRequest {
                organization: "nowhere".into(),
            })
            .await
            .unwrap_err();
        let (status, metrics) = http_get(node.node.addr(), "/metrics").await;
        assert_eq!(status, 200);
        assert!(
        metrics.contains(r#"edufed_rpc_requests_total{method="edufed.v1.Directory/ListOrganizations",code="OK"} 1"#),
        "{metrics}"
    );
        assert!(metrics.contains(r#"edufed_rpc_requests_total{method="edufed.v1.Directory/GetOrganization",code="NOT_FOUND"} 1"#));
        assert!(metrics.contains("edufed_rpc_duration_seconds_bucket"));
        node.node.stop().await.unwrap();
    }
);

both_backends!(
    bad_input_gets_clear_errors_and_stores_nothing,
    |backend| async move {
        let node = TestNode::start(backend).await;
        let mut anonymous = node.directory("").await;
        let err = anonymous
            .create_organization(org_request("tsu"))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::Unauthenticated);
        let mut forged = node.directory("edufed_forged").await;
        let err = forged
            .list_organizations(pb::ListOrganizationsRequest::default())
            .await
            .unwrap_err();
        assert_eq!(
            err.code(),
            Code::Unauthenticated,
            "a bad token is refused even on public reads"
        );

        let mut op = node.operator().await;
        let good = op
            .create_organization(org_request("tsu"))
            .await
            .unwrap()
            .into_inner();

        let cases: Vec<(&str, pb::CreateOrganizationRequest)> = vec![
            (
                "time_zone",
                pb::CreateOrganizationRequest {
                    time_zone: "Mars/Olympus".into(),
                    ..org_request("mars")
                },
            ),
            (
                "full_name",
                pb::CreateOrganizationRequest {
                    full_name: "  ".into(),
                    ..org_request("empty")
                },
            ),
            (
                "full_name",
                pb::CreateOrganizationRequest {
                    full_name: "я".repeat(10 * 1024),
                    ..org_request("huge")
                },
            ),
            ("slug", org_request("Bad Slug")),
            ("slug", org_request(&"a".repeat(10 * 1024))),
            (
                "time_zone",
                pb::CreateOrganizationRequest {
                    time_zone: "Z".repeat(10 * 1024),
                    ..org_request("zone")
                },
            ),
            (
                "kind",
                pb::CreateOrganizationRequest {
                    kind: 99,
                    ..org_request("kind")
                },
            ),
            (
                "kind",
                pb::CreateOrganizationRequest {
                    kind: 0,
                    ..org_request("kind")
                },
            ),
            (
                "inn",
                pb::CreateOrganizationRequest {
                    inn: "7017001895".into(),
                    ..org_request("inn")
                },
            ),
            (
                "contacts.email",
                pb::CreateOrganizationRequest {
                    contacts: Some(pb::Contacts {
                        email: "not-an-address".into(),
                        ..Default::default()
                    }),
                    ..org_request("mail")
                },
            ),
        ];
        for (field, request) in cases {
            let err = op.create_organization(request).await.unwrap_err();
            assert_eq!(err.code(), Code::InvalidArgument, "{field}: {err:?}");
            assert_eq!(field_of(&err), field);
            assert!(
                err.message().contains(field),
                "the message names {field}: {}",
                err.message()
            );
        }
        let taken = op
            .create_organization(org_request("tsu"))
            .await
            .unwrap_err();
        assert_eq!(taken.code(), Code::AlreadyExists);
        let missing = op
            .get_organization(pb::GetOrganizationRequest {
                organization: "nowhere".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(missing.code(), Code::NotFound);
        let bad_ref = op
            .get_organization(pb::GetOrganizationRequest {
                organization: "Not A Slug!".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(field_of(&bad_ref), "organization");
        let stale = op
            .update_organization(pb::UpdateOrganizationRequest {
                organization: "tsu".into(),
                expected_version: 7,
                city: Some("Северск".into()),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(stale.code(), Code::FailedPrecondition);
        let bad_token = op
            .list_organizations(pb::ListOrganizationsRequest {
                page_token: "garbage".into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(field_of(&bad_token), "page_token");
        let too_big = op
            .list_organizations(pb::ListOrganizationsRequest {
                page_size: 100_000,
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(field_of(&too_big), "page_size");

        // A message over the size limit is refused before it reaches a handler.
        let oversized = op
            .create_organization(pb::CreateOrganizationRequest {
                full_name: "x".repeat(5 * 1024 * 1024),
                ..org_request("oversized")
            })
            .await
            .unwrap_err();
        assert_eq!(oversized.code(), Code::OutOfRange, "{oversized:?}");
        assert!(oversized.message().contains("too large"));

        // Nothing the refused calls carried was stored, and the good record is intact.
        let listed = op
            .list_organizations(pb::ListOrganizationsRequest::default())
            .await
            .unwrap()
            .into_inner();
        assert_eq!(listed.organizations, vec![good]);
    }
);

both_backends!(roles_decide_what_each_token_may_do, |backend| async move {
    let node = TestNode::start(backend).await;
    let mut op = node.operator().await;
    op.create_organization(org_request("gym24-tomsk"))
        .await
        .unwrap();
    op.create_organization(org_request("lyceum7-tomsk"))
        .await
        .unwrap();
    let add = |org: &str, name: &str, role: pb::Role| pb::AddMemberRequest {
        organization: org.into(),
        person: Some(pb::add_member_request::Person::NewPerson(pb::NewPerson {
            display_name: name.into(),
            email: String::new(),
        })),
        role: role.into(),
    };
    let admin = op
        .add_member(add("gym24-tomsk", "Директор", pb::Role::Admin))
        .await
        .unwrap()
        .into_inner();
    let viewer = op
        .add_member(add("gym24-tomsk", "Наблюдатель", pb::Role::Viewer))
        .await
        .unwrap()
        .into_inner();
    let other_admin = op
        .add_member(add("lyceum7-tomsk", "Директор лицея", pb::Role::Admin))
        .await
        .unwrap()
        .into_inner();
    let token_for = |person: &pb::Member| pb::CreateTokenRequest {
        person_id: person.person.as_ref().unwrap().id.clone(),
        name: "test".into(),
        ttl: None,
    };
    let admin_token = op
        .create_token(token_for(&admin))
        .await
        .unwrap()
        .into_inner();
    let viewer_token = op
        .create_token(token_for(&viewer))
        .await
        .unwrap()
        .into_inner();
    assert!(admin_token.secret.starts_with("edufed_"));

    // A viewer reads but cannot add members.
    let mut as_viewer = node.directory(&viewer_token.secret).await;
    let denied = as_viewer
        .add_member(add("gym24-tomsk", "Кто-то", pb::Role::Teacher))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let members = as_viewer
        .list_members(pb::ListMembersRequest {
            organization: "gym24-tomsk".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(members.members.len(), 2);
    let foreign = as_viewer
        .list_members(pb::ListMembersRequest {
            organization: "lyceum7-tomsk".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(foreign.code(), Code::PermissionDenied);

    // An admin manages their organization, not the node nor others.
    let mut as_admin = node.directory(&admin_token.secret).await;
    as_admin
        .add_member(add("gym24-tomsk", "Учитель", pb::Role::Teacher))
        .await
        .unwrap();
    as_admin
        .update_organization(pb::UpdateOrganizationRequest {
            organization: "gym24-tomsk".into(),
            short_name: Some("Гимназия №24".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        as_admin
            .create_organization(org_request("new-one"))
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
    assert_eq!(
        as_admin
            .add_member(add("lyceum7-tomsk", "X", pb::Role::Viewer))
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
    // Tokens: an admin for their own people; nobody for someone they do not administer.
    as_admin.create_token(token_for(&viewer)).await.unwrap();
    assert_eq!(
        as_admin
            .create_token(token_for(&other_admin))
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
    assert_eq!(
        as_viewer
            .create_token(token_for(&admin))
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
    let own = as_viewer
        .create_token(pb::CreateTokenRequest {
            person_id: String::new(),
            name: "phone".into(),
            ttl: None,
        })
        .await
        .unwrap()
        .into_inner();
    let mine = as_viewer
        .list_tokens(pb::ListTokensRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(mine.tokens.len(), 3);

    let me = as_viewer
        .who_am_i(pb::WhoAmIRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(me.person.unwrap().display_name, "Наблюдатель");
    assert_eq!(me.memberships[0].organization_slug, "gym24-tomsk");
    assert_eq!(me.node_id, node.node.node_id());

    // A revoked token stops working at once.
    as_viewer
        .revoke_token(pb::RevokeTokenRequest {
            token_id: viewer_token.token.unwrap().id,
        })
        .await
        .unwrap();
    let err = as_viewer.who_am_i(pb::WhoAmIRequest {}).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    let mut with_own = node.directory(&own.secret).await;
    with_own.who_am_i(pb::WhoAmIRequest {}).await.unwrap();

    // The last admin stays.
    let last = op
        .remove_member(pb::RemoveMemberRequest {
            organization: "gym24-tomsk".into(),
            person_id: admin.person.unwrap().id,
        })
        .await
        .unwrap_err();
    assert_eq!(last.code(), Code::FailedPrecondition);
});

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_refuses_another_nodes_database() {
    let node = TestNode::start(Backend::Sqlite).await;
    let url = node.db.url.clone();
    node.node.stop().await.unwrap();
    let other_dir = tempfile::tempdir().unwrap();
    let settings = edufed_tests::test_settings(other_dir.path(), &url);
    let err = match edufed_server::Node::start(settings).await {
        Ok(_) => panic!("a second identity on the same database must be refused"),
        Err(err) => err,
    };
    assert!(format!("{err:#}").contains("belongs to node"), "{err:#}");
}
