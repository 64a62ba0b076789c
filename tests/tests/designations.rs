//! Organizations' designations, end to end: Magnitogorsk's resource
//! centres (seed 003: СОШ №10 for robotics, Гимназия №53 for IT, МГТУ for
//! physics and mechanical engineering, МГТУ on another node), МГМЛ as the
//! base site of «Звезда», Gymnasium 24's innovation site with its
//! document; found by direction in the directory and the calendar, here
//! and on a peer, and gone when removed.

use edufed_proto::v1 as pb;
use edufed_tests::{
    Backend, Bearer, TestDb, TestNode, both_backends, eventually, full_mesh, org_request,
    public_course,
};
use tonic::Code;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic_types::StatusExt as _;

type Client = pb::designations_client::DesignationsClient<InterceptedService<Channel, Bearer>>;

async fn client(node: &TestNode, token: &str) -> Client {
    pb::designations_client::DesignationsClient::with_interceptor(
        node.channel().await,
        Bearer::new(token),
    )
}

fn field_of(status: &tonic::Status) -> String {
    status
        .get_error_details()
        .bad_request()
        .map(|b| b.field_violations[0].field.clone())
        .unwrap_or_default()
}

fn centre(field: &str) -> pb::DesignationDetails {
    pb::DesignationDetails {
        kind: pb::DesignationKind::ResourceCentre.into(),
        field: field.into(),
        ..Default::default()
    }
}

async fn org(node: &TestNode, slug: &str, kind: pb::OrganizationKind) {
    node.operator()
        .await
        .create_organization(pb::CreateOrganizationRequest {
            kind: kind.into(),
            ..org_request(slug)
        })
        .await
        .unwrap();
}

