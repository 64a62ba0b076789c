//! The Booking service end to end: a technopark's lab, a school's series of
//! lessons, the owner's approval, and refusals that name their rule.

use chrono::{Datelike as _, Duration, Utc, Weekday};
use edufed_proto::v1 as pb;
use edufed_tests::{Bearer, TestNode, both_backends, org_request};
use tonic::Code;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic_types::StatusExt as _;

type Client = pb::booking_client::BookingClient<InterceptedService<Channel, Bearer>>;

async fn client(node: &TestNode, token: &str) -> Client {
    pb::booking_client::BookingClient::with_interceptor(node.channel().await, Bearer::new(token))
}

fn lab(access: pb::Access) -> pb::Resource {
    pb::Resource {
        kind: pb::ResourceKind::Lab.into(),
        name: "IT-квантум".into(),
        capacity: 14,
        features: vec!["веб-разработка".into()],
        hours: (1..=5)
            .map(|weekday| pb::WeeklyHours {
                weekday,
                opens: "09:00".into(),
                closes: "18:00".into(),
            })
            .collect(),
        rules: Some(pb::BookingRules {
            min_minutes: 45,
            buffer_minutes: 15,
            ..Default::default()
        }),
        approval: pb::ApprovalPolicy::ApprovalRequired.into(),
        access: access.into(),
        ..Default::default()
    }
}

fn next_tuesday() -> chrono::NaiveDate {
    let mut day = (Utc::now() + Duration::days(14)).date_naive();
    while day.weekday() != Weekday::Tue {
        day = day.succ_opt().unwrap();
    }
    day
}

