//! The Routes service: a school's learning routes. Templates and routes
//! are the store's; enrolling and cancelling a route call the Calendar's
//! and the Booking's own request paths for each item, so an item on
//! another node is forwarded there like any registration or booking, with
//! an idempotency key of the route's item: asking again after a failure
//! has its effect once.

use chrono::{Datelike, NaiveDate, TimeZone as _, Utc};
use edufed_domain::FieldError;
use edufed_domain::federation::IDEMPOTENCY_HEADER;
use edufed_domain::ids::{OrgId, RouteId, RouteTemplateId};
use edufed_domain::policy::Principal;
use edufed_domain::routes::{ItemStatus, Offering, Route, RouteItem};
use edufed_proto::v1 as pb;
use edufed_proto::v1::booking_server::Booking as _;
use edufed_proto::v1::calendar_server::Calendar as _;
use edufed_proto::v1::routes_server::Routes as RoutesApi;
use tonic::metadata::MetadataValue;
use tonic::{Request, Response, Status};

use crate::auth::principal;
use crate::context::Context;
use crate::convert::routes::{
    cohort_in, draft_in, item_status_out, outcome_in, route_out, state_filter, template_out,
};
use crate::convert::{expected, instant, org_ref, timestamp};
use crate::status::ApiError;
use crate::{BookingService, CalendarService};

type RpcResult<T> = Result<Response<T>, Status>;

/// The `edufed.v1.Routes` service.
#[derive(Debug, Clone)]
pub struct RoutesService {
    ctx: Context,
}

fn school_year(raw: u32) -> Result<Option<u16>, FieldError> {
    match raw {
        0 => Ok(None),
        y => u16::try_from(y)
            .ok()
            .filter(|y| (2000..=2100).contains(y))
            .map(Some)
            .ok_or_else(|| FieldError::new("school_year", "is a year such as 2026")),
    }
}

/// A request for another service's call, as `caller` makes it, keyed so
/// that asking again has its effect once.
fn keyed<T>(extensions: &tonic::Extensions, message: T, key: &str) -> Request<T> {
    let mut request = Request::new(message);
    *request.extensions_mut() = extensions.clone();
    if let Ok(value) = MetadataValue::try_from(key) {
        request.metadata_mut().insert(IDEMPOTENCY_HEADER, value);
    }
    request
}

/// A template's refusal named from the request's root (`template.items[1]…`).
fn within_template(error: edufed_domain::routes::Error) -> edufed_domain::routes::Error {
    match error {
        edufed_domain::routes::Error::Invalid(e) => e.within("template").into(),
        other => other,
    }
}

/// What became of asking for an item: its status, record and refusal.
type Answer = (ItemStatus, Option<String>, Option<String>);

/// A refusal as the route keeps it: the offering node's words.
fn refused(status: &Status) -> Answer {
    (ItemStatus::Refused, None, Some(status.message().to_owned()))
}

impl RoutesService {
    /// The service of the node `ctx` describes.
    pub fn new(ctx: Context) -> Self {
        Self { ctx }
    }

    async fn org(&self, field: &str, raw: &str) -> Result<OrgId, ApiError> {
        Ok(self
            .ctx
            .store
            .get_organization(&org_ref(field, raw)?)
            .await?
            .id)
    }

