//! `/bookings`: for the admins and coordinators of a resource's owner, the
//! requests waiting for their decision, each approved or rejected with a
//! comment; for everyone, their organizations' own requests and where
//! their lessons stand.

use edufed_domain::policy::Action;
use std::collections::HashMap;

use askama::Template;
use axum::extract::Query;
use axum::response::Response;
use edufed_i18n::ru;
use edufed_proto::v1 as pb;

use super::{ahead, by_booking, lesson, states_summary, zones};
use crate::page::{Layout, Section, failure, render, see_other, t};
use crate::view::{DEFAULT_ZONE, Names, instant, organizations};
use crate::visitor::Visitor;

/// The most lessons of one request listed in the inbox.
const LISTED: usize = 8;

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Shown {
    #[serde(default)]
    done: String,
}

/// A request waiting for the owner's decision.
struct Incoming {
    id: String,
    requester: String,
    resource: String,
    purpose: String,
    headcount: String,
    count: String,
    lessons: Vec<String>,
    more: String,
}

/// One of the visitor's organizations' own requests.
struct Outgoing {
    id: String,
    resource: String,
    requester: String,
    purpose: String,
    dates: String,
    summary: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "bookings.html")]
struct BookingsPage {
    layout: Layout,
    decides: bool,
    owners: String,
    incoming: Vec<Incoming>,
    outgoing: Vec<Outgoing>,
}

/// `GET /bookings`.
pub(crate) async fn show(visitor: Visitor, Query(shown): Query<Shown>) -> Response {
    if !visitor.signed_in() {
        return see_other("/calendar");
    }
    let api = visitor.api();
    let names = match organizations(api).await {
        Ok(orgs) => Names::of(&orgs),
        Err(status) => return failure(&status),
    };
    let (from, to) = ahead(visitor.now);
    let managed = visitor.memberships_for(Action::ManageResources);
    // Resources by id, for their names and zones.
    let mut resources: HashMap<String, pb::Resource> = HashMap::new();
    let mut incoming = Vec::new();
    for membership in &managed {
        let own = match api
            .booking()
            .list_resources(pb::ListResourcesRequest {
                owner: membership.organization_id.clone(),
                ..Default::default()
            })
            .await
        {
            Ok(listed) => listed.into_inner().resources,
            Err(status) => return failure(&status),
        };
        for resource in own
            .into_iter()
            .filter(|r| r.owner_id == membership.organization_id)
        {
            let listed = match api
                .booking()
                .list_bookings(pb::ListBookingsRequest {
                    resource_id: resource.id.clone(),
                    from: Some(from),
                    to: Some(to),
                    ..Default::default()
                })
                .await
            {
                Ok(listed) => listed.into_inner().occurrences,
                Err(status) => return failure(&status),
            };
            let waiting: Vec<pb::ListedOccurrence> = listed
                .into_iter()
                .filter(|o| {
                    o.occurrence.as_ref().is_some_and(|o| {
                        matches!(
                            pb::OccurrenceState::try_from(o.state),
                            Ok(pb::OccurrenceState::Pending | pb::OccurrenceState::Held)
                        )
                    })
                })
                .collect();
            for group in by_booking(waiting) {
                incoming.push(incoming_of(&visitor, &resource, &names, &group));
            }
            resources.insert(resource.id.clone(), resource);
        }
    }
    let mut outgoing = Vec::new();
    for membership in visitor.memberships() {
        let listed = match api
            .booking()
            .list_bookings(pb::ListBookingsRequest {
                requester: membership.organization_id.clone(),
                from: Some(from),
                to: Some(to),
                ..Default::default()
            })
            .await
        {
            Ok(listed) => listed.into_inner().occurrences,
            Err(status) if status.code() == tonic::Code::PermissionDenied => continue,
            Err(status) => return failure(&status),
        };
        for group in by_booking(listed) {
            let resource_id = group[0].resource_id.clone();
            if !resources.contains_key(&resource_id) {
                let found = api
                    .booking()
                    .get_resource(pb::GetResourceRequest {
                        resource_id: resource_id.clone(),
                    })
                    .await;
                let resource = match found {
                    Ok(found) => found.into_inner(),
                    Err(status) if status.code() == tonic::Code::NotFound => pb::Resource {
                        id: resource_id.clone(),
                        name: t("bookings-unknown-resource"),
                        ..Default::default()
                    },
                    Err(status) => return failure(&status),
                };
                resources.insert(resource_id.clone(), resource);
            }
            let resource = &resources[&resource_id];
            let requester = visitor.may(Action::RequestBookings, &membership.organization_id);
            outgoing.push(outgoing_of(&visitor, resource, &names, &group, requester));
        }
    }
    let owners: Vec<String> = managed
        .iter()
        .map(|m| names.name(&m.organization_id))
        .collect();
    let notice = match shown.done.as_str() {
        "approved" => Some(t("booking-approved")),
        "rejected" => Some(t("booking-rejected")),
        "cancelled" => Some(t("booking-cancelled")),
        _ => None,
    };
    render(&BookingsPage {
        layout: Layout::new(&visitor, Section::Resources, t("bookings-title")).with_notice(notice),
        decides: !managed.is_empty(),
        owners: owners.join(", "),
        incoming,
        outgoing,
    })
}

