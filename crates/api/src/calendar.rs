//! The Calendar service.

use chrono::{DateTime, Duration, Utc};
use edufed_domain::FieldError;
use edufed_domain::calendar::registration::{Cohort, check_results, check_withdrawal};
use edufed_domain::calendar::{
    Activity, ActivityDetails, ActivityStatus, Error, MAX_WINDOW_DAYS, OccurrenceFilter,
    OverrideChange, Viewer,
};
use edufed_domain::changes::{Actor, EntityKind};
use edufed_domain::directory::{OrgRef, Organization};
use edufed_domain::ids::{ActivityId, AgreementId, OrgId, RegistrationId};
use edufed_domain::page::{PageSize, PageToken};
use edufed_domain::policy::{Action, Principal, Target, authorize};
use edufed_domain::text;
use edufed_proto::v1 as pb;
use edufed_proto::v1::calendar_client::CalendarClient;
use edufed_proto::v1::calendar_server::Calendar;
use edufed_store::Store;
use tonic::{Request, Response, Status};

use crate::auth::principal;
use crate::calendar_convert::{self as convert, occurrence_out};
use crate::convert::{ToProto as _, org_ref};
use crate::forward::Forwarding;
use crate::status::ApiError;

/// The `edufed.v1.Calendar` service.
#[derive(Debug, Clone)]
pub struct CalendarService {
    store: Store,
    forwarding: Forwarding,
}

impl CalendarService {
    /// A service over `store` that does not forward writes.
    pub fn new(store: Store) -> Self {
        Self {
            forwarding: Forwarding::new(store.clone(), None),
            store,
        }
    }

    /// The service, sending registrations for mirrored activities to their
    /// home nodes with `forwarder`.
    pub fn forwarding_with(mut self, forwarder: edufed_federation::Forwarder) -> Self {
        self.forwarding = Forwarding::new(self.store.clone(), Some(forwarder));
        self
    }

    /// Registers a cohort for one of this node's activities.
    async fn register_here(
        &self,
        caller: &Principal,
        request: &Request<pb::RegisterRequest>,
    ) -> RpcResult<pb::Registration> {
        let caller = caller.clone();
        let registration = async {
            let req = request.get_ref();
            let id = ActivityId::parse("activity_id", &req.activity_id)?;
            let raw = req
                .cohort
                .as_ref()
                .ok_or_else(|| FieldError::new("cohort", "is required"))?;
            let org = self
                .store
                .get_organization(&org_ref("cohort.organization", &raw.organization)?)
                .await?;
            authorize(
                &caller,
                Action::RegisterCohorts,
                Target::Organization(&org.id),
            )?;
            let cohort = Cohort {
                org_id: org.id,
                grades: convert::cohort_grades(raw.grades.as_ref())?,
                headcount: raw.headcount,
                teacher: raw.teacher.clone(),
                teacher_contact: Some(raw.teacher_contact.clone()),
            }
            .validate()?;
            self.visible(Some(&caller), &id).await?;
            let occurrence = convert::instant("occurrence_start", req.occurrence_start.as_ref())?
                .map(|t: DateTime<Utc>| t.timestamp_micros());
            Ok::<_, ApiError>(
                self.store
                    .register(
                        &id,
                        occurrence,
                        cohort,
                        &Actor::Person(caller.person_id.clone()),
                    )
                    .await?,
            )
        }
        .await?;
        tracing::info!(registration = %registration.id, state = %registration.state, "cohort registered");
        Ok(Response::new(registration.to_proto()))
    }

    /// Sends a registration for an activity another node owns to that node,
    /// with the cohort's organization resolved to its id.
    async fn register_at_home(
        &self,
        home: &str,
        caller: &Principal,
        request: &Request<pb::RegisterRequest>,
    ) -> RpcResult<pb::Registration> {
        let mut message = request.get_ref().clone();
        let raw = message
            .cohort
            .as_mut()
            .ok_or_else(|| ApiError::from(FieldError::new("cohort", "is required")))?;
        let org = self
            .store
            .get_organization(
                &org_ref("cohort.organization", &raw.organization).map_err(ApiError::from)?,
            )
            .await
            .map_err(ApiError::from)?;
        authorize(
            caller,
            Action::RegisterCohorts,
            Target::Organization(&org.id),
        )
        .map_err(ApiError::from)?;
        raw.organization = org.id.to_string();
        let registration = self
            .forwarding
            .to_home(
                home,
                request,
                message,
                caller,
                &org.id,
                |channel, forwarded| async move {
                    CalendarClient::new(channel).register(forwarded).await
                },
            )
            .await?;
        tracing::info!(registration = %registration.id, %home, "cohort registered at the activity's home node");
        Ok(Response::new(registration))
    }

