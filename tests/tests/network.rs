//! Three real nodes: a university, a technopark, and the methodical
//! centre's hub hosting a school. Each record has one home node; the others
//! mirror what they may see, and send writes to its home node.

use std::time::Duration;

use edufed_proto::v1 as pb;
use edufed_tests::{Backend, Bearer, TestNode, both_backends, eventually, full_mesh, org_request};
use tonic::Code;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

type Intercepted = InterceptedService<Channel, Bearer>;
type Calendar = pb::calendar_client::CalendarClient<Intercepted>;
type Booking = pb::booking_client::BookingClient<Intercepted>;
type Agreements = pb::agreements_client::AgreementsClient<Intercepted>;
type Federation = pb::federation_client::FederationClient<Intercepted>;

async fn calendar(node: &TestNode, token: &str) -> Calendar {
    pb::calendar_client::CalendarClient::with_interceptor(node.channel().await, Bearer::new(token))
}

async fn booking(node: &TestNode, token: &str) -> Booking {
    pb::booking_client::BookingClient::with_interceptor(node.channel().await, Bearer::new(token))
}

async fn agreements(node: &TestNode, token: &str) -> Agreements {
    pb::agreements_client::AgreementsClient::with_interceptor(
        node.channel().await,
        Bearer::new(token),
    )
}

async fn federation(node: &TestNode) -> Federation {
    pb::federation_client::FederationClient::with_interceptor(
        node.channel().await,
        Bearer::new(&node.operator_token),
    )
}

/// The payload of the record `id` of `kind` that `node` mirrors, if it does.
async fn mirrored(node: &TestNode, kind: &str, id: &str) -> Option<serde_json::Value> {
    node.node
        .store()
        .list_mirrors(None)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.entry.kind.as_str() == kind && m.entry.entity_id == id)
        .map(|m| serde_json::from_str(&m.entry.payload).unwrap())
}

fn course(title: &str, days: i64) -> pb::ActivityDetails {
    edufed_tests::public_course(title, days)
}

