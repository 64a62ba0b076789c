//! Network reports over a known dataset: every figure of the activities,
//! participation, agreements, resources and indicators reports checked
//! against values computed by hand, on both backends; the exports over
//! HTTP; and the console's report pages in a real browser.
//!
//! The dataset (zone Asia/Tomsk, UTC+7; period 2026-01-01 – 2026-02-28, as
//! of 2026-02-20 12:00 local; the previous period is 2025-11-03 – 2025-12-31):
//! - uni publishes A1, an olympiad on 20 Jan 10:00–13:00 (25 seats): s1
//!   sends 10 of grade 9 (9 came, 9 competed, 2 prize-winners, 1 winner),
//!   s2 8 of grades 10–11 (8, 7, 1, 0), s3 5 of grade 9, and s3's 6 of
//!   grade 10 wait for seats; A3, a master class on 15 Feb, cancelled with
//!   s2's 12 registered; A5, an olympiad on 10 Dec 2025 where s1's 10 of
//!   grade 9 competed and 1 placed.
//! - park publishes A2, a network lesson every Tuesday 15:00–16:30 from 13
//!   Jan, five times, the 3 Feb one cancelled, under the s1–park
//!   network-form agreement (68 hours planned, 50 students), with s1's 25
//!   of grades 7–8 for the series; and A4, a course on 24 Feb 15:00–17:00
//!   under the same agreement with s1's 20 of grades 7–8.
//! - The agreement came into force on 5 Jan; s2 and uni have a cooperation
//!   draft (10 hours, 30 students).
//! - park's lab is bookable Mon–Fri 08:00–20:00, closed on 23 Feb; s1 booked
//!   it 13 Jan 15:00–16:30 and 24 Feb 10:00–12:00 (a third booking was
//!   cancelled). uni's room is always bookable and never booked.
//! - s1 states 500 students for 2025/26, s2 400; s1's coverage target is
//!   15% by 2026-08-31 (an older one, 10% by 2025-08-31, is past); the
//!   network's winners' share target is 25%.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone as _, Utc};
use edufed_domain::time::Clock;
use edufed_proto::v1 as pb;
use edufed_tests::{Bearer, TestNode, both_backends, http_get_with, org_request};
use tonic::Code;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic_types::StatusExt as _;

type Svc = InterceptedService<Channel, Bearer>;

fn field_of(status: &tonic::Status) -> String {
    status
        .get_error_details()
        .bad_request()
        .and_then(|b| b.field_violations.first().map(|v| v.field.clone()))
        .unwrap_or_default()
}

fn tomsk(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    chrono_tz::Asia::Tomsk
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn ts(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    }
}

struct Net {
    node: TestNode,
    clock: Clock,
    /// slug → token of a coordinator (and admins where needed).
    tokens: BTreeMap<&'static str, String>,
    /// org id → slug.
    slugs: BTreeMap<String, &'static str>,
    nf_agreement: String,
}

impl Net {
    async fn calendar(&self, who: &str) -> pb::calendar_client::CalendarClient<Svc> {
        pb::calendar_client::CalendarClient::with_interceptor(
            self.node.channel().await,
            Bearer::new(&self.tokens[who]),
        )
    }
    async fn booking(&self, who: &str) -> pb::booking_client::BookingClient<Svc> {
        pb::booking_client::BookingClient::with_interceptor(
            self.node.channel().await,
            Bearer::new(&self.tokens[who]),
        )
    }
    async fn agreements(&self, who: &str) -> pb::agreements_client::AgreementsClient<Svc> {
        pb::agreements_client::AgreementsClient::with_interceptor(
            self.node.channel().await,
            Bearer::new(&self.tokens[who]),
        )
    }
    async fn reports(&self, who: &str) -> pb::reports_client::ReportsClient<Svc> {
        pb::reports_client::ReportsClient::with_interceptor(
            self.node.channel().await,
            Bearer::new(&self.tokens[who]),
        )
    }
    fn slug(&self, id: &str) -> &'static str {
        if id.is_empty() {
            return "";
        }
        self.slugs.get(id).copied().unwrap_or("?")
    }
}

fn activity(
    title: &str,
    kind: pb::ActivityKind,
    direction: pb::Direction,
    start: &str,
    end: &str,
) -> pb::ActivityDetails {
    pb::ActivityDetails {
        title: title.into(),
        kind: kind.into(),
        direction: direction.into(),
        audience: Some(pb::Audience {
            students: Some(pb::GradeRange { min: 5, max: 11 }),
            ..Default::default()
        }),
        format: pb::Format::InPerson.into(),
        place: Some(pb::Place {
            kind: pb::PlaceKind::AtPublisher.into(),
            value: String::new(),
        }),
        visibility: pb::Visibility::Public.into(),
        coordinator: Some(pb::Coordinator {
            name: "Иванова Мария Петровна".into(),
            position: "методист".into(),
            contact: "ivanova@example.org".into(),
        }),
        schedule: Some(pb::Schedule {
            time_zone: String::new(),
            start: start.into(),
            end: end.into(),
            all_day: false,
            recurrence: None,
        }),
        ..Default::default()
    }
}

fn cohort(org: &str, min: u32, max: u32, headcount: u32) -> Option<pb::Cohort> {
    Some(pb::Cohort {
        organization: org.into(),
        grades: Some(pb::GradeRange { min, max }),
        headcount,
        teacher: "Классный руководитель".into(),
        teacher_contact: String::new(),
        teachers: false,
    })
}

fn signatory() -> Option<pb::Signatory> {
    Some(pb::Signatory {
        name: "Директор".into(),
        position: "директор".into(),
        basis: "Устава".into(),
    })
}

