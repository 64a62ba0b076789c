//! Network agreements end to end: a technopark–school network-form
//! agreement is drafted, proposed, signed by both directors with the node's
//! key, comes into force and expires on a test clock, and its pledged lab
//! hours are a quota that bookings under it consume.

use chrono::{DateTime, Datelike as _, Duration, NaiveDate, Utc, Weekday};
use edufed_domain::agreement::signing::{Signature, fingerprint};
use edufed_domain::ids::{AgreementId, OrgId, PersonId};
use edufed_domain::time::Clock;
use edufed_proto::v1 as pb;
use edufed_tests::{Bearer, TestNode, both_backends, http_get_with, network_form, org_request};
use tonic::Code;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic_types::StatusExt as _;

type Agreements = pb::agreements_client::AgreementsClient<InterceptedService<Channel, Bearer>>;
type Booking = pb::booking_client::BookingClient<InterceptedService<Channel, Bearer>>;
type Calendar = pb::calendar_client::CalendarClient<InterceptedService<Channel, Bearer>>;

async fn agreements(node: &TestNode, token: &str) -> Agreements {
    pb::agreements_client::AgreementsClient::with_interceptor(
        node.channel().await,
        Bearer::new(token),
    )
}

async fn booking(node: &TestNode, token: &str) -> Booking {
    pb::booking_client::BookingClient::with_interceptor(node.channel().await, Bearer::new(token))
}

async fn calendar(node: &TestNode, token: &str) -> Calendar {
    pb::calendar_client::CalendarClient::with_interceptor(node.channel().await, Bearer::new(token))
}

fn field_of(status: &tonic::Status) -> String {
    status
        .get_error_details()
        .bad_request()
        .and_then(|b| b.field_violations.first().map(|v| v.field.clone()))
        .unwrap_or_default()
}

fn lab() -> pb::Resource {
    pb::Resource {
        kind: pb::ResourceKind::Lab.into(),
        name: "Хайтек".into(),
        capacity: 30,
        hours: (1..=5)
            .map(|weekday| pb::WeeklyHours {
                weekday,
                opens: "08:00".into(),
                closes: "20:00".into(),
            })
            .collect(),
        rules: Some(pb::BookingRules {
            min_minutes: 30,
            max_minutes: 240,
            min_notice_minutes: 0,
            max_advance_days: 400,
            buffer_minutes: 0,
        }),
        approval: pb::ApprovalPolicy::AutomaticForPartners.into(),
        access: pb::Access::AgreementPartners.into(),
        ..Default::default()
    }
}

struct Net {
    node: TestNode,
    clock: Clock,
    coordinator: String,
    school_director: String,
    park_director: String,
    park_teacher: String,
    park_coordinator: String,
    school_teacher: String,
    stranger: String,
}

async fn network(backend: edufed_tests::Backend, clock_at: DateTime<Utc>) -> Net {
    let clock = Clock::manual(clock_at);
    let db = edufed_tests::TestDb::new(backend).await;
    let node = TestNode::start_with_clock(db, clock.clone(), |s| s.agreement_check_secs = 1).await;
    let mut op = node.operator().await;
    op.create_organization(org_request("mgml")).await.unwrap();
    op.create_organization(pb::CreateOrganizationRequest {
        kind: pb::OrganizationKind::Technopark.into(),
        ..org_request("kvantorium")
    })
    .await
    .unwrap();
    op.create_organization(org_request("school21"))
        .await
        .unwrap();
    Net {
        coordinator: node.member_token("mgml", pb::Role::Coordinator).await,
        school_director: node.member_token("mgml", pb::Role::Admin).await,
        park_director: node.member_token("kvantorium", pb::Role::Admin).await,
        park_teacher: node.member_token("kvantorium", pb::Role::Teacher).await,
        park_coordinator: node.member_token("kvantorium", pb::Role::Coordinator).await,
        school_teacher: node.member_token("mgml", pb::Role::Teacher).await,
        stranger: node.member_token("school21", pb::Role::Admin).await,
        node,
        clock,
    }
}

