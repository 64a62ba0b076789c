//! The calendar's storage on both backends: publishing, finding, seats,
//! waitlists, and the concurrency that must not oversell an excursion.

use chrono::{Duration, NaiveDateTime, Timelike as _, Utc};
use edufed_domain::calendar::registration::{Cohort, RegistrationState, Results};
use edufed_domain::calendar::{
    Activity, ActivityDetails, ActivityKind, ActivityStatus, Audience, Direction, Error, Format,
    GradeRange, OccurrenceFilter, Override, OverrideChange, Place, Recurrence, RegistrationWindow,
    Schedule, Viewer, Visibility,
};
use std::sync::LazyLock;

use edufed_domain::calendar::decide::{Headcount, Publish, Register};
use edufed_domain::changes::Actor;
use edufed_domain::directory::{Contacts, NewOrganization, OrgKind, Slug};
use edufed_domain::ids::{ActivityId, OrgId};
use edufed_domain::page::PageSize;
use edufed_domain::policy::Principal;
use edufed_domain::time::TimeZone;
use edufed_store::{ConnectOptions, Store};
use edufed_tests::{Backend, TestDb, both_backends};

const NODE: Actor = Actor::Node;
static OPERATOR: LazyLock<Principal> = LazyLock::new(edufed_tests::operator);

fn publish(publisher: &OrgId, details: ActivityDetails, status: ActivityStatus) -> Publish {
    Publish {
        publisher: publisher.clone(),
        details,
        status,
    }
}

fn register(activity: &ActivityId, occurrence: Option<i64>, cohort: Cohort) -> Register {
    Register {
        activity: activity.clone(),
        occurrence,
        venue: None,
        cohort,
    }
}