fn content(
    kind: pb::AgreementKind,
    base: &str,
    participant: &str,
    hours: u32,
    students: u32,
) -> pb::AgreementContent {
    pb::AgreementContent {
        kind: kind.into(),
        number: "№1".into(),
        dated: "2025-11-20".into(),
        title: "Договор о сетевой форме реализации программы".into(),
        valid_from: "2025-12-01".into(),
        valid_to: "2026-06-30".into(),
        parties: vec![
            pb::Party {
                org: base.into(),
                role: pb::PartyRole::Base.into(),
                signatory: signatory(),
            },
            pb::Party {
                org: participant.into(),
                role: pb::PartyRole::Participant.into(),
                signatory: signatory(),
            },
        ],
        programme: Some(pb::Programme {
            name: "ООП основного общего образования".into(),
            kind: "основная общеобразовательная".into(),
            level: "основное общее образование".into(),
            focus: "техническая".into(),
            parts: vec![pb::ProgrammePart {
                kind: pb::PartKind::Subject.into(),
                name: "Технология".into(),
                hours,
                grade_min: 7,
                grade_max: 8,
            }],
        }),
        students: Some(pb::Students {
            status: "обучающиеся базовой организации".into(),
            admission: "по приказу".into(),
            grade_min: 7,
            grade_max: 8,
            planned_headcount: students,
        }),
        duties: vec![pb::Duty {
            org: participant.into(),
            part: "Технология".into(),
            hours,
            description: "проводит занятия".into(),
        }],
        resources: vec![],
        documents: vec![pb::CompletionDocument {
            name: "справка".into(),
            issuer: base.into(),
        }],
        amendment_procedure: "дополнительным соглашением".into(),
        termination_procedure: "по соглашению сторон".into(),
        termination_notice_days: 30,
        planned_teachers: 2,
        planned_students: students,
        notes: String::new(),
    }
}

async fn register(
    net: &Net,
    who: &'static str,
    activity_id: &str,
    occurrence: Option<DateTime<Utc>>,
    cohort: Option<pb::Cohort>,
) -> pb::Registration {
    net.calendar(who)
        .await
        .register(pb::RegisterRequest {
            activity_id: activity_id.into(),
            venue: 0,
            occurrence_start: occurrence.map(ts),
            cohort,
        })
        .await
        .unwrap()
        .into_inner()
}

async fn results(net: &Net, publisher: &'static str, registration: &str, r: [u32; 4]) {
    net.calendar(publisher)
        .await
        .record_results(pb::RecordResultsRequest {
            registration_id: registration.into(),
            results: Some(pb::Results {
                attended: r[0],
                participants: r[1],
                prize_winners: r[2],
                winners: r[3],
            }),
        })
        .await
        .unwrap();
}

