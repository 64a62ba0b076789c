//! The Calendar service. Writes become typed commands that the store decides
//! inside its write transaction; registrations for another node's activity
//! pass [`forward::route`].

use chrono::Duration;
use edufed_domain::FieldError;
use edufed_domain::calendar::decide::{Headcount, Publish};
use edufed_domain::calendar::registration::RegistrationState;
use edufed_domain::calendar::schedule::{self, MAX_OCCURRENCE_DAYS};
use edufed_domain::calendar::{
    Activity, ActivityStatus, Error, MAX_WINDOW_DAYS, OccurrenceFilter, OverrideChange, Viewer,
};
use edufed_domain::ids::{ActivityId, RegistrationId};
use edufed_domain::page::{PageSize, PageToken};
use edufed_domain::policy::{Action, Credential, Principal, Target, authorize};
use edufed_domain::text;
use edufed_proto::v1 as pb;
use edufed_proto::v1::calendar_server::Calendar;
use edufed_store::calendar::ActivityWithSeats;
use tonic::{Request, Response, Status};

use crate::auth::principal;
use crate::context::Context;
use crate::convert::calendar::{
    details, direction_in, format_in, kind_in, occurrence_out, register, results, status_in,
};
use crate::convert::{ToProto as _, instant, local, org_ref, required};
use crate::forward;
use crate::status::ApiError;

/// The `edufed.v1.Calendar` service.
#[derive(Debug, Clone)]
pub struct CalendarService {
    ctx: Context,
}

type RpcResult<T> = Result<Response<T>, Status>;

impl CalendarService {
    /// The service of the node `ctx` describes.
    pub fn new(ctx: Context) -> Self {
        Self { ctx }
    }

    /// The activity, if the caller may see it (NOT_FOUND otherwise, so that
    /// hidden activities do not reveal that they exist).
    async fn visible(
        &self,
        caller: Option<&Principal>,
        raw: &str,
    ) -> Result<ActivityWithSeats, ApiError> {
        let id = ActivityId::parse("activity_id", raw)?;
        let found = self.ctx.store.get_activity(&id).await?;
        if !Viewer::of(caller).can_see(&found.activity) {
            return Err(Error::ActivityNotFound(id.to_string()).into());
        }
        Ok(found)
    }

    /// A registration on the wire with its place in line, if it waits.
    async fn placed(
        &self,
        registration: edufed_domain::calendar::registration::Registration,
    ) -> Result<pb::Registration, ApiError> {
        let place = if registration.state == RegistrationState::Waitlisted {
            self.ctx
                .store
                .list_registrations(
                    &registration.activity_id,
                    Some(std::slice::from_ref(&registration.cohort.org_id)),
                )
                .await?
                .into_iter()
                .find(|(r, _)| r.id == registration.id)
                .and_then(|(_, place)| place)
        } else {
            None
        };
        Ok(pb::Registration {
            waitlist_place: place.unwrap_or(0),
            ..registration.to_proto()
        })
    }

    async fn publish(
        &self,
        caller: &Principal,
        req: pb::PublishActivityRequest,
    ) -> Result<pb::Activity, ApiError> {
        let publisher = self
            .ctx
            .store
            .get_organization(&org_ref("publisher", &req.publisher)?)
            .await?;
        authorize(
            caller,
            Action::ManageActivities,
            Target::Organization(&publisher.id),
        )?;
        let command = Publish {
            details: details(req.details.as_ref(), publisher.time_zone)?,
            publisher: publisher.id,
            status: if req.draft {
                ActivityStatus::Draft
            } else {
                ActivityStatus::Published
            },
        };
        let activity = self.ctx.store.publish_activity(command, caller).await?;
        tracing::info!(activity = %activity.id, publisher = %activity.publisher, "activity published");
        Ok(activity.to_proto())
    }

    /// Changes an activity the caller manages with `change`, decided on the
    /// activity as it stands under its lock.
    async fn modify(
        &self,
        caller: &Principal,
        raw_id: &str,
        change: impl FnOnce(&Activity) -> Result<Activity, Error>,
    ) -> Result<pb::Activity, ApiError> {
        let id = ActivityId::parse("activity_id", raw_id)?;
        let activity = self.ctx.store.modify_activity(&id, caller, change).await?;
        Ok(activity.to_proto())
    }

    async fn update(
        &self,
        caller: &Principal,
        req: pb::UpdateActivityRequest,
    ) -> Result<pb::Activity, ApiError> {
        let expected = (req.expected_version != 0).then_some(req.expected_version);
        // A schedule that names no zone keeps the activity's own.
        let zone_given = req
            .details
            .as_ref()
            .and_then(|d| d.schedule.as_ref())
            .is_some_and(|s| !s.time_zone.trim().is_empty());
        let given = details(req.details.as_ref(), edufed_domain::time::TimeZone::UTC)?;
        self.modify(caller, &req.activity_id, |current| {
            let mut details = given;
            if !zone_given {
                details.schedule.time_zone = current.details.schedule.time_zone;
                details = details.validate().map_err(|e| e.within("details"))?;
            }
            current.edited(expected, details)
        })
        .await
    }

