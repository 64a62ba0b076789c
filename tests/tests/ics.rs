//! iCalendar feeds: fetched over HTTP from a real node and parsed with the
//! `icalendar` crate, as a calendar app would.

use std::str::FromStr as _;

use edufed_proto::v1 as pb;
use edufed_tests::{TestNode, both_backends, http_get, org_request};
use icalendar::{Calendar, CalendarComponent, Component as _, EventLike as _};

type Cal = pb::calendar_client::CalendarClient<
    tonic::service::interceptor::InterceptedService<
        tonic::transport::Channel,
        edufed_tests::Bearer,
    >,
>;

fn details(title: &str, visibility: pb::Visibility, rule: Option<&str>) -> pb::ActivityDetails {
    pb::ActivityDetails {
        title: title.into(),
        description: "Описание; с запятой, и переводом\nстроки".into(),
        kind: pb::ActivityKind::NetworkLesson.into(),
        direction: pb::Direction::AdditionalEducation.into(),
        subjects: vec!["технология".into()],
        audience: Some(pb::Audience {
            students: Some(pb::GradeRange { min: 7, max: 8 }),
            ..Default::default()
        }),
        format: pb::Format::InPerson.into(),
        place: Some(pb::Place {
            kind: pb::PlaceKind::Address.into(),
            value: "Томск, ул. Вершинина, 74".into(),
        }),
        capacity: 16,
        visibility: visibility.into(),
        schedule: Some(pb::Schedule {
            time_zone: String::new(),
            start: "2030-09-03T14:00".into(),
            end: "2030-09-03T15:30".into(),
            all_day: false,
            recurrence: rule.map(|rule| pb::Recurrence {
                rule: rule.into(),
                exdates: vec!["2030-09-05T14:00".into()],
                rdates: vec!["2030-09-07T10:00".into()],
            }),
        }),
        ..Default::default()
    }
}

fn events(text: &str) -> Vec<icalendar::Event> {
    let calendar =
        Calendar::from_str(text).unwrap_or_else(|e| panic!("the feed parses: {e}\n{text}"));
    calendar
        .components
        .into_iter()
        .filter_map(|c| match c {
            CalendarComponent::Event(e) => Some(e),
            _ => None,
        })
        .collect()
}