    /// Asks the network for one item of `route`.
    async fn ask(&self, extensions: &tonic::Extensions, route: &Route, item: &RouteItem) -> Answer {
        let key = format!("route-{}-{}-{}", route.id, item.item.number, route.version);
        match &item.item.offering {
            Offering::Activity {
                activity,
                occurrence,
                venue,
            } => {
                let message = pb::RegisterRequest {
                    venue: venue.unwrap_or(0),
                    activity_id: activity.to_string(),
                    occurrence_start: occurrence.map(timestamp),
                    cohort: Some(pb::Cohort {
                        organization: route.school.to_string(),
                        grades: Some(pb::GradeRange {
                            min: u32::from(route.grade),
                            max: u32::from(route.grade),
                        }),
                        headcount: route.cohort.headcount,
                        teacher: route.cohort.teacher.clone(),
                        teacher_contact: route.cohort.teacher_contact.clone().unwrap_or_default(),
                        teachers: false,
                    }),
                };
                let calendar = CalendarService::new(self.ctx.clone());
                match calendar.register(keyed(extensions, message, &key)).await {
                    Ok(reply) => {
                        let r = reply.into_inner();
                        let status = if r.state == pb::RegistrationState::Waitlisted as i32 {
                            ItemStatus::Waitlisted
                        } else {
                            ItemStatus::Registered
                        };
                        (status, Some(r.id), None)
                    }
                    Err(status) => refused(&status),
                }
            }
            Offering::Booking {
                resource,
                start,
                end,
                purpose,
            } => {
                let message = pb::RequestBookingRequest {
                    resource_id: resource.to_string(),
                    requester: route.school.to_string(),
                    start: crate::convert::local_out(*start),
                    end: crate::convert::local_out(*end),
                    purpose: purpose.clone(),
                    headcount: route.cohort.headcount,
                    ..Default::default()
                };
                let booking = BookingService::new(self.ctx.clone());
                match booking
                    .request_booking(keyed(extensions, message, &key))
                    .await
                {
                    Ok(reply) => {
                        let b = reply.into_inner().booking.unwrap_or_default();
                        let confirmed = b
                            .occurrences
                            .iter()
                            .all(|o| o.state == pb::OccurrenceState::Confirmed as i32);
                        let status = if confirmed {
                            ItemStatus::Registered
                        } else {
                            ItemStatus::Requested
                        };
                        (status, Some(b.id), None)
                    }
                    Err(status) => refused(&status),
                }
            }
        }
    }

    /// Withdraws what an item became on its node.
    async fn withdraw_item(
        &self,
        extensions: &tonic::Extensions,
        route: &Route,
        item: &RouteItem,
    ) -> Result<(), Status> {
        let Some(record) = &item.record else {
            return Ok(());
        };
        let key = format!("route-{}-{}-withdraw", route.id, item.item.number);
        match &item.item.offering {
            Offering::Activity { .. } => {
                let calendar = CalendarService::new(self.ctx.clone());
                let message = pb::WithdrawRequest {
                    registration_id: record.clone(),
                };
                calendar.withdraw(keyed(extensions, message, &key)).await?;
            }
            Offering::Booking { .. } => {
                let booking = BookingService::new(self.ctx.clone());
                let message = pb::CancelBookingRequest {
                    booking_id: record.clone(),
                    scope: pb::CancelScope::All.into(),
                    occurrence_start: None,
                    comment: format!("Маршрут {} отменён", route.cohort.code),
                };
                booking
                    .cancel_booking(keyed(extensions, message, &key))
                    .await?;
            }
        }
        Ok(())
    }

    async fn enrol_route(
        &self,
        request: Request<pb::EnrolRouteRequest>,
    ) -> Result<pb::Route, ApiError> {
        let caller = principal(&request).map_err(ApiError::from_status)?;
        let extensions = request.extensions().clone();
        let id = RouteId::parse("id", &request.get_ref().id)?;
        let mut route = self.ctx.store.get_route(&id, &caller).await?;
        route.ensure_active()?;
        // Only those who manage the school's routes enrol them; checked by
        // the store on the first record, and here before anything is asked.
        edufed_domain::policy::authorize(
            &caller,
            edufed_domain::policy::Action::ManageRoutes,
            edufed_domain::policy::Target::Organization(&route.school),
        )?;
        let pending: Vec<u32> = route
            .items
            .iter()
            .filter(|i| i.pending())
            .map(|i| i.item.number)
            .collect();
        for number in pending {
            let Some(item) = route
                .items
                .iter()
                .find(|i| i.item.number == number)
                .cloned()
            else {
                continue;
            };
            let (status, record, refusal) = self.ask(&extensions, &route, &item).await;
            route = self
                .ctx
                .store
                .record_route_enrolment(&id, number, status, record, refusal, &caller)
                .await?;
        }
        Ok(route_out(&route))
    }

