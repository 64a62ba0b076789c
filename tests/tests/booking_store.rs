//! Booking on both backends: the no-overlap invariant under concurrency,
//! school-year series, skip_conflicts, approvals and holds.

use chrono::{DateTime, Datelike as _, Duration, NaiveTime, Utc, Weekday};
use std::sync::LazyLock;

use edufed_domain::booking::{
    Access, ApprovalPolicy, BookingRules, Cancel, CancelScope, Decide, Error, OccurrenceState,
    Request, Resource, ResourceDetails, ResourceKind, UpdateResource, Verdict, WeeklyHours,
};
use edufed_domain::calendar::{Recurrence, Schedule};
use edufed_domain::changes::Actor;
use edufed_domain::directory::{Contacts, NewOrganization, OrgKind, Slug};
use edufed_domain::ids::{BookingId, OrgId, ResourceId};
use edufed_domain::policy::Principal;
use edufed_domain::time::{Clock, TimeZone};
use edufed_store::{ConnectOptions, Store};
use edufed_tests::{Backend, TestDb, both_backends};
use rand::{Rng as _, SeedableRng as _};

const NODE: Actor = Actor::Node;
static OPERATOR: LazyLock<Principal> = LazyLock::new(edufed_tests::operator);

async fn open(backend: Backend) -> (Store, TestDb) {
    let db = TestDb::new(backend).await;
    let store = Store::connect(&db.url, &ConnectOptions::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    (store, db)
}

async fn org(store: &Store, slug: &str) -> OrgId {
    store
        .create_organization(
            NewOrganization {
                slug: Slug::parse("slug", slug).unwrap(),
                kind: OrgKind::Technopark,
                full_name: slug.into(),
                short_name: slug.into(),
                city: "Магнитогорск".into(),
                time_zone: TimeZone::parse("tz", "Asia/Yekaterinburg").unwrap(),
                contacts: Contacts::default(),
                inn: None,
            },
            &NODE,
        )
        .await
        .unwrap()
        .id
}

fn lab(hours: bool, buffer: u32) -> ResourceDetails {
    let weekdays = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ];
    ResourceDetails {
        kind: ResourceKind::Lab,
        name: "IT-квантум".into(),
        capacity: Some(14),
        features: vec!["веб-разработка".into()],
        time_zone: TimeZone::parse("tz", "Asia/Yekaterinburg").unwrap(),
        hours: if hours {
            weekdays
                .into_iter()
                .map(|weekday| WeeklyHours {
                    weekday,
                    opens: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
                    closes: NaiveTime::from_hms_opt(18, 0, 0).unwrap(),
                })
                .collect()
        } else {
            vec![]
        },
        rules: BookingRules {
            min_minutes: 30,
            buffer_minutes: buffer,
            ..BookingRules::default()
        },
        approval: ApprovalPolicy::Automatic,
        access: Access::Network,
    }
    .validate()
    .unwrap()
}

/// A request for `times` (UTC; the first is the start, the others extra
/// dates of the same length), local to the lab's zone as a client sends it.
/// The lab with requests from other organizations waiting for approval.
fn approval_required(mut details: ResourceDetails) -> ResourceDetails {
    details.approval = ApprovalPolicy::ApprovalRequired;
    details
}

fn request(
    resource: &ResourceId,
    org: &OrgId,
    times: Vec<(DateTime<Utc>, DateTime<Utc>)>,
) -> Request {
    let zone = TimeZone::parse("tz", "Asia/Yekaterinburg").unwrap().tz();
    let local = |t: DateTime<Utc>| t.with_timezone(&zone).naive_local();
    let (start, end) = times[0];
    Request {
        recurrence: (times.len() > 1).then(|| Recurrence {
            rule: "FREQ=DAILY;COUNT=1".into(),
            exdates: vec![],
            rdates: times[1..].iter().map(|t| local(t.0)).collect(),
        }),
        ..edufed_tests::lesson_request(resource, org, local(start), local(end))
    }
}

/// The technopark and its lab with `details`.
async fn kvantorium_lab(store: &Store, details: ResourceDetails) -> (OrgId, Resource) {
    let owner = org(store, "kvantorium").await;
    let resource = store.create_resource(&owner, details, &NODE).await.unwrap();
    (owner, resource)
}