/// The slugs of organizations the directory lists with a designation.
async fn designated(node: &TestNode, kind: pb::DesignationKind, field: &str) -> Vec<String> {
    let mut slugs: Vec<String> = node
        .operator()
        .await
        .list_organizations(pb::ListOrganizationsRequest {
            designation_kind: kind.into(),
            designation_field: field.into(),
            page_size: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .organizations
        .into_iter()
        .map(|o| o.slug)
        .collect();
    slugs.sort();
    slugs
}

async fn centres(node: &TestNode, field: &str) -> Vec<String> {
    designated(node, pb::DesignationKind::ResourceCentre, field).await
}

both_backends!(resource_centres_found_by_direction, |backend| async move {
    let hub = TestNode::start_with(TestDb::new(backend).await, |_| {}).await;
    let peer = TestNode::start(Backend::Sqlite).await;
    for (slug, kind) in [
        ("mgml", pb::OrganizationKind::School),
        ("school10-mgn", pb::OrganizationKind::School),
        ("gym53-mgn", pb::OrganizationKind::School),
        ("gym24-tomsk", pb::OrganizationKind::School),
    ] {
        org(&hub, slug, kind).await;
    }
    org(&peer, "magtu", pb::OrganizationKind::University).await;
    full_mesh(&[&hub, &peer]).await;
    let school10 = hub.member_token("school10-mgn", pb::Role::Admin).await;
    let school10_teacher = hub.member_token("school10-mgn", pb::Role::Teacher).await;
    let gym53 = hub.member_token("gym53-mgn", pb::Role::Admin).await;
    let mgml = hub.member_token("mgml", pb::Role::Admin).await;
    let gym24 = hub.member_token("gym24-tomsk", pb::Role::Admin).await;
    let magtu = peer.member_token("magtu", pb::Role::Admin).await;

    // Bad statements are refused naming the field; only an admin states
    // their own organization's.
    let mut by_school10 = client(&hub, &school10).await;
    for (bad, field) in [
        (centre(" "), "details.field"),
        (
            pb::DesignationDetails {
                valid_from: "2026-09-01".into(),
                valid_until: "2026-08-31".into(),
                ..centre("Робототехника")
            },
            "details.valid_until",
        ),
        (
            pb::DesignationDetails {
                valid_from: "1 сентября".into(),
                ..centre("Робототехника")
            },
            "details.valid_from",
        ),
        (
            pb::DesignationDetails {
                kind: pb::DesignationKind::InnovationSite.into(),
                ..centre("Учусь учиться")
            },
            "details.level",
        ),
        (
            pb::DesignationDetails {
                kind: pb::DesignationKind::InnovationSite.into(),
                level: pb::DesignationLevel::Federal.into(),
                ..centre("Учусь учиться")
            },
            "details.document.issuer",
        ),
    ] {
        let refused = by_school10
            .add_designation(pb::AddDesignationRequest {
                organization: "school10-mgn".into(),
                details: Some(bad),
            })
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
        assert_eq!(field_of(&refused), field);
    }
    for (token, org) in [
        (&school10_teacher, "school10-mgn"),
        (&school10, "gym53-mgn"),
    ] {
        let denied = client(&hub, token)
            .await
            .add_designation(pb::AddDesignationRequest {
                organization: org.into(),
                details: Some(centre("Робототехника")),
            })
            .await
            .unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied);
    }
    // The university is stated on its own node, not on the hub.
    let elsewhere = client(&hub, &hub.operator_token)
        .await
        .add_designation(pb::AddDesignationRequest {
            organization: "magtu".into(),
            details: Some(centre("Физика")),
        })
        .await
        .unwrap_err();
    assert_eq!(elsewhere.code(), Code::FailedPrecondition, "{elsewhere:?}");

    // The seed's resource centres and sites.
    let robotics = by_school10
        .add_designation(pb::AddDesignationRequest {
            organization: "school10-mgn".into(),
            details: Some(centre("Робототехника")),
        })
        .await
        .unwrap()
        .into_inner();
    client(&hub, &gym53)
        .await
        .add_designation(pb::AddDesignationRequest {
            organization: "gym53-mgn".into(),
            details: Some(centre("IT-технологии")),
        })
        .await
        .unwrap();
    client(&peer, &magtu)
        .await
        .add_designation(pb::AddDesignationRequest {
            organization: "magtu".into(),
            details: Some(centre("Физика и машиностроение")),
        })
        .await
        .unwrap();
    client(&hub, &mgml)
        .await
        .add_designation(pb::AddDesignationRequest {
            organization: "mgml".into(),
            details: Some(pb::DesignationDetails {
                kind: pb::DesignationKind::BaseSite.into(),
                field: "Олимпиада «Звезда» (ЮУрГУ)".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    let site = client(&hub, &gym24)
        .await
        .add_designation(pb::AddDesignationRequest {
            organization: "gym24-tomsk".into(),
            details: Some(pb::DesignationDetails {
                kind: pb::DesignationKind::InnovationSite.into(),
                field: "Механизмы сохранения лидирующих позиций РФ в области качества \
                        математического образования («Учусь учиться»)"
                    .into(),
                level: pb::DesignationLevel::Federal.into(),
                document: Some(pb::DesignationDocument {
                    issuer: "Министерство образования и науки РФ".into(),
                    number: "№741".into(),
                    date: "2019-12-30".into(),
                }),
                valid_from: "2019-12-30".into(),
                valid_until: "2024-12-31".into(),
                teachers: Some(14),
                pupils: Some(539),
            }),
        })
        .await
        .unwrap()
        .into_inner();
    let details = site.details.unwrap();
    assert_eq!(details.teachers, Some(14));
    assert_eq!(details.pupils, Some(539));
    assert_eq!(details.document.unwrap().number, "№741");

    // The directory finds them by direction, the peer's university too
    // once its node shares it; an ended term is not standing today.
    assert_eq!(centres(&hub, "робото").await, ["school10-mgn"]);
    assert_eq!(centres(&hub, "it").await, ["gym53-mgn"]);
    eventually(
        "the university's resource centre shared with the hub",
        || async {
            (centres(&hub, "").await == ["gym53-mgn", "magtu", "school10-mgn"]).then_some(())
        },
    )
    .await;
    assert_eq!(centres(&hub, "МАШИНОСТРОЕНИЕ").await, ["magtu"]);
    assert_eq!(
        designated(&hub, pb::DesignationKind::BaseSite, "звезда").await,
        ["mgml"]
    );
    assert!(
        designated(&hub, pb::DesignationKind::InnovationSite, "")
            .await
            .is_empty(),
        "Gymnasium 24's site ended in 2024"
    );
    eventually(
        "the hub's resource centres shared with the peer",
        || async { (centres(&peer, "робото").await == ["school10-mgn"]).then_some(()) },
    )
    .await;
    let listed = client(&peer, &magtu)
        .await
        .list_designations(pb::ListDesignationsRequest {
            on: "2020-06-01".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let site_seen = listed
        .designations
        .iter()
        .find(|d| d.id == site.id)
        .expect("the innovation site, standing in 2020, listed on the peer");
    assert_eq!(site_seen.home_node, hub.node.node_id());
    let field_alone = client(&hub, &gym24)
        .await
        .list_designations(pb::ListDesignationsRequest {
            field: "робото".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(field_of(&field_alone), "kind");

    // The calendar finds the resource centres' activities.
    let mut school10_calendar = pb::calendar_client::CalendarClient::with_interceptor(
        hub.channel().await,
        Bearer::new(&school10),
    );
    let course = |publisher: &str, title: &str| pb::PublishActivityRequest {
        publisher: publisher.into(),
        details: Some(public_course(title, 10)),
        draft: false,
    };
    school10_calendar
        .publish_activity(course("school10-mgn", "Робототехника: сборка манипулятора"))
        .await
        .unwrap();
    let mut gym53_calendar = pb::calendar_client::CalendarClient::with_interceptor(
        hub.channel().await,
        Bearer::new(&gym53),
    );
    gym53_calendar
        .publish_activity(course("gym53-mgn", "Python для восьмиклассников"))
        .await
        .unwrap();
    let now = chrono::Utc::now().timestamp();
    let search = |field: &str| pb::ListOccurrencesRequest {
        from: Some(prost_types::Timestamp {
            seconds: now,
            nanos: 0,
        }),
        to: Some(prost_types::Timestamp {
            seconds: now + 30 * 86_400,
            nanos: 0,
        }),
        host_designation_kind: pb::DesignationKind::ResourceCentre.into(),
        host_designation_field: field.into(),
        page_size: 100,
        ..Default::default()
    };
    let titles = |list: pb::ListOccurrencesResponse| -> Vec<String> {
        let mut t: Vec<String> = list
            .occurrences
            .into_iter()
            .map(|o| o.activity.unwrap().details.unwrap().title)
            .collect();
        t.sort();
        t
    };
    assert_eq!(
        titles(
            gym53_calendar
                .list_occurrences(search("робототехника"))
                .await
                .unwrap()
                .into_inner()
        ),
        ["Робототехника: сборка манипулятора"]
    );
    assert_eq!(
        titles(
            gym53_calendar
                .list_occurrences(search(""))
                .await
                .unwrap()
                .into_inner()
        )
        .len(),
        2
    );
    let mut peer_calendar = pb::calendar_client::CalendarClient::with_interceptor(
        peer.channel().await,
        Bearer::new(&magtu),
    );
    eventually("the robotics centre's course found on the peer", || {
        let mut peer_calendar = peer_calendar.clone();
        async move {
            let found = titles(
                peer_calendar
                    .list_occurrences(search("робото"))
                    .await
                    .unwrap()
                    .into_inner(),
            );
            (found == ["Робототехника: сборка манипулятора"]).then_some(())
        }
    })
    .await;

    // The activities report groups by the publisher's designation: the
    // robotics centre's course under it, the IT centre's under IT.
    let today = chrono::Utc::now().date_naive();
    let report = pb::reports_client::ReportsClient::with_interceptor(
        hub.channel().await,
        Bearer::new(&school10),
    )
    .activities_report(pb::ReportRequest {
        from: today.to_string(),
        to: (today + chrono::Duration::days(30)).to_string(),
        network: true,
        group_by: vec![pb::ReportDimension::Designation.into()],
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner();
    let mut grouped: Vec<(String, u32)> = report
        .rows
        .iter()
        .map(|r| (r.designation.clone(), r.occurrences_scheduled))
        .collect();
    grouped.sort();
    assert_eq!(
        grouped,
        [
            ("resource_centre:IT-технологии".to_owned(), 1),
            ("resource_centre:Робототехника".to_owned(), 1)
        ]
    );
    assert_eq!(report.total.unwrap().occurrences_scheduled, 2);

    // A change checks the version seen; a removal reaches the peer.
    let stale = by_school10
        .change_designation(pb::ChangeDesignationRequest {
            id: robotics.id.clone(),
            expected_version: robotics.version + 1,
            details: Some(centre("Робототехника и мехатроника")),
        })
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::FailedPrecondition);
    let changed = by_school10
        .change_designation(pb::ChangeDesignationRequest {
            id: robotics.id.clone(),
            expected_version: robotics.version,
            details: Some(centre("Робототехника и мехатроника")),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(changed.version, robotics.version + 1);
    assert_eq!(centres(&hub, "мехатроника").await, ["school10-mgn"]);
    by_school10
        .remove_designation(pb::RemoveDesignationRequest {
            id: robotics.id.clone(),
            expected_version: 0,
        })
        .await
        .unwrap();
    assert!(centres(&hub, "робото").await.is_empty());
    eventually("the removal reaches the peer", || async {
        centres(&peer, "робото").await.is_empty().then_some(())
    })
    .await;
    assert!(
        peer_calendar
            .list_occurrences(search("робото"))
            .await
            .unwrap()
            .into_inner()
            .occurrences
            .is_empty()
    );
    let gone = by_school10
        .remove_designation(pb::RemoveDesignationRequest {
            id: robotics.id.clone(),
            expected_version: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
});