    /// Applies an override to the occurrence that originally started at
    /// `original`.
    async fn override_occurrence(
        &self,
        caller: &Principal,
        raw_id: &str,
        original: Option<&prost_types::Timestamp>,
        change: impl FnOnce(&Activity) -> Result<OverrideChange, FieldError>,
    ) -> Result<pb::Activity, ApiError> {
        let original = instant("original_start", original)?
            .ok_or_else(|| FieldError::new("original_start", "is required"))?;
        self.modify(caller, raw_id, |current| {
            let change = change(current)?;
            let local = original
                .with_timezone(&current.details.schedule.time_zone.tz())
                .naive_local();
            current.with_override(local, change)
        })
        .await
    }

    async fn list_occurrences(
        &self,
        caller: Option<&Principal>,
        req: pb::ListOccurrencesRequest,
    ) -> Result<pb::ListOccurrencesResponse, ApiError> {
        use chrono::Datelike as _;
        let from = instant("from", req.from.as_ref())?
            .ok_or_else(|| FieldError::new("from", "is required"))?;
        let to =
            instant("to", req.to.as_ref())?.ok_or_else(|| FieldError::new("to", "is required"))?;
        for (field, t) in [("from", from), ("to", to)] {
            if !schedule::YEARS.contains(&t.year()) {
                return Err(FieldError::new(field, "must fall between 1970 and 2200").into());
            }
        }
        if to <= from || to - from > Duration::days(MAX_WINDOW_DAYS) {
            return Err(FieldError::new(
                "to",
                format!("must be after from, within {MAX_WINDOW_DAYS} days"),
            )
            .into());
        }
        let publisher = match req.publisher.trim() {
            "" => None,
            raw => Some(
                self.ctx
                    .store
                    .get_organization(&org_ref("publisher", raw)?)
                    .await?
                    .id,
            ),
        };
        let filter = OccurrenceFilter {
            from,
            to,
            publisher,
            kind: kind_in("kind", req.kind)?,
            direction: direction_in("direction", req.direction)?,
            grade: grade(req.grade)?,
            subject: text::optional_line("subject", &req.subject, 60)?.map(|s| text::fold(&s)),
            format: format_in("format", req.format)?,
            min_free_seats: (req.min_free_seats != 0).then_some(req.min_free_seats),
            agreement_id: text::optional_line("agreement_id", &req.agreement_id, 100)?,
            query: text::optional_line("query", &req.query, 200)?.map(|q| text::fold(&q)),
            include_cancelled: req.include_cancelled,
            mentoring: crate::convert::calendar::mentoring_link(
                &req.mentoring_programme_id,
                &req.mentoring_pair_id,
            )?,
            host_designation: crate::convert::designations::query_in(
                "host_designation_kind",
                req.host_designation_kind,
                "host_designation_field",
                &req.host_designation_field,
                Some(from.date_naive()),
            )?,
        };
        let size = PageSize::new("page_size", req.page_size, 100, 500)?;
        let after = PageToken::decode("page_token", &req.page_token, 3)?;
        let page = self
            .ctx
            .store
            .find_occurrences(&filter, &Viewer::of(caller), size, after.as_ref())
            .await?;
        Ok(pb::ListOccurrencesResponse {
            occurrences: page
                .items
                .iter()
                .map(|f| pb::OccurrenceOfActivity {
                    activity: Some(f.activity.to_proto()),
                    occurrence: Some(occurrence_out(
                        &f.occurrence,
                        f.seats_taken,
                        f.activity.details.capacity,
                    )),
                })
                .collect(),
            next_page_token: page.next.map(|t| t.encode()).unwrap_or_default(),
        })
    }

    async fn list_registrations(
        &self,
        caller: &Principal,
        req: pb::ListRegistrationsRequest,
    ) -> Result<pb::ListRegistrationsResponse, ApiError> {
        let activity = self.visible(Some(caller), &req.activity_id).await?.activity;
        // The publisher sees every registration; others only their own.
        let own = edufed_domain::policy::permitted(caller, Action::ViewRegistrations);
        let orgs = own.beside(&activity.publisher);
        let registrations = self
            .ctx
            .store
            .list_registrations(&activity.id, orgs.as_deref())
            .await?;
        Ok(pb::ListRegistrationsResponse {
            registrations: registrations
                .iter()
                .map(|(r, place)| pb::Registration {
                    waitlist_place: place.unwrap_or(0),
                    ..r.to_proto()
                })
                .collect(),
        })
    }