    async fn cancel_route(
        &self,
        request: Request<pb::CancelRouteRequest>,
    ) -> Result<pb::Route, ApiError> {
        let caller = principal(&request).map_err(ApiError::from_status)?;
        let extensions = request.extensions().clone();
        let req = request.get_ref();
        let id = RouteId::parse("id", &req.id)?;
        let route = self.ctx.store.get_route(&id, &caller).await?;
        route.at_version(expected(req.expected_version))?;
        route.ensure_active()?;
        edufed_domain::policy::authorize(
            &caller,
            edufed_domain::policy::Action::ManageRoutes,
            edufed_domain::policy::Target::Organization(&route.school),
        )?;
        for item in route.items.iter().filter(|i| {
            matches!(
                i.status,
                ItemStatus::Registered | ItemStatus::Waitlisted | ItemStatus::Requested
            )
        }) {
            if let Err(status) = self.withdraw_item(&extensions, &route, item).await {
                // Already withdrawn there, or gone: nothing left to give up.
                if status.code() != tonic::Code::NotFound
                    && status.code() != tonic::Code::FailedPrecondition
                {
                    return Err(ApiError::from_status(status));
                }
            }
        }
        let route = self
            .ctx
            .store
            .change_route(&id, None, &caller, |r, at| r.cancelled(at))
            .await?;
        Ok(route_out(&route))
    }

    async fn route_calendar(
        &self,
        caller: &Principal,
        req: pb::RouteCalendarRequest,
    ) -> Result<pb::RouteCalendarResponse, ApiError> {
        let id = RouteId::parse("id", &req.id)?;
        let route = self.ctx.store.get_route(&id, caller).await?;
        let year_start = NaiveDate::from_ymd_opt(i32::from(route.school_year), 9, 1)
            .unwrap_or_default()
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default();
        let from = instant("from", req.from.as_ref())?
            .unwrap_or_else(|| Utc.from_utc_datetime(&year_start));
        let to = instant("to", req.to.as_ref())?.unwrap_or_else(|| {
            Utc.from_utc_datetime(
                &year_start
                    .with_year(year_start.year() + 1)
                    .unwrap_or(year_start),
            )
        });
        if to <= from {
            return Err(FieldError::new("to", "is not after from").into());
        }
        let occurrences = self.ctx.store.route_occurrences(&route, from, to).await?;
        Ok(pb::RouteCalendarResponse {
            occurrences: occurrences
                .into_iter()
                .map(|o| pb::RouteOccurrence {
                    item: o.item,
                    title: o.title,
                    start: Some(timestamp(o.start)),
                    end: Some(timestamp(o.end)),
                    status: item_status_out(o.status),
                    offering_name: o.offering_name,
                    organization_id: o.organization.to_string(),
                    time_zone: o.time_zone,
                    all_day: o.all_day,
                })
                .collect(),
        })
    }

    async fn create_route_template(
        &self,
        caller: &Principal,
        req: pb::CreateRouteTemplateRequest,
    ) -> Result<pb::RouteTemplate, ApiError> {
        let school = self.org("school", &req.school).await?;
        let draft = draft_in(req.template.as_ref())?;
        let t = self
            .ctx
            .store
            .create_route_template(&school, draft, caller)
            .await
            .map_err(within_template)?;
        Ok(template_out(&t))
    }

    async fn revise_route_template(
        &self,
        caller: &Principal,
        req: pb::ReviseRouteTemplateRequest,
    ) -> Result<pb::RouteTemplate, ApiError> {
        let id = RouteTemplateId::parse("id", &req.id)?;
        let draft = draft_in(req.template.as_ref())?;
        let t = self
            .ctx
            .store
            .revise_route_template(&id, expected(req.expected_version), draft, caller)
            .await
            .map_err(within_template)?;
        Ok(template_out(&t))
    }

    async fn copy_route_template(
        &self,
        caller: &Principal,
        req: pb::CopyRouteTemplateRequest,
    ) -> Result<pb::RouteTemplate, ApiError> {
        let id = RouteTemplateId::parse("id", &req.id)?;
        let year = school_year(req.school_year)?
            .ok_or_else(|| FieldError::new("school_year", "is required"))?;
        let t = self
            .ctx
            .store
            .copy_route_template(&id, year, caller)
            .await?;
        Ok(template_out(&t))
    }

    async fn get_route_template(
        &self,
        caller: &Principal,
        req: pb::GetRouteTemplateRequest,
    ) -> Result<pb::RouteTemplate, ApiError> {
        let id = RouteTemplateId::parse("id", &req.id)?;
        Ok(template_out(
            &self.ctx.store.get_route_template(&id, caller).await?,
        ))
    }

    async fn list_route_templates(
        &self,
        caller: &Principal,
        req: pb::ListRouteTemplatesRequest,
    ) -> Result<pb::ListRouteTemplatesResponse, ApiError> {
        let school = self.org("school", &req.school).await?;
        let found = self
            .ctx
            .store
            .list_route_templates(&school, school_year(req.school_year)?, caller)
            .await?;
        Ok(pb::ListRouteTemplatesResponse {
            templates: found.iter().map(template_out).collect(),
        })
    }