/// Builds the dataset of the module's header and moves the clock to the
/// report's "as of".
async fn dataset(backend: edufed_tests::Backend) -> Net {
    let clock = Clock::manual(tomsk(2025, 12, 1, 10, 0));
    let db = edufed_tests::TestDb::new(backend).await;
    let node = TestNode::start_with_clock(db, clock.clone(), |s| s.agreement_check_secs = 1).await;
    let mut op = node.operator().await;
    let mut slugs = BTreeMap::new();
    for (slug, kind, city) in [
        ("uni", pb::OrganizationKind::University, "Томск"),
        ("park", pb::OrganizationKind::Technopark, "Томск"),
        ("sch1", pb::OrganizationKind::School, "Томск"),
        ("sch2", pb::OrganizationKind::School, "Томск"),
        ("sch3", pb::OrganizationKind::School, "Северск"),
        ("centre", pb::OrganizationKind::MethodicalCentre, "Томск"),
    ] {
        let org = op
            .create_organization(pb::CreateOrganizationRequest {
                kind: kind.into(),
                city: city.into(),
                ..org_request(slug)
            })
            .await
            .unwrap()
            .into_inner();
        slugs.insert(org.id, slug);
    }
    let mut tokens = BTreeMap::new();
    for slug in ["uni", "park", "sch1", "sch2", "sch3", "centre"] {
        tokens.insert(slug, node.member_token(slug, pb::Role::Coordinator).await);
    }
    tokens.insert(
        "sch1-admin",
        node.member_token("sch1", pb::Role::Admin).await,
    );
    tokens.insert(
        "park-admin",
        node.member_token("park", pb::Role::Admin).await,
    );
    tokens.insert(
        "sch3-viewer",
        node.member_token("sch3", pb::Role::Viewer).await,
    );
    let mut net = Net {
        node,
        clock: clock.clone(),
        tokens,
        slugs,
        nf_agreement: String::new(),
    };

    // A5, in the previous period.
    let a5 = net
        .calendar("uni")
        .await
        .publish_activity(pb::PublishActivityRequest {
            publisher: "uni".into(),
            details: Some(activity(
                "Олимпиада по физике, школьный этап",
                pb::ActivityKind::Olympiad,
                pb::Direction::DistanceAndGifted,
                "2025-12-10T10:00",
                "2025-12-10T13:00",
            )),
            draft: false,
        })
        .await
        .unwrap()
        .into_inner();
    let r5 = register(&net, "sch1", &a5.id, None, cohort("sch1", 9, 9, 10)).await;

    clock.set(tomsk(2026, 1, 5, 10, 0));
    // The network-form agreement, in force from today; a cooperation draft.
    let mut s1 = net.agreements("sch1").await;
    let nf = s1
        .draft_agreement(pb::DraftAgreementRequest {
            initiator: "sch1".into(),
            content: Some(content(
                pb::AgreementKind::NetworkForm,
                "sch1",
                "park",
                68,
                50,
            )),
        })
        .await
        .unwrap()
        .into_inner();
    s1.propose_agreement(pb::ProposeAgreementRequest {
        agreement_id: nf.id.clone(),
        expected_revision: 0,
    })
    .await
    .unwrap();
    for (who, org) in [("sch1-admin", "sch1"), ("park-admin", "park")] {
        net.agreements(who)
            .await
            .sign_agreement(pb::SignAgreementRequest {
                agreement_id: nf.id.clone(),
                org: org.into(),
                version: 1,
                content_hash: String::new(),
            })
            .await
            .unwrap();
    }
    net.agreements("sch2")
        .await
        .draft_agreement(pb::DraftAgreementRequest {
            initiator: "sch2".into(),
            content: Some(content(
                pb::AgreementKind::Cooperation,
                "sch2",
                "uni",
                10,
                30,
            )),
        })
        .await
        .unwrap();
    net.nf_agreement = nf.id.clone();

    // Activities.
    let mut uni = net.calendar("uni").await;
    let mut a1 = activity(
        "Олимпиада «Физтех», отборочный этап",
        pb::ActivityKind::Olympiad,
        pb::Direction::DistanceAndGifted,
        "2026-01-20T10:00",
        "2026-01-20T13:00",
    );
    a1.capacity = 25;
    let a1 = uni
        .publish_activity(pb::PublishActivityRequest {
            publisher: "uni".into(),
            details: Some(a1),
            draft: false,
        })
        .await
        .unwrap()
        .into_inner();
    let a3 = uni
        .publish_activity(pb::PublishActivityRequest {
            publisher: "uni".into(),
            details: Some(activity(
                "Мастер-класс «Профессия инженер»",
                pb::ActivityKind::MasterClass,
                pb::Direction::CareerGuidance,
                "2026-02-15T11:00",
                "2026-02-15T12:00",
            )),
            draft: false,
        })
        .await
        .unwrap()
        .into_inner();
    let mut park = net.calendar("park").await;
    let mut a2 = activity(
        "Технология в технопарке",
        pb::ActivityKind::NetworkLesson,
        pb::Direction::Innovation,
        "2026-01-13T15:00",
        "2026-01-13T16:30",
    );
    a2.schedule.as_mut().unwrap().recurrence = Some(pb::Recurrence {
        rule: "FREQ=WEEKLY;BYDAY=TU;COUNT=5".into(),
        ..Default::default()
    });
    a2.agreement_id = nf.id.clone();
    let a2 = park
        .publish_activity(pb::PublishActivityRequest {
            publisher: "park".into(),
            details: Some(a2),
            draft: false,
        })
        .await
        .unwrap()
        .into_inner();
    park.cancel_occurrence(pb::CancelOccurrenceRequest {
        activity_id: a2.id.clone(),
        original_start: Some(ts(tomsk(2026, 2, 3, 15, 0))),
    })
    .await
    .unwrap();
    let mut a4 = activity(
        "Робототехника: курс",
        pb::ActivityKind::Course,
        pb::Direction::Innovation,
        "2026-02-24T15:00",
        "2026-02-24T17:00",
    );
    a4.agreement_id = nf.id.clone();
    let a4 = park
        .publish_activity(pb::PublishActivityRequest {
            publisher: "park".into(),
            details: Some(a4),
            draft: false,
        })
        .await
        .unwrap()
        .into_inner();

    // Cohorts.
    let r1 = register(&net, "sch1", &a1.id, None, cohort("sch1", 9, 9, 10)).await;
    let r2 = register(&net, "sch2", &a1.id, None, cohort("sch2", 10, 11, 8)).await;
    register(&net, "sch3", &a1.id, None, cohort("sch3", 9, 9, 5)).await;
    let waiting = register(&net, "sch3", &a1.id, None, cohort("sch3", 10, 10, 6)).await;
    assert_eq!(waiting.state, pb::RegistrationState::Waitlisted as i32);
    register(&net, "sch2", &a3.id, None, cohort("sch2", 8, 8, 12)).await;
    register(&net, "sch1", &a2.id, None, cohort("sch1", 7, 8, 25)).await;
    register(&net, "sch1", &a4.id, None, cohort("sch1", 7, 8, 20)).await;
    uni.set_activity_status(pb::SetActivityStatusRequest {
        activity_id: a3.id.clone(),
        status: pb::ActivityStatus::Cancelled.into(),
    })
    .await
    .unwrap();

    // Resources and bookings.
    let mut park_booking = net.booking("park").await;
    let lab = park_booking
        .create_resource(pb::CreateResourceRequest {
            owner: "park".into(),
            resource: Some(pb::Resource {
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
                approval: pb::ApprovalPolicy::Automatic.into(),
                access: pb::Access::Network.into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    park_booking
        .set_blackouts(pb::SetBlackoutsRequest {
            resource_id: lab.id.clone(),
            blackouts: vec![pb::Blackout {
                start: "2026-02-23T00:00".into(),
                end: "2026-02-24T00:00".into(),
                reason: "День защитника Отечества".into(),
                rule: String::new(),
            }],
            expected_version: 0,
        })
        .await
        .unwrap();
    net.booking("uni")
        .await
        .create_resource(pb::CreateResourceRequest {
            owner: "uni".into(),
            resource: Some(pb::Resource {
                kind: pb::ResourceKind::Room.into(),
                name: "Аудитория 101".into(),
                capacity: 40,
                approval: pb::ApprovalPolicy::Automatic.into(),
                access: pb::Access::Network.into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    let mut s1_booking = net.booking("sch1").await;
    let mut booked = Vec::new();
    for (start, end) in [
        ("2026-01-13T15:00", "2026-01-13T16:30"),
        ("2026-02-24T10:00", "2026-02-24T12:00"),
        ("2026-01-14T10:00", "2026-01-14T11:00"),
    ] {
        let b = s1_booking
            .request_booking(pb::RequestBookingRequest {
                resource_id: lab.id.clone(),
                requester: "sch1".into(),
                start: start.into(),
                end: end.into(),
                purpose: "уроки технологии".into(),
                headcount: 25,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        booked.push(b.booking.unwrap().id);
    }
    s1_booking
        .cancel_booking(pb::CancelBookingRequest {
            booking_id: booked[2].clone(),
            scope: pb::CancelScope::All.into(),
            occurrence_start: None,
            comment: String::new(),
        })
        .await
        .unwrap();

    // Enrolments and targets.
    let mut s1_reports = net.reports("sch1-admin").await;
    s1_reports
        .set_enrolment(pb::SetEnrolmentRequest {
            organization: "sch1".into(),
            school_year: "2025/26".into(),
            students: 500,
        })
        .await
        .unwrap();
    net.reports("sch2")
        .await
        .set_enrolment(pb::SetEnrolmentRequest {
            organization: "sch2".into(),
            school_year: "2025-2026".into(),
            students: 400,
        })
        .await
        .unwrap();
    for (value, due) in [(15.0, "2026-08-31"), (10.0, "2025-08-31")] {
        s1_reports
            .set_target(pb::SetTargetRequest {
                indicator: "network_coverage".into(),
                organization: "sch1".into(),
                due: due.into(),
                value,
                note: "Программа развития".into(),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    net.reports("centre")
        .await
        .set_target(pb::SetTargetRequest {
            indicator: "winners_share".into(),
            due: "2026-08-31".into(),
            value: 25.0,
            ..Default::default()
        })
        .await
        .unwrap();

    // As of 20 Feb: results of what took place.
    clock.set(tomsk(2026, 2, 20, 12, 0));
    results(&net, "uni", &r1.id, [9, 9, 2, 1]).await;
    results(&net, "uni", &r2.id, [8, 7, 1, 0]).await;
    results(&net, "uni", &r5.id, [10, 10, 1, 0]).await;
    for _ in 0..100 {
        let a = s1
            .get_agreement(pb::GetAgreementRequest {
                agreement_id: nf.id.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        if a.state == pb::AgreementState::Active as i32 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    net
}

fn period() -> pb::ReportRequest {
    pb::ReportRequest {
        from: "2026-01-01".into(),
        to: "2026-02-28".into(),
        ..Default::default()
    }
}

both_backends!(every_figure_of_every_report, |backend| async move {
    let net = dataset(backend).await;
    let mut reports = net.reports("centre").await;

    // Activities: by organization, direction, kind and month.
    let got = reports
        .activities_report(period())
        .await
        .unwrap()
        .into_inner();
    let scope = got.scope.unwrap();
    assert_eq!(
        (scope.from.as_str(), scope.to.as_str()),
        ("2026-01-01", "2026-02-28")
    );
    let rows: Vec<_> = got
        .rows
        .iter()
        .map(|r| {
            (
                net.slug(&r.organization),
                r.direction.as_str(),
                r.kind.as_str(),
                r.month.as_str(),
                [
                    r.activities_held,
                    r.activities_cancelled,
                    r.occurrences_held,
                    r.occurrences_scheduled,
                    r.occurrences_cancelled,
                ],
                r.hours_held,
            )
        })
        .collect();
    let mut expected = vec![
        (
            "uni",
            "distance_and_gifted",
            "olympiad",
            "2026-01",
            [1, 0, 1, 0, 0],
            3.0,
        ),
        (
            "uni",
            "career_guidance",
            "master_class",
            "2026-02",
            [0, 1, 0, 0, 1],
            0.0,
        ),
        (
            "park",
            "innovation",
            "network_lesson",
            "2026-01",
            [1, 0, 3, 0, 0],
            4.5,
        ),
        (
            "park",
            "innovation",
            "network_lesson",
            "2026-02",
            [1, 0, 1, 0, 1],
            1.5,
        ),
        (
            "park",
            "innovation",
            "course",
            "2026-02",
            [0, 0, 0, 1, 0],
            0.0,
        ),
    ];
    let mut rows_sorted = rows.clone();
    rows_sorted.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    expected.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    assert_eq!(rows_sorted, expected);
    let t = got.total.unwrap();
    assert_eq!(
        [
            t.activities_held,
            t.activities_cancelled,
            t.occurrences_held,
            t.occurrences_scheduled,
            t.occurrences_cancelled
        ],
        [2, 1, 5, 1, 2]
    );
    assert_eq!(t.hours_held, 9.0);
    assert!(got.rows.iter().all(|r| !r.organization_name.is_empty()));

    // The same by month only.
    let got = reports
        .activities_report(pb::ReportRequest {
            group_by: vec![pb::ReportDimension::Month.into()],
            ..period()
        })
        .await
        .unwrap()
        .into_inner();
    let rows: Vec<_> = got
        .rows
        .iter()
        .map(|r| {
            (
                r.organization.as_str(),
                r.month.as_str(),
                [
                    r.activities_held,
                    r.activities_cancelled,
                    r.occurrences_held,
                    r.occurrences_scheduled,
                    r.occurrences_cancelled,
                ],
                r.hours_held,
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("", "2026-01", [2, 0, 4, 0, 0], 7.5),
            ("", "2026-02", [1, 1, 1, 1, 2], 1.5),
        ]
    );

    // Participation: by school, direction, kind and grades.
    let got = reports
        .participation_report(period())
        .await
        .unwrap()
        .into_inner();
    let mut rows: Vec<_> = got
        .rows
        .iter()
        .map(|r| {
            (
                net.slug(&r.organization),
                r.direction.clone(),
                r.kind.clone(),
                r.grade.clone(),
                [
                    r.cohorts,
                    r.registered,
                    r.attended,
                    r.participants,
                    r.prize_winners,
                    r.winners,
                    r.cohorts_with_results,
                    r.waitlisted_cohorts,
                    r.waitlisted,
                ],
            )
        })
        .collect();
    rows.sort();
    let s = |x: &str| x.to_owned();
    assert_eq!(
        rows,
        vec![
            (
                "sch1",
                s("distance_and_gifted"),
                s("olympiad"),
                s("9"),
                [1, 10, 9, 9, 2, 1, 1, 0, 0]
            ),
            (
                "sch1",
                s("innovation"),
                s("course"),
                s("7-8"),
                [1, 20, 0, 0, 0, 0, 0, 0, 0]
            ),
            (
                "sch1",
                s("innovation"),
                s("network_lesson"),
                s("7-8"),
                [1, 25, 0, 0, 0, 0, 0, 0, 0]
            ),
            (
                "sch2",
                s("distance_and_gifted"),
                s("olympiad"),
                s("10-11"),
                [1, 8, 8, 7, 1, 0, 1, 0, 0]
            ),
            (
                "sch3",
                s("distance_and_gifted"),
                s("olympiad"),
                s("10"),
                [0, 0, 0, 0, 0, 0, 0, 1, 6]
            ),
            (
                "sch3",
                s("distance_and_gifted"),
                s("olympiad"),
                s("9"),
                [1, 5, 0, 0, 0, 0, 0, 0, 0]
            ),
        ]
    );
    let t = got.total.unwrap();
    assert_eq!(
        [
            t.cohorts,
            t.registered,
            t.attended,
            t.participants,
            t.prize_winners,
            t.winners,
            t.cohorts_with_results,
            t.waitlisted_cohorts,
            t.waitlisted
        ],
        [5, 68, 17, 16, 3, 1, 2, 1, 6]
    );

    // A city: Северск's school only.
    let got = reports
        .participation_report(pb::ReportRequest {
            city: "северск".into(),
            group_by: vec![pb::ReportDimension::Organization.into()],
            ..period()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.rows.len(), 1);
    assert_eq!(net.slug(&got.rows[0].organization), "sch3");
    let t = got.total.unwrap();
    assert_eq!([t.cohorts, t.registered, t.waitlisted], [1, 5, 6]);

    // Agreements: by kind and state.
    let got = reports
        .agreements_report(period())
        .await
        .unwrap()
        .into_inner();
    let rows: Vec<_> = got
        .rows
        .iter()
        .map(|r| {
            (
                r.kind.as_str(),
                r.state.as_str(),
                [r.agreements, r.signed_in_period, r.expiring_soon],
                [r.planned_hours, r.delivered_hours, r.scheduled_hours],
                [r.planned_students, r.students_reached, r.attended],
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (
                "cooperation",
                "draft",
                [1, 0, 0],
                [10.0, 0.0, 0.0],
                [30, 0, 0]
            ),
            (
                "network_form",
                "active",
                [1, 1, 0],
                [68.0, 6.0, 2.0],
                [50, 25, 0]
            ),
        ]
    );
    let t = got.total.unwrap();
    assert_eq!([t.agreements, t.signed_in_period], [2, 1]);
    assert_eq!(
        [t.planned_hours, t.delivered_hours, t.scheduled_hours],
        [78.0, 6.0, 2.0]
    );
    assert_eq!([t.planned_students, t.students_reached], [80, 25]);
    // Ending 30 Jun: within 150 days of 20 Feb, not within 60.
    let got = reports
        .agreements_report(pb::ReportRequest {
            expiring_within_days: 150,
            group_by: vec![pb::ReportDimension::Organization.into()],
            ..period()
        })
        .await
        .unwrap()
        .into_inner();
    let by_org: BTreeMap<&str, [u32; 2]> = got
        .rows
        .iter()
        .map(|r| (net.slug(&r.organization), [r.agreements, r.expiring_soon]))
        .collect();
    assert_eq!(
        by_org,
        BTreeMap::from([
            ("park", [1, 1]),
            ("sch1", [1, 1]),
            ("sch2", [1, 0]),
            ("uni", [1, 0])
        ])
    );
    assert_eq!(
        got.total.unwrap().agreements,
        2,
        "each agreement once in the total"
    );

    // Resources: booked over bookable hours.
    let got = reports
        .resources_report(period())
        .await
        .unwrap()
        .into_inner();
    let rows: BTreeMap<&str, (f64, f64, f64, u32)> = got
        .rows
        .iter()
        .map(|r| {
            (
                r.name.as_str(),
                (r.bookable_hours, r.booked_hours, r.utilization, r.bookings),
            )
        })
        .collect();
    // Lab: 22 weekdays in January and 19 in February, 12 hours each.
    assert_eq!(
        rows,
        BTreeMap::from([
            ("Хайтек", (492.0, 3.5, 0.71, 2)),
            ("Аудитория 101", (1416.0, 0.0, 0.0, 0)),
        ])
    );
    let t = got.total.unwrap();
    assert_eq!(
        (
            t.resources,
            t.bookable_hours,
            t.booked_hours,
            t.utilization,
            t.bookings
        ),
        (2, 1908.0, 3.5, 0.18, 2)
    );
    assert_eq!(got.busiest[0].name, "Хайтек");
    assert_eq!(got.idlest[0].name, "Аудитория 101");
    let got = reports
        .resources_report(pb::ReportRequest {
            organization: "park".into(),
            group_by: vec![pb::ReportDimension::Month.into()],
            ..period()
        })
        .await
        .unwrap()
        .into_inner();
    let months: Vec<_> = got
        .rows
        .iter()
        .map(|r| {
            (
                r.month.as_str(),
                r.bookable_hours,
                r.booked_hours,
                r.utilization,
            )
        })
        .collect();
    assert_eq!(
        months,
        vec![("2026-01", 264.0, 1.5, 0.57), ("2026-02", 228.0, 2.0, 0.88)]
    );

    // Indicators, with the previous period and targets.
    let got = reports
        .indicators_report(period())
        .await
        .unwrap()
        .into_inner();
    type Figures = (
        f64,
        f64,
        Option<f64>,
        Option<f64>,
        Option<f64>,
        Option<f64>,
        Option<f64>,
    );
    let opt = |has: bool, v: f64| has.then_some(v);
    let rows: BTreeMap<(String, &str), Figures> = got
        .rows
        .iter()
        .map(|r| {
            (
                (r.indicator.clone(), net.slug(&r.organization)),
                (
                    r.numerator,
                    r.denominator,
                    opt(r.has_value, r.value),
                    opt(r.has_previous, r.previous),
                    opt(r.has_value && r.has_previous, r.trend),
                    opt(r.has_target, r.target),
                    opt(r.has_value && r.has_target, r.gap),
                ),
            )
        })
        .collect();
    let k = |i: &str, o: &'static str| (i.to_owned(), o);
    let expected: BTreeMap<(String, &str), Figures> = BTreeMap::from([
        (
            k("network_coverage", "sch1"),
            (
                25.0,
                500.0,
                Some(5.0),
                Some(0.0),
                Some(5.0),
                Some(15.0),
                Some(10.0),
            ),
        ),
        (
            k("network_coverage", "sch2"),
            (0.0, 400.0, Some(0.0), Some(0.0), Some(0.0), None, None),
        ),
        (
            k("network_coverage", ""),
            (25.0, 900.0, Some(2.78), Some(0.0), Some(2.78), None, None),
        ),
        (
            k("winners_share", "sch1"),
            (3.0, 9.0, Some(33.33), Some(10.0), Some(23.33), None, None),
        ),
        (
            k("winners_share", "sch2"),
            (1.0, 7.0, Some(14.29), None, None, None, None),
        ),
        (
            k("winners_share", ""),
            (
                4.0,
                16.0,
                Some(25.0),
                Some(10.0),
                Some(15.0),
                Some(25.0),
                Some(0.0),
            ),
        ),
        (
            k("activities_held", "uni"),
            (1.0, 1.0, Some(1.0), Some(1.0), Some(0.0), None, None),
        ),
        (
            k("activities_held", "park"),
            (1.0, 1.0, Some(1.0), Some(0.0), Some(1.0), None, None),
        ),
        (
            k("activities_held", ""),
            (2.0, 1.0, Some(2.0), Some(1.0), Some(1.0), None, None),
        ),
        (
            k("agreements_signed", "sch1"),
            (1.0, 1.0, Some(1.0), Some(0.0), Some(1.0), None, None),
        ),
        (
            k("agreements_signed", "park"),
            (1.0, 1.0, Some(1.0), Some(0.0), Some(1.0), None, None),
        ),
        (
            k("agreements_signed", ""),
            (1.0, 1.0, Some(1.0), Some(0.0), Some(1.0), None, None),
        ),
        (
            k("participants_per_activity", "uni"),
            (23.0, 1.0, Some(23.0), Some(10.0), Some(13.0), None, None),
        ),
        (
            k("participants_per_activity", "park"),
            (25.0, 1.0, Some(25.0), None, None, None, None),
        ),
        (
            k("participants_per_activity", ""),
            (48.0, 2.0, Some(24.0), Some(10.0), Some(14.0), None, None),
        ),
        // No mentoring and no teachers stated: counts of nothing, shares
        // of nothing without a value.
        (
            k("mentoring_pairs", ""),
            (0.0, 1.0, Some(0.0), Some(0.0), Some(0.0), None, None),
        ),
        (
            k("mentoring_crossing", ""),
            (0.0, 0.0, None, None, None, None, None),
        ),
        (
            k("young_teachers_mentored", ""),
            (0.0, 0.0, None, None, None, None, None),
        ),
        (
            k("teachers_courses", ""),
            (0.0, 0.0, None, None, None, None, None),
        ),
        (
            k("teachers_seminars", ""),
            (0.0, 0.0, None, None, None, None, None),
        ),
        (
            k("teachers_growth_system", ""),
            (0.0, 0.0, None, None, None, None, None),
        ),
        // No learning routes: nothing to count, against the standard
        // targets of ten trials per pupil and nine leavers in ten oriented.
        (
            k("trials_per_pupil", ""),
            (0.0, 0.0, None, None, None, Some(10.0), None),
        ),
        (
            k("leavers_oriented", ""),
            (0.0, 0.0, None, None, None, Some(90.0), None),
        ),
        (
            k("leavers_continuing", ""),
            (0.0, 0.0, None, None, None, None, None),
        ),
    ]);
    assert_eq!(rows, expected);
    let due: Vec<_> = got
        .rows
        .iter()
        .filter(|r| {
            r.has_target && !r.indicator.contains("trials") && !r.indicator.contains("leavers")
        })
        .map(|r| r.target_due.as_str())
        .collect();
    assert_eq!(
        due,
        vec!["2026-08-31", "2026-08-31"],
        "the target in force, not the past one"
    );

    // One organization: its rows and its own target on the total.
    let got = reports
        .indicators_report(pb::ReportRequest {
            organization: "sch1".into(),
            ..period()
        })
        .await
        .unwrap()
        .into_inner();
    let coverage: Vec<_> = got
        .rows
        .iter()
        .filter(|r| r.indicator == "network_coverage")
        .map(|r| (net.slug(&r.organization), r.value, r.target, r.gap))
        .collect();
    assert_eq!(
        coverage,
        vec![("sch1", 5.0, 15.0, 10.0), ("", 5.0, 15.0, 10.0)]
    );
    assert!(
        got.rows
            .iter()
            .all(|r| matches!(net.slug(&r.organization), "sch1" | ""))
    );

    // Reports hold counts, never a person: no coordinator's or teacher's
    // name or contact appears in any export.
    let addr = net.node.node.addr();
    let token = net.tokens["sch3-viewer"].clone();
    for name in [
        "activities",
        "participation",
        "agreements",
        "resources",
        "indicators",
    ] {
        for ext in ["csv", "json"] {
            let (status, body) = http_get_with(
                addr,
                &format!("/reports/{name}.{ext}?from=2026-01-01&to=2026-02-28&scope=network"),
                Some(&token),
            )
            .await;
            assert_eq!(status, 200, "{name}.{ext}: {body}");
            for private in ["Иванова", "ivanova@", "Классный руководитель"]
            {
                assert!(!body.contains(private), "{name}.{ext} shows {private}");
            }
        }
    }
    net.clock.advance(chrono::Duration::seconds(1));
});

both_backends!(bad_requests_name_their_field, |backend| async move {
    let net = dataset(backend).await;
    let mut reports = net.reports("sch1-admin").await;
    let err = reports
        .activities_report(pb::ReportRequest {
            from: "2026-01-01".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), field_of(&err).as_str()),
        (Code::InvalidArgument, "to")
    );
    let err = reports
        .activities_report(pb::ReportRequest {
            from: "2026-03-01".into(),
            to: "2026-02-01".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(field_of(&err), "to");
    let err = reports
        .activities_report(pb::ReportRequest {
            from: "1 Jan".into(),
            to: "2026-02-01".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(field_of(&err), "from");
    let err = reports
        .activities_report(pb::ReportRequest {
            group_by: vec![pb::ReportDimension::State.into()],
            ..period()
        })
        .await
        .unwrap_err();
    assert_eq!(field_of(&err), "group_by");
    let err = reports
        .activities_report(pb::ReportRequest {
            organization: "sch1".into(),
            network: true,
            ..period()
        })
        .await
        .unwrap_err();
    assert_eq!(field_of(&err), "organization");
    let err = reports
        .activities_report(pb::ReportRequest {
            organization: "nobody".into(),
            ..period()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);

    // Enrolment and targets: fields, roles.
    let err = reports
        .set_enrolment(pb::SetEnrolmentRequest {
            organization: "sch1".into(),
            school_year: "2025/27".into(),
            students: 500,
        })
        .await
        .unwrap_err();
    assert_eq!(field_of(&err), "school_year");
    let err = reports
        .set_enrolment(pb::SetEnrolmentRequest {
            organization: "sch1".into(),
            school_year: "2025/26".into(),
            students: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(field_of(&err), "students");
    let err = reports
        .set_enrolment(pb::SetEnrolmentRequest {
            organization: "sch2".into(),
            school_year: "2025/26".into(),
            students: 10,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = reports
        .set_target(pb::SetTargetRequest {
            indicator: "winners_share".into(),
            due: "2026-08-31".into(),
            value: 30.0,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Code::PermissionDenied,
        "a school sets no network target"
    );
    let err = reports
        .set_target(pb::SetTargetRequest {
            indicator: "network_coverage".into(),
            organization: "sch1".into(),
            due: "2026-08-31".into(),
            value: 150.0,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(field_of(&err), "value");
    let err = reports
        .set_target(pb::SetTargetRequest {
            indicator: "happiness".into(),
            organization: "sch1".into(),
            due: "2026-08-31".into(),
            value: 1.0,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(field_of(&err), "indicator");
    let err = reports
        .remove_target(pb::RemoveTargetRequest {
            indicator: "network_coverage".into(),
            organization: "sch1".into(),
            due: "2030-01-01".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    // Nothing stored was lost: the targets and enrolments are as set.
    let targets = reports
        .list_targets(pb::ListTargetsRequest {})
        .await
        .unwrap()
        .into_inner()
        .targets;
    assert_eq!(targets.len(), 3);
    let enrolments = reports
        .list_enrolments(pb::ListEnrolmentsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .enrolments;
    let students: Vec<u32> = enrolments.iter().map(|e| e.students).collect();
    assert_eq!(students.iter().sum::<u32>(), 900);
    reports
        .remove_target(pb::RemoveTargetRequest {
            indicator: "network_coverage".into(),
            organization: "sch1".into(),
            due: "2025-08-31".into(),
            ..Default::default()
        })
        .await
        .unwrap();

    // Without a token: UNAUTHENTICATED, and 401 with a login prompt for
    // the exports; the console's pages ask a visitor to sign in first.
    let mut anonymous = pb::reports_client::ReportsClient::new(net.node.channel().await);
    let err = anonymous.activities_report(period()).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    let (status, _) = http_get_with(net.node.node.addr(), "/reports/activities.csv", None).await;
    assert_eq!(status, 401);
    let (status, page) = http_get_with(net.node.node.addr(), "/reports", None).await;
    assert_eq!(status, 401);
    assert!(page.contains("Нужно войти"), "{page}");
    let (status, body) = http_get_with(
        net.node.node.addr(),
        "/reports/activities.csv?group_by=planet",
        Some(&net.tokens["sch1"]),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.starts_with("invalid group_by"), "{body}");
});

/// The CSV export is the gRPC report's rows, a total line last.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn csv_export_matches_the_report() {
    let net = dataset(edufed_tests::Backend::Sqlite).await;
    let grpc = net
        .reports("centre")
        .await
        .activities_report(period())
        .await
        .unwrap()
        .into_inner();
    let (status, csv) = http_get_with(
        net.node.node.addr(),
        "/reports/activities.csv?from=2026-01-01&to=2026-02-28",
        Some(&net.tokens["centre"]),
    )
    .await;
    assert_eq!(status, 200, "{csv}");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "row,organization,organization_name,direction,kind,month,activities_held,\
         activities_cancelled,occurrences_held,occurrences_scheduled,occurrences_cancelled,hours_held,\
         designation"
    );
    assert_eq!(lines.len(), grpc.rows.len() + 2);
    assert_eq!(lines.last().copied(), Some("total,,,,,,2,1,5,1,2,9,"));
    let (status, json) = http_get_with(
        net.node.node.addr(),
        "/reports/indicators.json?from=2026-01-01&to=2026-02-28",
        Some(&net.tokens["centre"]),
    )
    .await;
    assert_eq!(status, 200);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["rows"].as_array().unwrap().len(), 24);
}

/// The console's report pages over the dataset, in a real Chromium: the
/// methodical centre's analyst picks the period, reads the indicators and
/// each report with its charts, every value named in Russian and no
/// person's name, and downloads the activities as the CSV file whose
/// total is the one above.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_console_shows_the_reports_in_a_browser() {
    let net = dataset(edufed_tests::Backend::Sqlite).await;
    let analyst = edufed_tests::console::person(
        &net.node,
        "centre",
        pb::Role::Coordinator,
        "Методист центра",
    )
    .await;
    let Some(found) = edufed_tests::console::journey(
        "reports",
        serde_json::json!({
            "link": edufed_tests::console::sign_in_link(&net.node, &analyst).await,
            "from": "2026-01-01",
            "to": "2026-02-28",
            "scope": "Организации этого узла",
            "covered": "Организации этого узла, с 1 января 2026 по 28 февраля 2026",
            "expect": {
                "indicators": [
                    "Охват сетевой формой", "Доля победителей и призёров", "15 %", "25 %",
                ],
                "activities": [
                    "Олимпиада", "Мастер-класс", "Урок в сетевой форме", "Курс",
                    "Январь 2026", "Февраль 2026", "Итого",
                ],
                "participation": [
                    "Дистанционное обучение и одарённые дети", "Инновации и эксперименты",
                ],
                "agreements": [
                    "Сетевая форма реализации программы", "Действует",
                    "Договор о сотрудничестве", "Черновик",
                ],
                "resources": [
                    "Хайтек", "Аудитория 101", "Самые загруженные", "Наименее загруженные",
                ],
            },
            "bars": { "chart-activities": 2 },
            "raw": ["olympiad", "master_class", "network_lesson", "network_form", "lab"],
            "absent": ["Иванова"],
        }),
    )
    .await
    else {
        return;
    };
    let csv = found["csv"].as_str().unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("Организация;Направление;Вид;Месяц;"),
        "{csv}"
    );
    assert_eq!(lines.last().copied(), Some("Итого;;;;2;1;5;1;2;9"));
}

both_backends!(
    facts_are_kept_until_something_changes_and_read_at_the_hour_asked,
    |backend| async move {
        let net = dataset(backend).await;
        let mut reports = net.reports("centre").await;
        let total = |r: &pb::ActivitiesReportResponse| {
            let t = r.total.clone().unwrap();
            (t.occurrences_held, t.occurrences_scheduled)
        };
        let first = reports
            .activities_report(period())
            .await
            .unwrap()
            .into_inner();
        let again = reports
            .activities_report(period())
            .await
            .unwrap()
            .into_inner();
        assert_eq!(first.rows, again.rows, "asked again, the same figures");
        // A new activity in the period shows at once.
        net.calendar("uni")
            .await
            .publish_activity(pb::PublishActivityRequest {
                publisher: "uni".into(),
                details: Some(activity(
                    "Зимняя школа",
                    pb::ActivityKind::Course,
                    pb::Direction::DistanceAndGifted,
                    "2026-02-25T10:00:00",
                    "2026-02-25T12:00:00",
                )),
                draft: false,
            })
            .await
            .unwrap();
        let published = reports
            .activities_report(period())
            .await
            .unwrap()
            .into_inner();
        let (held, scheduled) = total(&first);
        assert_eq!(total(&published), (held, scheduled + 1));
        // Time passes with nothing written: the same facts, read at the new
        // hour, count the occurrences past it as held.
        net.clock.set(tomsk(2026, 3, 2, 10, 0));
        let later = reports
            .activities_report(period())
            .await
            .unwrap()
            .into_inner();
        let (held_later, scheduled_later) = total(&later);
        assert_eq!(held_later + scheduled_later, held + scheduled + 1);
        assert!(
            held_later > held,
            "{:?} after {:?}",
            total(&later),
            total(&published)
        );
        assert!(
            later.scope.unwrap().as_of.unwrap().seconds
                > published.scope.unwrap().as_of.unwrap().seconds
        );
    }
);