both_backends!(feeds_parse_and_show_what_they_may, |backend| async move {
    let node = TestNode::start(backend).await;
    let mut op = node.operator().await;
    op.create_organization(pb::CreateOrganizationRequest {
        kind: pb::OrganizationKind::Technopark.into(),
        ..org_request("kvantorium")
    })
    .await
    .unwrap();
    let mut cal: Cal = pb::calendar_client::CalendarClient::with_interceptor(
        node.channel().await,
        edufed_tests::Bearer::new(&node.operator_token),
    );
    let publish = |d: pb::ActivityDetails| pb::PublishActivityRequest {
        publisher: "kvantorium".into(),
        details: Some(d),
        draft: false,
    };
    let lessons = cal
        .publish_activity(publish(details(
            "Технология",
            pb::Visibility::Public,
            Some("FREQ=WEEKLY;BYDAY=TU,TH;COUNT=10"),
        )))
        .await
        .unwrap()
        .into_inner();
    let internal = cal
        .publish_activity(publish(details(
            "Совещание наставников",
            pb::Visibility::Organization,
            None,
        )))
        .await
        .unwrap()
        .into_inner();
    // One lesson cancelled, one moved.
    let occurrences = cal
        .get_activity(pb::GetActivityRequest {
            activity_id: lessons.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .occurrences;
    cal.cancel_occurrence(pb::CancelOccurrenceRequest {
        activity_id: lessons.id.clone(),
        original_start: occurrences[2].original_start,
    })
    .await
    .unwrap();
    cal.move_occurrence(pb::MoveOccurrenceRequest {
        activity_id: lessons.id.clone(),
        original_start: occurrences[3].original_start,
        start: "2030-09-13T16:00".into(),
        end: "2030-09-13T17:30".into(),
    })
    .await
    .unwrap();

    let addr = node.node.addr();
    let (status, text) = http_get(addr, "/ics/organizations/kvantorium.ics").await;
    assert_eq!(status, 200);
    assert!(text.contains("BEGIN:VTIMEZONE\r\nTZID:Asia/Tomsk"));
    assert!(text.contains("RRULE:FREQ=WEEKLY;BYDAY=TU,TH;COUNT=10"));
    assert!(text.contains("EXDATE;TZID=Asia/Tomsk:20300905T140000"));
    assert!(text.contains("RDATE;TZID=Asia/Tomsk:20300907T100000"));
    assert!(
        text.contains("SEQUENCE:3"),
        "two overrides after publication"
    );
    let parsed = events(&text);
    assert_eq!(
        parsed.len(),
        3,
        "the series and its two changed occurrences; the internal one is hidden"
    );
    let uid = format!("{}@edufed", lessons.id);
    assert!(parsed.iter().all(|e| e.get_uid() == Some(uid.as_str())));
    assert_eq!(parsed[0].get_summary(), Some("Технология"));
    assert_eq!(
        parsed[0].get_description(),
        Some("Описание; с запятой, и переводом\nстроки")
    );
    // Kind and direction are named as people read them, in Russian.
    assert_eq!(
        parsed[0].get_categories(),
        Some(vec![
            "Урок в сетевой форме".to_owned(),
            "Дополнительное образование".to_owned(),
            "технология".to_owned()
        ])
    );
    assert!(
        !text.contains("network_lesson"),
        "no machine keys in the feed"
    );
    let recurrence_ids = parsed
        .iter()
        .filter(|e| e.property_value("RECURRENCE-ID").is_some())
        .count();
    assert_eq!(recurrence_ids, 2);
    assert!(
        parsed
            .iter()
            .any(|e| e.property_value("STATUS") == Some("CANCELLED"))
    );

    // The network view filters like the calendar; a bad filter names itself.
    let (_, grade_7) = http_get(addr, "/ics/network.ics?grade=7&kind=network_lesson").await;
    assert_eq!(events(&grade_7).len(), 3);
    let (_, grade_5) = http_get(addr, "/ics/network.ics?grade=5").await;
    assert!(events(&grade_5).is_empty());
    let (status, body) = http_get(addr, "/ics/network.ics?direction=astrology").await;
    assert_eq!(status, 400);
    assert!(body.contains("direction"));
    let (status, _) = http_get(addr, &format!("/ics/activities/{}.ics", internal.id)).await;
    assert_eq!(
        status, 404,
        "an organization-only activity is not in public feeds"
    );

    // The private feed shows what the token may see, until it is revoked.
    let token = op
        .create_token(pb::CreateTokenRequest {
            person_id: String::new(),
            name: "calendar app".into(),
            ttl: None,
        })
        .await
        .unwrap()
        .into_inner();
    let mut as_token: Cal = pb::calendar_client::CalendarClient::with_interceptor(
        node.channel().await,
        edufed_tests::Bearer::new(&token.secret),
    );
    let urls = as_token
        .get_feed_urls(pb::GetFeedUrlsRequest {
            organization: "kvantorium".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(urls.public_path, "/ics/organizations/kvantorium.ics");
    assert!(!urls.private_path.contains(&token.secret));
    let (status, private) = http_get(addr, &urls.private_path).await;
    assert_eq!(status, 200);
    assert!(
        events(&private)
            .iter()
            .any(|e| e.get_summary() == Some("Совещание наставников"))
    );
    op.revoke_token(pb::RevokeTokenRequest {
        token_id: token.token.unwrap().id,
    })
    .await
    .unwrap();
    let (status, _) = http_get(addr, &urls.private_path).await;
    assert_eq!(status, 404);
});
