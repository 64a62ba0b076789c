//! An activity held at several venues at once: «Звезда», ЮУрГУ's
//! olympiad, at two base sites (МГМЛ and СОШ №21). Each site's seats fill
//! and queue on their own, a cohort names its site, results are recorded
//! per site and roll up to the activity in its report; a peer mirrors the
//! sites and its school registers at one through the olympiad's node.

use chrono::{Duration, TimeZone as _, Utc};
use edufed_domain::time::Clock;
use edufed_proto::v1 as pb;
use edufed_tests::{
    Backend, Bearer, TestDb, TestNode, both_backends, eventually, full_mesh, org_request,
};
use tonic::Code;
use tonic_types::StatusExt as _;

fn field_of(status: &tonic::Status) -> String {
    status
        .get_error_details()
        .bad_request()
        .map(|b| b.field_violations[0].field.clone())
        .unwrap_or_default()
}

async fn org(node: &TestNode, slug: &str, kind: pb::OrganizationKind) -> String {
    node.operator()
        .await
        .create_organization(pb::CreateOrganizationRequest {
            kind: kind.into(),
            time_zone: "Asia/Yekaterinburg".into(),
            ..org_request(slug)
        })
        .await
        .unwrap()
        .into_inner()
        .id
}

fn cohort(org: &str, headcount: u32) -> Option<pb::Cohort> {
    Some(pb::Cohort {
        organization: org.into(),
        grades: Some(pb::GradeRange { min: 9, max: 9 }),
        headcount,
        teacher: "Учитель физики".into(),
        teacher_contact: String::new(),
        teachers: false,
    })
}

type Calendar = pb::calendar_client::CalendarClient<
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, Bearer>,
>;

async fn calendar(node: &TestNode, token: &str) -> Calendar {
    pb::calendar_client::CalendarClient::with_interceptor(node.channel().await, Bearer::new(token))
}