    /// The activity, if the caller may see it (NOT_FOUND otherwise, so that
    /// hidden activities do not reveal that they exist).
    async fn visible(
        &self,
        caller: Option<&Principal>,
        id: &ActivityId,
    ) -> Result<edufed_store::calendar::ActivityWithSeats, ApiError> {
        let found = self.store.get_activity(id).await?;
        if !Viewer::of(caller).can_see(&found.activity) {
            return Err(Error::ActivityNotFound(id.to_string()).into());
        }
        Ok(found)
    }

    /// Loads an activity the caller manages.
    async fn managed(
        &self,
        caller: &Principal,
        raw_id: &str,
    ) -> Result<(Activity, Organization), ApiError> {
        let id = ActivityId::parse("activity_id", raw_id)?;
        let activity = self.visible(Some(caller), &id).await?.activity;
        authorize(
            caller,
            Action::ManageActivities,
            Target::Organization(&activity.publisher),
        )?;
        let publisher = self
            .store
            .get_organization(&OrgRef::Id(activity.publisher.clone()))
            .await?;
        Ok((activity, publisher))
    }

    /// Applies an override to one occurrence named by its original start.
    async fn override_occurrence(
        &self,
        caller: &Principal,
        raw_id: &str,
        original: Option<&prost_types::Timestamp>,
        change: impl FnOnce(&Activity) -> Result<OverrideChange, FieldError>,
    ) -> Result<Activity, ApiError> {
        let (activity, _) = self.managed(caller, raw_id).await?;
        let original = convert::instant("original_start", original)?
            .ok_or_else(|| FieldError::new("original_start", "is required"))?;
        let change = change(&activity)?;
        let local = original
            .with_timezone(&activity.details.schedule.time_zone.tz())
            .naive_local();
        Ok(self
            .store
            .modify_activity(
                &activity.id,
                &Actor::Person(caller.person_id.clone()),
                |current| current.with_override(local, change),
            )
            .await?)
    }
}

fn caller_of<T>(request: &Request<T>) -> Option<Principal> {
    request.extensions().get::<Principal>().cloned()
}

type RpcResult<T> = Result<Response<T>, Status>;

impl CalendarService {
    /// An activity may deliver an agreement on this node that its publisher
    /// is a party to; its id is stored in canonical form.
    async fn check_agreement(
        &self,
        details: &ActivityDetails,
        publisher: &OrgId,
    ) -> Result<(), ApiError> {
        let Some(raw) = &details.agreement_id else {
            return Ok(());
        };
        let id = AgreementId::parse("agreement_id", raw)?;
        if id.as_str() != raw {
            return Err(
                FieldError::new("agreement_id", "give the agreement's id as listed").into(),
            );
        }
        let agreement = self.store.get_agreement(&id).await.map_err(|e| match e {
            edufed_domain::agreement::Error::NotFound(_) => ApiError::from(FieldError::new(
                "agreement_id",
                format!("agreement {id} is not on this node"),
            )),
            other => other.into(),
        })?;
        if !agreement.involves(publisher) {
            return Err(FieldError::new(
                "agreement_id",
                format!("agreement {id} is not on this node"),
            )
            .into());
        }
        Ok(())
    }
}

#[tonic::async_trait]
impl Calendar for CalendarService {
    async fn publish_activity(
        &self,
        request: Request<pb::PublishActivityRequest>,
    ) -> RpcResult<pb::Activity> {
        let caller = principal(&request)?;
        let activity = async {
            let req = request.get_ref();
            let publisher = self
                .store
                .get_organization(&org_ref("publisher", &req.publisher)?)
                .await?;
            authorize(
                &caller,
                Action::ManageActivities,
                Target::Organization(&publisher.id),
            )?;
            let details = convert::details(req.details.as_ref(), publisher.time_zone)?;
            self.check_agreement(&details, &publisher.id).await?;
            let status = if req.draft {
                ActivityStatus::Draft
            } else {
                ActivityStatus::Published
            };
            Ok::<_, ApiError>(
                self.store
                    .publish_activity(
                        &publisher.id,
                        details,
                        status,
                        &Actor::Person(caller.person_id.clone()),
                    )
                    .await?,
            )
        }
        .await?;
        tracing::info!(activity = %activity.id, publisher = %activity.publisher, "activity published");
        Ok(Response::new(activity.to_proto()))
    }