/// `hour`:00 UTC, `days` from today.
fn days_ahead(days: i64, hour: u32) -> DateTime<Utc> {
    (Utc::now() + Duration::days(days))
        .date_naive()
        .and_hms_opt(hour, 0, 0)
        .unwrap()
        .and_utc()
}

/// One hour from `start`.
fn an_hour(start: DateTime<Utc>) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    vec![(start, start + Duration::hours(1))]
}

fn approve(id: &BookingId) -> Decide {
    Decide {
        booking: id.clone(),
        occurrence: None,
        verdict: Verdict::Approve {
            comment: String::new(),
        },
    }
}

fn cancel(id: &BookingId, scope: CancelScope, comment: &str) -> Cancel {
    Cancel {
        booking: id.clone(),
        scope,
        comment: comment.into(),
    }
}

both_backends!(
    no_two_confirmed_occurrences_ever_overlap,
    |backend| async move {
        let (store, db) = open(backend).await;
        let (owner, resource) = kvantorium_lab(&store, approval_required(lab(false, 10))).await;
        let school = org(&store, "mgml").await;
        let base = days_ahead(2, 8);
        let clients: Vec<_> = (0..16u64)
            .map(|client| {
                let store = store.clone();
                let resource = resource.id.clone();
                let owner = owner.clone();
                let school = school.clone();
                tokio::spawn(async move {
                    let mut rng = rand::rngs::StdRng::seed_from_u64(client);
                    let mut pending = Vec::new();
                    for _ in 0..20 {
                        let start = base + Duration::minutes(15 * rng.gen_range(0..64));
                        let end = start + Duration::minutes(15 * rng.gen_range(2..9));
                        // Now and then a two-lesson series, which may overlap itself.
                        let mut times = vec![(start, end)];
                        if rng.gen_bool(0.3) {
                            let gap = Duration::minutes(15 * rng.gen_range(0..8));
                            times.push((end + gap, end + gap + (end - start)));
                        }
                        // The owner's requests are confirmed at once; the
                        // school's wait for approval.
                        let pending_request = rng.gen_bool(0.5);
                        let requester = if pending_request { &school } else { &owner };
                        match store
                            .request_booking(request(&resource, requester, times), &OPERATOR, None)
                            .await
                        {
                            Ok(outcome) if pending_request => pending.push(outcome.booking.id),
                            Ok(_)
                            | Err(Error::Collides { .. })
                            | Err(Error::Conflict(_))
                            | Err(Error::Rule { .. }) => {}
                            Err(other) => panic!("unexpected {other:?}"),
                        }
                        // Random confirmations of pending requests.
                        if rng.gen_bool(0.3) && !pending.is_empty() {
                            let id = pending.swap_remove(rng.gen_range(0..pending.len()));
                            match store.decide_booking(approve(&id), &OPERATOR).await {
                                Ok(_) | Err(Error::Conflict(_)) | Err(Error::WrongState(_)) => {}
                                Err(other) => panic!("unexpected {other:?}"),
                            }
                        }
                    }
                })
            })
            .collect();
        for client in clients {
            client.await.unwrap();
        }
        // Checked with SQL, beside the store: no two blocking occurrences overlap,
        // buffers included.
        let overlap_sql = "SELECT COUNT(*) FROM booking_occurrences a JOIN booking_occurrences b \
         ON a.resource_id = b.resource_id \
         AND (a.booking_id < b.booking_id OR (a.booking_id = b.booking_id AND a.start_at < b.start_at)) \
         WHERE a.state IN ('confirmed', 'held') AND b.state IN ('confirmed', 'held') \
         AND a.start_at < b.block_end AND b.start_at < a.block_end";
        let count_sql = "SELECT COUNT(*) FROM booking_occurrences WHERE state = 'confirmed'";
        use sqlx::Connection as _;
        let (overlaps, confirmed): (i64, i64) = match backend {
            Backend::Sqlite => {
                let mut conn = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
                (
                    sqlx::query_scalar(overlap_sql)
                        .fetch_one(&mut conn)
                        .await
                        .unwrap(),
                    sqlx::query_scalar(count_sql)
                        .fetch_one(&mut conn)
                        .await
                        .unwrap(),
                )
            }
            Backend::Postgres => {
                let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
                (
                    sqlx::query_scalar(overlap_sql)
                        .fetch_one(&mut conn)
                        .await
                        .unwrap(),
                    sqlx::query_scalar(count_sql)
                        .fetch_one(&mut conn)
                        .await
                        .unwrap(),
                )
            }
        };
        assert_eq!(overlaps, 0);
        assert!(confirmed >= 5, "the hammer booked something ({confirmed})");
    }
);

