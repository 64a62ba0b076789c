//! Personal data: a coordinator of the university erased on her request,
//! her name gone from the university's records and log, from the hub's
//! copies, and from the hub's trail of what she forwarded; names on past
//! activities replaced by the role once their retention is over; the
//! register with its counts.

use edufed_proto::v1 as pb;
use edufed_tests::{Backend, Bearer, TestNode, both_backends, eventually, full_mesh, org_request};
use tonic::Code;

const NAME: &str = "Иванова Мария Петровна";
const EMAIL: &str = "ivanova@tusur.example";

async fn privacy(
    node: &TestNode,
    token: &str,
) -> pb::privacy_client::PrivacyClient<
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, Bearer>,
> {
    pb::privacy_client::PrivacyClient::with_interceptor(node.channel().await, Bearer::new(token))
}

fn coordinated(title: &str, name: &str, contact: &str) -> pb::ActivityDetails {
    pb::ActivityDetails {
        coordinator: Some(pb::Coordinator {
            name: name.into(),
            position: "методист".into(),
            contact: contact.into(),
        }),
        ..edufed_tests::public_course(title, 20)
    }
}

/// The payload of the hub's copy of the activity `id`, once it says `what`.
async fn hub_copy_saying(hub: &TestNode, id: &str, what: &str) -> String {
    eventually(&format!("the hub's copy saying {what}"), || async {
        hub.node
            .store()
            .list_mirrors(None)
            .await
            .unwrap()
            .into_iter()
            .find(|m| m.entry.kind.as_str() == "activity" && m.entry.entity_id == id)
            .map(|m| m.entry.payload)
            .filter(|p| p.contains(what))
    })
    .await
}

