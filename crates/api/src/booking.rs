//! The Booking service. Each call converts its request into a typed
//! command, and the store decides it inside its write transaction; the
//! calls about another node's resource or booking pass [`forward::route`].

use chrono::{DateTime, Duration, Utc};
use edufed_domain::FieldError;
use edufed_domain::booking::filter::{MAX_LISTED, ResourceFilter};
use edufed_domain::booking::slots::{self, SlotQuery};
use edufed_domain::booking::{Access, Booked, Busy, Error, Listed, Resource, SharedBusy};
use edufed_domain::changes::EntityKind;
use edufed_domain::ids::{OrgId, ResourceId};
use edufed_domain::policy::{Action, Principal, Target, authorize};
use edufed_domain::text;
use edufed_proto::v1 as pb;
use edufed_proto::v1::booking_server::Booking as BookingApi;
use edufed_store::federation::Mirror;
use tonic::{Request, Response, Status};

use crate::auth::principal;
use crate::context::Context;
use crate::convert::booking::{
    blackouts, cancel, decide, details, listed_out, request as booking_request, resource_filter,
    resource_out, update, window,
};
use crate::convert::{ToProto as _, org_ref, timestamp};
use crate::forward;
use crate::status::ApiError;

/// The most mirrored records of one kind a listing reads.
const MAX_MIRRORS: u32 = 20_000;

/// The `edufed.v1.Booking` service.
#[derive(Debug, Clone)]
pub struct BookingService {
    ctx: Context,
}

impl BookingService {
    /// The service of the node `ctx` describes.
    pub fn new(ctx: Context) -> Self {
        Self { ctx }
    }

    async fn create_resource(
        &self,
        caller: &Principal,
        req: pb::CreateResourceRequest,
    ) -> Result<pb::Resource, ApiError> {
        let owner = self
            .ctx
            .store
            .get_organization(&org_ref("owner", &req.owner)?)
            .await?;
        authorize(
            caller,
            Action::ManageResources,
            Target::Organization(&owner.id),
        )?;
        let raw = req
            .resource
            .as_ref()
            .ok_or_else(|| FieldError::new("resource", "is required"))?;
        let details = details(raw, owner.time_zone)?;
        let resource = self
            .ctx
            .store
            .create_resource(&owner.id, details, &caller.actor())
            .await?;
        Ok(resource_out(&resource))
    }

    async fn update_resource(
        &self,
        caller: &Principal,
        req: pb::UpdateResourceRequest,
    ) -> Result<pb::Resource, ApiError> {
        let command = update(&req)?;
        let resource = self.ctx.store.update_resource(command, caller).await?;
        Ok(resource_out(&resource))
    }

    async fn set_blackouts(
        &self,
        caller: &Principal,
        req: pb::SetBlackoutsRequest,
    ) -> Result<pb::SetBlackoutsResponse, ApiError> {
        let id = ResourceId::parse("resource_id", &req.resource_id)?;
        let blackouts = blackouts(&req.blackouts)?;
        let expected = (req.expected_version != 0).then_some(req.expected_version);
        let (resource, affected) = self
            .ctx
            .store
            .set_blackouts(&id, expected, blackouts, caller)
            .await?;
        Ok(pb::SetBlackoutsResponse {
            resource: Some(resource_out(&resource)),
            affected: affected.iter().map(listed_out).collect(),
        })
    }

    async fn list_resources(
        &self,
        caller: &Principal,
        req: pb::ListResourcesRequest,
    ) -> Result<pb::ListResourcesResponse, ApiError> {
        let filter = resource_filter(&req)?;
        let store = &self.ctx.store;
        if req.owner.trim().is_empty() {
            return self.every_resource(caller, &filter).await;
        }
        let owner = store
            .get_organization(&org_ref("owner", &req.owner)?)
            .await?;
        let resources = match &owner.home_node {
            // Another node's resources, as mirrored: those it opens to the
            // network; requests for them go to it.
            Some(home) => {
                let mut mirrored = Vec::new();
                for mirror in store
                    .mirrors_of_org(home, EntityKind::Resource, &owner.id)
                    .await?
                {
                    let resource: Resource = mirror.decode()?;
                    if resource.owner == owner.id && resource.details.access == Access::Network {
                        mirrored.push(resource);
                    }
                }
                mirrored.sort_by(|a, b| a.details.name.cmp(&b.details.name));
                mirrored
            }
            None => {
                let partners = store.partners_of(caller.organizations()).await?;
                store
                    .list_resources(&owner.id)
                    .await?
                    .into_iter()
                    .filter(|r| r.seen_by(caller, &partners))
                    .collect()
            }
        };
        Ok(pb::ListResourcesResponse {
            resources: resources
                .iter()
                .filter(|r| filter.admits(r))
                .map(resource_out)
                .collect(),
        })
    }