fn school_year(resource_zone: TimeZone) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    // Tuesdays and Thursdays 14:00–15:30 for a school year (39 weeks) from the next Tuesday
    // a month ahead, except two holiday weeks.
    let mut day = (Utc::now() + Duration::days(30)).date_naive();
    while day.weekday() != Weekday::Tue {
        day = day.succ_opt().unwrap();
    }
    let start = day.and_hms_opt(14, 0, 0).unwrap();
    let holidays: Vec<_> = [10, 11]
        .iter()
        .flat_map(|w| {
            [
                start + Duration::weeks(*w),
                start + Duration::weeks(*w) + Duration::days(2),
            ]
        })
        .collect();
    let schedule = Schedule {
        time_zone: resource_zone,
        start,
        end: start + Duration::minutes(90),
        all_day: false,
        recurrence: Some(Recurrence {
            rule: "FREQ=WEEKLY;BYDAY=TU,TH;COUNT=78".into(),
            exdates: holidays,
            rdates: vec![],
        }),
    }
    .validate()
    .unwrap();
    schedule
        .expand(&[])
        .unwrap()
        .iter()
        .map(|o| (o.start, o.end))
        .collect()
}

both_backends!(
    a_school_year_in_one_request_and_around_a_conflict,
    |backend| async move {
        let (store, _db) = open(backend).await;
        let owner = org(&store, "kvantorium").await;
        let school = org(&store, "mgml").await;
        let other = org(&store, "school21-mgn").await;
        let details = lab(true, 15);
        let zone = details.time_zone;
        let resource = store.create_resource(&owner, details, &NODE).await.unwrap();
        let times = school_year(zone);
        assert_eq!(
            times.len(),
            74,
            "a school year of 39 weeks, less two holiday weeks"
        );

        // Another school already has one Thursday.
        let taken = times[5];
        let first = store
            .request_booking(request(&resource.id, &other, vec![taken]), &OPERATOR, None)
            .await
            .unwrap();
        // All or nothing: refused, naming the collision.
        let err = store
            .request_booking(
                request(&resource.id, &school, times.clone()),
                &OPERATOR,
                None,
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::Collides { ref detail, ref starts }
                if detail.contains(first.booking.id.as_str()) && starts == &[taken.0]),
            "{err:?}"
        );
        // With skip_conflicts: the rest is booked and the conflict reported.
        let mut around = request(&resource.id, &school, times.clone());
        around.skip_conflicts = true;
        let outcome = store
            .request_booking(around, &OPERATOR, None)
            .await
            .unwrap();
        assert_eq!(outcome.occurrences.len(), 73);
        assert_eq!(outcome.skipped.len(), 1);
        assert_eq!(outcome.skipped[0].with, first.booking.id);
        assert_eq!(outcome.skipped[0].start, taken.0);

        // Cancel one, then this and the following ones.
        let id = outcome.booking.id.clone();
        let cancelled = store
            .cancel_booking(
                cancel(&id, CancelScope::One(times[0].0), ""),
                &OPERATOR,
                None,
            )
            .await
            .unwrap();
        assert_eq!(
            cancelled
                .occurrences
                .iter()
                .filter(|o| o.state == OccurrenceState::Cancelled)
                .count(),
            1
        );
        let cancelled = store
            .cancel_booking(
                cancel(&id, CancelScope::FromOn(times[50].0), "конец года"),
                &OPERATOR,
                None,
            )
            .await
            .unwrap();
        assert_eq!(
            cancelled
                .occurrences
                .iter()
                .filter(|o| o.state == OccurrenceState::Cancelled)
                .count(),
            25,
            "the 24 from the 51st on, and the one cancelled before"
        );
        // The freed time books again.
        store
            .request_booking(
                request(&resource.id, &other, vec![times[0]]),
                &OPERATOR,
                None,
            )
            .await
            .unwrap();
    }
);