fn lab() -> pb::Resource {
    pb::Resource {
        kind: pb::ResourceKind::Lab.into(),
        name: "IT-квантум".into(),
        capacity: 14,
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

fn next_tuesday() -> chrono::NaiveDate {
    use chrono::Datelike as _;
    let mut day = (chrono::Utc::now() + chrono::Duration::days(14)).date_naive();
    while day.weekday() != chrono::Weekday::Tue {
        day = day.succ_opt().unwrap();
    }
    day
}

fn signatory(name: &str) -> Option<pb::Signatory> {
    Some(pb::Signatory {
        name: name.into(),
        position: "директор".into(),
        basis: "Устава".into(),
    })
}

/// A cooperation agreement between the hub's school and the university.
fn cooperation(school: &str, university: &str) -> pb::AgreementContent {
    let today = chrono::Utc::now().date_naive();
    pb::AgreementContent {
        kind: pb::AgreementKind::Cooperation.into(),
        number: "№7-с".into(),
        dated: today.to_string(),
        title: "Соглашение о сотрудничестве в подготовке к олимпиадам".into(),
        valid_from: (today - chrono::Duration::days(1)).to_string(),
        valid_to: (today + chrono::Duration::days(300)).to_string(),
        parties: vec![
            pb::Party {
                org: school.into(),
                role: pb::PartyRole::Base.into(),
                signatory: signatory("Петрова Анна Сергеевна"),
            },
            pb::Party {
                org: university.into(),
                role: pb::PartyRole::Participant.into(),
                signatory: signatory("Рулевский Виктор Михайлович"),
            },
        ],
        amendment_procedure: "дополнительным соглашением".into(),
        termination_procedure: "с уведомлением за 30 дней".into(),
        termination_notice_days: 30,
        ..Default::default()
    }
}

/// With `key` as the write's idempotency key.
fn keyed<T>(message: T, key: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        edufed_federation::forward::IDEMPOTENCY_HEADER,
        key.parse().unwrap(),
    );
    request
}

both_backends!(
    three_nodes_publish_mirror_and_forward_writes,
    |backend| async move {
        let university = TestNode::start(Backend::Sqlite).await;
        let technopark = TestNode::start(Backend::Sqlite).await;
        // The hub moves agreements through time every second.
        let hub = TestNode::start_with(edufed_tests::TestDb::new(backend).await, |s| {
            s.agreement_check_secs = 1;
        })
        .await;
        university
            .operator()
            .await
            .create_organization(pb::CreateOrganizationRequest {
                kind: pb::OrganizationKind::University.into(),
                ..org_request("tusur")
            })
            .await
            .unwrap();
        technopark
            .operator()
            .await
            .create_organization(pb::CreateOrganizationRequest {
                kind: pb::OrganizationKind::Technopark.into(),
                ..org_request("kvantorium")
            })
            .await
            .unwrap();
        hub.operator()
            .await
            .create_organization(org_request("gym24"))
            .await
            .unwrap();
        let tusur_coordinator = university
            .member_token("tusur", pb::Role::Coordinator)
            .await;
        let tusur_rector = university.member_token("tusur", pb::Role::Admin).await;
        let park_coordinator = technopark
            .member_token("kvantorium", pb::Role::Coordinator)
            .await;
        let school_coordinator = hub.member_token("gym24", pb::Role::Coordinator).await;
        let school_director = hub.member_token("gym24", pb::Role::Admin).await;
        full_mesh(&[&university, &technopark, &hub]).await;

        // Each node knows the others' organizations, marked with their home.
        let known = hub
            .operator()
            .await
            .get_organization(pb::GetOrganizationRequest {
                organization: "tusur".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(known.home_node, university.node.node_id());
        assert_eq!(known.kind, pb::OrganizationKind::University as i32);
        // Only its home node changes it.
        let err = hub
            .operator()
            .await
            .update_organization(pb::UpdateOrganizationRequest {
                organization: "tusur".into(),
                short_name: Some("ТУСУР".into()),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");

        // 1. A course published on the university appears on the hub.
        let published = calendar(&university, &tusur_coordinator)
            .await
            .publish_activity(pb::PublishActivityRequest {
                publisher: "tusur".into(),
                details: Some(course("Олимпиадная информатика", 20)),
                draft: false,
            })
            .await
            .unwrap()
            .into_inner();
        let mut hub_calendar = calendar(&hub, &school_coordinator).await;
        eventually("the course reaching the hub", || {
            calendar_has(hub_calendar.clone(), published.id.clone())
        })
        .await;
        // An organization the university starts hosting after it was pinned
        // is learnt from its descriptor, and its courses are mirrored too.
        university
            .operator()
            .await
            .create_organization(pb::CreateOrganizationRequest {
                kind: pb::OrganizationKind::University.into(),
                ..org_request("tsu")
            })
            .await
            .unwrap();
        let tsu = university.member_token("tsu", pb::Role::Coordinator).await;
        let later = calendar(&university, &tsu)
            .await
            .publish_activity(pb::PublishActivityRequest {
                publisher: "tsu".into(),
                details: Some(course("Физика для 10 классов", 25)),
                draft: false,
            })
            .await
            .unwrap()
            .into_inner();
        eventually("a new organization's course reaching the hub", || {
            calendar_has(hub_calendar.clone(), later.id.clone())
        })
        .await;

        // A peer cannot take over another's record: an entry from the
        // technopark naming the university's course (and organization) is
        // not kept, and the course stays the university's.
        let forged = edufed_domain::changes::ChangeEntry {
            sequence: 0,
            kind: edufed_domain::changes::EntityKind::Activity,
            entity_id: published.id.clone(),
            version: 99,
            operation: edufed_domain::changes::Operation::Upsert,
            org_id: Some(edufed_domain::ids::OrgId::from_stored(known.id.clone())),
            payload: "{}".into(),
            created_at: chrono::Utc::now() + chrono::Duration::days(3650),
            actor: "node".into(),
        };
        hub.node
            .store()
            .apply_mirrored(technopark.node.node_id(), &forged, &[0; 64])
            .await
            .unwrap();
        let owner = hub
            .node
            .store()
            .get_mirror(edufed_domain::changes::EntityKind::Activity, &published.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(owner.origin, university.node.node_id());

        // 2. A school on the hub registers a group; the hub forwards it to
        // the university, which decides and answers.
        let register = pb::RegisterRequest {
            activity_id: published.id.clone(),
            venue: 0,
            occurrence_start: None,
            cohort: Some(pb::Cohort {
                organization: "gym24".into(),
                grades: Some(pb::GradeRange { min: 10, max: 10 }),
                headcount: 12,
                teacher: "Казак О.Г.".into(),
                teacher_contact: String::new(),
                teachers: false,
            }),
        };
        let registration = hub_calendar
            .register(keyed(register.clone(), "gym24-olymp-1"))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(registration.activity_id, published.id);
        // A retry with the same key has no second effect.
        let again = hub_calendar
            .register(keyed(register.clone(), "gym24-olymp-1"))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(again.id, registration.id);
        // The same key for another request is refused, naming the header.
        let err = hub_calendar
            .register(keyed(
                pb::RegisterRequest {
                    cohort: Some(pb::Cohort {
                        headcount: 20,
                        ..register.cohort.clone().unwrap()
                    }),
                    ..register.clone()
                },
                "gym24-olymp-1",
            ))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
        assert!(
            err.message().contains("idempotency") || field_of(&err).contains("idempotency"),
            "{err:?}"
        );
        let at_home = calendar(&university, &tusur_coordinator)
            .await
            .list_registrations(pb::ListRegistrationsRequest {
                activity_id: published.id.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .registrations;
        assert_eq!(at_home.len(), 1, "{at_home:?}");
        assert_eq!(at_home[0].id, registration.id);
        let school_id = known_id(&university, "gym24").await;
        assert_eq!(at_home[0].cohort.as_ref().unwrap().organization, school_id);
        // The outcome also reaches the hub through its subscription.
        eventually("the registration mirrored on the hub", || {
            mirrored(&hub, "registration", &registration.id)
        })
        .await;
        // The technopark follows the university too, but sees seat counts
        // only, never the school's registration.
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(
            mirrored(&technopark, "registration", &registration.id)
                .await
                .is_none()
        );

        // 3. The school requests the technopark's lab through the hub; the
        // technopark decides, and the decision arrives back.
        let resource = booking(&technopark, &park_coordinator)
            .await
            .create_resource(pb::CreateResourceRequest {
                owner: "kvantorium".into(),
                resource: Some(lab()),
            })
            .await
            .unwrap()
            .into_inner();
        let mut hub_booking = booking(&hub, &school_coordinator).await;
        let listed = eventually("the lab offered on the hub", || {
            let mut hub_booking = hub_booking.clone();
            async move {
                let list = hub_booking
                    .list_resources(pb::ListResourcesRequest {
                        owner: "kvantorium".into(),
                        ..Default::default()
                    })
                    .await
                    .unwrap()
                    .into_inner()
                    .resources;
                (!list.is_empty()).then_some(list)
            }
        })
        .await;
        assert_eq!(listed[0].id, resource.id);
        let day = next_tuesday();
        let requested = hub_booking
            .request_booking(pb::RequestBookingRequest {
                resource_id: resource.id.clone(),
                requester: "gym24".into(),
                start: format!("{day}T10:00"),
                end: format!("{day}T11:30"),
                purpose: "Робототехника, 7 класс".into(),
                headcount: 12,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .booking
            .unwrap();
        assert_eq!(requested.requester_id, school_id);
        assert_eq!(
            requested.occurrences[0].state,
            pb::OccurrenceState::Pending as i32
        );
        booking(&technopark, &park_coordinator)
            .await
            .approve_booking(pb::DecideBookingRequest {
                booking_id: requested.id.clone(),
                ..Default::default()
            })
            .await
            .unwrap();
        eventually("the decision reaching the hub", || {
            let id = requested.id.clone();
            let hub = &hub;
            async move {
                let payload = mirrored(hub, "booking", &id).await?;
                (payload["occurrences"][0]["state"] == "confirmed").then_some(())
            }
        })
        .await;

        // The hub's free/busy shows the lab's booked time, not who booked it.
        let busy = eventually("the lab's busy time reaching the hub", || {
            let mut hub_booking = hub_booking.clone();
            let id = resource.id.clone();
            async move {
                let answer = hub_booking
                    .free_busy(pb::FreeBusyRequest {
                        resource_ids: vec![id],
                        from: Some(prost_types::Timestamp {
                            seconds: chrono::Utc::now().timestamp(),
                            nanos: 0,
                        }),
                        to: Some(prost_types::Timestamp {
                            seconds: (chrono::Utc::now() + chrono::Duration::days(40)).timestamp(),
                            nanos: 0,
                        }),
                    })
                    .await
                    .unwrap()
                    .into_inner()
                    .resources;
                answer
                    .first()
                    .filter(|r| !r.busy.is_empty())
                    .map(|r| r.busy.clone())
            }
        })
        .await;
        assert_eq!(busy.len(), 1);
        assert_eq!(busy[0].why, "booked");
        assert_eq!(
            busy[0].start, requested.occurrences[0].start,
            "the confirmed lesson"
        );

        // The hub shows the lab itself, finds it among every owner's, and
        // lists the school's booking of it as the technopark shared it.
        let shown = hub_booking
            .get_resource(pb::GetResourceRequest {
                resource_id: resource.id.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(shown.name, "IT-квантум");
        let found = hub_booking
            .list_resources(pb::ListResourcesRequest {
                kind: pb::ResourceKind::Lab.into(),
                query: "квантум".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .resources;
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].id, resource.id);
        let ours = hub_booking
            .list_bookings(pb::ListBookingsRequest {
                requester: "gym24".into(),
                from: Some(prost_types::Timestamp {
                    seconds: chrono::Utc::now().timestamp(),
                    nanos: 0,
                }),
                to: Some(prost_types::Timestamp {
                    seconds: (chrono::Utc::now() + chrono::Duration::days(40)).timestamp(),
                    nanos: 0,
                }),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .occurrences;
        assert_eq!(ours.len(), 1, "{ours:?}");
        assert_eq!(
            (ours[0].booking_id.as_str(), ours[0].resource_id.as_str()),
            (requested.id.as_str(), resource.id.as_str())
        );
        assert_eq!(
            ours[0].occurrence.as_ref().unwrap().state,
            pb::OccurrenceState::Confirmed as i32
        );

        // The school reads its booking through the hub as it stands at home,
        // and cancels it there.
        let read = hub_booking
            .get_booking(pb::GetBookingRequest {
                booking_id: requested.id.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            read.occurrences[0].state,
            pb::OccurrenceState::Confirmed as i32
        );
        let cancelled = hub_booking
            .cancel_booking(pb::CancelBookingRequest {
                booking_id: requested.id.clone(),
                scope: pb::CancelScope::All.into(),
                occurrence_start: None,
                comment: "Урок перенесён".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            cancelled.occurrences[0].state,
            pb::OccurrenceState::Cancelled as i32
        );
        // And withdraws its group from the university's course.
        let withdrawn = hub_calendar
            .withdraw(pb::WithdrawRequest {
                registration_id: registration.id.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(withdrawn.state, pb::RegistrationState::Withdrawn as i32);

        // 4. An agreement between the hub's school and the university: drafted
        // and proposed on the hub (its home), signed on both nodes.
        let university_id = known_id(&hub, "tusur").await;
        let mut school_agreements = agreements(&hub, &school_director).await;
        let draft = school_agreements
            .draft_agreement(pb::DraftAgreementRequest {
                initiator: "gym24".into(),
                content: Some(cooperation("gym24", "tusur")),
            })
            .await
            .unwrap()
            .into_inner();
        let proposed = school_agreements
            .propose_agreement(pb::ProposeAgreementRequest {
                agreement_id: draft.id.clone(),
                expected_revision: draft.revision,
            })
            .await
            .unwrap()
            .into_inner();
        let mut rector = agreements(&university, &tusur_rector).await;
        // The university's node learns of the proposal through its
        // subscription, and reads it at home.
        let seen = eventually("the proposal reaching the university", || {
            let mut rector = rector.clone();
            let id = draft.id.clone();
            async move {
                rector
                    .get_agreement(pb::GetAgreementRequest { agreement_id: id })
                    .await
                    .ok()
                    .map(|r| r.into_inner())
            }
        })
        .await;
        assert_eq!(seen.state, pb::AgreementState::Proposed as i32);
        let version = proposed.versions.last().unwrap().number;
        // The rector signs on the university's node; the hub signs it.
        let signed_there = rector
            .sign_agreement(pb::SignAgreementRequest {
                agreement_id: draft.id.clone(),
                org: "tusur".into(),
                version,
                content_hash: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(signed_there.state, pb::AgreementState::Proposed as i32);
        let signed = school_agreements
            .sign_agreement(pb::SignAgreementRequest {
                agreement_id: draft.id.clone(),
                org: "gym24".into(),
                version,
                content_hash: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(
            [
                pb::AgreementState::Signed as i32,
                pb::AgreementState::Active as i32
            ]
            .contains(&signed.state),
            "{signed:?}"
        );
        let signatures = &signed.versions.last().unwrap().signatures;
        assert_eq!(signatures.len(), 2);
        assert!(signatures.iter().all(|s| s.verified), "{signatures:?}");
        assert!(
            signatures
                .iter()
                .any(|s| s.org_id == university_id
                    && s.person_id.ends_with(university.node.node_id())),
            "{signatures:?}"
        );
        // Active on both: the university's mirror follows, and its read at
        // home says so.
        eventually("the agreement active on the university's node", || {
            let id = draft.id.clone();
            let university = &university;
            async move {
                let payload = mirrored(university, "agreement", &id).await?;
                (payload["state"] == "active").then_some(())
            }
        })
        .await;
        let read = rector
            .get_agreement(pb::GetAgreementRequest {
                agreement_id: draft.id.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(read.state, pb::AgreementState::Active as i32);

        // 5. A node accepts a forwarded write only for a record it owns, and
        // only for an organization the forwarding node hosts.
        let pem = std::fs::read_to_string(university.data_dir.join("node.key")).unwrap();
        let identity =
            std::sync::Arc::new(edufed_federation::NodeIdentity::from_pem(&pem).unwrap());
        let forwarder = edufed_federation::Forwarder::new(
            university.node.store().clone(),
            identity,
            edufed_federation::PeerTls::default(),
        );
        let as_rector = |org: &str| edufed_federation::Acting {
            person: "per_rector".into(),
            org: edufed_domain::ids::OrgId::from_stored(org.to_owned()),
            role: edufed_domain::directory::Role::Admin,
            name: String::new(),
        };
        let day_after = day.succ_opt().unwrap();
        let elsewhere = pb::RequestBookingRequest {
            resource_id: resource.id.clone(),
            requester: university_id.clone(),
            start: format!("{day_after}T10:00"),
            end: format!("{day_after}T11:00"),
            purpose: "Не по адресу".into(),
            headcount: 5,
            ..Default::default()
        };
        let call = |channel, request| async move {
            pb::booking_client::BookingClient::new(channel)
                .request_booking(request)
                .await
        };
        let err = answered(
            forwarder
                .forward(
                    hub.node.node_id(),
                    elsewhere.clone(),
                    &as_rector(&university_id),
                    "k1",
                    call,
                )
                .await
                .unwrap_err(),
        );
        assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
        assert!(
            err.message().contains("not to this node"),
            "{}",
            err.message()
        );
        let err = answered(
            forwarder
                .forward(
                    technopark.node.node_id(),
                    pb::RequestBookingRequest {
                        requester: school_id.clone(),
                        ..elsewhere.clone()
                    },
                    &as_rector(&school_id),
                    "k2",
                    call,
                )
                .await
                .unwrap_err(),
        );
        assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
        assert!(err.message().contains("does not host"), "{}", err.message());
        // Acting for a person is for the forwarded calls only: the university
        // cannot publish on the hub for its own organization.
        let err = answered(
            forwarder
                .forward(
                    hub.node.node_id(),
                    pb::PublishActivityRequest {
                        publisher: university_id.clone(),
                        details: Some(course("Не по адресу", 20)),
                        draft: false,
                    },
                    &as_rector(&university_id),
                    "k3",
                    |channel, request| async move {
                        pb::calendar_client::CalendarClient::new(channel)
                            .publish_activity(request)
                            .await
                    },
                )
                .await
                .unwrap_err(),
        );
        assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");

        // 6. With the technopark down, a write for its record fails with
        // UNAVAILABLE, and nothing is accepted in its place.
        let technopark_id = technopark.node.node_id().to_owned();
        technopark.node.stop().await.unwrap();
        let err = hub_booking
            .request_booking(pb::RequestBookingRequest {
                resource_id: resource.id.clone(),
                requester: "gym24".into(),
                start: format!("{day}T14:00"),
                end: format!("{day}T15:00"),
                purpose: "Робототехника, 8 класс".into(),
                headcount: 10,
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::Unavailable, "{err:?}");
        assert!(err.message().contains(&technopark_id), "{}", err.message());
    }
);

/// Whether the calendar lists an occurrence of activity `id` in the next
/// sixty days.
async fn calendar_has(mut calendar: Calendar, id: String) -> Option<()> {
    let found = calendar
        .list_occurrences(pb::ListOccurrencesRequest {
            from: Some(prost_types::Timestamp {
                seconds: chrono::Utc::now().timestamp(),
                nanos: 0,
            }),
            to: Some(prost_types::Timestamp {
                seconds: (chrono::Utc::now() + chrono::Duration::days(60)).timestamp(),
                nanos: 0,
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .occurrences;
    found
        .iter()
        .any(|o| o.activity.as_ref().is_some_and(|a| a.id == id))
        .then_some(())
}

/// The field a refusal names.
fn field_of(status: &tonic::Status) -> String {
    use tonic_types::StatusExt as _;
    status
        .get_details_bad_request()
        .and_then(|b| b.field_violations.first().map(|v| v.field.clone()))
        .unwrap_or_default()
}

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

/// The university's activities as it shares them with the network: the
/// latest shared entry of each, as (version, operation).
async fn shared_activities(
    node: &TestNode,
) -> std::collections::BTreeMap<String, (u64, &'static str)> {
    let shared_only = edufed_store::changes::ChangeFilter {
        kinds: vec![edufed_domain::changes::EntityKind::Activity],
        organizations: Some(vec![]),
    };
    let mut state = std::collections::BTreeMap::new();
    for entry in node
        .node
        .store()
        .read_log(0, 1_000_000, &shared_only, false)
        .await
        .unwrap()
    {
        state.insert(entry.entity_id, (entry.version, entry.operation.as_str()));
    }
    state
}

/// The activities `node` mirrors from `origin`, as (version, operation).
async fn mirrored_activities(
    node: &TestNode,
    origin: &str,
) -> std::collections::BTreeMap<String, (u64, &'static str)> {
    node.node
        .store()
        .list_mirrors(Some(origin))
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.entry.kind == edufed_domain::changes::EntityKind::Activity)
        .map(|m| {
            (
                m.entry.entity_id,
                (m.entry.version, m.entry.operation.as_str()),
            )
        })
        .collect()
}

/// Waits up to forty seconds for the hub to mirror exactly what the
/// university shares.
async fn converge(university: &TestNode, hub: &TestNode) {
    let origin = university.node.node_id().to_owned();
    for _ in 0..400 {
        if shared_activities(university).await == mirrored_activities(hub, &origin).await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (want, got) = (
        shared_activities(university).await,
        mirrored_activities(hub, &origin).await,
    );
    panic!(
        "the hub never converged: {} shared, {} mirrored",
        want.len(),
        got.len()
    );
}

both_backends!(
    a_partitioned_subscriber_catches_up_even_past_compaction,
    |backend| async move {
        let university = TestNode::start(backend).await;
        let hub = TestNode::start(Backend::Sqlite).await;
        university
            .operator()
            .await
            .create_organization(org_request("tusur"))
            .await
            .unwrap();
        let coordinator = university
            .member_token("tusur", pb::Role::Coordinator)
            .await;
        // The hub reaches the university through a link the test can cut.
        let link = edufed_tests::Partition::start(university.node.addr()).await;
        federation(&hub)
            .await
            .add_peer(pb::AddPeerRequest {
                url: link.url(),
                fingerprint: university.node.node_id().into(),
            })
            .await
            .unwrap();
        federation(&university)
            .await
            .add_peer(pb::AddPeerRequest {
                url: hub.node.url(),
                fingerprint: hub.node.node_id().into(),
            })
            .await
            .unwrap();
        let mut hub_ops = federation(&hub).await;
        hub_ops
            .subscribe(pb::SubscribeRequest {
                node_id: university.node.node_id().into(),
                entity_kinds: vec![],
                via: String::new(),
                activity_filter: None,
            })
            .await
            .unwrap();
        let mut calendar = calendar(&university, &coordinator).await;
        let mut published = Vec::new();
        for i in 0..20 {
            published.push(
                calendar
                    .publish_activity(pb::PublishActivityRequest {
                        publisher: "tusur".into(),
                        details: Some(course(&format!("Курс {i}"), 10 + i)),
                        draft: false,
                    })
                    .await
                    .unwrap()
                    .into_inner(),
            );
        }
        converge(&university, &hub).await;

        // The link is cut; changes keep coming.
        link.cut();
        eventually("the hub noticing the cut", || {
            let mut hub_ops = hub_ops.clone();
            async move {
                let list = hub_ops
                    .list_subscriptions(pb::ListSubscriptionsRequest {})
                    .await
                    .unwrap()
                    .into_inner()
                    .subscriptions;
                (!list[0].connected).then_some(())
            }
        })
        .await;
        for i in 20..120 {
            calendar
                .publish_activity(pb::PublishActivityRequest {
                    publisher: "tusur".into(),
                    details: Some(course(&format!("Курс {i}"), 10 + i % 40)),
                    draft: false,
                })
                .await
                .unwrap();
        }
        for (i, activity) in published.iter().enumerate().take(10) {
            let mut details = course(&format!("Курс {i}, новое время"), 12 + i as i64);
            if i < 4 {
                // No longer shared: the hub must forget them.
                details.visibility = pb::Visibility::Organization.into();
            }
            calendar
                .update_activity(pb::UpdateActivityRequest {
                    activity_id: activity.id.clone(),
                    expected_version: 0,
                    details: Some(details),
                })
                .await
                .unwrap();
        }
        // Edited again after being hidden: the entry that hides them from
        // the network must outlive compaction.
        for activity in published.iter().take(2) {
            let mut details = course("Курс для своих", 30);
            details.visibility = pb::Visibility::Organization.into();
            calendar
                .update_activity(pb::UpdateActivityRequest {
                    activity_id: activity.id.clone(),
                    expected_version: 0,
                    details: Some(details),
                })
                .await
                .unwrap();
        }
        // Meanwhile the university compacts its log: the hub's cursor is
        // now older than what it retains.
        let compacted = university
            .node
            .store()
            .compact_changes(chrono::Utc::now() + chrono::Duration::seconds(1))
            .await
            .unwrap();
        assert!(compacted > 0);
        let subscription = hub_ops
            .list_subscriptions(pb::ListSubscriptionsRequest {})
            .await
            .unwrap()
            .into_inner()
            .subscriptions
            .remove(0);
        let bounds = university.node.store().log_bounds().await.unwrap();
        assert!(subscription.cursor < bounds.compacted_through);

        // A mirror of a record the university no longer has (as after a
        // deletion the hub missed) must not outlive the resync.
        hub.db
            .execute(&format!(
                "INSERT INTO mirrors (origin, entity_kind, entity_id, version, operation, org_id, \
                 payload, seq, created_at, actor, signature) VALUES ('{}', 'activity', 'gone', 1, \
                 'upsert', NULL, '{{}}', 1, 0, 'node', '')",
                university.node.node_id()
            ))
            .await;

        // The link returns: the hub resyncs from the snapshot and follows on.
        link.heal();
        converge(&university, &hub).await;
        let mirrored = mirrored_activities(&hub, university.node.node_id()).await;
        assert_eq!(
            mirrored.values().filter(|(_, op)| *op == "upsert").count(),
            116
        );
        for hidden in published.iter().take(4) {
            assert_eq!(
                mirrored[&hidden.id].1, "delete",
                "{} stays hidden",
                hidden.id
            );
        }
        // Changes after the resync arrive as usual.
        let late = calendar
            .publish_activity(pb::PublishActivityRequest {
                publisher: "tusur".into(),
                details: Some(course("Курс после восстановления связи", 15)),
                draft: false,
            })
            .await
            .unwrap()
            .into_inner();
        converge(&university, &hub).await;
        assert!(
            mirrored_activities(&hub, university.node.node_id())
                .await
                .contains_key(&late.id)
        );
    }
);

both_backends!(
    a_regional_hub_follows_a_school_node_through_the_city_hub,
    |backend| async move {
        let school_node = TestNode::start(Backend::Sqlite).await;
        let city = TestNode::start(Backend::Sqlite).await;
        let region = TestNode::start(backend).await;
        school_node
            .operator()
            .await
            .create_organization(org_request("lyceum7"))
            .await
            .unwrap();
        let coordinator = school_node
            .member_token("lyceum7", pb::Role::Coordinator)
            .await;
        // The city hub and the school's node pin each other; the region pins
        // only the city hub.
        pin(&city, &school_node).await;
        pin(&school_node, &city).await;
        pin(&city, &region).await;
        pin(&region, &city).await;
        federation(&city)
            .await
            .subscribe(pb::SubscribeRequest {
                node_id: school_node.node.node_id().into(),
                entity_kinds: vec![],
                via: String::new(),
                activity_filter: None,
            })
            .await
            .unwrap();
        let mut region_ops = federation(&region).await;
        // Following a node directly needs it pinned; through a relay, not.
        let err = region_ops
            .subscribe(pb::SubscribeRequest {
                node_id: school_node.node.node_id().into(),
                entity_kinds: vec![],
                via: String::new(),
                activity_filter: None,
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::NotFound, "{err:?}");
        let status = region_ops
            .subscribe(pb::SubscribeRequest {
                node_id: school_node.node.node_id().into(),
                entity_kinds: vec![],
                via: city.node.node_id().into(),
                activity_filter: None,
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(status.via, city.node.node_id());

        let mut school_calendar = calendar(&school_node, &coordinator).await;
        let shown = school_calendar
            .publish_activity(pb::PublishActivityRequest {
                publisher: "lyceum7".into(),
                details: Some(course("День открытых дверей", 12)),
                draft: false,
            })
            .await
            .unwrap()
            .into_inner();
        let hidden = school_calendar
            .publish_activity(pb::PublishActivityRequest {
                publisher: "lyceum7".into(),
                details: Some(course("Педсовет", 13)),
                draft: false,
            })
            .await
            .unwrap()
            .into_inner();
        let mut details = course("Педсовет", 13);
        details.visibility = pb::Visibility::Organization.into();
        school_calendar
            .update_activity(pb::UpdateActivityRequest {
                activity_id: hidden.id.clone(),
                expected_version: 0,
                details: Some(details),
            })
            .await
            .unwrap();

        // The region's calendar lists the school's open day, mirrored with
        // the school's node as its origin and checked against its key.
        let region_token = region.operator_token.clone();
        eventually("the open day reaching the region", || {
            calendar_has_as(&region, region_token.clone(), shown.id.clone())
        })
        .await;
        let origin = school_node.node.node_id().to_owned();
        eventually(
            "the hidden activity's tombstone reaching the region",
            || {
                let (region, origin, id) = (&region, origin.clone(), hidden.id.clone());
                async move {
                    let state = mirrored_activities(region, &origin).await;
                    (state.get(&id).map(|(_, op)| *op) == Some("delete")).then_some(())
                }
            },
        )
        .await;
        assert_eq!(
            mirrored_activities(&region, &origin).await,
            shared_activities(&school_node).await,
            "the region holds exactly what the school's node shares"
        );

        // A relay that does not follow the origin has nothing to relay.
        let stranger = "ab".repeat(32);
        region_ops
            .subscribe(pb::SubscribeRequest {
                node_id: stranger.clone(),
                entity_kinds: vec![],
                via: city.node.node_id().into(),
                activity_filter: None,
            })
            .await
            .unwrap();
        let failed = eventually("the relay refusing an unknown origin", || {
            let mut region_ops = region_ops.clone();
            let stranger = stranger.clone();
            async move {
                region_ops
                    .list_subscriptions(pb::ListSubscriptionsRequest {})
                    .await
                    .unwrap()
                    .into_inner()
                    .subscriptions
                    .into_iter()
                    .find(|s| s.node_id == stranger && !s.last_error.is_empty())
            }
        })
        .await;
        assert!(
            failed.last_error.contains("does not follow"),
            "{}",
            failed.last_error
        );
    }
);

/// `from`'s operator pins `to`.
async fn pin(from: &TestNode, to: &TestNode) {
    federation(from)
        .await
        .add_peer(pb::AddPeerRequest {
            url: to.node.url(),
            fingerprint: to.node.node_id().into(),
        })
        .await
        .unwrap();
}

/// [`calendar_has`] on `node` with `token`.
async fn calendar_has_as(node: &TestNode, token: String, id: String) -> Option<()> {
    calendar_has(calendar(node, &token).await, id).await
}

both_backends!(
    a_subscription_keeps_the_activities_its_filter_admits,
    |backend| async move {
        let university = TestNode::start(Backend::Sqlite).await;
        let hub = TestNode::start(backend).await;
        university
            .operator()
            .await
            .create_organization(org_request("tusur"))
            .await
            .unwrap();
        let coordinator = university
            .member_token("tusur", pb::Role::Coordinator)
            .await;
        pin(&hub, &university).await;
        pin(&university, &hub).await;
        // The hub's primary schools want activities for grades 5 to 6 only.
        let status = federation(&hub)
            .await
            .subscribe(pb::SubscribeRequest {
                node_id: university.node.node_id().into(),
                entity_kinds: vec![],
                via: String::new(),
                activity_filter: Some(pb::ActivityFilter {
                    publishers: vec!["tusur".into()],
                    grades: Some(pb::GradeRange { min: 5, max: 6 }),
                    ..Default::default()
                }),
            })
            .await
            .unwrap()
            .into_inner();
        let filter = status.activity_filter.unwrap();
        assert_eq!(filter.publishers, vec![known_id(&hub, "tusur").await]);
        // A bad filter names its field.
        let err = federation(&hub)
            .await
            .subscribe(pb::SubscribeRequest {
                node_id: university.node.node_id().into(),
                entity_kinds: vec![],
                via: String::new(),
                activity_filter: Some(pb::ActivityFilter {
                    grades: Some(pb::GradeRange { min: 0, max: 40 }),
                    ..Default::default()
                }),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument);
        assert_eq!(field_of(&err), "activity_filter.grades");

        let mut calendar_at_home = calendar(&university, &coordinator).await;
        let for_seniors = calendar_at_home
            .publish_activity(pb::PublishActivityRequest {
                publisher: "tusur".into(),
                details: Some(course("Олимпиадная физика", 20)),
                draft: false,
            })
            .await
            .unwrap()
            .into_inner();
        let mut young = course("Занимательная математика", 21);
        young.audience = Some(pb::Audience {
            students: Some(pb::GradeRange { min: 5, max: 6 }),
            ..Default::default()
        });
        let for_juniors = calendar_at_home
            .publish_activity(pb::PublishActivityRequest {
                publisher: "tusur".into(),
                details: Some(young.clone()),
                draft: false,
            })
            .await
            .unwrap()
            .into_inner();
        let hub_token = hub.operator_token.clone();
        eventually("the juniors' activity on the hub", || {
            calendar_has_as(&hub, hub_token.clone(), for_juniors.id.clone())
        })
        .await;
        assert!(
            calendar_has_as(&hub, hub_token.clone(), for_seniors.id.clone())
                .await
                .is_none(),
            "grades 9–11 are filtered out"
        );
        // Opened to grade 6 as well, the seniors' activity joins.
        let mut widened = course("Олимпиадная физика", 20);
        widened.audience = Some(pb::Audience {
            students: Some(pb::GradeRange { min: 6, max: 11 }),
            ..Default::default()
        });
        calendar_at_home
            .update_activity(pb::UpdateActivityRequest {
                activity_id: for_seniors.id.clone(),
                expected_version: 0,
                details: Some(widened),
            })
            .await
            .unwrap();
        eventually("the widened activity on the hub", || {
            calendar_has_as(&hub, hub_token.clone(), for_seniors.id.clone())
        })
        .await;
    }
);

/// The home node's own answer to a forwarded call.
fn answered(error: edufed_federation::forward::Error) -> tonic::Status {
    match error {
        edufed_federation::forward::Error::Answered(status) => status,
        other => panic!("the home node did not answer: {other}"),
    }
}

#[tokio::test]
async fn a_badly_signed_entry_stops_a_catch_up_after_everything_before_it() {
    // A school's node, a city hub that follows it, and a regional hub that
    // follows the school through the city hub: the relay passes on the
    // school's own signatures, so a relay that alters one is caught.
    let school_node = TestNode::start(Backend::Sqlite).await;
    let city = TestNode::start(Backend::Sqlite).await;
    let region = TestNode::start(Backend::Sqlite).await;
    school_node
        .operator()
        .await
        .create_organization(org_request("lyceum7"))
        .await
        .unwrap();
    let coordinator = school_node
        .member_token("lyceum7", pb::Role::Coordinator)
        .await;
    pin(&city, &school_node).await;
    pin(&school_node, &city).await;
    pin(&city, &region).await;
    pin(&region, &city).await;
    let origin = school_node.node.node_id().to_owned();
    federation(&city)
        .await
        .subscribe(pb::SubscribeRequest {
            node_id: origin.clone(),
            entity_kinds: vec![],
            via: String::new(),
            activity_filter: None,
        })
        .await
        .unwrap();
    let mut school_calendar = calendar(&school_node, &coordinator).await;
    for i in 0..40 {
        school_calendar
            .publish_activity(pb::PublishActivityRequest {
                publisher: "lyceum7".into(),
                details: Some(course(&format!("Кружок {i}"), 10 + i)),
                draft: false,
            })
            .await
            .unwrap();
    }
    eventually("the city hub holding the school's 40 activities", || {
        let (city, origin) = (&city, origin.clone());
        async move { (mirrored_activities(city, &origin).await.len() == 40).then_some(()) }
    })
    .await;
    // The relay alters the signature of one entry in the middle.
    let mut seqs: Vec<u64> = city
        .node
        .store()
        .list_mirrors(Some(&origin))
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.entry.sequence)
        .collect();
    seqs.sort_unstable();
    let bad = seqs[seqs.len() / 2];
    let altered = city
        .db
        .execute(&format!(
            "UPDATE mirrors SET signature = '{}' WHERE origin = '{origin}' AND seq = {bad}",
            "00".repeat(64)
        ))
        .await;
    assert_eq!(altered, 1);

    // The region catches up through the relay: it applies everything before
    // the altered entry (in one go: all of it waits in the stream) and stops
    // there, and stays there.
    federation(&region)
        .await
        .subscribe(pb::SubscribeRequest {
            node_id: origin.clone(),
            entity_kinds: vec![],
            via: city.node.node_id().into(),
            activity_filter: None,
        })
        .await
        .unwrap();
    let before: Vec<u64> = seqs.iter().copied().filter(|s| *s < bad).collect();
    let stopped = eventually("the region stopping at the altered entry", || {
        let region = &region;
        async move {
            region
                .node
                .store()
                .list_subscriptions()
                .await
                .unwrap()
                .into_iter()
                .find(|s| {
                    s.last_error
                        .as_deref()
                        .is_some_and(|e| e.contains("signature"))
                })
        }
    })
    .await;
    assert_eq!(stopped.cursor, *before.last().unwrap());
    let mirrored: Vec<u64> = region
        .node
        .store()
        .list_mirrors(Some(&origin))
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.entry.sequence)
        .collect();
    assert_eq!(mirrored.len(), before.len());
    assert!(mirrored.iter().all(|s| *s < bad));
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let still = region.node.store().list_subscriptions().await.unwrap();
    assert_eq!(
        still[0].cursor, stopped.cursor,
        "it stays at the altered entry"
    );
}