    async fn update_activity(
        &self,
        request: Request<pb::UpdateActivityRequest>,
    ) -> RpcResult<pb::Activity> {
        let caller = principal(&request)?;
        let activity = async {
            let req = request.get_ref();
            let (activity, publisher) = self.managed(&caller, &req.activity_id).await?;
            let details = convert::details(req.details.as_ref(), publisher.time_zone)?;
            self.check_agreement(&details, &publisher.id).await?;
            let expected = (req.expected_version != 0).then_some(req.expected_version);
            Ok::<_, ApiError>(
                self.store
                    .modify_activity(
                        &activity.id,
                        &Actor::Person(caller.person_id.clone()),
                        |current| current.edited(expected, details),
                    )
                    .await?,
            )
        }
        .await?;
        Ok(Response::new(activity.to_proto()))
    }

    async fn set_activity_status(
        &self,
        request: Request<pb::SetActivityStatusRequest>,
    ) -> RpcResult<pb::Activity> {
        let caller = principal(&request)?;
        let activity = async {
            let req = request.get_ref();
            let (activity, _) = self.managed(&caller, &req.activity_id).await?;
            let status = convert::required("status", convert::status_in("status", req.status)?)?;
            Ok::<_, ApiError>(
                self.store
                    .modify_activity(
                        &activity.id,
                        &Actor::Person(caller.person_id.clone()),
                        |current| current.with_status(status),
                    )
                    .await?,
            )
        }
        .await?;
        Ok(Response::new(activity.to_proto()))
    }

    async fn cancel_occurrence(
        &self,
        request: Request<pb::CancelOccurrenceRequest>,
    ) -> RpcResult<pb::Activity> {
        let caller = principal(&request)?;
        let req = request.get_ref();
        let activity = self
            .override_occurrence(
                &caller,
                &req.activity_id,
                req.original_start.as_ref(),
                |_| Ok(OverrideChange::Cancelled),
            )
            .await?;
        Ok(Response::new(activity.to_proto()))
    }

    async fn move_occurrence(
        &self,
        request: Request<pb::MoveOccurrenceRequest>,
    ) -> RpcResult<pb::Activity> {
        let caller = principal(&request)?;
        let req = request.get_ref();
        let activity = self
            .override_occurrence(
                &caller,
                &req.activity_id,
                req.original_start.as_ref(),
                |activity| {
                    let start = convert::local("start", &req.start)?;
                    let end = convert::local("end", &req.end)?;
                    let zone = activity.details.schedule.time_zone;
                    let (from, to) = (
                        edufed_domain::calendar::schedule::to_utc("start", zone, start)?,
                        edufed_domain::calendar::schedule::to_utc("end", zone, end)?,
                    );
                    if to <= from
                        || to - from
                            > Duration::days(edufed_domain::calendar::schedule::MAX_OCCURRENCE_DAYS)
                    {
                        return Err(FieldError::new(
                            "end",
                            "must be after the start, within 366 days",
                        ));
                    }
                    Ok(OverrideChange::Moved { start, end })
                },
            )
            .await?;
        Ok(Response::new(activity.to_proto()))
    }

    async fn get_activity(
        &self,
        request: Request<pb::GetActivityRequest>,
    ) -> RpcResult<pb::ActivityWithOccurrences> {
        let caller = caller_of(&request);
        let found = async {
            let id = ActivityId::parse("activity_id", &request.get_ref().activity_id)?;
            self.visible(caller.as_ref(), &id).await
        }
        .await?;
        let capacity = found.activity.details.capacity;
        Ok(Response::new(pb::ActivityWithOccurrences {
            occurrences: found
                .occurrences
                .iter()
                .map(|(o, taken)| occurrence_out(o, *taken, capacity))
                .collect(),
            activity: Some(found.activity.to_proto()),
            waitlisted: found.waitlisted,
        }))
    }

