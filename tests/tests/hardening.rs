//! What a hostile client tried and the node now refuses, naming the field:
//! a right-to-left override in a name or a title, and a recurrence whose
//! later occurrences run past the years the node keeps.

use edufed_proto::v1 as pb;
use edufed_tests::{Bearer, TestNode, both_backends, org_request, public_course};
use tonic::Code;
use tonic_types::StatusExt as _;

fn field_of(status: &tonic::Status) -> String {
    status
        .get_error_details()
        .bad_request()
        .map(|b| b.field_violations[0].field.clone())
        .unwrap_or_default()
}

both_backends!(
    invisible_formatting_and_far_occurrences_are_refused,
    |backend| async move {
        let node = TestNode::start(backend).await;
        let mut operator = node.operator().await;
        let spoofed = operator
            .create_organization(pb::CreateOrganizationRequest {
                short_name: "Лицей \u{202E}7№".into(),
                ..org_request("spoofed")
            })
            .await
            .unwrap_err();
        assert_eq!(spoofed.code(), Code::InvalidArgument);
        assert_eq!(field_of(&spoofed), "short_name");
        operator
            .create_organization(org_request("lyceum7"))
            .await
            .unwrap();
        let coordinator = node.member_token("lyceum7", pb::Role::Coordinator).await;
        let mut calendar = pb::calendar_client::CalendarClient::with_interceptor(
            node.channel().await,
            Bearer::new(&coordinator),
        );
        let publish = |details: pb::ActivityDetails| pb::PublishActivityRequest {
            publisher: "lyceum7".into(),
            details: Some(details),
            draft: false,
        };
        let titled = calendar
            .publish_activity(publish(pb::ActivityDetails {
                title: "Курс\u{200B}робототехники".into(),
                ..public_course("x", 10)
            }))
            .await
            .unwrap_err();
        assert_eq!(field_of(&titled), "details.title");
        let mut far = public_course("Юбилейная встреча выпускников", 10);
        far.schedule.as_mut().unwrap().recurrence = Some(pb::Recurrence {
            rule: "FREQ=YEARLY;INTERVAL=1000;COUNT=100".into(),
            ..Default::default()
        });
        let refused = calendar.publish_activity(publish(far)).await.unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
        assert_eq!(field_of(&refused), "details.schedule.recurrence.rule");
        // Nothing was stored.
        let listed = operator
            .list_organizations(pb::ListOrganizationsRequest::default())
            .await
            .unwrap()
            .into_inner()
            .organizations;
        assert!(listed.iter().all(|o| o.slug != "spoofed"));
    }
);