both_backends!(rules_are_named, |backend| async move {
    let (store, _db) = open(backend).await;
    let owner = org(&store, "kvantorium").await;
    let mut details = lab(true, 0);
    let zone = details.time_zone;
    details.rules.min_minutes = 45;
    let resource = store.create_resource(&owner, details, &NODE).await.unwrap();
    let times = school_year(zone);
    let (start, end) = times[0];
    let rule = |result: Result<_, Error>| match result {
        Err(Error::Rule { rule, .. }) => rule.to_string(),
        other => format!("{other:?}"),
    };
    let evening = (start + Duration::hours(4), end + Duration::hours(4));
    assert_eq!(
        rule(
            store
                .request_booking(
                    request(&resource.id, &owner, vec![evening]),
                    &OPERATOR,
                    None
                )
                .await
        ),
        "bookable_hours"
    );
    let short = (start, start + Duration::minutes(30));
    assert_eq!(
        rule(
            store
                .request_booking(request(&resource.id, &owner, vec![short]), &OPERATOR, None)
                .await
        ),
        "min_duration"
    );
    let mut crowd = request(&resource.id, &owner, vec![(start, end)]);
    crowd.headcount = 30;
    assert_eq!(
        rule(store.request_booking(crowd, &OPERATOR, None).await),
        "capacity"
    );
});

both_backends!(approvals_and_holds, |backend| async move {
    let (store, _db) = open(backend).await;
    // Holds lapse on the store's clock, which the test moves.
    let clock = Clock::manual(Utc::now());
    let store = store.with_clock(clock.clone());
    let (owner, resource) = kvantorium_lab(&store, approval_required(lab(false, 0))).await;
    let a = org(&store, "mgml").await;
    let b = org(&store, "school21-mgn").await;
    let start = days_ahead(3, 10);
    let slot = (start, start + Duration::hours(1));
    // Pending requests may overlap; confirming one rejects the other with a reason.
    let first = store
        .request_booking(request(&resource.id, &a, vec![slot]), &OPERATOR, None)
        .await
        .unwrap();
    let second = store
        .request_booking(request(&resource.id, &b, vec![slot]), &OPERATOR, None)
        .await
        .unwrap();
    store
        .decide_booking(approve(&first.booking.id), &OPERATOR)
        .await
        .unwrap();
    let occurrences = store
        .get_booking(&second.booking.id, &OPERATOR)
        .await
        .unwrap()
        .occurrences;
    assert_eq!(occurrences[0].state, OccurrenceState::Rejected);
    assert!(
        occurrences[0]
            .note
            .as_deref()
            .unwrap_or_default()
            .contains(first.booking.id.as_str())
    );
    assert!(matches!(
        store
            .decide_booking(approve(&second.booking.id), &OPERATOR)
            .await,
        Err(Error::WrongState(_))
    ));
    let rejected = store
        .get_booking(&second.booking.id, &OPERATOR)
        .await
        .unwrap()
        .booking;
    assert_eq!(
        rejected.version, 2,
        "the rejected request changed, so its requester sees it in the feed"
    );

    // A series overlapping itself is refused, naming the rule.
    let own = (slot.0 + Duration::hours(5), slot.1 + Duration::hours(5));
    let overlapping = vec![
        own,
        (own.0 + Duration::minutes(30), own.1 + Duration::minutes(30)),
    ];
    assert!(matches!(
        store.request_booking(request(&resource.id, &a, overlapping), &OPERATOR, None).await,
        Err(Error::Rule { ref rule, .. }) if rule == "series_overlap"
    ));

    // A hold (the owner's: a hold never jumps an approval) blocks until it
    // lapses, even a request waiting for approval.
    let held = |times| {
        let mut hold = request(&resource.id, &owner, times);
        hold.hold = Some(Duration::minutes(10));
        hold
    };
    let later = (slot.0 + Duration::hours(2), slot.1 + Duration::hours(2));
    store
        .request_booking(held(vec![later]), &OPERATOR, None)
        .await
        .unwrap();
    assert!(matches!(
        store
            .request_booking(request(&resource.id, &b, vec![later]), &OPERATOR, None)
            .await,
        Err(Error::Collides { .. })
    ));
    let even_later = (later.0 + Duration::hours(2), later.1 + Duration::hours(2));
    store
        .request_booking(held(vec![even_later]), &OPERATOR, None)
        .await
        .unwrap();
    clock.advance(Duration::minutes(11));
    // A lapsed hold is not busy time, even before anything sweeps it.
    let resource_now = store.get_resource(&resource.id).await.unwrap();
    let busy = store
        .free_busy(
            std::slice::from_ref(&resource_now),
            even_later.0 - Duration::hours(1),
            even_later.1 + Duration::hours(1),
        )
        .await
        .unwrap();
    assert!(busy[0].1.is_empty(), "{busy:?}");
    store
        .request_booking(request(&resource.id, &b, vec![even_later]), &OPERATOR, None)
        .await
        .expect("a lapsed hold frees its time");
});