    /// Every resource `filter` admits that the caller may see: this node's,
    /// and other nodes' resources open to the network as mirrored here.
    async fn every_resource(
        &self,
        caller: &Principal,
        filter: &ResourceFilter,
    ) -> Result<pb::ListResourcesResponse, ApiError> {
        let store = &self.ctx.store;
        let partners = store.partners_of(caller.organizations()).await?;
        let mut found: Vec<Resource> = store
            .find_resources(filter, MAX_LISTED as u32)
            .await?
            .into_iter()
            .filter(|r| r.seen_by(caller, &partners))
            .collect();
        for mirror in store
            .mirrors_of_kind(EntityKind::Resource, MAX_MIRRORS)
            .await?
        {
            let resource: Resource = mirror.decode()?;
            if resource.details.access == Access::Network && filter.admits(&resource) {
                found.push(resource);
            }
        }
        found.sort_by(|a, b| {
            (&a.details.name, a.id.as_str()).cmp(&(&b.details.name, b.id.as_str()))
        });
        found.truncate(MAX_LISTED);
        Ok(pb::ListResourcesResponse {
            resources: found.iter().map(resource_out).collect(),
        })
    }

    /// The resource, if the caller may see it: one of this node's, or
    /// another node's open to the network as mirrored here.
    async fn shown(&self, caller: &Principal, raw: &str) -> Result<Resource, ApiError> {
        if let Some(mirror) = self
            .ctx
            .store
            .get_mirror(EntityKind::Resource, raw.trim())
            .await?
        {
            let resource: Resource = mirror.decode()?;
            if resource.details.access != Access::Network {
                return Err(Error::ResourceNotFound(raw.trim().to_owned()).into());
            }
            return Ok(resource);
        }
        self.visible(caller, raw).await
    }

    /// The resource, if the caller's organizations may see it; NOT_FOUND
    /// otherwise, so that a closed resource does not reveal it exists.
    async fn visible(&self, caller: &Principal, raw: &str) -> Result<Resource, ApiError> {
        let id = ResourceId::parse("resource_id", raw)?;
        let store = &self.ctx.store;
        let resource = store.get_resource(&id).await?;
        let partners = store.partners_of(caller.organizations()).await?;
        if !resource.seen_by(caller, &partners) {
            return Err(Error::ResourceNotFound(id.to_string()).into());
        }
        Ok(resource)
    }

