//! Notifications from a real `edufed serve` process: the operator's and
//! people's commands, and a node killed with SIGKILL again and again while
//! a thousand notifications are made, which still delivers each once.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use edufed_proto::v1 as pb;
use edufed_tests::smtp::SmtpSink;
use edufed_tests::webhook::WebhookReceiver;
use tokio::process::Command;

mod common;

use common::{Served, edufed, free_loopback, run, serve, terminate};

/// `edufed serve` sending mail through `sink`.
fn with_mail(mut command: Command, sink: &SmtpSink) -> Command {
    command
        .env("EDUFED_SMTP_HOST", sink.addr.ip().to_string())
        .env("EDUFED_SMTP_PORT", sink.addr.port().to_string())
        .env("EDUFED_SMTP_TLS", "none")
        .env("EDUFED_MAIL_FROM", "edufed <edufed@hub.example>");
    command
}

/// A client of the node served from `cwd`, as its operator.
fn client(cwd: &Path, served: &Served) -> Command {
    let mut command = edufed(cwd);
    command.env("EDUFED_SERVER", &served.url);
    command
}

fn operator_token(cwd: &Path) -> String {
    std::fs::read_to_string(cwd.join("edufed-data/operator.token"))
        .unwrap()
        .trim()
        .to_owned()
}

