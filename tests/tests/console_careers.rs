//! Professional trials and learning routes in the web console, driven in
//! a real Chromium: a college's trial returned by the methodical centre
//! with a comment, revised and approved; a school's route composed from a
//! course of the calendar, assigned to a cohort by code, enrolled,
//! followed and concluded. Then the API reads what the console did.

use edufed_proto::v1 as pb;
use edufed_tests::console::{journey, organization, person, sign_in_link};
use edufed_tests::{Bearer, TestNode, both_backends, public_course};
use serde_json::json;

both_backends!(
    a_trial_reviewed_and_a_route_followed,
    |backend| async move {
        let node = TestNode::start(backend).await;
        organization(&node, "college", pb::OrganizationKind::College, "Колледж").await;
        organization(&node, "imc", pb::OrganizationKind::MethodicalCentre, "ИМЦ").await;
        organization(&node, "gym44", pb::OrganizationKind::School, "Гимназия №44").await;
        organization(
            &node,
            "kvantorium",
            pb::OrganizationKind::Technopark,
            "Кванториум",
        )
        .await;
        let college = person(&node, "college", pb::Role::Coordinator, "Методист колледжа").await;
        let reviewer = person(&node, "imc", pb::Role::Coordinator, "Методист ИМЦ").await;
        let school = person(
            &node,
            "gym44",
            pb::Role::Coordinator,
            "Заместитель директора",
        )
        .await;
        let park = person(&node, "kvantorium", pb::Role::Coordinator, "Методист").await;
        let course = pb::calendar_client::CalendarClient::with_interceptor(
            node.channel().await,
            Bearer::new(&park.token),
        )
        .publish_activity(pb::PublishActivityRequest {
            publisher: "kvantorium".into(),
            details: Some(public_course("Робототехника: манипуляторы", 10)),
            draft: false,
        })
        .await
        .unwrap()
        .into_inner();
        let year = edufed_domain::report::SchoolYear::of(chrono::Utc::now().date_naive()).0;
        let Some(found) = journey(
            "trials_and_routes",
            json!({
                "college": sign_in_link(&node, &college).await,
                "reviewer": sign_in_link(&node, &reviewer).await,
                "school": sign_in_link(&node, &school).await,
                "year": year.to_string(),
            }),
        )
        .await
        else {
            return;
        };
        let trial = pb::trials_client::TrialsClient::with_interceptor(
            node.channel().await,
            Bearer::new(&school.token),
        )
        .get_trial(pb::GetTrialRequest {
            id: found["trial"].as_str().unwrap().into(),
        })
        .await
        .unwrap()
        .into_inner();
        assert_eq!(trial.state, pb::TrialState::Approved as i32);
        assert_eq!(trial.revision, 2, "the returned programme was revised");
        assert_eq!(trial.reviews.len(), 2);
        let route = pb::routes_client::RoutesClient::with_interceptor(
            node.channel().await,
            Bearer::new(&school.token),
        )
        .get_route(pb::GetRouteRequest {
            id: found["route"].as_str().unwrap().into(),
        })
        .await
        .unwrap()
        .into_inner();
        assert_eq!(route.state, pb::RouteState::Completed as i32);
        assert_eq!(route.cohort.unwrap().code, "10И-2026");
        assert_eq!(route.items[0].attended, Some(13));
        let outcome = route.outcome.unwrap();
        assert_eq!((outcome.leavers, outcome.continuing), (Some(14), Some(12)));
        assert_eq!(outcome.profiles.len(), 2);
        let registrations = pb::calendar_client::CalendarClient::with_interceptor(
            node.channel().await,
            Bearer::new(&park.token),
        )
        .list_registrations(pb::ListRegistrationsRequest {
            activity_id: course.id,
        })
        .await
        .unwrap()
        .into_inner()
        .registrations;
        assert_eq!(registrations.len(), 1);
        assert_eq!(registrations[0].cohort.as_ref().unwrap().headcount, 14);
    }
);