    /// The busy times of a mirrored resource within `[from, to)`: its
    /// blackouts and the booked and held times its home node last shared.
    /// `None` when the resource is not open to the network.
    async fn mirrored_busy(
        &self,
        mirror: &Mirror,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Option<(ResourceId, Vec<Busy>)>, ApiError> {
        let store = &self.ctx.store;
        let resource: Resource = mirror.decode()?;
        if resource.details.access != Access::Network {
            return Ok(None);
        }
        // The busy times its own origin shared, for this resource.
        let shared = store
            .get_mirror_of(
                &mirror.origin,
                EntityKind::ResourceBusy,
                resource.id.as_str(),
            )
            .await?
            .map(|m| m.decode::<SharedBusy>())
            .transpose()?;
        let mut busy = match shared {
            Some(shared) if shared.resource_id == resource.id && shared.owner == resource.owner => {
                shared.between(from, to, store.clock().now())
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

    async fn free_busy(
        &self,
        caller: &Principal,
        req: pb::FreeBusyRequest,
    ) -> Result<pb::FreeBusyResponse, ApiError> {
        if req.resource_ids.len() > 500 {
            return Err(FieldError::new("resource_ids", "at most 500").into());
        }
        let (from, to) = window(req.from.as_ref(), req.to.as_ref())?;
        let store = &self.ctx.store;
        let partners = store.partners_of(caller.organizations()).await?;
        let mut resources = Vec::with_capacity(req.resource_ids.len());
        let mut mirrored = Vec::new();
        for raw in &req.resource_ids {
            // Another node's resource: its busy times as it shares them.
            if let Some(mirror) = store.get_mirror(EntityKind::Resource, raw.trim()).await? {
                mirrored.extend(self.mirrored_busy(&mirror, from, to).await?);
                continue;
            }
            // A resource the caller may not see is left out, not named.
            let id = ResourceId::parse("resource_ids", raw)?;
            match store.get_resource(&id).await {
                Ok(resource) if resource.seen_by(caller, &partners) => resources.push(resource),
                Ok(_) | Err(Error::ResourceNotFound(_)) => {}
                Err(other) => return Err(other.into()),
            }
        }
        let mut busy = store.free_busy(&resources, from, to).await?;
        busy.extend(mirrored);
        Ok(pb::FreeBusyResponse {
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
        })
    }

    async fn list_bookings(
        &self,
        caller: &Principal,
        req: pb::ListBookingsRequest,
    ) -> Result<pb::ListBookingsResponse, ApiError> {
        let (from, to) = window(req.from.as_ref(), req.to.as_ref())?;
        let store = &self.ctx.store;
        let listed = match (req.resource_id.trim(), req.requester.trim()) {
            (resource, "") if !resource.is_empty() => {
                let resource = self.visible(caller, resource).await?;
                // The owner sees every booking; others only their organizations'.
                store
                    .list_bookings(Some(&resource.id), None, from, to, false)
                    .await?
                    .into_iter()
                    .filter(|l| l.booking.seen_by(caller, &resource.owner).is_ok())
                    .collect::<Vec<_>>()
            }
            ("", requester) if !requester.is_empty() => {
                let org = store
                    .get_organization(&org_ref("requester", requester)?)
                    .await?;
                authorize(caller, Action::ViewBookings, Target::Organization(&org.id))?;
                let mut listed = store
                    .list_bookings(None, Some(&org.id), from, to, false)
                    .await?;
                listed.extend(self.mirrored_bookings(&org.id, from, to).await?);
                listed.sort_by(|a, b| {
                    (a.occurrence.start, a.booking.id.as_str())
                        .cmp(&(b.occurrence.start, b.booking.id.as_str()))
                });
                listed.truncate(5000);
                listed
            }
            _ => {
                return Err(
                    FieldError::new("resource_id", "give a resource or a requester").into(),
                );
            }
        };
        Ok(pb::ListBookingsResponse {
            occurrences: listed.iter().map(listed_out).collect(),
        })
    }

    /// The occurrences within `[from, to)` of `requester`'s bookings of other
    /// nodes' resources, as their home nodes last shared them with this one.
    async fn mirrored_bookings(
        &self,
        requester: &OrgId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Listed>, ApiError> {
        let mut listed = Vec::new();
        for mirror in self
            .ctx
            .store
            .mirrors_of_kind(EntityKind::Booking, MAX_MIRRORS)
            .await?
        {
            let booked: Booked = mirror.decode()?;
            if &booked.booking.requester_org != requester {
                continue;
            }
            for occurrence in booked.occurrences {
                if occurrence.start < to && occurrence.end > from {
                    listed.push(Listed {
                        booking: booked.booking.clone(),
                        occurrence,
                    });
                }
            }
        }
        Ok(listed)
    }

    /// The owner's verdict: approve, or reject with a comment.
    async fn decide(
        &self,
        caller: &Principal,
        req: &pb::DecideBookingRequest,
        approve: bool,
    ) -> Result<pb::BookingRecord, ApiError> {
        let command = decide(req, approve)?;
        let booked = self.ctx.store.decide_booking(command, caller).await?;
        Ok(booked.to_proto())
    }

    async fn find_slots(
        &self,
        caller: &Principal,
        req: pb::FindSlotsRequest,
    ) -> Result<pb::FindSlotsResponse, ApiError> {
        let store = &self.ctx.store;
        let requester = store
            .get_organization(&org_ref("requester", &req.requester)?)
            .await?;
        authorize(
            caller,
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
        let partners = store.agreement_partners(&requester.id).await?;
        let candidates: Vec<Resource> = store
            .matching_resources(&requester.id, &features, req.headcount, 1000)
            .await?
            .into_iter()
            .filter(|r| r.open_to(&requester.id, &partners))
            .collect();
        let busy = store.free_busy(&candidates, from, to).await?;
        let with_busy: Vec<_> = candidates
            .into_iter()
            .zip(busy)
            .map(|(r, (_, b))| (r, b))
            .collect();
        let query = SlotQuery {
            duration: Duration::minutes(i64::from(req.duration_minutes)),
            from,
            to,
            features,
            headcount: req.headcount,
            limit,
        };
        let found = slots::find(&with_busy, &query, store.clock().now());
        Ok(pb::FindSlotsResponse {
            slots: found
                .iter()
                .map(|s| pb::FreeSlot {
                    resource: Some(resource_out(&s.resource)),
                    start: Some(timestamp(s.start)),
                    end: Some(timestamp(s.end)),
                })
                .collect(),
        })
    }
}

type RpcResult<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl BookingApi for BookingService {
    async fn create_resource(
        &self,
        request: Request<pb::CreateResourceRequest>,
    ) -> RpcResult<pb::Resource> {
        let caller = principal(&request)?;
        self.ctx
            .reply(self.create_resource(&caller, request.into_inner()).await)
            .await
    }

    async fn get_resource(
        &self,
        request: Request<pb::GetResourceRequest>,
    ) -> RpcResult<pb::Resource> {
        let caller = principal(&request)?;
        let found = self.shown(&caller, &request.get_ref().resource_id).await;
        self.ctx.reply(found.map(|r| resource_out(&r))).await
    }

    async fn list_resources(
        &self,
        request: Request<pb::ListResourcesRequest>,
    ) -> RpcResult<pb::ListResourcesResponse> {
        let caller = principal(&request)?;
        self.ctx
            .reply(self.list_resources(&caller, request.into_inner()).await)
            .await
    }

    async fn update_resource(
        &self,
        request: Request<pb::UpdateResourceRequest>,
    ) -> RpcResult<pb::Resource> {
        let caller = principal(&request)?;
        self.ctx
            .reply(self.update_resource(&caller, request.into_inner()).await)
            .await
    }

    async fn set_blackouts(
        &self,
        request: Request<pb::SetBlackoutsRequest>,
    ) -> RpcResult<pb::SetBlackoutsResponse> {
        let caller = principal(&request)?;
        self.ctx
            .reply(self.set_blackouts(&caller, request.into_inner()).await)
            .await
    }

    async fn free_busy(
        &self,
        request: Request<pb::FreeBusyRequest>,
    ) -> RpcResult<pb::FreeBusyResponse> {
        let caller = principal(&request)?;
        self.ctx
            .reply(self.free_busy(&caller, request.into_inner()).await)
            .await
    }

    async fn list_bookings(
        &self,
        request: Request<pb::ListBookingsRequest>,
    ) -> RpcResult<pb::ListBookingsResponse> {
        let caller = principal(&request)?;
        self.ctx
            .reply(self.list_bookings(&caller, request.into_inner()).await)
            .await
    }

    async fn find_slots(
        &self,
        request: Request<pb::FindSlotsRequest>,
    ) -> RpcResult<pb::FindSlotsResponse> {
        let caller = principal(&request)?;
        self.ctx
            .reply(self.find_slots(&caller, request.into_inner()).await)
            .await
    }

    async fn request_booking(
        &self,
        request: Request<pb::RequestBookingRequest>,
    ) -> RpcResult<pb::RequestBookingResponse> {
        forward::route(&self.ctx, request, async |caller, req, key| {
            let requester = self
                .ctx
                .store
                .get_organization(&org_ref("requester", &req.requester)?)
                .await?;
            authorize(
                &caller,
                Action::RequestBookings,
                Target::Organization(&requester.id),
            )?;
            let command = booking_request(&req, requester.id)?;
            let outcome = self
                .ctx
                .store
                .request_booking(command, &caller, key.as_ref())
                .await?;
            Ok(outcome.to_proto())
        })
        .await
    }

    async fn approve_booking(
        &self,
        request: Request<pb::DecideBookingRequest>,
    ) -> RpcResult<pb::BookingRecord> {
        let caller = principal(&request)?;
        let decided = self.decide(&caller, request.get_ref(), true).await;
        self.ctx.reply(decided).await
    }

    async fn reject_booking(
        &self,
        request: Request<pb::DecideBookingRequest>,
    ) -> RpcResult<pb::BookingRecord> {
        let caller = principal(&request)?;
        let decided = self.decide(&caller, request.get_ref(), false).await;
        self.ctx.reply(decided).await
    }

    async fn cancel_booking(
        &self,
        request: Request<pb::CancelBookingRequest>,
    ) -> RpcResult<pb::BookingRecord> {
        forward::route(&self.ctx, request, async |caller, req, key| {
            let command = cancel(&req)?;
            let booked = self
                .ctx
                .store
                .cancel_booking(command, &caller, key.as_ref())
                .await?;
            Ok(booked.to_proto())
        })
        .await
    }

    async fn get_booking(
        &self,
        request: Request<pb::GetBookingRequest>,
    ) -> RpcResult<pb::BookingRecord> {
        forward::route(&self.ctx, request, async |caller, req, _| {
            let id = edufed_domain::ids::BookingId::parse("booking_id", &req.booking_id)?;
            Ok(self.ctx.store.get_booking(&id, &caller).await?.to_proto())
        })
        .await
    }
}
