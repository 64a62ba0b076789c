//! A lyceum's coordinator runs a mentoring programme in the web console,
//! driven in a real Chromium: a programme with a gymnasium as partner, a
//! pair across the two schools, its meetings, a checkpoint and its
//! outcome. Then the partner's coordinator reads the same through the API.

use edufed_proto::v1 as pb;
use edufed_tests::console::{journey, organization, person, sign_in_link};
use edufed_tests::{Bearer, TestNode, both_backends};
use serde_json::json;

both_backends!(
    a_coordinator_runs_a_mentoring_programme,
    |backend| async move {
        let node = TestNode::start(backend).await;
        organization(&node, "lyceum7", pb::OrganizationKind::School, "Лицей №7").await;
        organization(&node, "gym24", pb::OrganizationKind::School, "Гимназия №24").await;
        let coordinator = person(
            &node,
            "lyceum7",
            pb::Role::Coordinator,
            "Соколова Ирина Викторовна",
        )
        .await;
        let partner = person(&node, "gym24", pb::Role::Coordinator, "Завуч гимназии").await;
        let Some(found) = journey(
            "mentoring",
            json!({ "coordinator": sign_in_link(&node, &coordinator).await }),
        )
        .await
        else {
            return;
        };
        let programme = found["programme"].as_str().unwrap().to_owned();
        let mut mentoring = pb::mentoring_client::MentoringClient::with_interceptor(
            node.channel().await,
            Bearer::new(&partner.token),
        );
        let shown = mentoring
            .get_programme(pb::GetProgrammeRequest {
                id: programme.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        let details = shown.details.unwrap();
        assert_eq!(details.title, "Школа молодого учителя");
        assert_eq!(
            details.coordinator_id, coordinator.id,
            "the coordinator is who made it"
        );
        assert_eq!(
            details.criteria.len(),
            2,
            "empty rows of the card are left out"
        );
        let pairs = mentoring
            .list_pairs(pb::ListPairsRequest {
                programme_id: programme,
            })
            .await
            .unwrap()
            .into_inner()
            .pairs;
        assert_eq!(pairs.len(), 1);
        let pair = &pairs[0];
        assert_eq!(pair.id, found["pair"].as_str().unwrap());
        assert_eq!(pair.state, pb::PairState::Completed as i32);
        assert_eq!(pair.assessments, 1);
        assert_eq!(
            pair.outcome.as_ref().unwrap().result,
            pb::MentoringResult::Met as i32
        );
        assert_eq!(
            pair.organization_ids.len(),
            2,
            "the pair crosses the two schools"
        );
        // The meetings the lyceum scheduled are in the gymnasium's calendar.
        let meetings = pb::calendar_client::CalendarClient::with_interceptor(
            node.channel().await,
            Bearer::new(&partner.token),
        )
        .list_occurrences(pb::ListOccurrencesRequest {
            from: Some(prost_types::Timestamp {
                seconds: 1_756_684_800, // 2025-09-01
                nanos: 0,
            }),
            to: Some(prost_types::Timestamp {
                seconds: 1_767_225_600, // 2026-01-01
                nanos: 0,
            }),
            mentoring_programme_id: pair.programme_id.clone(),
            mentoring_pair_id: pair.id.clone(),
            page_size: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .occurrences;
        assert_eq!(meetings.len(), 4);
        let details = meetings[0]
            .activity
            .as_ref()
            .unwrap()
            .details
            .as_ref()
            .unwrap();
        assert_eq!(details.title, "Разбор открытого урока");
        assert_eq!(details.kind, pb::ActivityKind::MentoringMeeting as i32);
        assert_eq!(details.visibility, pb::Visibility::Partners as i32);
    }
);