/// How many times each `Message-ID` arrived.
fn message_ids(messages: &[String]) -> BTreeMap<String, usize> {
    let mut ids = BTreeMap::new();
    for message in messages {
        if let Some(id) = message.lines().find_map(|l| l.strip_prefix("Message-ID: ")) {
            *ids.entry(id.trim().to_owned()).or_default() += 1;
        }
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_from_the_command_line() {
    let Some(sink) = SmtpSink::start().await else {
        return;
    };
    let cwd = tempfile::tempdir().unwrap();
    let served = serve(
        with_mail(edufed(cwd.path()), &sink),
        &["--listen", "127.0.0.1:0"],
    )
    .await;
    let client = || client(cwd.path(), &served);
    let created = run(
        client(),
        &[
            "org",
            "create",
            "--slug",
            "gym24",
            "--kind",
            "school",
            "--full-name",
            "МАОУ гимназия № 24",
            "--short-name",
            "Гимназия № 24",
            "--city",
            "Томск",
            "--time-zone",
            "Asia/Tomsk",
        ],
    )
    .await;
    assert!(created.0, "{}", created.2);

    // The operator checks the mail server with a test message.
    let (ok, out, err) = run(client(), &["notify", "test", "--email", "ops@hub.example"]).await;
    assert!(ok, "{err}");
    assert!(out.contains("delivered"), "{out}");
    let test = sink.wait_for(1).await;
    assert!(test[0].contains("ops@hub.example"));

    // A webhook: its secret shown once; a test post arrives signed with it.
    let receiver = WebhookReceiver::start().await;
    let (ok, out, err) = run(
        client(),
        &["notify", "webhook", "set", "gym24", &receiver.url("/hook")],
    )
    .await;
    assert!(ok, "{err}");
    let secret = out
        .lines()
        .find(|l| l.starts_with("whsec_"))
        .unwrap_or_else(|| panic!("a secret in {out}"))
        .to_owned();
    let (ok, out, _) = run(client(), &["notify", "webhook", "show", "gym24"]).await;
    assert!(
        ok && out.contains("/hook") && !out.contains(&secret),
        "{out}"
    );
    let (ok, _, err) = run(client(), &["notify", "test", "--webhook", "gym24"]).await;
    assert!(ok, "{err}");
    let post = &receiver.wait_for(1).await[0];
    let timestamp: i64 = post.headers["x-edufed-timestamp"].parse().unwrap();
    assert_eq!(
        post.headers["x-edufed-signature"],
        edufed_notify::signature(&secret, timestamp, &post.body)
    );

    // The operator's own preferences, in Russian names, and a change.
    let (ok, out, err) = run(client(), &["notify", "preferences"]).await;
    assert!(ok, "{err}");
    assert!(
        out.contains("booking_approved") && out.contains("Бронирование подтверждено"),
        "{out}"
    );
    let (ok, out, err) = run(client(), &["notify", "set", "booking_approved", "digest"]).await;
    assert!(ok, "{err}");
    assert!(
        out.lines()
            .any(|l| l.contains("booking_approved") && l.contains("В ежедневной сводке")),
        "{out}"
    );
    let (ok, _, err) = run(client(), &["notify", "set", "no_such_news", "off"]).await;
    assert!(!ok);
    assert!(err.contains("kind"), "{err}");

    // The outbox as the operator sees it.
    let (ok, out, err) = run(client(), &["notify", "status"]).await;
    assert!(ok, "{err}");
    assert!(
        out.contains("Электронная почта") && out.contains("Вебхук"),
        "{out}"
    );
    let (ok, out, _) = run(client(), &["notify", "retry"]).await;
    assert!(ok && out.contains("0 notification"), "{out}");
    let (ok, _, err) = run(client(), &["notify", "webhook", "remove", "gym24"]).await;
    assert!(ok, "{err}");
    let (ok, _, err) = run(client(), &["notify", "webhook", "show", "gym24"]).await;
    assert!(!ok && err.contains("no webhook"), "{err}");
    terminate(served).await;
}

/// The node, a process, is killed with SIGKILL at random moments while
/// 500 groups are registered (a thousand notifications: one to the
/// publisher, one to the school's director each). After the last restart
/// every notification has arrived under its own `Message-ID`; one sent
/// just before a kill may arrive twice under the same one, never under a
/// second.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_node_sends_each_notification_once() {
    use rand::Rng as _;

    let Some(sink) = SmtpSink::start().await else {
        return;
    };
    let cwd = tempfile::tempdir().unwrap();
    let listen = free_loopback();
    let start = || async {
        let mut command = with_mail(edufed(cwd.path()), &sink);
        command.env("EDUFED_NOTIFY_LEASE_SECS", "2");
        serve(command, &["--listen", &listen]).await
    };
    let mut node = start().await;
    let url = node.url.clone();
    let operator = operator_token(cwd.path());
    let channel = tonic::transport::Channel::from_shared(url.clone())
        .unwrap()
        .connect_lazy();
    let bearer = |token: &str| edufed_tests::Bearer::new(token);
    let mut directory =
        pb::directory_client::DirectoryClient::with_interceptor(channel.clone(), bearer(&operator));
    directory
        .create_organization(pb::CreateOrganizationRequest {
            kind: pb::OrganizationKind::University.into(),
            ..edufed_tests::org_request("tusur")
        })
        .await
        .unwrap();
    directory
        .create_organization(edufed_tests::org_request("gym24"))
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
    let mut course = edufed_tests::public_course("Олимпиадная информатика", 20);
    course.capacity = 100_000;
    let activity =
        pb::calendar_client::CalendarClient::with_interceptor(channel.clone(), bearer(&lecturer))
            .publish_activity(pb::PublishActivityRequest {
                publisher: "tusur".into(),
                details: Some(course),
                draft: false,
            })
            .await
            .unwrap()
            .into_inner();

    // The school registers 500 groups, retrying while the node is down.
    let writer = tokio::spawn({
        let mut calendar =
            pb::calendar_client::CalendarClient::with_interceptor(channel.clone(), bearer(&deputy));
        let activity = activity.id.clone();
        async move {
            for n in 0..500u32 {
                loop {
                    let registered = calendar
                        .register(pb::RegisterRequest {
                            activity_id: activity.clone(),
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
                        .await;
                    if registered.is_ok() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    });
    let mut kills = 0;
    while !writer.is_finished() || kills < 5 {
        tokio::time::sleep(Duration::from_millis(
            rand::thread_rng().gen_range(200..900),
        ))
        .await;
        node.child.start_kill().unwrap();
        node.child.wait().await.unwrap();
        kills += 1;
        node = start().await;
    }
    writer.await.unwrap();

    // Every registration the node kept (a write whose answer a kill cut
    // off was retried, and may have been kept twice) is two notifications.
    let registrations =
        pb::calendar_client::CalendarClient::with_interceptor(channel.clone(), bearer(&lecturer))
            .list_registrations(pb::ListRegistrationsRequest {
                activity_id: activity.id.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .registrations
            .len();
    assert!(registrations >= 500, "{registrations}");
    let expected = 2 * registrations;
    let mut notifications =
        pb::notifications_client::NotificationsClient::with_interceptor(channel, bearer(&operator));
    let mut sent = 0;
    for _ in 0..600 {
        let status = notifications
            .get_status(pb::GetNotificationStatusRequest::default())
            .await
            .unwrap()
            .into_inner();
        let email = *status
            .channels
            .iter()
            .find(|c| c.channel == pb::NotificationChannel::Email as i32)
            .unwrap();
        assert_eq!(email.failed, 0, "{status:?}");
        sent = email.sent;
        if email.queued == 0 && sent as usize == expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(sent as usize, expected, "after {kills} kills");
    let ids = message_ids(&sink.messages());
    assert_eq!(
        ids.len(),
        expected,
        "one Message-ID per notification, after {kills} kills"
    );
    let repeated: usize = ids.values().map(|n| n - 1).sum();
    eprintln!("{kills} kills; {repeated} messages sent again under their own Message-ID");
    terminate(node).await;
}