both_backends!(
    approval_checks_the_rules_as_they_are_now,
    |backend| async move {
        let (store, _db) = open(backend).await;
        let (_, resource) = kvantorium_lab(&store, approval_required(lab(false, 0))).await;
        let school = org(&store, "mgml").await;
        let start = days_ahead(5, 10);
        let pending = store
            .request_booking(
                request(&resource.id, &school, an_hour(start)),
                &OPERATOR,
                None,
            )
            .await
            .unwrap();
        // The owner closes that day for maintenance; the pending request is reported.
        let day = start.date_naive();
        let (_, affected) = store
            .set_blackouts(
                &resource.id,
                None,
                vec![edufed_domain::booking::Blackout {
                    start: day.and_hms_opt(0, 0, 0).unwrap(),
                    end: day.succ_opt().unwrap().and_hms_opt(0, 0, 0).unwrap(),
                    reason: "профилактика".into(),
                    rule: None,
                }],
                &OPERATOR,
            )
            .await
            .unwrap();
        assert_eq!(affected.len(), 1);
        // Approving it now is refused by the blackout.
        assert!(matches!(
            store.decide_booking(approve(&pending.booking.id), &OPERATOR).await,
            Err(Error::Rule { ref rule, .. }) if rule == "blackout"
        ));
    }
);

both_backends!(
    a_new_buffer_applies_to_bookings_already_made,
    |backend| async move {
        let (store, _db) = open(backend).await;
        let (owner, resource) = kvantorium_lab(&store, lab(false, 0)).await;

        let start = days_ahead(4, 10);
        let first = (start, start + Duration::hours(1));
        let second = (
            first.1 + Duration::minutes(10),
            first.1 + Duration::minutes(70),
        );
        for slot in [first, second] {
            store
                .request_booking(request(&resource.id, &owner, vec![slot]), &OPERATOR, None)
                .await
                .unwrap();
        }
        let with_buffer = |minutes| {
            let mut details = lab(false, minutes);
            details.rules.min_minutes = 30;
            details
        };
        // Fifteen minutes would make the two overlap: refused.
        let err = store
            .update_resource(
                UpdateResource {
                    id: resource.id.clone(),
                    expected_version: None,
                    details: with_buffer(15),
                    keep_zone: false,
                },
                &OPERATOR,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Conflict(_)), "{err:?}");
        // Five fits; the stored busy time grows with it.
        let updated = store
            .update_resource(
                UpdateResource {
                    id: resource.id.clone(),
                    expected_version: None,
                    details: with_buffer(5),
                    keep_zone: false,
                },
                &OPERATOR,
            )
            .await
            .unwrap();
        let busy = store
            .free_busy(
                std::slice::from_ref(&updated),
                start,
                start + Duration::hours(4),
            )
            .await
            .unwrap();
        assert_eq!(busy[0].1[0].end, first.1 + Duration::minutes(5));
        // And a request into the new buffer collides.
        let squeezed = (
            second.1 + Duration::minutes(2),
            second.1 + Duration::minutes(62),
        );
        assert!(matches!(
            store
                .request_booking(
                    request(&resource.id, &owner, vec![squeezed]),
                    &OPERATOR,
                    None
                )
                .await,
            Err(Error::Collides { .. })
        ));
    }
);

/// The change-log sequence of the entry with this kind, id and version.
async fn logged(backend: Backend, url: &str, kind: &str, id: &str, version: i64) -> i64 {
    use sqlx::Connection as _;
    let sql =
        "SELECT seq FROM change_log WHERE entity_kind = $1 AND entity_id = $2 AND version = $3";
    match backend {
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::query_scalar(sql)
                .bind(kind)
                .bind(id)
                .bind(version)
                .fetch_one(&mut conn)
                .await
                .unwrap()
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query_scalar(sql)
                .bind(kind)
                .bind(id)
                .bind(version)
                .fetch_one(&mut conn)
                .await
                .unwrap()
        }
    }
}