async fn open(backend: Backend) -> (Store, TestDb) {
    let db = TestDb::new(backend).await;
    let store = Store::connect(&db.url, &ConnectOptions::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    (store, db)
}

async fn org(store: &Store, slug: &str, kind: OrgKind) -> OrgId {
    store
        .create_organization(
            NewOrganization {
                slug: Slug::parse("slug", slug).unwrap(),
                kind,
                full_name: slug.into(),
                short_name: slug.into(),
                city: "Томск".into(),
                time_zone: TimeZone::parse("time_zone", "Asia/Tomsk").unwrap(),
                contacts: Contacts::default(),
                inn: None,
            },
            &NODE,
        )
        .await
        .unwrap()
        .id
}

fn local(days_from_now: i64, hour: u32) -> NaiveDateTime {
    let day = (Utc::now() + Duration::days(days_from_now)).date_naive();
    day.and_hms_opt(hour, 0, 0).unwrap()
}

fn excursion(title: &str, capacity: u32, start: NaiveDateTime) -> ActivityDetails {
    ActivityDetails {
        title: title.into(),
        description: "Экскурсия по лабораториям и факультетам".into(),
        kind: ActivityKind::Excursion,
        direction: Some(Direction::CareerGuidance),
        subjects: vec!["физика".into()],
        audience: Audience {
            students: Some(GradeRange::new("grades", 8, 11).unwrap()),
            teachers: false,
            parents: false,
            university_students: false,
        },
        format: Format::InPerson,
        place: Place::AtPublisher,
        coordinator: None,
        partners: vec![],
        capacity: Some(capacity),
        quotas: vec![],
        registration: RegistrationWindow::default(),
        visibility: Visibility::Public,
        agreement_id: None,
        schedule: Schedule {
            time_zone: TimeZone::parse("time_zone", "Asia/Tomsk").unwrap(),
            start,
            end: start + Duration::hours(2),
            all_day: false,
            recurrence: None,
        },
        mentoring: None,
        trial: None,
        venues: Vec::new(),
    }
    .validate()
    .unwrap()
}

fn cohort(org: &OrgId, headcount: u32) -> Cohort {
    Cohort {
        org_id: org.clone(),
        grades: Some(GradeRange::new("grades", 9, 9).unwrap()),
        headcount,
        teacher: "Учитель".into(),
        teacher_contact: None,
    }
}

/// A published excursion of `publisher`'s for 45, in ten days.
async fn excursion_of(store: &Store, publisher: &OrgId) -> Activity {
    store
        .publish_activity(
            publish(
                publisher,
                excursion("Экскурсия", 45, local(10, 15)),
                ActivityStatus::Published,
            ),
            &OPERATOR,
        )
        .await
        .unwrap()
}

fn window(days: i64) -> OccurrenceFilter {
    edufed_tests::occurrences_between(Utc::now(), Utc::now() + Duration::days(days))
}

both_backends!(fifty_pupils_for_forty_five_seats, |backend| async move {
    let (store, _db) = open(backend).await;
    let tusur = org(&store, "tusur", OrgKind::University).await;
    let school = org(&store, "gym24-tomsk", OrgKind::School).await;
    let activity = excursion_of(&store, &tusur).await;
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let store = store.clone();
            let id = activity.id.clone();
            let school = school.clone();
            tokio::spawn(async move {
                store
                    .register(register(&id, None, cohort(&school, 1)), &OPERATOR, None)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut states = Vec::new();
    for task in tasks {
        states.push(task.await.unwrap().state);
    }
    let confirmed = states
        .iter()
        .filter(|s| **s == RegistrationState::Confirmed)
        .count();
    assert_eq!((confirmed, states.len() - confirmed), (45, 5));
    let seen = store.get_activity(&activity.id).await.unwrap();
    assert_eq!(seen.occurrences[0].1, 45);
    assert_eq!(seen.waitlisted, 5);

    // A withdrawal promotes the first waiting group.
    let listed = store.list_registrations(&activity.id, None).await.unwrap();
    // The waiting groups stand in line 1 to 5 in arrival order.
    let places: Vec<u32> = listed.iter().filter_map(|(_, place)| *place).collect();
    assert_eq!(places, vec![1, 2, 3, 4, 5]);
    let registrations: Vec<_> = listed.into_iter().map(|(r, _)| r).collect();
    let first_waiting = registrations
        .iter()
        .filter(|r| r.state == RegistrationState::Waitlisted)
        .min_by_key(|r| r.position)
        .unwrap()
        .id
        .clone();
    let leaving = registrations
        .iter()
        .find(|r| r.state == RegistrationState::Confirmed)
        .unwrap();
    store.withdraw(&leaving.id, &OPERATOR, None).await.unwrap();
    let (promoted, _) = store.get_registration(&first_waiting).await.unwrap();
    assert_eq!(promoted.state, RegistrationState::Confirmed);
    let seen = store.get_activity(&activity.id).await.unwrap();
    assert_eq!((seen.occurrences[0].1, seen.waitlisted), (45, 4));
});

both_backends!(finding_filters_and_pages, |backend| async move {
    let (store, _db) = open(backend).await;
    let tsu = org(&store, "tsu", OrgKind::University).await;
    let tusur = org(&store, "tusur", OrgKind::University).await;
    let mut course = excursion("Курсы подготовки к олимпиадам: Химия", 30, local(1, 10));
    course.kind = ActivityKind::OlympiadPrepCourse;
    course.direction = Some(Direction::DistanceAndGifted);
    course.subjects = vec!["химия".into()];
    course.schedule.recurrence = Some(Recurrence {
        rule: "FREQ=WEEKLY;COUNT=12".into(),
        exdates: vec![],
        rdates: vec![],
    });
    let course = store
        .publish_activity(
            publish(&tsu, course.validate().unwrap(), ActivityStatus::Published),
            &OPERATOR,
        )
        .await
        .unwrap();
    let mut young = excursion("Ёлка в лаборатории", 10, local(3, 11));
    young.audience.students = Some(GradeRange::new("grades", 1, 4).unwrap());
    store
        .publish_activity(publish(&tusur, young, ActivityStatus::Published), &OPERATOR)
        .await
        .unwrap();
    let mut draft = excursion("Черновик", 10, local(2, 9));
    draft.visibility = Visibility::Public;
    store
        .publish_activity(publish(&tusur, draft, ActivityStatus::Draft), &OPERATOR)
        .await
        .unwrap();
    let mut members_only = excursion("Для своих", 10, local(2, 12));
    members_only.visibility = Visibility::Organization;
    store
        .publish_activity(
            publish(&tusur, members_only, ActivityStatus::Published),
            &OPERATOR,
        )
        .await
        .unwrap();

    let all = |filter: OccurrenceFilter, viewer: Viewer| {
        let store = store.clone();
        async move {
            let mut titles = Vec::new();
            let mut after = None;
            loop {
                let page = store
                    .find_occurrences(
                        &filter,
                        &viewer,
                        PageSize::new("page_size", 3, 3, 10).unwrap(),
                        after.as_ref(),
                    )
                    .await
                    .unwrap();
                titles.extend(page.items.iter().map(|f| f.activity.details.title.clone()));
                match page.next {
                    Some(next) => after = Some(next),
                    None => return titles,
                }
            }
        }
    };
    // A month: the weekly course appears 5 times, in order of start.
    let month = all(window(31), Viewer::Anonymous).await;
    assert_eq!(month.iter().filter(|t| t.contains("Химия")).count(), 5);
    assert!(month.contains(&"Ёлка в лаборатории".to_owned()));
    assert!(
        !month.iter().any(|t| t == "Черновик" || t == "Для своих"),
        "{month:?}"
    );
    let tusur_view = all(window(31), Viewer::Member(vec![tusur.clone()])).await;
    assert!(
        tusur_view.contains(&"Черновик".to_owned()) && tusur_view.contains(&"Для своих".to_owned())
    );

    let grade_9 = OccurrenceFilter {
        grade: Some(9),
        ..window(31)
    };
    assert!(
        !all(grade_9, Viewer::Anonymous)
            .await
            .contains(&"Ёлка в лаборатории".to_owned())
    );
    let yo = OccurrenceFilter {
        query: Some(edufed_domain::text::fold("ЕЛКА")),
        ..window(31)
    };
    assert_eq!(all(yo, Viewer::Anonymous).await, ["Ёлка в лаборатории"]);
    let chemistry = OccurrenceFilter {
        subject: Some("химия".into()),
        kind: Some(ActivityKind::OlympiadPrepCourse),
        ..window(31)
    };
    assert_eq!(all(chemistry, Viewer::Anonymous).await.len(), 5);
    let by_publisher = OccurrenceFilter {
        publisher: Some(tsu.clone()),
        ..window(10)
    };
    assert_eq!(all(by_publisher, Viewer::Anonymous).await.len(), 2);

    // Cancelling one occurrence hides it; the rest stay.
    let first = course.occurrences().unwrap()[0].clone();
    let tz = course.details.schedule.time_zone.tz();
    store
        .modify_activity(&course.id, &OPERATOR, |a| {
            let mut next = a.clone();
            next.overrides.push(Override {
                original_start: first.original_start.with_timezone(&tz).naive_local(),
                change: OverrideChange::Cancelled,
            });
            Ok(next)
        })
        .await
        .unwrap();
    let month = all(window(31), Viewer::Anonymous).await;
    assert_eq!(month.iter().filter(|t| t.contains("Химия")).count(), 4);
    let full = OccurrenceFilter {
        min_free_seats: Some(11),
        ..window(31)
    };
    assert!(
        !all(full, Viewer::Anonymous)
            .await
            .contains(&"Ёлка в лаборатории".to_owned())
    );
});

both_backends!(registration_rules, |backend| async move {
    let (store, _db) = open(backend).await;
    // Results are recorded once the activity has started: the test moves
    // the store's clock there and back.
    let clock = edufed_domain::time::Clock::manual(Utc::now());
    let store = store.with_clock(clock.clone());
    let tusur = org(&store, "tusur", OrgKind::University).await;
    let school = org(&store, "gym24-tomsk", OrgKind::School).await;
    let mut details = excursion("Мастер-класс", 15, local(5, 15));
    details.kind = ActivityKind::Olympiad;
    let activity = store
        .publish_activity(
            publish(&tusur, details, ActivityStatus::Published),
            &OPERATOR,
        )
        .await
        .unwrap();

    // Grades outside the audience.
    let mut small = cohort(&school, 5);
    small.grades = Some(GradeRange::new("grades", 2, 3).unwrap());
    assert!(matches!(
        store
            .register(register(&activity.id, None, small), &OPERATOR, None)
            .await,
        Err(Error::RegistrationRefused(_))
    ));

    let a = store
        .register(
            register(&activity.id, None, cohort(&school, 10)),
            &OPERATOR,
            None,
        )
        .await
        .unwrap();
    let b = store
        .register(
            register(&activity.id, None, cohort(&school, 8)),
            &OPERATOR,
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        (a.state, b.state),
        (RegistrationState::Confirmed, RegistrationState::Waitlisted)
    );
    // Growing past the seats is refused; shrinking frees seats for the queue.
    assert!(
        store
            .change_headcount(&a.id, Headcount(20), &OPERATOR, None)
            .await
            .is_err()
    );
    store
        .change_headcount(&a.id, Headcount(7), &OPERATOR, None)
        .await
        .unwrap();
    assert_eq!(
        store.get_registration(&b.id).await.unwrap().0.state,
        RegistrationState::Confirmed
    );

    let results = Results {
        attended: 7,
        participants: 7,
        prize_winners: 2,
        winners: 1,
    };
    clock.advance(Duration::days(6));
    let recorded = store
        .record_results(&a.id, results, &OPERATOR)
        .await
        .unwrap();
    assert_eq!(recorded.results, Some(results));
    let too_many = Results {
        winners: 9,
        ..results
    };
    assert!(matches!(
        store.record_results(&a.id, too_many, &OPERATOR).await,
        Err(Error::Invalid(_))
    ));
    clock.set(Utc::now());

    // A closed window refuses; a cancelled activity takes no one.
    store
        .modify_activity(&activity.id, &OPERATOR, |current| {
            let mut next = current.clone();
            next.details.registration.closes_at = Some(Utc::now() - Duration::hours(1));
            next.details.registration.opens_at = Some(Utc::now() - Duration::days(1));
            Ok(next)
        })
        .await
        .unwrap();
    assert!(matches!(
        store
            .register(
                register(&activity.id, None, cohort(&school, 1)),
                &OPERATOR,
                None
            )
            .await,
        Err(Error::RegistrationClosed(_))
    ));
    store
        .modify_activity(&activity.id, &OPERATOR, |current| {
            let mut next = current.clone();
            next.status = ActivityStatus::Cancelled;
            Ok(next)
        })
        .await
        .unwrap();
    assert!(matches!(
        store
            .register(
                register(&activity.id, None, cohort(&school, 1)),
                &OPERATOR,
                None
            )
            .await,
        Err(Error::WrongStatus { .. })
    ));
});

both_backends!(
    impossible_or_misdirected_registrations_are_refused,
    |backend| async move {
        let (store, _db) = open(backend).await;
        let tusur = org(&store, "tusur", OrgKind::University).await;
        let school = org(&store, "gym24-tomsk", OrgKind::School).await;
        let activity = excursion_of(&store, &tusur).await;
        // A group larger than the excursion is refused, not queued (it would
        // hold up everyone behind it forever).
        let err = store
            .register(
                register(&activity.id, None, cohort(&school, 46)),
                &OPERATOR,
                None,
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::RegistrationRefused(ref why) if why.contains("capacity")),
            "{err:?}"
        );
        let first = store
            .register(
                register(&activity.id, None, cohort(&school, 40)),
                &OPERATOR,
                None,
            )
            .await
            .unwrap();
        assert_eq!(first.state, RegistrationState::Confirmed);
        // The capacity cannot drop below the seats already confirmed.
        let err = store
            .modify_activity(&activity.id, &OPERATOR, |a| {
                let mut next = a.clone();
                next.details.capacity = Some(30);
                Ok(next)
            })
            .await
            .unwrap_err();
        assert!(matches!(err, Error::RegistrationRefused(_)), "{err:?}");
        // Growing is refused past a waiting group; shrinking promotes it.
        let waiting = store
            .register(
                register(&activity.id, None, cohort(&school, 10)),
                &OPERATOR,
                None,
            )
            .await
            .unwrap();
        assert_eq!(waiting.state, RegistrationState::Waitlisted);
        assert!(
            store
                .change_headcount(&first.id, Headcount(42), &OPERATOR, None)
                .await
                .is_err()
        );
        store
            .change_headcount(&first.id, Headcount(35), &OPERATOR, None)
            .await
            .unwrap();
        assert_eq!(
            store.get_registration(&waiting.id).await.unwrap().0.state,
            RegistrationState::Confirmed
        );

        // An activity for teachers takes no student cohorts; an
        // organization-only one takes only its own.
        let mut for_teachers = excursion("Стажировка", 20, local(12, 10));
        for_teachers.audience = Audience {
            students: None,
            teachers: true,
            parents: false,
            university_students: false,
        };
        let for_teachers = store
            .publish_activity(
                publish(&tusur, for_teachers, ActivityStatus::Published),
                &OPERATOR,
            )
            .await
            .unwrap();
        assert!(matches!(
            store
                .register(
                    register(&for_teachers.id, None, cohort(&school, 5)),
                    &OPERATOR,
                    None
                )
                .await,
            Err(Error::RegistrationRefused(_))
        ));
        let mut own = excursion("Для своих", 20, local(12, 12));
        own.visibility = Visibility::Organization;
        let own = store
            .publish_activity(publish(&tusur, own, ActivityStatus::Published), &OPERATOR)
            .await
            .unwrap();
        assert!(matches!(
            store
                .register(register(&own.id, None, cohort(&school, 5)), &OPERATOR, None)
                .await,
            Err(Error::RegistrationRefused(_))
        ));
    }
);

both_backends!(
    a_long_occurrence_started_earlier_is_in_the_window,
    |backend| async move {
        let (store, _db) = open(backend).await;
        let gym = org(&store, "gym24-tomsk", OrgKind::School).await;
        // A month-long distance game that began ten days ago.
        let mut game = excursion("Страны и континенты", 100, local(-10, 0));
        game.schedule.all_day = true;
        game.schedule.end = game.schedule.start + Duration::days(31);
        let game = store
            .publish_activity(
                publish(&gym, game.validate().unwrap(), ActivityStatus::Published),
                &OPERATOR,
            )
            .await
            .unwrap();
        // A lesson that began an hour before the window and runs into it.
        let now = Utc::now();
        let tz = TimeZone::parse("time_zone", "Asia/Tomsk").unwrap().tz();
        let mut lesson = excursion(
            "Урок",
            20,
            (now - Duration::hours(1)).with_timezone(&tz).naive_local(),
        );
        lesson.schedule.start = lesson
            .schedule
            .start
            .with_nanosecond(0)
            .unwrap()
            .with_second(0)
            .unwrap();
        lesson.schedule.end = lesson.schedule.start + Duration::hours(3);
        store
            .publish_activity(
                publish(&gym, lesson.validate().unwrap(), ActivityStatus::Published),
                &OPERATOR,
            )
            .await
            .unwrap();
        let found = store
            .find_occurrences(
                &window(3),
                &Viewer::Anonymous,
                PageSize::new("page_size", 1, 1, 10).unwrap(),
                None,
            )
            .await
            .unwrap();
        assert_eq!(
            found.items[0].activity.id, game.id,
            "the earliest start comes first"
        );
        let next = store
            .find_occurrences(
                &window(3),
                &Viewer::Anonymous,
                PageSize::new("page_size", 1, 1, 10).unwrap(),
                found.next.as_ref(),
            )
            .await
            .unwrap();
        assert_eq!(next.items[0].activity.details.title, "Урок");
        assert!(next.next.is_none());
    }
);

both_backends!(
    an_unknown_organization_is_named_as_one,
    |backend| async move {
        let (store, _db) = open(backend).await;
        let tusur = org(&store, "tusur", OrgKind::University).await;
        let stranger = OrgId::generate();
        let course = excursion_of(&store, &tusur).await;
        let err = store
            .register(
                register(&course.id, None, cohort(&stranger, 5)),
                &OPERATOR,
                None,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, Error::OrganizationNotFound(_)), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!("organization {stranger} is not known on this node")
        );
        let err = store
            .publish_activity(
                publish(
                    &stranger,
                    excursion("Экскурсия", 45, local(10, 15)),
                    ActivityStatus::Published,
                ),
                &OPERATOR,
            )
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("organization {stranger} is not known on this node")
        );
    }
);