    async fn feed_urls(
        &self,
        caller: &Principal,
        req: pb::GetFeedUrlsRequest,
    ) -> Result<pb::GetFeedUrlsResponse, ApiError> {
        let scope = match (req.organization.trim(), req.activity_id.trim()) {
            ("", "") if !req.route_id.trim().is_empty() => {
                let id = edufed_domain::ids::RouteId::parse("route_id", &req.route_id)?;
                // Only who sees the route is given its feed.
                self.ctx.store.get_route(&id, caller).await?;
                format!("routes/{id}.ics")
            }
            ("", "") => "network.ics".to_owned(),
            (org, "") => {
                let org = self
                    .ctx
                    .store
                    .get_organization(&org_ref("organization", org)?)
                    .await?;
                format!("organizations/{}.ics", org.slug)
            }
            ("", activity) => format!(
                "activities/{}.ics",
                ActivityId::parse("activity_id", activity)?
            ),
            _ => {
                return Err(FieldError::new(
                    "activity_id",
                    "give an organization or an activity, not both",
                )
                .into());
            }
        };
        let mut query = Vec::new();
        if let Some(g) = grade(req.grade)? {
            query.push(format!("grade={g}"));
        }
        if let Some(kind) = kind_in("kind", req.kind)? {
            query.push(format!("kind={kind}"));
        }
        if let Some(direction) = direction_in("direction", req.direction)? {
            query.push(format!("direction={direction}"));
        }
        if let Some(format) = format_in("format", req.format)? {
            query.push(format!("format={format}"));
        }
        if let Some(subject) = text::optional_line("subject", &req.subject, 60)? {
            query.push(format!("subject={}", percent_encode(&text::fold(&subject))));
        }
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{}", query.join("&"))
        };
        let key = match &caller.credential {
            Credential::Token(token) => self.ctx.store.feed_key(token).await?,
            Credential::Session(_) | Credential::Peer(_) => {
                self.ctx
                    .store
                    .subscription_feed_key(&caller.person_id)
                    .await?
            }
        };
        let private_only = scope.starts_with("routes/");
        Ok(pb::GetFeedUrlsResponse {
            public_path: if private_only {
                String::new()
            } else {
                format!("/ics/{scope}{query}")
            },
            private_path: format!("/ics/private/{key}/{scope}{query}"),
        })
    }
}

/// A grade filter: 0 for none, else 1 to 11.
fn grade(raw: u32) -> Result<Option<u8>, FieldError> {
    match raw {
        0 => Ok(None),
        g @ 1..=11 => Ok(Some(g as u8)),
        _ => Err(FieldError::new("grade", "grades are 1 to 11")),
    }
}

#[tonic::async_trait]
impl Calendar for CalendarService {
    async fn publish_activity(
        &self,
        request: Request<pb::PublishActivityRequest>,
    ) -> RpcResult<pb::Activity> {
        let caller = principal(&request)?;
        self.ctx
            .reply(self.publish(&caller, request.into_inner()).await)
            .await
    }

    async fn update_activity(
        &self,
        request: Request<pb::UpdateActivityRequest>,
    ) -> RpcResult<pb::Activity> {
        let caller = principal(&request)?;
        self.ctx
            .reply(self.update(&caller, request.into_inner()).await)
            .await
    }

    async fn set_activity_status(
        &self,
        request: Request<pb::SetActivityStatusRequest>,
    ) -> RpcResult<pb::Activity> {
        let caller = principal(&request)?;
        let req = request.get_ref();
        let status = async { Ok(required("status", status_in("status", req.status)?)?) };
        let changed = match status.await {
            Ok(status) => {
                self.modify(&caller, &req.activity_id, |current| {
                    current.with_status(status)
                })
                .await
            }
            Err(e) => Err(e),
        };
        self.ctx.reply(changed).await
    }

    async fn cancel_occurrence(
        &self,
        request: Request<pb::CancelOccurrenceRequest>,
    ) -> RpcResult<pb::Activity> {
        let caller = principal(&request)?;
        let req = request.get_ref();
        self.ctx
            .reply(
                self.override_occurrence(
                    &caller,
                    &req.activity_id,
                    req.original_start.as_ref(),
                    |_| Ok(OverrideChange::Cancelled),
                )
                .await,
            )
            .await
    }