both_backends!(
    access_is_decided_on_the_state_under_the_lock,
    |backend| async move {
        // A school's request races the owner closing the lab to outsiders.
        // Both take the lab's lock, so the request is decided either before
        // the close (and committed before it) or after (and refused): never
        // on an access read before the lock and no longer true at commit.
        let (store, db) = open(backend).await;
        let (_, resource) = kvantorium_lab(&store, lab(false, 0)).await;
        let school = org(&store, "mgml").await;
        let base = days_ahead(3, 6);
        let with_access = |access| UpdateResource {
            id: resource.id.clone(),
            expected_version: None,
            details: ResourceDetails {
                access,
                ..lab(false, 0)
            },
            keep_zone: false,
        };
        let (mut admitted, mut refused) = (0, 0);
        for round in 0..24 {
            store
                .update_resource(with_access(Access::Network), &OPERATOR)
                .await
                .unwrap();
            let start = base + Duration::minutes(45 * round);
            let slot = vec![(start, start + Duration::minutes(30))];
            let (booked, closed) = tokio::join!(
                store.request_booking(request(&resource.id, &school, slot), &OPERATOR, None),
                store.update_resource(with_access(Access::OwnOrganization), &OPERATOR),
            );
            let closed = closed.unwrap();
            match booked {
                Ok(outcome) => {
                    admitted += 1;
                    let booking =
                        logged(backend, &db.url, "booking", outcome.booking.id.as_str(), 1).await;
                    let close = logged(
                        backend,
                        &db.url,
                        "resource",
                        closed.id.as_str(),
                        closed.version as i64,
                    )
                    .await;
                    assert!(
                        booking < close,
                        "round {round}: the booking (entry {booking}) committed after the lab closed (entry {close})"
                    );
                }
                Err(Error::Rule { rule, .. }) if rule == "access" => refused += 1,
                Err(other) => panic!("round {round}: {other:?}"),
            }
        }
        assert_eq!(admitted + refused, 24);
    }
);

both_backends!(
    a_request_waiting_for_the_lock_is_decided_on_what_it_then_reads,
    |backend| async move {
        let (store, db) = open(backend).await;
        if backend != Backend::Postgres {
            // SQLite's one writer connection serializes the store's writes
            // in the process: the race above is its test.
            return;
        }
        let (_, resource) = kvantorium_lab(&store, lab(false, 0)).await;
        let school = org(&store, "mgml").await;
        // Another transaction holds the lab's row while it closes the lab.
        use sqlx::Connection as _;
        let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
        let mut closing = conn.begin().await.unwrap();
        sqlx::query("SELECT id FROM resources WHERE id = $1 FOR UPDATE")
            .bind(resource.id.as_str())
            .execute(&mut *closing)
            .await
            .unwrap();
        let start = days_ahead(3, 10);
        let request = tokio::spawn({
            let store = store.clone();
            let request = request(&resource.id, &school, an_hour(start));
            async move { store.request_booking(request, &OPERATOR, None).await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(
            !request.is_finished(),
            "the request waits for the lab's lock"
        );
        let closed = serde_json::to_string(&ResourceDetails {
            access: Access::OwnOrganization,
            ..lab(false, 0)
        })
        .unwrap();
        sqlx::query("UPDATE resources SET details = $1, access = 'own_organization' WHERE id = $2")
            .bind(closed)
            .bind(resource.id.as_str())
            .execute(&mut *closing)
            .await
            .unwrap();
        closing.commit().await.unwrap();
        match request.await.unwrap() {
            Err(Error::Rule { rule, .. }) => assert_eq!(rule, "access"),
            other => panic!("decided on the lab as it was before the lock: {other:?}"),
        }
    }
);

both_backends!(
    an_unknown_requester_is_named_as_an_organization,
    |backend| async move {
        let (store, _db) = open(backend).await;
        let (_, resource) = kvantorium_lab(&store, lab(false, 0)).await;

        let stranger = OrgId::generate();
        let start = days_ahead(3, 10);
        let err = store
            .request_booking(
                request(&resource.id, &stranger, an_hour(start)),
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
            .create_resource(&stranger, lab(false, 0), &NODE)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("organization {stranger} is not known on this node")
        );
    }
);
