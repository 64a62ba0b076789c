//! The Booking service.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, NaiveTime, Utc, Weekday};
use edufed_domain::FieldError;
use edufed_domain::booking::{
    Access, ApprovalPolicy, Blackout, BookedOccurrence, Booking, BookingRules, Busy, CancelScope,
    Error, Initial, Listed, NewBooking, OccurrenceState, Resource, ResourceDetails, ResourceKind,
    SharedBusy, WeeklyHours,
};
use edufed_domain::calendar::{Recurrence, Schedule};
use edufed_domain::changes::{Actor, EntityKind};
use edufed_domain::ids::{AgreementId, BookingId, OrgId, ResourceId};
use edufed_domain::policy::{Action, Principal, Target, authorize};
use edufed_domain::text;
use edufed_domain::time::TimeZone;
use edufed_proto::v1 as pb;
use edufed_proto::v1::booking_client::BookingClient;
use edufed_proto::v1::booking_server::Booking as BookingApi;
use edufed_store::Store;
use tonic::{Request, Response, Status};

use crate::auth::principal;
use crate::calendar_convert::{enum_map, instant, local, local_out};
use crate::convert::{org_ref, timestamp};
use crate::forward::Forwarding;
use crate::status::ApiError;

enum_map!(
    kind_in,
    kind_out,
    pb::ResourceKind,
    "RESOURCE_KIND_",
    ResourceKind
);
enum_map!(
    approval_in,
    approval_out,
    pb::ApprovalPolicy,
    "APPROVAL_POLICY_",
    ApprovalPolicy
);
enum_map!(access_in, access_out, pb::Access, "ACCESS_", Access);
enum_map!(
    state_in,
    state_out,
    pb::OccurrenceState,
    "OCCURRENCE_STATE_",
    OccurrenceState
);

/// The `edufed.v1.Booking` service.
#[derive(Debug, Clone)]
pub struct BookingService {
    store: Store,
    forwarding: Forwarding,
}

impl BookingService {
    /// A service over `store` that does not forward writes.
    pub fn new(store: Store) -> Self {
        Self {
            forwarding: Forwarding::new(store.clone(), None),
            store,
        }
    }

    /// The service, sending requests for mirrored resources to their home
    /// nodes with `forwarder`.
    pub fn forwarding_with(mut self, forwarder: edufed_federation::Forwarder) -> Self {
        self.forwarding = Forwarding::new(self.store.clone(), Some(forwarder));
        self
    }

