//! Two replicas of one node on one PostgreSQL database share the
//! notifications: both notifiers follow the log, both senders claim what
//! is due, and each notification is sent once, by one of them.

use std::collections::BTreeMap;

use edufed_proto::v1 as pb;
use edufed_server::{Node, OPERATOR_TOKEN_FILE};
use edufed_tests::smtp::SmtpSink;
use edufed_tests::{Backend, Bearer, TestDb, org_request, test_settings};
use tonic::transport::Channel;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_send_each_notification_once() {
    if edufed_tests::postgres_admin_url().is_none() {
        return;
    }
    let Some(mut sink) = SmtpSink::start().await else {
        return;
    };
    let db = TestDb::new(Backend::Postgres).await;
    let data_dir = db.dir.path().join("data");
    let settings = || {
        let mut s = test_settings(&data_dir, &db.url);
        sink.configure(&mut s, "edufed <edufed@hub.example>");
        s
    };
    let (a, b) = tokio::join!(Node::start(settings()), Node::start(settings()));
    let ((a, _), (b, _)) = (a.expect("first replica"), b.expect("second replica"));
    let operator = std::fs::read_to_string(data_dir.join(OPERATOR_TOKEN_FILE))
        .unwrap()
        .trim()
        .to_owned();
    let channel = |node: &Node| Channel::from_shared(node.url()).unwrap().connect_lazy();
    let mut directory = pb::directory_client::DirectoryClient::with_interceptor(
        channel(&a),
        Bearer::new(&operator),
    );
    directory
        .create_organization(pb::CreateOrganizationRequest {
            kind: pb::OrganizationKind::University.into(),
            ..org_request("tusur")
        })
        .await
        .unwrap();
    directory
        .create_organization(org_request("gym24"))
        .await
        .unwrap();
    let (_, lecturer) = edufed_tests::member_through(
        &mut directory,
        "tusur",
        pb::Role::Coordinator,
        "lecturer@tusur.example",
    )
    .await;
    let (_, deputy) =
        edufed_tests::member_through(&mut directory, "gym24", pb::Role::Coordinator, "").await;
    edufed_tests::member_through(
        &mut directory,
        "gym24",
        pb::Role::Admin,
        "director@gym24.example",
    )
    .await;
    let mut course = edufed_tests::public_course("Олимпиадная биология", 20);
    course.capacity = 10_000;
    let course =
        pb::calendar_client::CalendarClient::with_interceptor(channel(&a), Bearer::new(&lecturer))
            .publish_activity(pb::PublishActivityRequest {
                publisher: "tusur".into(),
                details: Some(course),
                draft: false,
            })
            .await
            .unwrap()
            .into_inner();

    // A hundred groups, registered through either replica in turn: two
    // hundred notifications (the publisher's and the director's).
    for n in 0..100u32 {
        let node = if n % 2 == 0 { &a } else { &b };
        pb::calendar_client::CalendarClient::with_interceptor(channel(node), Bearer::new(&deputy))
            .register(pb::RegisterRequest {
                activity_id: course.id.clone(),
                venue: 0,
                occurrence_start: None,
                cohort: Some(pb::Cohort {
                    organization: "gym24".into(),
                    grades: Some(pb::GradeRange { min: 9, max: 9 }),
                    headcount: 1,
                    teacher: format!("Учитель {n}"),
                    teacher_contact: String::new(),
                    teachers: false,
                }),
            })
            .await
            .unwrap();
    }
    let messages = sink.wait_for(200).await;
    // Let any second sending show itself before counting.
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    let messages = if sink.messages().len() > messages.len() {
        sink.messages()
    } else {
        messages
    };
    let mut ids = BTreeMap::<String, usize>::new();
    for message in &messages {
        let id = message
            .lines()
            .find_map(|l| l.strip_prefix("Message-ID: "))
            .unwrap()
            .to_owned();
        *ids.entry(id).or_default() += 1;
    }
    assert_eq!(ids.len(), 200, "one Message-ID per notification");
    assert!(
        ids.values().all(|n| *n == 1),
        "each sent once, by one replica"
    );
    for node in [a, b] {
        node.stop().await.unwrap();
    }
    sink.stop().await;
}
