//! A school on the hub books a technopark's lab in the web console: finds
//! it, reads its week, asks for every Tuesday and Thursday of a month but a
//! holiday, meets a lesson the technopark already holds and sends the
//! request again without it; the technopark's admin, on the technopark's
//! own node, approves it with a comment and rejects another school's; the
//! school cancels one lesson. Then the technopark's API holds exactly that.

use chrono::{Datelike as _, Duration, NaiveDate};
use edufed_proto::v1 as pb;
use edufed_tests::console::{journey, organization, person, sign_in_link};
use edufed_tests::{Bearer, TestNode, both_backends, eventually, full_mesh};
use serde_json::json;

type Booking = pb::booking_client::BookingClient<
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, Bearer>,
>;

async fn booking(node: &TestNode, token: &str) -> Booking {
    pb::booking_client::BookingClient::with_interceptor(node.channel().await, Bearer::new(token))
}

fn lab(name: &str, kind: pb::ResourceKind, capacity: u32, features: &[&str]) -> pb::Resource {
    pb::Resource {
        kind: kind.into(),
        name: name.into(),
        capacity,
        features: features.iter().map(|f| f.to_string()).collect(),
        hours: (1..=5)
            .map(|weekday| pb::WeeklyHours {
                weekday,
                opens: "09:00".into(),
                closes: "18:00".into(),
            })
            .collect(),
        rules: Some(pb::BookingRules {
            min_minutes: 45,
            max_advance_days: 400,
            ..Default::default()
        }),
        approval: pb::ApprovalPolicy::ApprovalRequired.into(),
        access: pb::Access::Network.into(),
        ..Default::default()
    }
}

fn ts(at: chrono::DateTime<chrono::Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    }
}

/// A local time in Tomsk (UTC+7, no daylight saving) as an instant.
fn tomsk(day: NaiveDate, hour: u32, minute: u32) -> chrono::DateTime<chrono::Utc> {
    day.and_hms_opt(hour, minute, 0).unwrap().and_utc() - Duration::hours(7)
}