    async fn request_booking_here(
        &self,
        caller: &Principal,
        request: &Request<pb::RequestBookingRequest>,
    ) -> RpcResult<pb::RequestBookingResponse> {
        let caller = caller.clone();
        let outcome = async {
            let req = request.get_ref();
            let requester = self
                .store
                .get_organization(&org_ref("requester", &req.requester)?)
                .await?;
            authorize(
                &caller,
                Action::RequestBookings,
                Target::Organization(&requester.id),
            )?;
            let resource = self
                .store
                .get_resource(&ResourceId::parse("resource_id", &req.resource_id)?)
                .await?;
            if !resource.open_to(&requester.id, &self.partners(&requester.id, &resource).await?) {
                return Err(Error::Rule {
                    rule: "access".into(),
                    detail: format!(
                        "{} is open to {} only",
                        resource.details.name,
                        match resource.details.access {
                            Access::OwnOrganization => "its own organization",
                            Access::AgreementPartners => "its owner's agreement partners",
                            Access::Network => "the network",
                        }
                    ),
                }
                .into());
            }
            let schedule = Schedule {
                time_zone: resource.details.time_zone,
                start: local("start", &req.start)?,
                end: local("end", &req.end)?,
                all_day: false,
                recurrence: req
                    .recurrence
                    .as_ref()
                    .map(|r| -> Result<Recurrence, FieldError> {
                        Ok(Recurrence {
                            rule: r.rule.clone(),
                            exdates: r
                                .exdates
                                .iter()
                                .map(|d| local("recurrence.exdates", d))
                                .collect::<Result<_, _>>()?,
                            rdates: vec![],
                        })
                    })
                    .transpose()?,
            }
            .validate()
            .map_err(|e| FieldError::new(e.field.replace("schedule.", ""), e.reason))?;
            let times = schedule
                .expand(&[])?
                .iter()
                .map(|o| (o.start, o.end))
                .collect();
            let agreement_id = text::optional_line("agreement_id", &req.agreement_id, 100)?
                .map(|raw| AgreementId::parse("agreement_id", &raw))
                .transpose()?;
            // Whether the request goes under an agreement both sides are
            // party to; the store checks it again, with the term and the
            // quota, under the agreement's lock.
            let under_agreement = match &agreement_id {
                Some(id) => match self.store.get_agreement(id).await {
                    Ok(agreement) => agreement.in_force().is_some_and(|v| {
                        v.content.is_party(&requester.id) && v.content.is_party(&resource.owner)
                    }),
                    Err(_) => false,
                },
                None => false,
            };
            let decided = resource.initial_for(&requester.id, under_agreement);
            let initial = match req.hold_seconds {
                0 => decided,
                // A hold blocks time like a booking: only where the request
                // would be confirmed anyway, never to jump an approval.
                s @ 1..=86_400 if decided == Initial::Confirmed => {
                    Initial::Held(edufed_domain::time::now() + Duration::seconds(i64::from(s)))
                }
                1..=86_400 => {
                    return Err(Error::Rule {
                        rule: "approval".into(),
                        detail: "this resource needs its owner's approval; request the booking instead of holding it"
                            .into(),
                    }
                    .into());
                }
                _ => return Err(FieldError::new("hold_seconds", "at most 86400").into()),
            };
            if req.headcount == 0 {
                return Err(FieldError::new("headcount", "is required").into());
            }
            let new = NewBooking {
                resource_id: resource.id.clone(),
                requester_org: requester.id.clone(),
                requester: caller.person_id.to_string(),
                purpose: text::line("purpose", &req.purpose, 300)?,
                headcount: req.headcount,
                activity_id: text::optional_line("activity_id", &req.activity_id, 100)?,
                agreement_id: agreement_id.map(|id| id.to_string()),
                times,
                skip_conflicts: req.skip_conflicts,
                initial,
            };
            Ok::<_, ApiError>(
                self.store
                    .request_booking(new, &Actor::Person(caller.person_id.clone()))
                    .await?,
            )
        }
        .await?;
        Ok(Response::new(pb::RequestBookingResponse {
            booking: Some(record(&outcome.booking, &outcome.occurrences)),
            skipped: outcome
                .skipped
                .iter()
                .map(|c| pb::Collision {
                    start: Some(timestamp(c.start)),
                    end: Some(timestamp(c.end)),
                    booking_id: c.with.to_string(),
                })
                .collect(),
        }))
    }