    async fn list_occurrences(
        &self,
        request: Request<pb::ListOccurrencesRequest>,
    ) -> RpcResult<pb::ListOccurrencesResponse> {
        let caller = caller_of(&request);
        let page = async {
            let req = request.get_ref();
            let from = convert::instant("from", req.from.as_ref())?
                .ok_or_else(|| FieldError::new("from", "is required"))?;
            let to = convert::instant("to", req.to.as_ref())?
                .ok_or_else(|| FieldError::new("to", "is required"))?;
            use chrono::Datelike as _;
            for (field, t) in [("from", from), ("to", to)] {
                if !edufed_domain::calendar::schedule::YEARS.contains(&t.year()) {
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
                    self.store
                        .get_organization(&org_ref("publisher", raw)?)
                        .await?
                        .id,
                ),
            };
            let grade = match req.grade {
                0 => None,
                g @ 1..=11 => Some(g as u8),
                _ => return Err(FieldError::new("grade", "grades are 1 to 11").into()),
            };
            let filter = OccurrenceFilter {
                from,
                to,
                publisher,
                kind: convert::kind_in("kind", req.kind)?,
                direction: convert::direction_in("direction", req.direction)?,
                grade,
                subject: text::optional_line("subject", &req.subject, 60)?.map(|s| text::fold(&s)),
                format: convert::format_in("format", req.format)?,
                min_free_seats: (req.min_free_seats != 0).then_some(req.min_free_seats),
                agreement_id: text::optional_line("agreement_id", &req.agreement_id, 100)?,
                query: text::optional_line("query", &req.query, 200)?.map(|q| text::fold(&q)),
                include_cancelled: req.include_cancelled,
            };
            let size = PageSize::new("page_size", req.page_size, 100, 500)?;
            let after = PageToken::decode("page_token", &req.page_token, 3)?;
            Ok::<_, ApiError>(
                self.store
                    .find_occurrences(&filter, &Viewer::of(caller.as_ref()), size, after.as_ref())
                    .await?,
            )
        }
        .await?;
        Ok(Response::new(pb::ListOccurrencesResponse {
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
        }))
    }

    async fn register(&self, request: Request<pb::RegisterRequest>) -> RpcResult<pb::Registration> {
        let caller = principal(&request)?;
        if let Some(home) = self
            .forwarding
            .mirror(EntityKind::Activity, request.get_ref().activity_id.trim())
            .await?
        {
            return self.register_at_home(&home.origin, &caller, &request).await;
        }
        let forwarded = crate::forward::forwarded(&request);
        crate::forward::once(
            &self.store,
            forwarded,
            "Register",
            request.get_ref(),
            async { self.register_here(&caller, &request).await },
        )
        .await
    }

    async fn withdraw(&self, request: Request<pb::WithdrawRequest>) -> RpcResult<pb::Registration> {
        let caller = principal(&request)?;
        // A registration for another node's activity is withdrawn there.
        if let Some(answer) = self
            .forwarding
            .about_mirrored(
                EntityKind::Registration,
                &request.get_ref().registration_id,
                &["cohort", "org_id"],
                &request,
                &caller,
                |channel, forwarded| async move {
                    CalendarClient::new(channel).withdraw(forwarded).await
                },
            )
            .await?
        {
            return Ok(Response::new(answer));
        }
        let registration = async {
            let id = RegistrationId::parse("registration_id", &request.get_ref().registration_id)?;
            let (registration, activity) = self.store.get_registration(&id).await?;
            // The school withdraws its own; the publisher may withdraw any.
            if authorize(
                &caller,
                Action::RegisterCohorts,
                Target::Organization(&registration.cohort.org_id),
            )
            .is_err()
            {
                authorize(
                    &caller,
                    Action::ManageActivities,
                    Target::Organization(&activity.publisher),
                )?;
            }
            check_withdrawal(
                &registration,
                &activity.occurrences()?,
                self.store.clock().now(),
            )?;
            Ok::<_, ApiError>(
                self.store
                    .withdraw(&id, &Actor::Person(caller.person_id.clone()))
                    .await?,
            )
        }
        .await?;
        Ok(Response::new(registration.to_proto()))
    }