both_backends!(zvezda_at_two_base_sites, |backend| async move {
    // A fixed instant before the olympiad, moved past it for the results.
    let clock = Clock::manual(Utc.with_ymd_and_hms(2027, 1, 15, 5, 0, 0).unwrap());
    let hub = TestNode::start_with_clock(TestDb::new(backend).await, clock.clone(), |_| {}).await;
    // The peer keeps the same time: credentials and entries are dated.
    let peer =
        TestNode::start_with_clock(TestDb::new(Backend::Sqlite).await, clock.clone(), |_| {}).await;
    org(&hub, "susu", pb::OrganizationKind::University).await;
    let mgml = org(&hub, "mgml", pb::OrganizationKind::School).await;
    let school21 = org(&hub, "school21-mgn", pb::OrganizationKind::School).await;
    org(&hub, "school10-mgn", pb::OrganizationKind::School).await;
    org(&peer, "gym44-nkz", pb::OrganizationKind::School).await;
    full_mesh(&[&hub, &peer]).await;
    let olympiad = hub.member_token("susu", pb::Role::Coordinator).await;
    let mgml_teacher = hub.member_token("mgml", pb::Role::Teacher).await;
    let school10 = hub.member_token("school10-mgn", pb::Role::Teacher).await;
    let gym44 = peer.member_token("gym44-nkz", pb::Role::Teacher).await;
    let mut by_susu = calendar(&hub, &olympiad).await;

    let site = |org: &str, place: &str, capacity: u32| pb::Venue {
        number: 0,
        organization: org.into(),
        place: place.into(),
        capacity,
        coordinator: "Ответственный за площадку".into(),
    };
    let details = |venues: Vec<pb::Venue>| pb::ActivityDetails {
        title: "Многопрофильная инженерная олимпиада «Звезда», отборочный этап".into(),
        kind: pb::ActivityKind::Olympiad.into(),
        audience: Some(pb::Audience {
            students: Some(pb::GradeRange { min: 7, max: 11 }),
            ..Default::default()
        }),
        format: pb::Format::InPerson.into(),
        place: Some(pb::Place {
            kind: pb::PlaceKind::AtPublisher.into(),
            value: String::new(),
        }),
        visibility: pb::Visibility::Public.into(),
        schedule: Some(pb::Schedule {
            time_zone: "Asia/Yekaterinburg".into(),
            start: "2027-02-01T10:00".into(),
            end: "2027-02-01T14:00".into(),
            ..Default::default()
        }),
        venues,
        ..Default::default()
    };
    // A site without a place is refused naming it.
    let bad = by_susu
        .publish_activity(pb::PublishActivityRequest {
            publisher: "susu".into(),
            details: Some(details(vec![site(&mgml, " ", 30)])),
            draft: false,
        })
        .await
        .unwrap_err();
    assert_eq!(field_of(&bad), "details.venues[0].place", "{bad:?}");
    let published = by_susu
        .publish_activity(pb::PublishActivityRequest {
            publisher: "susu".into(),
            details: Some(details(vec![
                site(&mgml, "МГМЛ, пр. Ленина, 1, актовый зал", 30),
                site(&school21, "СОШ №21, кабинеты 201–204", 20),
            ])),
            draft: false,
        })
        .await
        .unwrap()
        .into_inner();
    let shown = published.details.clone().unwrap();
    assert_eq!(shown.capacity, 50, "the sites' seats together");
    let numbers: Vec<u32> = shown.venues.iter().map(|v| v.number).collect();
    assert_eq!(numbers, [1, 2]);

    let register = |venue: u32, org: &str, headcount: u32| pb::RegisterRequest {
        activity_id: published.id.clone(),
        venue,
        occurrence_start: None,
        cohort: cohort(org, headcount),
    };
    let mut by_mgml = calendar(&hub, &mgml_teacher).await;
    let mut by_school10 = calendar(&hub, &school10).await;
    for (venue, field) in [(0, "venue"), (9, "venue")] {
        let refused = by_mgml
            .register(register(venue, "mgml", 20))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
        assert_eq!(field_of(&refused), field);
    }
    let at_mgml = by_mgml
        .register(register(1, "mgml", 20))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(at_mgml.state, pb::RegistrationState::Confirmed as i32);
    assert_eq!(at_mgml.venue, 1);
    // МГМЛ's site has 10 seats left: a group of 15 waits there, though
    // СОШ №21's site has room, and gets seats at СОШ №21's.
    let waiting = by_school10
        .register(register(1, "school10-mgn", 15))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(waiting.state, pb::RegistrationState::Waitlisted as i32);
    let at_21 = by_school10
        .register(register(2, "school10-mgn", 15))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(at_21.state, pb::RegistrationState::Confirmed as i32);
    let too_many = by_school10
        .register(register(2, "school10-mgn", 21))
        .await
        .unwrap_err();
    assert_eq!(too_many.code(), Code::FailedPrecondition, "{too_many:?}");

    // The peer mirrors the sites; its school registers at one through
    // the olympiad's node.
    let mut on_peer = calendar(&peer, &gym44).await;
    let mirrored = eventually("the olympiad mirrored with its sites", || {
        let mut on_peer = on_peer.clone();
        let id = published.id.clone();
        async move {
            on_peer
                .get_activity(pb::GetActivityRequest { activity_id: id })
                .await
                .ok()
                .map(|a| a.into_inner())
        }
    })
    .await;
    assert_eq!(mirrored.activity.unwrap().details.unwrap().venues.len(), 2);
    let from_peer = on_peer
        .register(register(2, "gym44-nkz", 5))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (from_peer.state, from_peer.venue),
        (pb::RegistrationState::Confirmed as i32, 2)
    );

    // МГМЛ's group leaves; the group waiting at its site gets the seats.
    by_mgml
        .withdraw(pb::WithdrawRequest {
            registration_id: at_mgml.id.clone(),
        })
        .await
        .unwrap();
    let listed = by_susu
        .list_registrations(pb::ListRegistrationsRequest {
            activity_id: published.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .registrations;
    let promoted = listed.iter().find(|r| r.id == waiting.id).unwrap();
    assert_eq!(promoted.state, pb::RegistrationState::Confirmed as i32);

    // After the olympiad, results per site; they roll up to the activity.
    clock.advance(Duration::days(20));
    let results = [
        (&waiting.id, 14, 2, 1),
        (&at_21.id, 15, 3, 0),
        (&from_peer.id, 5, 1, 1),
    ];
    for (id, attended, prize, winners) in results {
        by_susu
            .record_results(pb::RecordResultsRequest {
                registration_id: id.clone(),
                results: Some(pb::Results {
                    attended,
                    participants: attended,
                    prize_winners: prize,
                    winners,
                }),
            })
            .await
            .unwrap();
    }
    let listed = by_susu
        .list_registrations(pb::ListRegistrationsRequest {
            activity_id: published.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .registrations;
    let per_site = |venue: u32| -> (u32, u32) {
        listed
            .iter()
            .filter(|r| r.venue == venue && r.state == pb::RegistrationState::Confirmed as i32)
            .filter_map(|r| r.results)
            .fold((0, 0), |(a, p), x| {
                (a + x.attended, p + x.prize_winners + x.winners)
            })
    };
    assert_eq!(per_site(1), (14, 3));
    assert_eq!(per_site(2), (20, 5));
    let report = pb::reports_client::ReportsClient::with_interceptor(
        hub.channel().await,
        Bearer::new(&olympiad),
    )
    .participation_report(pb::ReportRequest {
        from: "2027-01-01".into(),
        to: "2027-02-28".into(),
        organization: "susu".into(),
        group_by: vec![pb::ReportDimension::Publisher.into()],
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner();
    let total = report.total.unwrap();
    assert_eq!(total.attended, 34, "the sites rolled up");
    assert_eq!(total.prize_winners + total.winners, 8);
    assert_eq!(total.cohorts, 3);
    // The feed names both sites.
    let (_, feed) = edufed_tests::http_get(
        hub.node.addr(),
        &format!("/ics/activities/{}.ics", published.id),
    )
    .await;
    let feed = feed.replace("\r\n ", "");
    assert!(feed.contains("СОШ №21\\, кабинеты 201–204"), "{feed}");
});