    async fn move_occurrence(
        &self,
        request: Request<pb::MoveOccurrenceRequest>,
    ) -> RpcResult<pb::Activity> {
        let caller = principal(&request)?;
        let req = request.get_ref();
        let moved = self
            .override_occurrence(
                &caller,
                &req.activity_id,
                req.original_start.as_ref(),
                |activity| {
                    let start = local("start", &req.start)?;
                    let end = local("end", &req.end)?;
                    let zone = activity.details.schedule.time_zone;
                    let (from, to) = (
                        schedule::to_utc("start", zone, start)?,
                        schedule::to_utc("end", zone, end)?,
                    );
                    if to <= from || to - from > Duration::days(MAX_OCCURRENCE_DAYS) {
                        return Err(FieldError::new(
                            "end",
                            "must be after the start, within 366 days",
                        ));
                    }
                    Ok(OverrideChange::Moved { start, end })
                },
            )
            .await;
        self.ctx.reply(moved).await
    }

    async fn get_activity(
        &self,
        request: Request<pb::GetActivityRequest>,
    ) -> RpcResult<pb::ActivityWithOccurrences> {
        let caller = request.extensions().get::<Principal>().cloned();
        let found = self
            .visible(caller.as_ref(), &request.get_ref().activity_id)
            .await;
        self.ctx
            .reply(found.map(|found| {
                let capacity = found.activity.details.capacity;
                pb::ActivityWithOccurrences {
                    occurrences: found
                        .occurrences
                        .iter()
                        .map(|(o, taken)| occurrence_out(o, *taken, capacity))
                        .collect(),
                    activity: Some(found.activity.to_proto()),
                    waitlisted: found.waitlisted,
                }
            }))
            .await
    }

    async fn list_occurrences(
        &self,
        request: Request<pb::ListOccurrencesRequest>,
    ) -> RpcResult<pb::ListOccurrencesResponse> {
        let caller = request.extensions().get::<Principal>().cloned();
        self.ctx
            .reply(
                self.list_occurrences(caller.as_ref(), request.into_inner())
                    .await,
            )
            .await
    }

    async fn register(&self, request: Request<pb::RegisterRequest>) -> RpcResult<pb::Registration> {
        forward::route(&self.ctx, request, async |caller, req, key| {
            let raw = req.cohort.as_ref().map_or("", |c| c.organization.as_str());
            let org = self
                .ctx
                .store
                .get_organization(&org_ref("cohort.organization", raw)?)
                .await?;
            authorize(&caller, Action::RegisterCohorts, Target::Organization(&org.id))?;
            let command = register(&req, org.id)?;
            let registration = self
                .ctx
                .store
                .register(command, &caller, key.as_ref())
                .await?;
            tracing::info!(registration = %registration.id, state = %registration.state, "cohort registered");
            self.placed(registration).await
        })
        .await
    }

    async fn withdraw(&self, request: Request<pb::WithdrawRequest>) -> RpcResult<pb::Registration> {
        forward::route(&self.ctx, request, async |caller, req, key| {
            let id = RegistrationId::parse("registration_id", &req.registration_id)?;
            let registration = self.ctx.store.withdraw(&id, &caller, key.as_ref()).await?;
            Ok(registration.to_proto())
        })
        .await
    }

    async fn change_headcount(
        &self,
        request: Request<pb::ChangeHeadcountRequest>,
    ) -> RpcResult<pb::Registration> {
        forward::route(&self.ctx, request, async |caller, req, key| {
            let id = RegistrationId::parse("registration_id", &req.registration_id)?;
            let registration = self
                .ctx
                .store
                .change_headcount(&id, Headcount(req.headcount), &caller, key.as_ref())
                .await?;
            self.placed(registration).await
        })
        .await
    }

    async fn list_registrations(
        &self,
        request: Request<pb::ListRegistrationsRequest>,
    ) -> RpcResult<pb::ListRegistrationsResponse> {
        let caller = principal(&request)?;
        self.ctx
            .reply(self.list_registrations(&caller, request.into_inner()).await)
            .await
    }

    async fn record_results(
        &self,
        request: Request<pb::RecordResultsRequest>,
    ) -> RpcResult<pb::Registration> {
        let caller = principal(&request)?;
        let recorded = async {
            let req = request.get_ref();
            let id = RegistrationId::parse("registration_id", &req.registration_id)?;
            let results = results(req.results.as_ref())?;
            let registration = self.ctx.store.record_results(&id, results, &caller).await?;
            Ok(registration.to_proto())
        };
        self.ctx.reply(recorded.await).await
    }

    async fn get_feed_urls(
        &self,
        request: Request<pb::GetFeedUrlsRequest>,
    ) -> RpcResult<pb::GetFeedUrlsResponse> {
        let caller = principal(&request)?;
        self.ctx
            .reply(self.feed_urls(&caller, request.into_inner()).await)
            .await
    }
}

/// Percent-encodes a query value (UTF-8 bytes outside the unreserved set).
fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