    async fn change_headcount(
        &self,
        request: Request<pb::ChangeHeadcountRequest>,
    ) -> RpcResult<pb::Registration> {
        let caller = principal(&request)?;
        if let Some(answer) = self
            .forwarding
            .about_mirrored(
                EntityKind::Registration,
                &request.get_ref().registration_id,
                &["cohort", "org_id"],
                &request,
                &caller,
                |channel, forwarded| async move {
                    CalendarClient::new(channel)
                        .change_headcount(forwarded)
                        .await
                },
            )
            .await?
        {
            return Ok(Response::new(answer));
        }
        let registration = async {
            let req = request.get_ref();
            let id = RegistrationId::parse("registration_id", &req.registration_id)?;
            let (registration, _) = self.store.get_registration(&id).await?;
            authorize(
                &caller,
                Action::RegisterCohorts,
                Target::Organization(&registration.cohort.org_id),
            )?;
            Ok::<_, ApiError>(
                self.store
                    .change_headcount(&id, req.headcount, &Actor::Person(caller.person_id.clone()))
                    .await?,
            )
        }
        .await?;
        Ok(Response::new(registration.to_proto()))
    }

    async fn list_registrations(
        &self,
        request: Request<pb::ListRegistrationsRequest>,
    ) -> RpcResult<pb::ListRegistrationsResponse> {
        let caller = principal(&request)?;
        let registrations = async {
            let id = ActivityId::parse("activity_id", &request.get_ref().activity_id)?;
            let activity = self.visible(Some(&caller), &id).await?.activity;
            let all = authorize(
                &caller,
                Action::ViewRegistrations,
                Target::Organization(&activity.publisher),
            )
            .is_ok();
            let own: Vec<_> = caller
                .memberships
                .iter()
                .map(|(org, _)| org.clone())
                .filter(|org| {
                    authorize(
                        &caller,
                        Action::ViewRegistrations,
                        Target::Organization(org),
                    )
                    .is_ok()
                })
                .collect();
            Ok::<_, ApiError>(
                self.store
                    .list_registrations(&id, if all { None } else { Some(&own) })
                    .await?,
            )
        }
        .await?;
        Ok(Response::new(pb::ListRegistrationsResponse {
            registrations: registrations.iter().map(|r| r.to_proto()).collect(),
        }))
    }

    async fn record_results(
        &self,
        request: Request<pb::RecordResultsRequest>,
    ) -> RpcResult<pb::Registration> {
        let caller = principal(&request)?;
        let registration = async {
            let req = request.get_ref();
            let id = RegistrationId::parse("registration_id", &req.registration_id)?;
            let results = convert::results(req.results.as_ref())?;
            let (registration, activity) = self.store.get_registration(&id).await?;
            authorize(
                &caller,
                Action::ManageActivities,
                Target::Organization(&activity.publisher),
            )?;
            check_results(
                activity.details.kind,
                &registration,
                &activity.occurrences()?,
                &results,
                edufed_domain::time::now(),
            )?;
            Ok::<_, ApiError>(
                self.store
                    .record_results(&id, results, &Actor::Person(caller.person_id.clone()))
                    .await?,
            )
        }
        .await?;
        Ok(Response::new(registration.to_proto()))
    }

    async fn get_feed_urls(
        &self,
        request: Request<pb::GetFeedUrlsRequest>,
    ) -> RpcResult<pb::GetFeedUrlsResponse> {
        let caller = principal(&request)?;
        let paths = async {
            let req = request.get_ref();
            let scope = match (req.organization.trim(), req.activity_id.trim()) {
                ("", "") => "network.ics".to_owned(),
                (org, "") => {
                    let org = self
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
            match req.grade {
                0 => {}
                g @ 1..=11 => query.push(format!("grade={g}")),
                _ => return Err(FieldError::new("grade", "grades are 1 to 11").into()),
            }
            if let Some(kind) = convert::kind_in("kind", req.kind)? {
                query.push(format!("kind={kind}"));
            }
            if let Some(direction) = convert::direction_in("direction", req.direction)? {
                query.push(format!("direction={direction}"));
            }
            if let Some(format) = convert::format_in("format", req.format)? {
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
            let key = self.store.feed_key(&caller.token_id).await?;
            Ok::<_, ApiError>(pb::GetFeedUrlsResponse {
                public_path: format!("/ics/{scope}{query}"),
                private_path: format!("/ics/private/{key}/{scope}{query}"),
            })
        }
        .await?;
        Ok(Response::new(paths))
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