fn incoming_of(
    visitor: &Visitor,
    resource: &pb::Resource,
    names: &Names,
    group: &[pb::ListedOccurrence],
) -> Incoming {
    let (zone, viewer) = zones(visitor, resource);
    let first = &group[0];
    let lessons: Vec<String> = group
        .iter()
        .take(LISTED)
        .filter_map(|o| o.occurrence.as_ref())
        .map(|o| lesson(o.start.as_ref(), o.end.as_ref(), zone, viewer))
        .collect();
    let rest = group.len().saturating_sub(LISTED) as i64;
    Incoming {
        id: first.booking_id.clone(),
        requester: names.name(&first.requester_id),
        resource: resource.name.clone(),
        purpose: first.purpose.clone(),
        headcount: ru().count("pupils", i64::from(first.headcount)),
        count: ru().text_with(
            "bookings-lessons",
            &[("count", (group.len() as i64).into())],
        ),
        lessons,
        more: if rest > 0 {
            ru().text_with("conflicts-more", &[("count", rest.into())])
        } else {
            String::new()
        },
    }
}

fn outgoing_of(
    visitor: &Visitor,
    resource: &pb::Resource,
    names: &Names,
    group: &[pb::ListedOccurrence],
    requester: bool,
) -> Outgoing {
    let viewer = visitor.zone.unwrap_or(DEFAULT_ZONE);
    let zone = if resource.time_zone.is_empty() {
        viewer
    } else {
        zones(visitor, resource).0
    };
    let occurrences: Vec<&pb::BookedOccurrence> =
        group.iter().filter_map(|o| o.occurrence.as_ref()).collect();
    let date = |o: Option<&&pb::BookedOccurrence>| {
        o.and_then(|o| instant(o.start.as_ref()))
            .map(|at| ru().date(at.with_timezone(&zone).date_naive()))
            .unwrap_or_default()
    };
    let (first, last) = (date(occurrences.first()), date(occurrences.last()));
    let now = visitor.now;
    Outgoing {
        id: group[0].booking_id.clone(),
        resource: resource.name.clone(),
        requester: names.name(&group[0].requester_id),
        purpose: group[0].purpose.clone(),
        dates: if first == last {
            first
        } else {
            format!("{first} – {last}")
        },
        summary: states_summary(occurrences.iter().map(|o| o.state)),
        active: requester
            && occurrences.iter().any(|o| {
                instant(o.end.as_ref()).is_some_and(|end| end > now)
                    && matches!(
                        pb::OccurrenceState::try_from(o.state),
                        Ok(pb::OccurrenceState::Pending
                            | pb::OccurrenceState::Held
                            | pb::OccurrenceState::Confirmed)
                    )
            }),
    }
}