    /// The busy times of a mirrored resource within `[from, to)`: its
    /// blackouts and the booked and held times its home node last shared.
    /// `None` when the resource is not open to the network.
    async fn mirrored_busy(
        &self,
        mirror: &edufed_store::federation::Mirror,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Option<(ResourceId, Vec<Busy>)>, ApiError> {
        let Ok(resource) = serde_json::from_str::<Resource>(&mirror.entry.payload) else {
            return Ok(None);
        };
        if resource.details.access != Access::Network {
            return Ok(None);
        }
        // The busy times its own origin shared, for this resource.
        let mut busy = match self
            .store
            .get_mirror_of(
                &mirror.origin,
                EntityKind::ResourceBusy,
                resource.id.as_str(),
            )
            .await?
            .and_then(|shared| serde_json::from_str::<SharedBusy>(&shared.entry.payload).ok())
        {
            Some(shared) if shared.resource_id == resource.id && shared.owner == resource.owner => {
                shared.between(from, to, self.store.clock().now())
            }
            _ => Vec::new(),
        };
        // A peer's blackouts this node cannot expand are left out.
        for ((start, end), why) in resource.blackouts_between(from, to).unwrap_or_default() {
            busy.push(Busy { start, end, why });
        }
        busy.sort_by_key(|b| (b.start, b.end));
        Ok(Some((resource.id, busy)))
    }

    /// The resource, if the caller's organizations may see it.
    async fn visible(&self, caller: &Principal, raw: &str) -> Result<Resource, ApiError> {
        let id = ResourceId::parse("resource_id", raw)?;
        let resource = self.store.get_resource(&id).await?;
        if !self.sees(caller, &resource).await? {
            return Err(Error::ResourceNotFound(id.to_string()).into());
        }
        Ok(resource)
    }

    /// Whether any of the caller's organizations may see `resource`.
    async fn sees(&self, caller: &Principal, resource: &Resource) -> Result<bool, ApiError> {
        if caller.operator {
            return Ok(true);
        }
        for (org, _) in &caller.memberships {
            if resource.open_to(org, &self.partners(org, resource).await?) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The organizations sharing an agreement in force with `org`, when
    /// `resource`'s access depends on them.
    async fn partners(
        &self,
        org: &OrgId,
        resource: &Resource,
    ) -> Result<BTreeSet<OrgId>, ApiError> {
        if resource.details.access == Access::AgreementPartners && org != &resource.owner {
            Ok(self.store.agreement_partners(org).await?)
        } else {
            Ok(BTreeSet::new())
        }
    }

    /// The booking and its resource, if the caller is the requester or the owner.
    async fn booking(
        &self,
        caller: &Principal,
        raw: &str,
    ) -> Result<(Booking, Vec<BookedOccurrence>, Resource), ApiError> {
        let id = BookingId::parse("booking_id", raw)?;
        let (booking, occurrences) = self.store.get_booking(&id).await?;
        let resource = self.store.get_resource(&booking.resource_id).await?;
        let requester = authorize(
            caller,
            Action::ViewBookings,
            Target::Organization(&booking.requester_org),
        );
        let owner = authorize(
            caller,
            Action::ViewBookings,
            Target::Organization(&resource.owner),
        );
        if requester.is_err() && owner.is_err() {
            return Err(Error::BookingNotFound(id.to_string()).into());
        }
        Ok((booking, occurrences, resource))
    }
}

impl BookingService {
    /// The owner's decision on a booking: approve, or reject with a comment.
    async fn decide(
        &self,
        request: &Request<pb::DecideBookingRequest>,
        approve: bool,
    ) -> Result<pb::BookingRecord, ApiError> {
        let caller = principal(request).map_err(ApiError::status)?;
        let req = request.get_ref();
        let (booking, _, resource) = self.booking(&caller, &req.booking_id).await?;
        authorize(
            &caller,
            Action::ManageResources,
            Target::Organization(&resource.owner),
        )?;
        let at = occurrence_at("occurrence_start", req.occurrence_start.as_ref())?;
        let actor = Actor::Person(caller.person_id.clone());
        let occurrences = if approve {
            self.store.approve_booking(&booking.id, at, &actor).await?
        } else {
            let comment = text::optional_line("comment", &req.comment, 500)?.unwrap_or_default();
            self.store
                .reject_booking(&booking.id, at, &comment, &actor)
                .await?
        };
        let (booking, _) = self.store.get_booking(&booking.id).await?;
        Ok(record(&booking, &occurrences))
    }
}

fn time_of_day(field: &str, raw: &str) -> Result<NaiveTime, FieldError> {
    NaiveTime::parse_from_str(raw.trim(), "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(raw.trim(), "%H:%M:%S"))
        .map_err(|_| {
            FieldError::new(
                field,
                format!("{} is not a time like 09:00", text::excerpt(raw)),
            )
        })
}

fn details(raw: &pb::Resource, default_zone: TimeZone) -> Result<ResourceDetails, FieldError> {
    let rules = raw.rules.unwrap_or_default();
    let defaults = BookingRules::default();
    let or = |value: u32, default: u32| if value == 0 { default } else { value };
    ResourceDetails {
        kind: kind_in("resource.kind", raw.kind)?
            .ok_or_else(|| FieldError::new("resource.kind", "is required"))?,
        name: raw.name.clone(),
        capacity: (raw.capacity != 0).then_some(raw.capacity),
        features: raw.features.clone(),
        time_zone: if raw.time_zone.trim().is_empty() {
            default_zone
        } else {
            TimeZone::parse("resource.time_zone", &raw.time_zone)?
        },
        hours: raw
            .hours
            .iter()
            .map(|h| {
                let weekday = match h.weekday {
                    1 => Weekday::Mon,
                    2 => Weekday::Tue,
                    3 => Weekday::Wed,
                    4 => Weekday::Thu,
                    5 => Weekday::Fri,
                    6 => Weekday::Sat,
                    7 => Weekday::Sun,
                    _ => {
                        return Err(FieldError::new(
                            "resource.hours.weekday",
                            "is 1 (Monday) to 7 (Sunday)",
                        ));
                    }
                };
                Ok(WeeklyHours {
                    weekday,
                    opens: time_of_day("resource.hours.opens", &h.opens)?,
                    closes: time_of_day("resource.hours.closes", &h.closes)?,
                })
            })
            .collect::<Result<_, _>>()?,
        rules: BookingRules {
            min_minutes: or(rules.min_minutes, defaults.min_minutes),
            max_minutes: or(rules.max_minutes, defaults.max_minutes),
            min_notice_minutes: rules.min_notice_minutes,
            max_advance_days: or(rules.max_advance_days, defaults.max_advance_days),
            buffer_minutes: rules.buffer_minutes,
        },
        approval: approval_in("resource.approval", raw.approval)?
            .ok_or_else(|| FieldError::new("resource.approval", "is required"))?,
        access: access_in("resource.access", raw.access)?
            .ok_or_else(|| FieldError::new("resource.access", "is required"))?,
    }
    .validate()
    .map_err(|e| FieldError::new(format!("resource.{}", e.field), e.reason))
}

fn resource_out(r: &Resource) -> pb::Resource {
    let d = &r.details;
    pb::Resource {
        id: r.id.to_string(),
        owner_id: r.owner.to_string(),
        kind: kind_out(d.kind),
        name: d.name.clone(),
        capacity: d.capacity.unwrap_or(0),
        features: d.features.clone(),
        time_zone: d.time_zone.name().to_owned(),
        hours: d
            .hours
            .iter()
            .map(|h| pb::WeeklyHours {
                weekday: h.weekday.number_from_monday(),
                opens: h.opens.format("%H:%M").to_string(),
                closes: h.closes.format("%H:%M").to_string(),
            })
            .collect(),
        rules: Some(pb::BookingRules {
            min_minutes: d.rules.min_minutes,
            max_minutes: d.rules.max_minutes,
            min_notice_minutes: d.rules.min_notice_minutes,
            max_advance_days: d.rules.max_advance_days,
            buffer_minutes: d.rules.buffer_minutes,
        }),
        approval: approval_out(d.approval),
        access: access_out(d.access),
        blackouts: r
            .blackouts
            .iter()
            .map(|b| pb::Blackout {
                start: local_out(b.start),
                end: local_out(b.end),
                reason: b.reason.clone(),
                rule: b.rule.clone().unwrap_or_default(),
            })
            .collect(),
        version: r.version,
    }
}

fn record(booking: &Booking, occurrences: &[BookedOccurrence]) -> pb::BookingRecord {
    pb::BookingRecord {
        id: booking.id.to_string(),
        resource_id: booking.resource_id.to_string(),
        requester_id: booking.requester_org.to_string(),
        purpose: booking.purpose.clone(),
        headcount: booking.headcount,
        activity_id: booking.activity_id.clone().unwrap_or_default(),
        agreement_id: booking.agreement_id.clone().unwrap_or_default(),
        occurrences: occurrences
            .iter()
            .map(|o| pb::BookedOccurrence {
                start: Some(timestamp(o.start)),
                end: Some(timestamp(o.end)),
                state: state_out(o.state),
                hold_expires_at: o.hold_expires_at.map(timestamp),
                note: o.note.clone().unwrap_or_default(),
            })
            .collect(),
        version: booking.version,
    }
}

fn listed_out(listed: &Listed) -> pb::ListedOccurrence {
    let o = &listed.occurrence;
    pb::ListedOccurrence {
        booking_id: listed.booking.id.to_string(),
        requester_id: listed.booking.requester_org.to_string(),
        purpose: listed.booking.purpose.clone(),
        occurrence: Some(pb::BookedOccurrence {
            start: Some(timestamp(o.start)),
            end: Some(timestamp(o.end)),
            state: state_out(o.state),
            hold_expires_at: o.hold_expires_at.map(timestamp),
            note: o.note.clone().unwrap_or_default(),
        }),
    }
}

/// A window of at most 400 days, within the years schedules may use.
fn window(
    from: Option<&prost_types::Timestamp>,
    to: Option<&prost_types::Timestamp>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), FieldError> {
    use chrono::Datelike as _;
    let from = instant("from", from)?.ok_or_else(|| FieldError::new("from", "is required"))?;
    let to = instant("to", to)?.ok_or_else(|| FieldError::new("to", "is required"))?;
    for (field, t) in [("from", from), ("to", to)] {
        if !edufed_domain::calendar::schedule::YEARS.contains(&t.year()) {
            return Err(FieldError::new(field, "must fall between 1970 and 2200"));
        }
    }
    if to <= from || to - from > Duration::days(400) {
        return Err(FieldError::new("to", "must be after from, within 400 days"));
    }
    Ok((from, to))
}

fn occurrence_at(
    field: &str,
    ts: Option<&prost_types::Timestamp>,
) -> Result<Option<DateTime<Utc>>, FieldError> {
    instant(field, ts)
}

type RpcResult<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl BookingApi for BookingService {
    async fn create_resource(
        &self,
        request: Request<pb::CreateResourceRequest>,
    ) -> RpcResult<pb::Resource> {
        let caller = principal(&request)?;
        let resource = async {
            let req = request.get_ref();
            let owner = self
                .store
                .get_organization(&org_ref("owner", &req.owner)?)
                .await?;
            authorize(
                &caller,
                Action::ManageResources,
                Target::Organization(&owner.id),
            )?;
            let raw = req
                .resource
                .as_ref()
                .ok_or_else(|| FieldError::new("resource", "is required"))?;
            let details = details(raw, owner.time_zone)?;
            Ok::<_, ApiError>(
                self.store
                    .create_resource(&owner.id, details, &Actor::Person(caller.person_id.clone()))
                    .await?,
            )
        }
        .await?;
        Ok(Response::new(resource_out(&resource)))
    }

    async fn get_resource(
        &self,
        request: Request<pb::GetResourceRequest>,
    ) -> RpcResult<pb::Resource> {
        let caller = principal(&request)?;
        let resource = self
            .visible(&caller, &request.get_ref().resource_id)
            .await?;
        Ok(Response::new(resource_out(&resource)))
    }

    async fn list_resources(
        &self,
        request: Request<pb::ListResourcesRequest>,
    ) -> RpcResult<pb::ListResourcesResponse> {
        let caller = principal(&request)?;
        let resources = async {
            let owner = self
                .store
                .get_organization(&org_ref("owner", &request.get_ref().owner)?)
                .await?;
            if let Some(home) = &owner.home_node {
                // Another node's resources, as mirrored: those it opens to
                // the network; requests for them go to it.
                let mut mirrored: Vec<Resource> = self
                    .store
                    .mirrors_of_org(home, EntityKind::Resource, &owner.id)
                    .await?
                    .into_iter()
                    .filter_map(|m| serde_json::from_str::<Resource>(&m.entry.payload).ok())
                    .filter(|r| r.owner == owner.id && r.details.access == Access::Network)
                    .collect();
                mirrored.sort_by(|a, b| a.details.name.cmp(&b.details.name));
                return Ok::<_, ApiError>(mirrored);
            }
            let mut visible = Vec::new();
            for resource in self.store.list_resources(&owner.id).await? {
                if self.sees(&caller, &resource).await? {
                    visible.push(resource);
                }
            }
            Ok::<_, ApiError>(visible)
        }
        .await?;
        Ok(Response::new(pb::ListResourcesResponse {
            resources: resources.iter().map(resource_out).collect(),
        }))
    }

    async fn update_resource(
        &self,
        request: Request<pb::UpdateResourceRequest>,
    ) -> RpcResult<pb::Resource> {
        let caller = principal(&request)?;
        let resource = async {
            let req = request.get_ref();
            let current = self.visible(&caller, &req.resource_id).await?;
            authorize(
                &caller,
                Action::ManageResources,
                Target::Organization(&current.owner),
            )?;
            let raw = req
                .resource
                .as_ref()
                .ok_or_else(|| FieldError::new("resource", "is required"))?;
            let details = details(raw, current.details.time_zone)?;
            Ok::<_, ApiError>(
                self.store
                    .update_resource(
                        &current.id,
                        (req.expected_version != 0).then_some(req.expected_version),
                        details,
                        &Actor::Person(caller.person_id.clone()),
                    )
                    .await?,
            )
        }
        .await?;
        Ok(Response::new(resource_out(&resource)))
    }

    async fn set_blackouts(
        &self,
        request: Request<pb::SetBlackoutsRequest>,
    ) -> RpcResult<pb::SetBlackoutsResponse> {
        let caller = principal(&request)?;
        let (resource, affected) = async {
            let req = request.get_ref();
            let current = self.visible(&caller, &req.resource_id).await?;
            authorize(
                &caller,
                Action::ManageResources,
                Target::Organization(&current.owner),
            )?;
            if req.blackouts.len() > edufed_domain::booking::MAX_ITEMS {
                return Err(FieldError::new("blackouts", "at most 100").into());
            }
            let zone = current.details.time_zone;
            let blackouts = req
                .blackouts
                .iter()
                .map(|b| {
                    Blackout {
                        start: local("blackouts.start", &b.start)?,
                        end: local("blackouts.end", &b.end)?,
                        reason: b.reason.clone(),
                        rule: text::optional_line("blackouts.rule", &b.rule, 500)?,
                    }
                    .validate(zone)
                    .map_err(|e| {
                        FieldError::new(e.field.replace("blackout.", "blackouts."), e.reason)
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok::<_, ApiError>(
                self.store
                    .set_blackouts(
                        &current.id,
                        (req.expected_version != 0).then_some(req.expected_version),
                        blackouts,
                        &Actor::Person(caller.person_id.clone()),
                    )
                    .await?,
            )
        }
        .await?;
        Ok(Response::new(pb::SetBlackoutsResponse {
            resource: Some(resource_out(&resource)),
            affected: affected.iter().map(listed_out).collect(),
        }))
    }

    async fn free_busy(
        &self,
        request: Request<pb::FreeBusyRequest>,
    ) -> RpcResult<pb::FreeBusyResponse> {
        let caller = principal(&request)?;
        let busy = async {
            let req = request.get_ref();
            if req.resource_ids.len() > 500 {
                return Err(FieldError::new("resource_ids", "at most 500").into());
            }
            let (from, to) = window(req.from.as_ref(), req.to.as_ref())?;
            let mut resources = Vec::with_capacity(req.resource_ids.len());
            let mut mirrored = Vec::new();
            for raw in &req.resource_ids {
                // Another node's resource: its busy times as it shares them.
                if let Some(mirror) = self
                    .forwarding
                    .mirror(EntityKind::Resource, raw.trim())
                    .await
                    .map_err(ApiError::status)?
                {
                    if let Some(busy) = self.mirrored_busy(&mirror, from, to).await? {
                        mirrored.push(busy);
                    }
                    continue;
                }
                match self.visible(&caller, raw).await {
                    Ok(resource) => resources.push(resource),
                    Err(e) => {
                        // A resource the caller may not see is left out, not named.
                        let status = Status::from(e);
                        if status.code() != tonic::Code::NotFound {
                            return Err(ApiError::status(status));
                        }
                    }
                }
            }
            let mut busy = self.store.free_busy(&resources, from, to).await?;
            busy.extend(mirrored);
            Ok::<_, ApiError>(busy)
        }
        .await?;
        Ok(Response::new(pb::FreeBusyResponse {
            resources: busy
                .iter()
                .map(|(id, intervals)| pb::ResourceBusy {
                    resource_id: id.to_string(),
                    busy: intervals
                        .iter()
                        .map(|b| pb::BusyInterval {
                            start: Some(timestamp(b.start)),
                            end: Some(timestamp(b.end)),
                            why: b.why.clone(),
                        })
                        .collect(),
                })
                .collect(),
        }))
    }

    async fn list_bookings(
        &self,
        request: Request<pb::ListBookingsRequest>,
    ) -> RpcResult<pb::ListBookingsResponse> {
        let caller = principal(&request)?;
        let listed = async {
            let req = request.get_ref();
            let (from, to) = window(req.from.as_ref(), req.to.as_ref())?;
            match (req.resource_id.trim(), req.requester.trim()) {
                (resource, "") if !resource.is_empty() => {
                    let resource = self.visible(&caller, resource).await?;
                    let all = self
                        .store
                        .list_bookings(Some(&resource.id), None, from, to, false)
                        .await?;
                    // The owner sees every booking; others only their organizations'.
                    let owner = authorize(
                        &caller,
                        Action::ViewBookings,
                        Target::Organization(&resource.owner),
                    )
                    .is_ok();
                    Ok::<_, ApiError>(
                        all.into_iter()
                            .filter(|l| {
                                owner
                                    || authorize(
                                        &caller,
                                        Action::ViewBookings,
                                        Target::Organization(&l.booking.requester_org),
                                    )
                                    .is_ok()
                            })
                            .collect::<Vec<_>>(),
                    )
                }
                ("", requester) if !requester.is_empty() => {
                    let org = self
                        .store
                        .get_organization(&org_ref("requester", requester)?)
                        .await?;
                    authorize(&caller, Action::ViewBookings, Target::Organization(&org.id))?;
                    Ok(self
                        .store
                        .list_bookings(None, Some(&org.id), from, to, false)
                        .await?)
                }
                _ => Err(FieldError::new("resource_id", "give a resource or a requester").into()),
            }
        }
        .await?;
        Ok(Response::new(pb::ListBookingsResponse {
            occurrences: listed.iter().map(listed_out).collect(),
        }))
    }

    async fn find_slots(
        &self,
        request: Request<pb::FindSlotsRequest>,
    ) -> RpcResult<pb::FindSlotsResponse> {
        let caller = principal(&request)?;
        let slots = async {
            let req = request.get_ref();
            let requester = self
                .store
                .get_organization(&org_ref("requester", &req.requester)?)
                .await?;
            authorize(
                &caller,
                Action::RequestBookings,
                Target::Organization(&requester.id),
            )?;
            let (from, to) = window(req.from.as_ref(), req.to.as_ref())?;
            if to - from > Duration::days(62) {
                return Err(FieldError::new("to", "a slot search covers at most 62 days").into());
            }
            if req.duration_minutes == 0 || req.duration_minutes > 24 * 60 {
                return Err(FieldError::new("duration_minutes", "is 1 minute to a day").into());
            }
            if req.features.len() > 20 {
                return Err(FieldError::new("features", "at most 20").into());
            }
            let features = req
                .features
                .iter()
                .map(|f| text::line("features", f, 60).map(|f| text::fold(&f)))
                .collect::<Result<Vec<_>, _>>()?;
            let limit = match req.limit {
                0 => 10,
                n @ 1..=50 => n as usize,
                _ => return Err(FieldError::new("limit", "at most 50").into()),
            };
            let partners = self.store.agreement_partners(&requester.id).await?;
            let candidates: Vec<Resource> = self
                .store
                .matching_resources(&requester.id, &features, req.headcount, 1000)
                .await?
                .into_iter()
                .filter(|r| r.open_to(&requester.id, &partners))
                .collect();
            let busy = self.store.free_busy(&candidates, from, to).await?;
            let with_busy: Vec<_> = candidates
                .into_iter()
                .zip(busy)
                .map(|(r, (_, b))| (r, b))
                .collect();
            let query = edufed_domain::booking::slots::SlotQuery {
                duration: Duration::minutes(i64::from(req.duration_minutes)),
                from,
                to,
                features,
                headcount: req.headcount,
                limit,
            };
            Ok::<_, ApiError>(edufed_domain::booking::slots::find(
                &with_busy,
                &query,
                edufed_domain::time::now(),
            ))
        }
        .await?;
        Ok(Response::new(pb::FindSlotsResponse {
            slots: slots
                .iter()
                .map(|s| pb::FreeSlot {
                    resource: Some(resource_out(&s.resource)),
                    start: Some(timestamp(s.start)),
                    end: Some(timestamp(s.end)),
                })
                .collect(),
        }))
    }

    async fn request_booking(
        &self,
        request: Request<pb::RequestBookingRequest>,
    ) -> RpcResult<pb::RequestBookingResponse> {
        let caller = principal(&request)?;
        if let Some(home) = self
            .forwarding
            .mirror(EntityKind::Resource, request.get_ref().resource_id.trim())
            .await?
        {
            let mut message = request.get_ref().clone();
            let requester = self
                .store
                .get_organization(
                    &org_ref("requester", &message.requester).map_err(ApiError::from)?,
                )
                .await
                .map_err(ApiError::from)?;
            authorize(
                &caller,
                Action::RequestBookings,
                Target::Organization(&requester.id),
            )
            .map_err(ApiError::from)?;
            message.requester = requester.id.to_string();
            let outcome = self
                .forwarding
                .to_home(
                    &home.origin,
                    &request,
                    message,
                    &caller,
                    &requester.id,
                    |channel, forwarded| async move {
                        BookingClient::new(channel).request_booking(forwarded).await
                    },
                )
                .await?;
            tracing::info!(home = %home.origin, "booking requested at the resource's home node");
            return Ok(Response::new(outcome));
        }
        let forwarded = crate::forward::forwarded(&request);
        crate::forward::once(
            &self.store,
            forwarded,
            "RequestBooking",
            request.get_ref(),
            async { self.request_booking_here(&caller, &request).await },
        )
        .await
    }

    async fn approve_booking(
        &self,
        request: Request<pb::DecideBookingRequest>,
    ) -> RpcResult<pb::BookingRecord> {
        Ok(Response::new(self.decide(&request, true).await?))
    }

    async fn reject_booking(
        &self,
        request: Request<pb::DecideBookingRequest>,
    ) -> RpcResult<pb::BookingRecord> {
        Ok(Response::new(self.decide(&request, false).await?))
    }

    async fn cancel_booking(
        &self,
        request: Request<pb::CancelBookingRequest>,
    ) -> RpcResult<pb::BookingRecord> {
        let caller = principal(&request)?;
        // A booking of another node's resource is cancelled there.
        if let Some(answer) = self
            .forwarding
            .about_mirrored(
                EntityKind::Booking,
                &request.get_ref().booking_id,
                &["booking", "requester_org"],
                &request,
                &caller,
                |channel, forwarded| async move {
                    BookingClient::new(channel).cancel_booking(forwarded).await
                },
            )
            .await?
        {
            return Ok(Response::new(answer));
        }
        let record = async {
            let req = request.get_ref();
            let (booking, _, resource) = self.booking(&caller, &req.booking_id).await?;
            if authorize(
                &caller,
                Action::RequestBookings,
                Target::Organization(&booking.requester_org),
            )
            .is_err()
            {
                authorize(
                    &caller,
                    Action::ManageResources,
                    Target::Organization(&resource.owner),
                )?;
            }
            let at = occurrence_at("occurrence_start", req.occurrence_start.as_ref())?;
            let need_at = || {
                at.ok_or_else(|| FieldError::new("occurrence_start", "is required for this scope"))
            };
            let scope = match pb::CancelScope::try_from(req.scope)
                .unwrap_or(pb::CancelScope::Unspecified)
            {
                pb::CancelScope::Unspecified => {
                    return Err(FieldError::new("scope", "is required").into());
                }
                pb::CancelScope::One => CancelScope::One(need_at()?),
                pb::CancelScope::Following => CancelScope::FromOn(need_at()?),
                pb::CancelScope::All => CancelScope::All,
            };
            let comment = text::optional_line("comment", &req.comment, 500)?.unwrap_or_default();
            let occurrences = self
                .store
                .cancel_booking(
                    &booking.id,
                    scope,
                    &comment,
                    &Actor::Person(caller.person_id.clone()),
                )
                .await?;
            let (booking, _) = self.store.get_booking(&booking.id).await?;
            Ok::<_, ApiError>(record(&booking, &occurrences))
        }
        .await?;
        Ok(Response::new(record))
    }

    async fn get_booking(
        &self,
        request: Request<pb::GetBookingRequest>,
    ) -> RpcResult<pb::BookingRecord> {
        let caller = principal(&request)?;
        // A booking of another node's resource is read there, as it stands.
        if let Some(answer) = self
            .forwarding
            .about_mirrored(
                EntityKind::Booking,
                &request.get_ref().booking_id,
                &["booking", "requester_org"],
                &request,
                &caller,
                |channel, forwarded| async move {
                    BookingClient::new(channel).get_booking(forwarded).await
                },
            )
            .await?
        {
            return Ok(Response::new(answer));
        }
        let (booking, occurrences, _) =
            self.booking(&caller, &request.get_ref().booking_id).await?;
        Ok(Response::new(record(&booking, &occurrences)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_booking_enum_value_has_a_wire_twin() {
        for v in ResourceKind::ALL {
            assert_eq!(kind_in("k", kind_out(*v)).unwrap(), Some(*v));
        }
        for v in ApprovalPolicy::ALL {
            assert_eq!(approval_in("a", approval_out(*v)).unwrap(), Some(*v));
        }
        for v in Access::ALL {
            assert_eq!(access_in("a", access_out(*v)).unwrap(), Some(*v));
        }
        for v in OccurrenceState::ALL {
            assert_eq!(state_in("s", state_out(*v)).unwrap(), Some(*v));
        }
    }
}