both_backends!(a_school_books_a_technopark_lab, |backend| async move {
    let node = TestNode::start(backend).await;
    let mut op = node.operator().await;
    op.create_organization(pb::CreateOrganizationRequest {
        kind: pb::OrganizationKind::Technopark.into(),
        ..org_request("kvantorium")
    })
    .await
    .unwrap();
    op.create_organization(org_request("mgml")).await.unwrap();
    let coordinator = node.member_token("kvantorium", pb::Role::Coordinator).await;
    let teacher = node.member_token("mgml", pb::Role::Teacher).await;
    let mut owner = client(&node, &coordinator).await;
    let mut school = client(&node, &teacher).await;

    let bad = owner
        .create_resource(pb::CreateResourceRequest {
            owner: "kvantorium".into(),
            resource: Some(pb::Resource {
                kind: 0,
                ..lab(pb::Access::Network)
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(
        bad.get_error_details()
            .bad_request()
            .unwrap()
            .field_violations[0]
            .field,
        "resource.kind"
    );
    let resource = owner
        .create_resource(pb::CreateResourceRequest {
            owner: "kvantorium".into(),
            resource: Some(lab(pb::Access::Network)),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        resource.time_zone, "Asia/Tomsk",
        "the owner's zone by default"
    );
    let private = owner
        .create_resource(pb::CreateResourceRequest {
            owner: "kvantorium".into(),
            resource: Some(pb::Resource {
                name: "Склад".into(),
                ..lab(pb::Access::OwnOrganization)
            }),
        })
        .await
        .unwrap()
        .into_inner();
    let seen = school
        .list_resources(pb::ListResourcesRequest {
            owner: "kvantorium".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(seen.resources.len(), 1, "the private one is hidden");

    let day = next_tuesday();
    let series = |start: &str, end: &str| pb::RequestBookingRequest {
        resource_id: resource.id.clone(),
        requester: "mgml".into(),
        start: format!("{day}T{start}"),
        end: format!("{day}T{end}"),
        recurrence: Some(pb::BookingRecurrence {
            rule: "FREQ=WEEKLY;BYDAY=TU,TH;COUNT=20".into(),
            exdates: vec![],
        }),
        purpose: "Технология, 7 класс".into(),
        headcount: 12,
        ..Default::default()
    };
    // Refusals name the rule.
    let refused = |status: tonic::Status| {
        assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
        status.message().to_owned()
    };
    assert!(
        refused(
            school
                .request_booking(series("17:30", "19:00"))
                .await
                .unwrap_err()
        )
        .contains("bookable_hours")
    );
    assert!(
        refused(
            school
                .request_booking(series("14:00", "14:30"))
                .await
                .unwrap_err()
        )
        .contains("min_duration")
    );
    let crowd = pb::RequestBookingRequest {
        headcount: 20,
        ..series("14:00", "15:30")
    };
    assert!(refused(school.request_booking(crowd).await.unwrap_err()).contains("capacity"));
    let hidden = pb::RequestBookingRequest {
        resource_id: private.id.clone(),
        ..series("14:00", "15:30")
    };
    assert!(refused(school.request_booking(hidden).await.unwrap_err()).contains("access"));

    // A series in one request, pending the owner's approval.
    let requested = school
        .request_booking(series("14:00", "15:30"))
        .await
        .unwrap()
        .into_inner();
    let booking = requested.booking.unwrap();
    assert_eq!(booking.occurrences.len(), 20);
    assert!(
        booking
            .occurrences
            .iter()
            .all(|o| o.state == pb::OccurrenceState::Pending as i32)
    );
    let decide = pb::DecideBookingRequest {
        booking_id: booking.id.clone(),
        ..Default::default()
    };
    assert_eq!(
        school
            .approve_booking(decide.clone())
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
    // The school watches its feed; the owner's decision reaches it there.
    let mut feed = pb::change_feed_client::ChangeFeedClient::with_interceptor(
        node.channel().await,
        Bearer::new(&teacher),
    );
    let latest = node.node.store().latest_sequence().await.unwrap();
    let mut stream = feed
        .watch(pb::WatchRequest {
            after_sequence: latest,
            entity_kinds: vec!["booking".into()],
            heartbeat_seconds: 1,
            snapshot: false,
        })
        .await
        .unwrap()
        .into_inner();
    let approved = owner.approve_booking(decide).await.unwrap().into_inner();
    let decision = loop {
        match stream.message().await.unwrap().unwrap().event.unwrap() {
            pb::watch_response::Event::Entry(entry) => break entry,
            pb::watch_response::Event::Heartbeat(_) => continue,
        }
    };
    assert_eq!(decision.entity_id, booking.id);
    let payload: serde_json::Value = serde_json::from_str(&decision.payload_json).unwrap();
    assert_eq!(payload["occurrences"][0]["state"], "confirmed");
    assert!(
        approved
            .occurrences
            .iter()
            .all(|o| o.state == pb::OccurrenceState::Confirmed as i32)
    );

    // The lab's feed: busy times for everyone, what and for whom for the
    // school through its private URL.
    let (status, public) = edufed_tests::http_get(
        node.node.addr(),
        &format!("/ics/resources/{}.ics", resource.id),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(public.matches("BEGIN:VEVENT").count(), 20);
    assert!(public.contains("SUMMARY:busy") && !public.contains("Технология"));
    let calendar: icalendar::Calendar = public.parse().expect("the feed parses");
    assert_eq!(calendar.components.len(), 20);
    let mut feeds = pb::calendar_client::CalendarClient::with_interceptor(
        node.channel().await,
        Bearer::new(&teacher),
    );
    let urls = feeds
        .get_feed_urls(pb::GetFeedUrlsRequest::default())
        .await
        .unwrap()
        .into_inner();
    let private_path = urls
        .private_path
        .replace("network.ics", &format!("resources/{}.ics", resource.id));
    let (status, detailed) = edufed_tests::http_get(node.node.addr(), &private_path).await;
    assert_eq!(status, 200);
    assert!(
        detailed.contains("SUMMARY:Технология\\, 7 класс (12 people)"),
        "{detailed}"
    );
    let (status, _) = edufed_tests::http_get(
        node.node.addr(),
        &format!("/ics/resources/{}.ics", private.id),
    )
    .await;
    assert_eq!(
        status, 404,
        "a resource not open to the network has no public feed"
    );

    // The owner's own request over the same time collides.
    let own = pb::RequestBookingRequest {
        requester: "kvantorium".into(),
        recurrence: None,
        ..series("15:00", "16:00")
    };
    assert!(refused(owner.request_booking(own).await.unwrap_err()).contains(&booking.id));

    // The school cancels one lesson; the time frees up.
    let first = approved.occurrences[0].start;
    let cancelled = school
        .cancel_booking(pb::CancelBookingRequest {
            booking_id: booking.id.clone(),
            scope: pb::CancelScope::One.into(),
            occurrence_start: first,
            comment: "экскурсия".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        cancelled.occurrences[0].state,
        pb::OccurrenceState::Cancelled as i32
    );
    let own = pb::RequestBookingRequest {
        requester: "kvantorium".into(),
        recurrence: None,
        ..series("14:00", "15:30")
    };
    let mine = owner
        .request_booking(own)
        .await
        .unwrap()
        .into_inner()
        .booking
        .unwrap();
    assert_eq!(
        mine.occurrences[0].state,
        pb::OccurrenceState::Confirmed as i32,
        "the owner's own request is confirmed"
    );

    // A blackout over booked lessons reports them; nothing is deleted.
    let week = day + Duration::weeks(2);
    let set = owner
        .set_blackouts(pb::SetBlackoutsRequest {
            resource_id: resource.id.clone(),
            blackouts: vec![pb::Blackout {
                start: format!("{week}T00:00"),
                end: format!("{}T00:00", week + Duration::days(7)),
                reason: "профилактика".into(),
                rule: String::new(),
            }],
            expected_version: 0,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(set.affected.len(), 2, "a Tuesday and a Thursday");
    assert!(set.affected.iter().all(|a| a.booking_id == booking.id));
    let again = school
        .get_booking(pb::GetBookingRequest {
            booking_id: booking.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        again
            .occurrences
            .iter()
            .filter(|o| o.state == pb::OccurrenceState::Confirmed as i32)
            .count(),
        19,
        "the blackout left the bookings in place"
    );

    // Free/busy: the lessons with their buffer, and the blackout.
    let from = Utc::now();
    let to = from + Duration::days(120);
    let ts = |t: chrono::DateTime<Utc>| prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: 0,
    };
    let busy = school
        .free_busy(pb::FreeBusyRequest {
            resource_ids: vec![resource.id.clone(), private.id.clone()],
            from: Some(ts(from)),
            to: Some(ts(to)),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(busy.resources.len(), 1, "the private resource is left out");
    let intervals = &busy.resources[0].busy;
    assert!(intervals.iter().any(|b| b.why == "профилактика"));
    let lesson = intervals.iter().find(|b| b.why == "booked").unwrap();
    assert_eq!(
        lesson.end.unwrap().seconds - lesson.start.unwrap().seconds,
        (90 + 15) * 60,
        "buffer included"
    );

    // Each side lists what it may see.
    let listed = school
        .list_bookings(pb::ListBookingsRequest {
            requester: "mgml".into(),
            from: Some(ts(from)),
            to: Some(ts(to)),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.occurrences.len(), 20);
    let of_lab = school
        .list_bookings(pb::ListBookingsRequest {
            resource_id: resource.id.clone(),
            from: Some(ts(from)),
            to: Some(ts(to)),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        of_lab
            .occurrences
            .iter()
            .all(|o| o.requester_id != mine.requester_id),
        "not the owner's own bookings"
    );
    let denied = school
        .list_bookings(pb::ListBookingsRequest {
            requester: "kvantorium".into(),
            from: Some(ts(from)),
            to: Some(ts(to)),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);

    // The owner changes the lab; a stale version is refused.
    let updated = owner
        .update_resource(pb::UpdateResourceRequest {
            resource_id: resource.id.clone(),
            expected_version: set.resource.as_ref().unwrap().version,
            resource: Some(pb::Resource {
                capacity: 16,
                ..lab(pb::Access::Network)
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((updated.capacity, updated.blackouts.len()), (16, 1));
    let stale = owner
        .update_resource(pb::UpdateResourceRequest {
            resource_id: resource.id.clone(),
            expected_version: resource.version,
            resource: Some(lab(pb::Access::Network)),
        })
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::FailedPrecondition);

    // Find a slot: a 90-minute lab for 12 with web workstations on the
    // first Thursday. Tomsk is UTC+7; the lab opens 09:00–18:00 and the
    // school's lesson holds 14:00–15:45 with its buffer.
    let thursday = day + Duration::days(2);
    let midnight = thursday.and_hms_opt(0, 0, 0).unwrap().and_utc() - Duration::hours(7);
    let slots = school
        .find_slots(pb::FindSlotsRequest {
            requester: "mgml".into(),
            duration_minutes: 90,
            from: Some(ts(midnight)),
            to: Some(ts(midnight + Duration::days(1))),
            features: vec!["Веб-разработка".into()],
            headcount: 12,
            limit: 5,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        slots.slots.len(),
        1,
        "one slot per resource per day; the private store room is not offered"
    );
    let slot = &slots.slots[0];
    assert_eq!(slot.resource.as_ref().unwrap().id, resource.id);
    assert_eq!(
        slot.start.unwrap().seconds,
        (midnight + Duration::hours(9)).timestamp(),
        "09:00 local"
    );
    let none = school
        .find_slots(pb::FindSlotsRequest {
            requester: "mgml".into(),
            duration_minutes: 90,
            from: Some(ts(midnight)),
            to: Some(ts(midnight + Duration::days(1))),
            features: vec!["телескоп".into()],
            headcount: 12,
            limit: 5,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(none.slots.is_empty());
});

both_backends!(
    a_school_finds_the_network_s_resources_and_sees_every_conflict,
    |backend| async move {
        let node = TestNode::start(backend).await;
        let mut op = node.operator().await;
        op.create_organization(pb::CreateOrganizationRequest {
            kind: pb::OrganizationKind::Technopark.into(),
            ..org_request("kvantorium")
        })
        .await
        .unwrap();
        op.create_organization(org_request("gym53")).await.unwrap();
        op.create_organization(org_request("mgml")).await.unwrap();
        let coordinator = node.member_token("kvantorium", pb::Role::Coordinator).await;
        let gym53 = node.member_token("gym53", pb::Role::Admin).await;
        let teacher = node.member_token("mgml", pb::Role::Teacher).await;
        let mut owner = client(&node, &coordinator).await;
        let mut school = client(&node, &teacher).await;
        let create = |owner: &str, resource: pb::Resource| pb::CreateResourceRequest {
            owner: owner.into(),
            resource: Some(resource),
        };
        let resource = owner
            .create_resource(create("kvantorium", lab(pb::Access::Network)))
            .await
            .unwrap()
            .into_inner();
        owner
            .create_resource(create(
                "kvantorium",
                pb::Resource {
                    name: "Склад".into(),
                    ..lab(pb::Access::OwnOrganization)
                },
            ))
            .await
            .unwrap();
        let hall = client(&node, &gym53)
            .await
            .create_resource(create(
                "gym53",
                pb::Resource {
                    kind: pb::ResourceKind::Hall.into(),
                    name: "Актовый зал".into(),
                    capacity: 120,
                    features: vec!["Проектор".into()],
                    ..lab(pb::Access::Network)
                },
            ))
            .await
            .unwrap()
            .into_inner();

        // Every owner's resources the school may see, filtered.
        let find = |request: pb::ListResourcesRequest| {
            let mut school = school.clone();
            async move {
                let listed = school.list_resources(request).await.unwrap().into_inner();
                listed
                    .resources
                    .into_iter()
                    .map(|r| r.name)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            find(Default::default()).await,
            ["IT-квантум", "Актовый зал"],
            "by name; the store room is the technopark's own"
        );
        let labs = find(pb::ListResourcesRequest {
            kind: pb::ResourceKind::Lab.into(),
            ..Default::default()
        });
        assert_eq!(labs.await, ["IT-квантум"]);
        let projector = find(pb::ListResourcesRequest {
            features: vec!["проектор".into()],
            ..Default::default()
        });
        assert_eq!(projector.await, ["Актовый зал"]);
        let thirty = find(pb::ListResourcesRequest {
            min_capacity: 30,
            ..Default::default()
        });
        assert_eq!(thirty.await, ["Актовый зал"]);
        let words = find(pb::ListResourcesRequest {
            query: "КВАНТ".into(),
            ..Default::default()
        });
        assert_eq!(words.await, ["IT-квантум"]);
        let one_owner = find(pb::ListResourcesRequest {
            owner: "gym53".into(),
            kind: pb::ResourceKind::Lab.into(),
            ..Default::default()
        });
        assert!(one_owner.await.is_empty());
        assert_eq!(
            school
                .get_resource(pb::GetResourceRequest {
                    resource_id: hall.id.clone(),
                })
                .await
                .unwrap()
                .into_inner()
                .name,
            "Актовый зал"
        );

        // The technopark holds two Thursdays; a Tuesday-Thursday series
        // over them is refused, listing both.
        let day = next_tuesday();
        let thursdays = [day + Duration::days(2), day + Duration::days(16)];
        for thursday in thursdays {
            owner
                .request_booking(pb::RequestBookingRequest {
                    resource_id: resource.id.clone(),
                    requester: "kvantorium".into(),
                    start: format!("{thursday}T15:00"),
                    end: format!("{thursday}T16:00"),
                    purpose: "Кружок".into(),
                    headcount: 10,
                    ..Default::default()
                })
                .await
                .unwrap();
        }
        let series = pb::RequestBookingRequest {
            resource_id: resource.id.clone(),
            requester: "mgml".into(),
            start: format!("{day}T14:00"),
            end: format!("{day}T15:30"),
            recurrence: Some(pb::BookingRecurrence {
                rule: "FREQ=WEEKLY;BYDAY=TU,TH;COUNT=8".into(),
                exdates: vec![],
            }),
            purpose: "Технология, 7 класс".into(),
            headcount: 12,
            ..Default::default()
        };
        let refused = school.request_booking(series.clone()).await.unwrap_err();
        assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
        let details = refused.get_error_details();
        let info = details.error_info().expect("an ErrorInfo");
        assert_eq!(info.reason, "BOOKING_CONFLICT");
        assert_eq!(info.metadata["count"], "2");
        let tomsk = |date: chrono::NaiveDate| {
            (date.and_hms_opt(14, 0, 0).unwrap().and_utc() - Duration::hours(7))
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        };
        assert_eq!(
            info.metadata["starts"],
            format!("{},{}", tomsk(thursdays[0]), tomsk(thursdays[1]))
        );
        assert!(refused.message().contains("2 of the 8"), "{refused:?}");
        let nothing = school
            .list_bookings(pb::ListBookingsRequest {
                requester: "mgml".into(),
                from: Some(ts(Utc::now())),
                to: Some(ts(Utc::now() + Duration::days(60))),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(nothing.occurrences.is_empty(), "all or nothing");

        // Again, skipping them: six lessons wait for the owner, who
        // approves them with a word for the school.
        let booked = school
            .request_booking(pb::RequestBookingRequest {
                skip_conflicts: true,
                ..series
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(booked.skipped.len(), 2);
        let booking = booked.booking.unwrap();
        assert_eq!(booking.occurrences.len(), 6);
        let approved = owner
            .approve_booking(pb::DecideBookingRequest {
                booking_id: booking.id.clone(),
                occurrence_start: None,
                comment: "Ждём вас, вход со двора".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(approved.occurrences.iter().all(|o| {
            o.state == pb::OccurrenceState::Confirmed as i32 && o.note == "Ждём вас, вход со двора"
        }));
        let listed = school
            .list_bookings(pb::ListBookingsRequest {
                requester: "mgml".into(),
                from: Some(ts(Utc::now())),
                to: Some(ts(Utc::now() + Duration::days(60))),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(listed.occurrences.len(), 6);
        assert!(
            listed
                .occurrences
                .iter()
                .all(|o| o.resource_id == resource.id && o.headcount == 12)
        );
    }
);

fn ts(t: chrono::DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: 0,
    }
}