    async fn assign_route(
        &self,
        caller: &Principal,
        req: pb::AssignRouteRequest,
    ) -> Result<pb::Route, ApiError> {
        let template = RouteTemplateId::parse("template_id", &req.template_id)?;
        let cohort = cohort_in(req.cohort.as_ref())?;
        let route = self
            .ctx
            .store
            .assign_route(&template, cohort, &req.electives, caller)
            .await?;
        Ok(route_out(&route))
    }

    async fn follow_route_item(
        &self,
        caller: &Principal,
        req: pb::FollowRouteItemRequest,
    ) -> Result<pb::Route, ApiError> {
        let id = RouteId::parse("id", &req.id)?;
        let route = self
            .ctx
            .store
            .follow_route_item(
                &id,
                expected(req.expected_version),
                req.item,
                req.attended,
                &req.result,
                caller,
            )
            .await?;
        Ok(route_out(&route))
    }

    async fn conclude_route(
        &self,
        caller: &Principal,
        req: pb::ConcludeRouteRequest,
    ) -> Result<pb::Route, ApiError> {
        let id = RouteId::parse("id", &req.id)?;
        let outcome = outcome_in(req.outcome.as_ref())?;
        let route = self
            .ctx
            .store
            .conclude_route(&id, expected(req.expected_version), outcome, caller)
            .await?;
        Ok(route_out(&route))
    }

    async fn get_route(
        &self,
        caller: &Principal,
        req: pb::GetRouteRequest,
    ) -> Result<pb::Route, ApiError> {
        let id = RouteId::parse("id", &req.id)?;
        Ok(route_out(&self.ctx.store.get_route(&id, caller).await?))
    }

    async fn list_routes(
        &self,
        caller: &Principal,
        req: pb::ListRoutesRequest,
    ) -> Result<pb::ListRoutesResponse, ApiError> {
        let school = self.org("school", &req.school).await?;
        let found = self
            .ctx
            .store
            .list_routes(
                &school,
                school_year(req.school_year)?,
                state_filter(req.state)?,
                caller,
            )
            .await?;
        Ok(pb::ListRoutesResponse {
            routes: found.iter().map(route_out).collect(),
        })
    }
}

/// Each call: the caller, then its inner method's answer.
macro_rules! calls {
    ($($name:ident($request:ty) -> $answer:ty;)+) => {
        #[tonic::async_trait]
        impl RoutesApi for RoutesService {
            $(
                async fn $name(&self, request: Request<$request>) -> RpcResult<$answer> {
                    let caller = principal(&request)?;
                    self.ctx
                        .reply(RoutesService::$name(self, &caller, request.into_inner()).await)
                        .await
                }
            )+

            async fn enrol_route(
                &self,
                request: Request<pb::EnrolRouteRequest>,
            ) -> RpcResult<pb::Route> {
                self.ctx.reply(RoutesService::enrol_route(self, request).await).await
            }

            async fn cancel_route(
                &self,
                request: Request<pb::CancelRouteRequest>,
            ) -> RpcResult<pb::Route> {
                self.ctx.reply(RoutesService::cancel_route(self, request).await).await
            }
        }
    };
}

calls! {
    create_route_template(pb::CreateRouteTemplateRequest) -> pb::RouteTemplate;
    revise_route_template(pb::ReviseRouteTemplateRequest) -> pb::RouteTemplate;
    copy_route_template(pb::CopyRouteTemplateRequest) -> pb::RouteTemplate;
    get_route_template(pb::GetRouteTemplateRequest) -> pb::RouteTemplate;
    list_route_templates(pb::ListRouteTemplatesRequest) -> pb::ListRouteTemplatesResponse;
    assign_route(pb::AssignRouteRequest) -> pb::Route;
    follow_route_item(pb::FollowRouteItemRequest) -> pb::Route;
    conclude_route(pb::ConcludeRouteRequest) -> pb::Route;
    get_route(pb::GetRouteRequest) -> pb::Route;
    list_routes(pb::ListRoutesRequest) -> pb::ListRoutesResponse;
    route_calendar(pb::RouteCalendarRequest) -> pb::RouteCalendarResponse;
}