both_backends!(
    a_school_on_the_hub_books_the_technopark_s_lab,
    |backend| async move {
        let technopark = TestNode::start(backend).await;
        let hub = TestNode::start(backend).await;
        organization(
            &technopark,
            "kvantorium",
            pb::OrganizationKind::Technopark,
            "Кванториум",
        )
        .await;
        organization(&hub, "gym24", pb::OrganizationKind::School, "Гимназия №24").await;
        organization(&hub, "lyceum7", pb::OrganizationKind::School, "Лицей №7").await;
        let admin = person(
            &technopark,
            "kvantorium",
            pb::Role::Admin,
            "Администратор Кванториума",
        )
        .await;
        let deputy = person(&hub, "gym24", pb::Role::Coordinator, "Завуч гимназии").await;
        let neighbour = person(&hub, "lyceum7", pb::Role::Teacher, "Учитель лицея").await;
        full_mesh(&[&technopark, &hub]).await;

        let mut park = booking(&technopark, &admin.token).await;
        let resource = park
            .create_resource(pb::CreateResourceRequest {
                owner: "kvantorium".into(),
                resource: Some(lab(
                    "IT-квантум",
                    pb::ResourceKind::Lab,
                    14,
                    &["3d-принтеры", "ноутбуки"],
                )),
            })
            .await
            .unwrap()
            .into_inner();
        park.create_resource(pb::CreateResourceRequest {
            owner: "kvantorium".into(),
            resource: Some(lab(
                "Переговорная",
                pb::ResourceKind::Room,
                6,
                &["проектор"],
            )),
        })
        .await
        .unwrap();

        // The period: four weeks from the Monday two weeks ahead, in Tomsk.
        let today = (chrono::Utc::now() + Duration::hours(7)).date_naive();
        let this_monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
        let monday = this_monday + Duration::weeks(2);
        let until = monday + Duration::days(24);
        let holiday = monday + Duration::days(8);
        let taken = monday + Duration::days(10);
        // The technopark holds the second Thursday for itself.
        park.request_booking(pb::RequestBookingRequest {
            resource_id: resource.id.clone(),
            requester: "kvantorium".into(),
            start: format!("{taken}T15:00"),
            end: format!("{taken}T16:00"),
            purpose: "Кружок робототехники".into(),
            headcount: 10,
            ..Default::default()
        })
        .await
        .unwrap();

        // The hub learns of the lab and of its busy time.
        let on_hub = booking(&hub, &deputy.token).await;
        eventually("the lab's busy time on the hub", || {
            let mut on_hub = on_hub.clone();
            let id = resource.id.clone();
            async move {
                let busy = on_hub
                    .free_busy(pb::FreeBusyRequest {
                        resource_ids: vec![id],
                        from: Some(ts(chrono::Utc::now())),
                        to: Some(ts(chrono::Utc::now() + Duration::days(60))),
                    })
                    .await
                    .ok()?
                    .into_inner();
                busy.resources
                    .first()
                    .filter(|r| !r.busy.is_empty())
                    .map(|_| ())
            }
        })
        .await;
        // Another school asks for a Wednesday morning.
        let other = booking(&hub, &neighbour.token)
            .await
            .request_booking(pb::RequestBookingRequest {
                resource_id: resource.id.clone(),
                requester: "lyceum7".into(),
                start: format!("{}T10:00", monday + Duration::days(2)),
                end: format!("{}T11:30", monday + Duration::days(2)),
                purpose: "Олимпиадная информатика".into(),
                headcount: 8,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .booking
            .unwrap();

        let Some(found) = journey(
            "lab_booking",
            json!({
                "school": sign_in_link(&hub, &deputy).await,
                "park": sign_in_link(&technopark, &admin).await,
                "from": monday.to_string(),
                "until": until.to_string(),
                "holiday": holiday.format("%d.%m.%Y").to_string(),
                "takenSlot": format!("{taken}T15"),
                "takenDay": taken.day(),
                "comment": "Ждём вас, вход со двора",
                "refusal": "Лаборатория занята олимпиадой",
            }),
        )
        .await
        else {
            return;
        };

        // The technopark, the lab's home, holds what the people did.
        let id = found["booking"]
            .as_str()
            .expect("the booking's id")
            .to_owned();
        let held = park
            .get_booking(pb::GetBookingRequest {
                booking_id: id.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(held.requester_id, known_id(&technopark, "gym24").await);
        assert_eq!(
            (held.purpose.as_str(), held.headcount),
            ("Технология, 7 класс", 12)
        );
        let starts: Vec<i64> = held
            .occurrences
            .iter()
            .map(|o| o.start.unwrap().seconds)
            .collect();
        let lessons: Vec<i64> = [1, 3, 15, 17, 22, 24]
            .iter()
            .map(|d| tomsk(monday + Duration::days(*d), 14, 0).timestamp())
            .collect();
        assert_eq!(
            starts, lessons,
            "the holiday and the taken Thursday left out"
        );
        assert!(!starts.contains(&tomsk(holiday, 14, 0).timestamp()));
        assert!(!starts.contains(&tomsk(taken, 14, 0).timestamp()));
        let states: Vec<(pb::OccurrenceState, &str)> = held
            .occurrences
            .iter()
            .map(|o| (o.state(), o.note.as_str()))
            .collect();
        let approved = (pb::OccurrenceState::Confirmed, "Ждём вас, вход со двора");
        assert_eq!(
            states,
            [
                approved,
                approved,
                approved,
                approved,
                approved,
                (pb::OccurrenceState::Cancelled, "")
            ],
            "approved with the comment; the last lesson cancelled by the school"
        );
        let refused = park
            .get_booking(pb::GetBookingRequest {
                booking_id: other.id.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(refused.occurrences.len(), 1);
        assert_eq!(
            (
                refused.occurrences[0].state(),
                refused.occurrences[0].note.as_str()
            ),
            (
                pb::OccurrenceState::Rejected,
                "Лаборатория занята олимпиадой"
            )
        );
    }
);

/// The id `node` knows the organization `slug` by.
async fn known_id(node: &TestNode, slug: &str) -> String {
    node.operator()
        .await
        .get_organization(pb::GetOrganizationRequest {
            organization: slug.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .id
}