both_backends!(
    an_erased_coordinator_leaves_no_name_here_or_on_the_hub,
    |backend| async move {
        let university = TestNode::start(backend).await;
        let hub = TestNode::start(Backend::Sqlite).await;
        university
            .operator()
            .await
            .create_organization(pb::CreateOrganizationRequest {
                kind: pb::OrganizationKind::University.into(),
                ..org_request("tusur")
            })
            .await
            .unwrap();
        hub.operator()
            .await
            .create_organization(org_request("gym24"))
            .await
            .unwrap();
        let mut directory = university.operator().await;
        let maria = directory
            .add_member(pb::AddMemberRequest {
                organization: "tusur".into(),
                person: Some(pb::add_member_request::Person::NewPerson(pb::NewPerson {
                    display_name: NAME.into(),
                    email: EMAIL.into(),
                })),
                role: pb::Role::Coordinator.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .person
            .unwrap();
        let maria_token = directory
            .create_token(pb::CreateTokenRequest {
                person_id: maria.id.clone(),
                name: "laptop".into(),
                ttl: None,
            })
            .await
            .unwrap()
            .into_inner()
            .secret;
        let rector = university.member_token("tusur", pb::Role::Admin).await;
        let colleague = university
            .member_token("tusur", pb::Role::Coordinator)
            .await;
        let school = hub.member_token("gym24", pb::Role::Coordinator).await;
        full_mesh(&[&university, &hub]).await;

        let mut calendar = pb::calendar_client::CalendarClient::with_interceptor(
            university.channel().await,
            Bearer::new(&maria_token),
        );
        let hers = calendar
            .publish_activity(pb::PublishActivityRequest {
                publisher: "tusur".into(),
                // Her name as she types it, her e-mail as the contact.
                details: Some(coordinated(
                    "Олимпиадная физика",
                    " иванова  Мария Петровна",
                    EMAIL,
                )),
                draft: false,
            })
            .await
            .unwrap()
            .into_inner();
        let other = calendar
            .publish_activity(pb::PublishActivityRequest {
                publisher: "tusur".into(),
                details: Some(coordinated(
                    "Робототехника",
                    "Петров Пётр Ильич",
                    "+7 3822 123456",
                )),
                draft: false,
            })
            .await
            .unwrap()
            .into_inner();
        hub_copy_saying(&hub, &hers.id, "иванова").await;
        hub_copy_saying(&hub, &other.id, "Петров").await;
        // A school on the hub registers a group for her course; she, from
        // the university, registers her colleagues for the hub's seminar:
        // a write forwarded to the hub, which keeps her name in its trail.
        let seminar = pb::calendar_client::CalendarClient::with_interceptor(
            hub.channel().await,
            Bearer::new(&school),
        )
        .publish_activity(pb::PublishActivityRequest {
            publisher: "gym24".into(),
            details: Some(pb::ActivityDetails {
                audience: Some(pb::Audience {
                    teachers: true,
                    ..Default::default()
                }),
                ..edufed_tests::public_course("Семинар для педагогов", 15)
            }),
            draft: false,
        })
        .await
        .unwrap()
        .into_inner();
        eventually("the seminar mirrored at the university", || async {
            let mut calendar = calendar.clone();
            calendar
                .get_activity(pb::GetActivityRequest {
                    activity_id: seminar.id.clone(),
                })
                .await
                .ok()
        })
        .await;
        calendar
            .register(pb::RegisterRequest {
                activity_id: seminar.id.clone(),
                venue: 0,
                occurrence_start: None,
                cohort: Some(pb::Cohort {
                    organization: "tusur".into(),
                    grades: None,
                    headcount: 3,
                    teacher: "Петров П. И.".into(),
                    teacher_contact: String::new(),
                    teachers: true,
                }),
            })
            .await
            .unwrap();
        let maria_id = maria.id.clone();
        let acting = async |node: &TestNode| {
            node.node
                .store()
                .list_audit(
                    &edufed_domain::audit::AuditQuery::default(),
                    edufed_domain::page::PageSize::new("page_size", 1000, 1000, 1000).unwrap(),
                    None,
                )
                .await
                .unwrap()
                .items
                .into_iter()
                .filter(|e| e.actor.starts_with(&maria_id))
                .map(|e| e.actor_name.unwrap_or_default())
                .collect::<Vec<_>>()
        };
        assert_eq!(acting(&hub).await, [NAME], "the hub's trail names her");

        // Only an admin of every organization she belongs to, or the
        // operator, may erase her; not she herself, nor a colleague.
        for token in [&maria_token, &colleague] {
            let err = privacy(&university, token)
                .await
                .erase_person(pb::ErasePersonRequest {
                    person_id: maria.id.clone(),
                })
                .await
                .unwrap_err();
            assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
        }
        let err = privacy(&university, &rector)
            .await
            .erase_person(pb::ErasePersonRequest {
                person_id: "nobody".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
        let erased = privacy(&university, &rector)
            .await
            .erase_person(pb::ErasePersonRequest {
                person_id: maria.id.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            (erased.activities, erased.memberships, erased.credentials),
            (1, 1, 1),
            "{erased:?}"
        );

        // On the university: her record keeps its id only, her token is
        // refused, her course names the role, the other course its own
        // coordinator, and the log kept holds her name nowhere.
        let store = university.node.store();
        let (person, memberships) = store
            .get_person(&edufed_domain::ids::PersonId::from_stored(maria.id.clone()))
            .await
            .unwrap();
        assert_eq!(person.display_name, edufed_domain::privacy::ERASED);
        assert!(person.email.is_none() && memberships.is_empty());
        let err = calendar
            .get_activity(pb::GetActivityRequest {
                activity_id: hers.id.clone(),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::Unauthenticated, "{err:?}");
        let coordinator = |id: &str| {
            let id = edufed_domain::ids::ActivityId::from_stored(id.to_owned());
            async move {
                store
                    .get_activity(&id)
                    .await
                    .unwrap()
                    .activity
                    .details
                    .coordinator
                    .unwrap()
            }
        };
        let c = coordinator(&hers.id).await;
        assert_eq!((c.name.as_str(), c.contact), ("координатор", None));
        assert_eq!(c.position.as_deref(), Some("методист"));
        assert_eq!(coordinator(&other.id).await.name, "Петров Пётр Ильич");
        let log = store
            .read_log(
                0,
                10_000,
                &edufed_store::changes::ChangeFilter::default(),
                false,
            )
            .await
            .unwrap();
        for entry in &log {
            assert!(
                !entry.payload.to_lowercase().contains("иванова") && !entry.payload.contains(EMAIL),
                "{entry:?}"
            );
        }
        assert!(log.iter().any(|e| e.kind.as_str() == "erasure"));

        // On the hub: the copy names the role, and its trail of what she
        // forwarded keeps what she did without her name.
        let copy = hub_copy_saying(&hub, &hers.id, "координатор").await;
        assert!(
            !copy.to_lowercase().contains("иванова") && !copy.contains(EMAIL),
            "{copy}"
        );
        eventually("the hub forgetting her name", || async {
            acting(&hub)
                .await
                .iter()
                .all(String::is_empty)
                .then_some(())
        })
        .await;

        // The register counts what is kept; only the operator reads it.
        let register = privacy(&university, &university.operator_token)
            .await
            .get_register(pb::GetRegisterRequest {})
            .await
            .unwrap()
            .into_inner();
        let records = |key: &str| {
            register
                .entries
                .iter()
                .find(|e| e.key == key)
                .map(|e| e.records)
                .unwrap()
        };
        assert_eq!(
            records("coordinators"),
            1,
            "only Petrov's course names a person"
        );
        assert!(
            register
                .entries
                .iter()
                .all(|e| !e.purpose.is_empty() && !e.retention.is_empty())
        );
        let err = privacy(&university, &rector)
            .await
            .get_register(pb::GetRegisterRequest {})
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");

        // The operator's own record is not erased while they run the node.
        let operator_id = university
            .operator()
            .await
            .who_am_i(pb::WhoAmIRequest {})
            .await
            .unwrap()
            .into_inner()
            .person
            .unwrap()
            .id;
        let err = privacy(&university, &university.operator_token)
            .await
            .erase_person(pb::ErasePersonRequest {
                person_id: operator_id,
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
        assert!(err.message().contains("operator"), "{err:?}");

        // Past the retention every name on an activity that is over, and on
        // its registrations, gives way to the role, on the hub's copies too.
        let later = chrono::Utc::now() + chrono::Duration::days(400);
        let changed = store.expire_personal_data(later).await.unwrap();
        assert!(changed >= 1, "{changed}");
        assert_eq!(coordinator(&other.id).await.name, "координатор");
        hub_copy_saying(&hub, &other.id, "\"name\":\"координатор\"").await;
        hub.node.store().expire_personal_data(later).await.unwrap();
        let registrations = pb::calendar_client::CalendarClient::with_interceptor(
            hub.channel().await,
            Bearer::new(&school),
        )
        .list_registrations(pb::ListRegistrationsRequest {
            activity_id: seminar.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .registrations;
        assert_eq!(registrations.len(), 1);
        assert_eq!(registrations[0].cohort.as_ref().unwrap().teacher, "педагог");
        assert_eq!(
            store.expire_personal_data(later).await.unwrap(),
            0,
            "nothing left"
        );
    }
);