async fn wait_for_state(
    client: &mut Agreements,
    id: &str,
    state: pb::AgreementState,
) -> pb::Agreement {
    for _ in 0..100 {
        let a = client
            .get_agreement(pb::GetAgreementRequest {
                agreement_id: id.into(),
            })
            .await
            .unwrap()
            .into_inner();
        if a.state == state as i32 {
            return a;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("agreement {id} never reached {state:?}");
}

async fn sign(
    client: &mut Agreements,
    id: &str,
    org: &str,
    version: u32,
) -> Result<pb::Agreement, tonic::Status> {
    client
        .sign_agreement(pb::SignAgreementRequest {
            agreement_id: id.into(),
            org: org.into(),
            version,
            content_hash: String::new(),
        })
        .await
        .map(|r| r.into_inner())
}

fn next_weekday(from: NaiveDate, weekday: Weekday) -> NaiveDate {
    let mut day = from;
    while day.weekday() != weekday {
        day = day.succ_opt().unwrap();
    }
    day
}

both_backends!(
    technopark_and_school_sign_deliver_and_expire,
    |backend| async move {
        let today = Utc::now().date_naive();
        let (valid_from, valid_to) = (today - Duration::days(10), today + Duration::days(200));
        let net = network(backend, Utc::now() - Duration::days(20)).await;
        let mut school = agreements(&net.node, &net.coordinator).await;

        // Bad input names its field and stores nothing.
        let mut bad = network_form(valid_from, valid_to, 70);
        bad.parties[1].org = "no-such-school".into();
        let err = school
            .draft_agreement(pb::DraftAgreementRequest {
                initiator: "mgml".into(),
                content: Some(bad),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument);
        assert_eq!(field_of(&err), "content.parties[1].org");
        let mut bad = network_form(valid_from, valid_to, 70);
        bad.valid_to = "2020-13-01".into();
        let err = school
            .draft_agreement(pb::DraftAgreementRequest {
                initiator: "mgml".into(),
                content: Some(bad),
            })
            .await
            .unwrap_err();
        assert_eq!(field_of(&err), "content.valid_to");

        // Draft, with an incomplete content first: proposing it names what is missing.
        let mut incomplete = network_form(valid_from, valid_to, 70);
        incomplete.documents.clear();
        let draft = school
            .draft_agreement(pb::DraftAgreementRequest {
                initiator: "mgml".into(),
                content: Some(incomplete),
            })
            .await
            .unwrap()
            .into_inner();
        let id = draft.id.clone();
        assert_eq!(draft.state, pb::AgreementState::Draft as i32);
        let err = school
            .propose_agreement(pb::ProposeAgreementRequest {
                agreement_id: id.clone(),
                expected_revision: 0,
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument);
        assert_eq!(field_of(&err), "content.documents");
        // Signing a draft is an illegal transition that names the state.
        let mut school_director = agreements(&net.node, &net.school_director).await;
        let err = sign(&mut school_director, &id, "mgml", 1)
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition);
        assert!(err.message().contains("draft"), "{}", err.message());
        // The technopark cannot edit the school's draft; a stranger cannot see it.
        let mut park_coordinator = agreements(&net.node, &net.park_coordinator).await;
        let err = park_coordinator
            .update_agreement(pb::UpdateAgreementRequest {
                agreement_id: id.clone(),
                content: Some(network_form(valid_from, valid_to, 70)),
                expected_revision: 0,
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied);
        let mut stranger = agreements(&net.node, &net.stranger).await;
        let err = stranger
            .get_agreement(pb::GetAgreementRequest {
                agreement_id: id.clone(),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::NotFound);

        let updated = school
            .update_agreement(pb::UpdateAgreementRequest {
                agreement_id: id.clone(),
                content: Some(network_form(valid_from, valid_to, 70)),
                expected_revision: draft.revision,
            })
            .await
            .unwrap()
            .into_inner();
        // A stale revision is refused.
        let err = school
            .propose_agreement(pb::ProposeAgreementRequest {
                agreement_id: id.clone(),
                expected_revision: draft.revision,
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition);
        let proposed = school
            .propose_agreement(pb::ProposeAgreementRequest {
                agreement_id: id.clone(),
                expected_revision: updated.revision,
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(proposed.state, pb::AgreementState::Proposed as i32);
        assert_eq!(proposed.awaiting_version, 1);
        assert_eq!(proposed.awaiting_parties.len(), 2);
        let hash = proposed.versions[0].content_hash.clone();
        assert_eq!(hash.len(), 64);
        // Content is frozen now.
        let err = school
            .update_agreement(pb::UpdateAgreementRequest {
                agreement_id: id.clone(),
                content: Some(network_form(valid_from, valid_to, 80)),
                expected_revision: 0,
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition);
        assert!(err.message().contains("proposed"), "{}", err.message());

        // A coordinator or a teacher may not sign; each director signs for their own party.
        let mut park_teacher = agreements(&net.node, &net.park_teacher).await;
        assert_eq!(
            sign(&mut park_teacher, &id, "kvantorium", 1)
                .await
                .unwrap_err()
                .code(),
            Code::PermissionDenied
        );
        assert_eq!(
            sign(&mut school_director, &id, "kvantorium", 1)
                .await
                .unwrap_err()
                .code(),
            Code::PermissionDenied
        );
        let err = school_director
            .sign_agreement(pb::SignAgreementRequest {
                agreement_id: id.clone(),
                org: "mgml".into(),
                version: 1,
                content_hash: "0".repeat(64),
            })
            .await
            .unwrap_err();
        assert_eq!(
            err.code(),
            Code::FailedPrecondition,
            "a hash the signer did not read"
        );
        let half = sign(&mut school_director, &id, "mgml", 1).await.unwrap();
        assert_eq!(half.state, pb::AgreementState::Proposed as i32);
        let err = sign(&mut school_director, &id, "mgml", 1)
            .await
            .unwrap_err();
        assert!(
            err.message().contains("already signed"),
            "{}",
            err.message()
        );
        let mut park_director = agreements(&net.node, &net.park_director).await;
        let signed = sign(&mut park_director, &id, "kvantorium", 1)
            .await
            .unwrap();
        // The clock stands before the first day: signed, not yet active.
        assert_eq!(signed.state, pb::AgreementState::Signed as i32);
        assert_eq!(signed.in_force_version, 1);

        // Each signature verifies with the signing node's public key alone, and
        // fails once any byte of the signed document changes.
        let version = &signed.versions[0];
        assert_eq!(version.signatures.len(), 2);
        let agreement_id = AgreementId::parse("id", &id).unwrap();
        for s in &version.signatures {
            assert!(s.verified);
            let key: [u8; 32] = s.public_key.clone().try_into().unwrap();
            assert_eq!(fingerprint(&key), net.node.node.node_id());
            let signature = Signature {
                version: s.version,
                content_hash: s.content_hash.clone(),
                org_id: OrgId::from_stored(s.org_id.clone()),
                person_id: PersonId::from_stored(s.person_id.clone()),
                signatory: s.signatory.clone(),
                signed_at: DateTime::from_timestamp(
                    s.signed_at.unwrap().seconds,
                    s.signed_at.unwrap().nanos as u32,
                )
                .unwrap(),
                node_id: s.node_id.clone(),
                public_key: key,
                signature: s.signature.clone(),
            };
            signature
                .verify(&agreement_id, &version.canonical_document, &key)
                .unwrap();
            let tampered = version.canonical_document.replacen("68", "86", 1);
            assert!(signature.verify(&agreement_id, &tampered, &key).is_err());
        }

        // Time brings it into force on its first day, without a restart.
        net.clock
            .set(edufed_domain::agreement::lifecycle::start_of_day(
                valid_from,
                edufed_domain::time::TimeZone::parse("tz", "Asia/Tomsk").unwrap(),
            ));
        wait_for_state(&mut school, &id, pb::AgreementState::Active).await;
        // Now the network sees it in the register, and the partners list it.
        let listed = stranger
            .list_agreements(pb::ListAgreementsRequest {
                party: "kvantorium".into(),
                states: vec![pb::AgreementState::Active.into()],
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(listed.agreements.len(), 1);

        // The technopark's lab, open to its agreement partners, confirming their
        // bookings under the agreement at once.
        let mut park_booking = booking(&net.node, &net.park_coordinator).await;
        let resource = park_booking
            .create_resource(pb::CreateResourceRequest {
                owner: "kvantorium".into(),
                resource: Some(lab()),
            })
            .await
            .unwrap()
            .into_inner();
        let mut school_booking = booking(&net.node, &net.school_teacher).await;
        let monday = next_weekday(today + Duration::days(1), Weekday::Mon);
        let request = |start: NaiveDate, rule: Option<&str>| pb::RequestBookingRequest {
            resource_id: resource.id.clone(),
            requester: "mgml".into(),
            start: format!("{start}T09:00"),
            end: format!("{start}T10:00"),
            recurrence: rule.map(|r| pb::BookingRecurrence {
                rule: r.into(),
                exdates: vec![],
            }),
            purpose: "Технология, 7 класс".into(),
            headcount: 25,
            agreement_id: id.clone(),
            ..Default::default()
        };
        // 70 lesson hours: every weekday for 14 weeks, all confirmed.
        let year = school_booking
            .request_booking(request(
                monday,
                Some("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;COUNT=70"),
            ))
            .await
            .unwrap()
            .into_inner();
        let occurrences = year.booking.unwrap().occurrences;
        assert_eq!(occurrences.len(), 70);
        assert!(
            occurrences
                .iter()
                .all(|o| o.state == pb::OccurrenceState::Confirmed as i32)
        );
        // The 71st hour is refused, naming the quota.
        let err = school_booking
            .request_booking(pb::RequestBookingRequest {
                start: format!("{monday}T15:00"),
                end: format!("{monday}T16:00"),
                ..request(monday, None)
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition);
        assert!(err.message().contains("quota"), "{}", err.message());
        assert!(
            err.message().contains("70 h are booked"),
            "{}",
            err.message()
        );
        // Without the agreement the school's request waits for the owner.
        let plain = school_booking
            .request_booking(pb::RequestBookingRequest {
                start: format!("{monday}T15:00"),
                end: format!("{monday}T16:00"),
                agreement_id: String::new(),
                ..request(monday, None)
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            plain.booking.unwrap().occurrences[0].state,
            pb::OccurrenceState::Pending as i32
        );
        // A school with no agreement cannot see or book the lab.
        let mut stranger_booking = booking(&net.node, &net.stranger).await;
        let err = stranger_booking
            .request_booking(pb::RequestBookingRequest {
                requester: "school21".into(),
                agreement_id: String::new(),
                start: format!("{monday}T17:00"),
                end: format!("{monday}T18:00"),
                ..request(monday, None)
            })
            .await
            .unwrap_err();
        assert!(err.message().contains("access"), "{}", err.message());

        // The technopark's lessons under the agreement, and the school's cohort.
        let mut park_calendar = calendar(&net.node, &net.park_coordinator).await;
        let lesson_day = today + Duration::days(3);
        let activity = park_calendar
            .publish_activity(pb::PublishActivityRequest {
                publisher: "kvantorium".into(),
                details: Some(pb::ActivityDetails {
                    title: "Урок технологии в технопарке".into(),
                    kind: pb::ActivityKind::Course.into(),
                    subjects: vec!["Технология".into()],
                    audience: Some(pb::Audience {
                        students: Some(pb::GradeRange { min: 7, max: 8 }),
                        ..Default::default()
                    }),
                    format: pb::Format::InPerson.into(),
                    place: Some(pb::Place {
                        kind: pb::PlaceKind::AtPublisher.into(),
                        value: String::new(),
                    }),
                    capacity: 30,
                    visibility: pb::Visibility::Network.into(),
                    agreement_id: id.clone(),
                    schedule: Some(pb::Schedule {
                        time_zone: String::new(),
                        start: format!("{lesson_day}T10:00"),
                        end: format!("{lesson_day}T12:00"),
                        all_day: false,
                        recurrence: Some(pb::Recurrence {
                            rule: "FREQ=WEEKLY;COUNT=10".into(),
                            ..Default::default()
                        }),
                    }),
                    ..Default::default()
                }),
                draft: false,
            })
            .await
            .unwrap()
            .into_inner();
        let mut school_calendar = calendar(&net.node, &net.coordinator).await;
        school_calendar
            .register(pb::RegisterRequest {
                activity_id: activity.id.clone(),
                venue: 0,
                occurrence_start: None,
                cohort: Some(pb::Cohort {
                    organization: "mgml".into(),
                    grades: Some(pb::GradeRange { min: 7, max: 7 }),
                    headcount: 25,
                    teacher: "Иванова М. П.".into(),
                    teacher_contact: String::new(),
                    teachers: false,
                }),
            })
            .await
            .unwrap();

        // A draft activity under the agreement counts for nothing yet.
        let mut draft = activity.details.clone().unwrap();
        draft.title = "Технология: черновик".into();
        park_calendar
            .publish_activity(pb::PublishActivityRequest {
                publisher: "kvantorium".into(),
                details: Some(draft),
                draft: true,
            })
            .await
            .unwrap();

        // Three weeks on: three lessons held, seven to come; and at least
        // two whole weeks of the lab's weekday hours behind, whatever day
        // of the week the test runs on.
        let two_weeks_of_lab = (monday + Duration::days(14))
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc();
        net.clock
            .set((Utc::now() + Duration::days(18)).max(two_weeks_of_lab));
        let report = school
            .get_agreement_report(pb::GetAgreementRequest {
                agreement_id: id.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(report.parts.len(), 1);
        let part = &report.parts[0];
        assert_eq!(part.part, "Технология");
        assert_eq!(
            (
                part.planned_hours,
                part.delivered_hours,
                part.scheduled_hours
            ),
            (68.0, 6.0, 14.0)
        );
        assert_eq!((report.activities_held, report.occurrences_held), (1, 3));
        assert_eq!(
            (report.cohorts, report.headcount, report.planned_students),
            (1, 25, 50)
        );
        let pledge = &report.pledges[0];
        assert_eq!(pledge.pledged_hours, 70.0);
        assert_eq!(pledge.used_hours + pledge.booked_hours, 70.0);
        assert!(
            pledge.used_hours >= 10.0,
            "two weeks of lessons are behind: {}",
            pledge.used_hours
        );
        assert_eq!(report.bookings_used, 1);

        // The printable page: for a member, with all Article 15 sections and
        // verified signatures; nothing without a token.
        let path = format!("/agreements/{id}.html");
        let (status, page) =
            http_get_with(net.node.node.addr(), &path, Some(&net.coordinator)).await;
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("<!DOCTYPE html>"));
        assert!(page.contains("Технология"));
        assert!(page.contains("подпись проверена"));
        let (status, _) = http_get_with(net.node.node.addr(), &path, None).await;
        assert_eq!(status, 401);

        // Tampering with the stored document is detected.
        let changed = net
        .node
        .db
        .execute(&format!(
            "UPDATE agreement_versions SET document = REPLACE(document, '\"hours\":68', '\"hours\":86') \
             WHERE agreement_id = '{id}'"
        ))
        .await;
        assert_eq!(changed, 1);
        let after = school
            .get_agreement(pb::GetAgreementRequest {
                agreement_id: id.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(after.versions[0].signatures.iter().all(|s| !s.verified));
        let (_, page) = http_get_with(net.node.node.addr(), &path, Some(&net.coordinator)).await;
        assert!(page.contains("подпись не прошла проверку"));

        // After its last day it expires, by itself.
        net.clock.set(Utc::now() + Duration::days(202));
        wait_for_state(&mut school, &id, pb::AgreementState::Expired).await;
        let history = school
            .get_agreement_history(pb::GetAgreementHistoryRequest {
                agreement_id: id.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        let actions: Vec<&str> = history.events.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            [
                "drafted",
                "updated",
                "proposed",
                "signed",
                "signed",
                "in_force",
                "activated",
                "expired"
            ]
        );
        assert_eq!(history.events.last().unwrap().actor, "node");
        assert!(history.events[3].actor != "node" && !history.events[3].org_id.is_empty());
        // An expired agreement takes no bookings.
        let err = school_booking
            .request_booking(request(monday + Duration::days(7), None))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition);
    }
);

both_backends!(amendments_declines_and_termination, |backend| async move {
    let today = Utc::now().date_naive();
    let (valid_from, valid_to) = (today - Duration::days(30), today + Duration::days(300));
    let net = network(backend, Utc::now()).await;
    let mut school = agreements(&net.node, &net.coordinator).await;
    let mut school_director = agreements(&net.node, &net.school_director).await;
    let mut park_director = agreements(&net.node, &net.park_director).await;
    let id = school
        .draft_agreement(pb::DraftAgreementRequest {
            initiator: "mgml".into(),
            content: Some(network_form(valid_from, valid_to, 70)),
        })
        .await
        .unwrap()
        .into_inner()
        .id;
    school
        .propose_agreement(pb::ProposeAgreementRequest {
            agreement_id: id.clone(),
            expected_revision: 0,
        })
        .await
        .unwrap();
    // The change log tells both parties, and no one else while it is a proposal.
    let store = net.node.node.store();
    let org = |slug: &'static str| async move {
        store
            .get_organization(&edufed_domain::directory::OrgRef::parse("org", slug).unwrap())
            .await
            .unwrap()
            .id
    };
    let entries_for = |org: OrgId| async move {
        store
            .read_changes(
                0,
                100,
                &edufed_store::changes::ChangeFilter {
                    kinds: vec![edufed_domain::changes::EntityKind::Agreement],
                    organizations: Some(vec![org]),
                },
            )
            .await
            .unwrap()
            .len()
    };
    assert_eq!(entries_for(org("kvantorium").await).await, 2);
    assert_eq!(entries_for(org("school21").await).await, 0);
    // A decline sends it back to the initiator, who revises it as version 2.
    let declined = park_director
        .decline_agreement(pb::DeclineAgreementRequest {
            agreement_id: id.clone(),
            org: "kvantorium".into(),
            version: 1,
            comment: "нужно 80 часов лаборатории".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(declined.state, pb::AgreementState::Declined as i32);
    assert_eq!(
        declined.versions[0].declined.as_ref().unwrap().comment,
        "нужно 80 часов лаборатории"
    );
    let revised = school
        .update_agreement(pb::UpdateAgreementRequest {
            agreement_id: id.clone(),
            content: Some(network_form(valid_from, valid_to, 80)),
            expected_revision: 0,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (revised.state, revised.versions.len()),
        (pb::AgreementState::Draft as i32, 2)
    );
    school
        .propose_agreement(pb::ProposeAgreementRequest {
            agreement_id: id.clone(),
            expected_revision: 0,
        })
        .await
        .unwrap();
    sign(&mut school_director, &id, "mgml", 2).await.unwrap();
    let active = sign(&mut park_director, &id, "kvantorium", 2)
        .await
        .unwrap();
    assert_eq!(active.state, pb::AgreementState::Active as i32);
    assert_eq!(active.in_force_version, 2);
    // Signed agreements are the network's register: everyone reads them.
    assert!(entries_for(org("school21").await).await >= 1);

    // An amendment cannot drop a party behind its back: the technopark
    // must sign its own removal, and declines it.
    let mut without_park = network_form(valid_from, valid_to, 70);
    without_park.parties[1].org = "school21".into();
    without_park.duties[0].org = "school21".into();
    without_park.resources.clear();
    let dropping = school_director
        .amend_agreement(pb::AmendAgreementRequest {
            agreement_id: id.clone(),
            org: "mgml".into(),
            content: Some(without_park),
            expected_revision: 0,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(dropping.awaiting_version, 3);
    assert_eq!(
        dropping.awaiting_parties.len(),
        3,
        "{:?}",
        dropping.awaiting_parties
    );
    let kept = park_director
        .decline_agreement(pb::DeclineAgreementRequest {
            agreement_id: id.clone(),
            org: "kvantorium".into(),
            version: 3,
            comment: "не согласны с исключением".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((kept.in_force_version, kept.awaiting_version), (2, 0));
    assert_eq!(kept.state, pb::AgreementState::Active as i32);

    // An amendment: version 4 with more hours. Version 2 stays in force
    // until both have signed.
    let mut amended = network_form(valid_from, valid_to + Duration::days(30), 100);
    amended.title = "Договор о сетевой форме (в редакции доп. соглашения №1)".into();
    let pending = school_director
        .amend_agreement(pb::AmendAgreementRequest {
            agreement_id: id.clone(),
            org: "mgml".into(),
            content: Some(amended.clone()),
            expected_revision: 0,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((pending.in_force_version, pending.awaiting_version), (2, 4));
    assert_eq!(pending.state, pb::AgreementState::Active as i32);
    let err = school_director
        .amend_agreement(pb::AmendAgreementRequest {
            agreement_id: id.clone(),
            org: "mgml".into(),
            content: Some(amended.clone()),
            expected_revision: 0,
        })
        .await
        .unwrap_err();
    assert!(
        err.message().contains("already awaiting"),
        "{}",
        err.message()
    );
    let half = sign(&mut school_director, &id, "mgml", 4).await.unwrap();
    assert_eq!(half.in_force_version, 2);
    let listed = school
        .list_agreements(pb::ListAgreementsRequest {
            expiring_within_days: 310,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.agreements.len(), 1, "version 2 ends within 310 days");
    let done = sign(&mut park_director, &id, "kvantorium", 4)
        .await
        .unwrap();
    assert_eq!((done.in_force_version, done.awaiting_version), (4, 0));
    let listed = school
        .list_agreements(pb::ListAgreementsRequest {
            expiring_within_days: 310,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        listed.agreements.is_empty(),
        "version 4 runs 30 days longer"
    );

    // A request under the agreement that waits for the owner's approval.
    let mut park_booking = booking(&net.node, &net.park_coordinator).await;
    let resource = park_booking
        .create_resource(pb::CreateResourceRequest {
            owner: "kvantorium".into(),
            resource: Some(pb::Resource {
                approval: pb::ApprovalPolicy::ApprovalRequired.into(),
                ..lab()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    let monday = next_weekday(today + Duration::days(1), Weekday::Mon);
    let waiting = booking(&net.node, &net.school_teacher)
        .await
        .request_booking(pb::RequestBookingRequest {
            resource_id: resource.id.clone(),
            requester: "mgml".into(),
            start: format!("{monday}T09:00"),
            end: format!("{monday}T10:00"),
            purpose: "Технология".into(),
            headcount: 20,
            agreement_id: id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .booking
        .unwrap();
    assert_eq!(
        waiting.occurrences[0].state,
        pb::OccurrenceState::Pending as i32
    );

    // Termination needs the stated notice.
    let err = park_director
        .terminate_agreement(pb::TerminateAgreementRequest {
            agreement_id: id.clone(),
            org: "kvantorium".into(),
            effective_on: (today + Duration::days(5)).to_string(),
            comment: "закрытие лаборатории".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(field_of(&err), "effective_on");
    let noticed = park_director
        .terminate_agreement(pb::TerminateAgreementRequest {
            agreement_id: id.clone(),
            org: "kvantorium".into(),
            effective_on: String::new(),
            comment: "закрытие лаборатории".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(noticed.state, pb::AgreementState::Active as i32);
    net.clock.set(Utc::now() + Duration::days(31));
    let ended = wait_for_state(&mut school, &id, pb::AgreementState::Terminated).await;
    // A request made under it can no longer be approved.
    let err = park_booking
        .approve_booking(pb::DecideBookingRequest {
            booking_id: waiting.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("terminated"), "{}", err.message());
    assert_eq!(ended.in_force_version, 4);
    let err = sign(&mut park_director, &id, "kvantorium", 4)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("terminated"), "{}", err.message());
    let history = school
        .get_agreement_history(pb::GetAgreementHistoryRequest {
            agreement_id: id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let actions: Vec<&str> = history.events.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"declined") && actions.contains(&"amendment_proposed"));
    assert_eq!(
        &actions[actions.len() - 2..],
        ["termination_notice", "terminated"]
    );
});

both_backends!(
    concurrent_bookings_never_exceed_the_quota,
    |backend| async move {
        let today = Utc::now().date_naive();
        let net = network(backend, Utc::now()).await;
        let mut school = agreements(&net.node, &net.coordinator).await;
        let id = school
            .draft_agreement(pb::DraftAgreementRequest {
                initiator: "mgml".into(),
                content: Some(network_form(
                    today - Duration::days(1),
                    today + Duration::days(100),
                    5,
                )),
            })
            .await
            .unwrap()
            .into_inner()
            .id;
        school
            .propose_agreement(pb::ProposeAgreementRequest {
                agreement_id: id.clone(),
                expected_revision: 0,
            })
            .await
            .unwrap();
        sign(
            &mut agreements(&net.node, &net.school_director).await,
            &id,
            "mgml",
            1,
        )
        .await
        .unwrap();
        sign(
            &mut agreements(&net.node, &net.park_director).await,
            &id,
            "kvantorium",
            1,
        )
        .await
        .unwrap();
        // Two labs, so the bookings do not collide with each other: only the
        // quota can stop them.
        let mut park = booking(&net.node, &net.park_coordinator).await;
        let mut labs = Vec::new();
        for name in ["Хайтек", "IT-квантум"] {
            labs.push(
                park.create_resource(pb::CreateResourceRequest {
                    owner: "kvantorium".into(),
                    resource: Some(pb::Resource {
                        name: name.into(),
                        ..lab()
                    }),
                })
                .await
                .unwrap()
                .into_inner()
                .id,
            );
        }
        let monday = next_weekday(today + Duration::days(1), Weekday::Mon);
        let tasks: Vec<_> = (0..12)
            .map(|i| {
                let lab = labs[i % 2].clone();
                let id = id.clone();
                let token = net.school_teacher.clone();
                let url = net.node.node.url();
                tokio::spawn(async move {
                    let channel = Channel::from_shared(url).unwrap().connect().await.unwrap();
                    let mut client = pb::booking_client::BookingClient::with_interceptor(
                        channel,
                        Bearer::new(&token),
                    );
                    let hour = 8 + i / 2;
                    client
                        .request_booking(pb::RequestBookingRequest {
                            resource_id: lab,
                            requester: "mgml".into(),
                            start: format!("{monday}T{hour:02}:00"),
                            end: format!("{monday}T{:02}:00", hour + 1),
                            purpose: "Технология".into(),
                            headcount: 20,
                            agreement_id: id,
                            ..Default::default()
                        })
                        .await
                })
            })
            .collect();
        let mut booked = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => booked += 1,
                Err(e) if e.code() == Code::FailedPrecondition && e.message().contains("quota") => {
                }
                // A deadlock victim on PostgreSQL is reported as retryable.
                Err(e) if e.code() == Code::Unavailable => {}
                Err(e) => panic!("unexpected {e:?}"),
            }
        }
        assert_eq!(booked, 5, "five hours pledged, five booked");
    }
);
