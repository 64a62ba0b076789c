//! The `edufed.v1.Reports` service: activities, participation, agreements,
//! resources and indicators over the node's records and mirrors; the
//! enrolments and targets they use; and the exports the HTTP side serves.

use edufed_domain::FieldError;
use edufed_domain::changes::Actor;
use edufed_domain::directory::{OrgKind, OrgRef};
use edufed_domain::ids::OrgId;
use edufed_domain::policy::{Action, Principal, Target as PolicyTarget, authorize};
use edufed_domain::report::{
    self, Dimension, Facts, Indicator, Period, Query, ReportKind, SchoolYear, Scope, TargetScope,
};
use edufed_domain::text;
use edufed_proto::v1 as pb;
use edufed_proto::v1::reports_server::Reports as ReportsApi;
use edufed_store::Store;
use tonic::{Request, Response, Status};

use crate::auth::principal;
use crate::convert::enum_map;
use crate::convert::{date, timestamp};
use crate::status::ApiError;

enum_map!(
    dimension_in,
    dimension_out,
    pb::ReportDimension,
    "REPORT_DIMENSION_",
    Dimension
);

type RpcResult<T> = Result<Response<T>, Status>;

/// "Expiring soon" when the request does not say.
pub const DEFAULT_EXPIRING_DAYS: u32 = 60;

/// The `edufed.v1.Reports` service.
#[derive(Clone)]
pub struct ReportsService {
    store: Store,
}

impl std::fmt::Debug for ReportsService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportsService").finish_non_exhaustive()
    }
}

fn name(facts: &Facts, id: &str) -> String {
    if id.is_empty() {
        String::new()
    } else {
        facts.org_name(&OrgId::from_stored(id.to_owned()))
    }
}

/// Who may read reports: the operator and members of any organization here.
fn may_read(caller: &Principal) -> Result<(), ApiError> {
    authorize(caller, Action::ViewReports, PolicyTarget::Node)?;
    Ok(())
}

impl ReportsService {
    /// A service over `store`.
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    async fn org(
        &self,
        field: &str,
        raw: &str,
    ) -> Result<edufed_domain::directory::Organization, ApiError> {
        let reference = OrgRef::parse(field, raw)?;
        Ok(self.store.get_organization(&reference).await?)
    }

    /// The query a request asks for, and the facts to answer it.
    async fn prepare(
        &self,
        caller: &Principal,
        req: &pb::ReportRequest,
        kind: Option<ReportKind>,
    ) -> Result<(Query, Facts), ApiError> {
        may_read(caller)?;
        let period = match (req.from.trim().is_empty(), req.to.trim().is_empty()) {
            (true, true) => Period::school_year_of(self.store.clock().now().date_naive()),
            (false, false) => Period::new(date("from", &req.from)?, date("to", &req.to)?)?,
            (true, false) => return Err(FieldError::new("from", "is required with to").into()),
            (false, true) => return Err(FieldError::new("to", "is required with from").into()),
        };
        let chosen = [
            !req.organization.trim().is_empty(),
            !req.city.trim().is_empty(),
            req.network,
        ];
        if chosen.iter().filter(|c| **c).count() > 1 {
            return Err(FieldError::new(
                "organization",
                "give one scope: organization, city or network",
            )
            .into());
        }
        let scope = if chosen[0] {
            Scope::Organization(self.org("organization", &req.organization).await?.id)
        } else if chosen[1] {
            Scope::City(text::fold(&text::line("city", &req.city, 100)?))
        } else if req.network {
            Scope::Network
        } else {
            Scope::Node
        };
        let mut requested = Vec::new();
        for (i, raw) in req.group_by.iter().enumerate() {
            let field = format!("group_by[{i}]");
            requested.push(
                dimension_in(&field, *raw)?
                    .ok_or_else(|| FieldError::new(field, "a dimension is required"))?,
            );
        }
        let group_by = match kind {
            Some(kind) => kind.grouping("group_by", &requested)?,
            None if requested.is_empty() => Vec::new(),
            None => {
                return Err(FieldError::new("group_by", "indicators are not grouped").into());
            }
        };
        if req.expiring_within_days > report::MAX_EXPIRING_DAYS {
            return Err(FieldError::new(
                "expiring_within_days",
                format!("at most {}", report::MAX_EXPIRING_DAYS),
            )
            .into());
        }
        let query = Query {
            period,
            scope,
            group_by,
            expiring_within_days: if req.expiring_within_days == 0 {
                DEFAULT_EXPIRING_DAYS
            } else {
                req.expiring_within_days
            },
        };
        let facts = self
            .store
            .report_facts(&[query.period, query.period.previous()])
            .await?;
        Ok((query, facts))
    }

    fn scope_out(query: &Query, facts: &Facts) -> pb::ReportScope {
        pb::ReportScope {
            from: query.period.from.to_string(),
            to: query.period.to.to_string(),
            scope: query.scope.describe(facts),
            as_of: Some(timestamp(facts.as_of)),
        }
    }

    /// Occurrences held, to come and cancelled in the period, grouped as
    /// asked; also served as `/reports/activities.csv|json`.
    pub async fn activities(
        &self,
        caller: &Principal,
        req: &pb::ReportRequest,
    ) -> Result<pb::ActivitiesReportResponse, ApiError> {
        let (q, facts) = self
            .prepare(caller, req, Some(ReportKind::Activities))
            .await?;
        let report = report::activities(&facts, &q);
        let row = |r: &report::ActivityRow| pb::ActivityRow {
            organization: r.key.organization.clone(),
            organization_name: name(&facts, &r.key.organization),
            direction: r.key.direction.clone(),
            kind: r.key.kind.clone(),
            month: r.key.month.clone(),
            designation: r.key.designation.clone(),
            activities_held: r.activities_held,
            activities_cancelled: r.activities_cancelled,
            occurrences_held: r.occurrences_held,
            occurrences_scheduled: r.occurrences_scheduled,
            occurrences_cancelled: r.occurrences_cancelled,
            hours_held: r.hours_held,
        };
        Ok(pb::ActivitiesReportResponse {
            scope: Some(Self::scope_out(&q, &facts)),
            rows: report.rows.iter().map(row).collect(),
            total: Some(row(&report.total)),
        })
    }

    /// Mentoring pairs working in the period, grouped as asked; also
    /// served as `/reports/mentoring.csv|json`.
    pub async fn mentoring(
        &self,
        caller: &Principal,
        req: &pb::ReportRequest,
    ) -> Result<pb::MentoringReportResponse, ApiError> {
        let (q, facts) = self
            .prepare(caller, req, Some(ReportKind::Mentoring))
            .await?;
        let report = report::mentoring(&facts, &q);
        let row = |r: &report::MentoringRow| pb::MentoringRow {
            organization: r.key.organization.clone(),
            organization_name: name(&facts, &r.key.organization),
            form: r.key.form.clone(),
            state: r.key.state.clone(),
            pairs: r.pairs,
            planned: r.planned,
            active: r.active,
            completed: r.completed,
            ended_early: r.ended_early,
            crossing: r.crossing,
            has_crossing_share: r.crossing_share().is_some(),
            crossing_share: r.crossing_share().unwrap_or_default(),
            mentees: r.mentees,
            met: r.met,
            partly: r.partly,
            not_met: r.not_met,
            previous: r.previous,
            trend: i64::from(r.pairs) - i64::from(r.previous),
        };
        let share =
            |part: u32, whole: u32| report::TeacherRow::share(part, whole).unwrap_or_default();
        let teachers = report
            .teachers
            .iter()
            .map(|t| {
                let f = &t.figures;
                pb::TeacherRow {
                    organization: t.org_id.to_string(),
                    organization_name: name(&facts, t.org_id.as_str()),
                    teachers: f.teachers,
                    young_teachers: f.young_teachers,
                    young_mentored: t.young_mentored,
                    young_mentored_share: share(t.young_mentored, f.young_teachers),
                    courses: f.courses,
                    courses_share: share(f.courses, f.teachers),
                    course_hours: f.course_hours,
                    internships: f.internships,
                    seminars: f.seminars,
                    seminars_share: share(f.seminars, f.teachers),
                    association_members: f.association_members,
                    growth_system: f.growth_system,
                    growth_system_share: share(f.growth_system, f.teachers),
                    courses_recorded: t.courses_recorded,
                    course_hours_recorded: t.course_hours_recorded,
                    seminar_visits: t.seminar_visits,
                }
            })
            .collect();
        Ok(pb::MentoringReportResponse {
            scope: Some(Self::scope_out(&q, &facts)),
            rows: report.rows.iter().map(row).collect(),
            total: Some(row(&report.total)),
            teachers,
        })
    }

    /// Cohorts registered, attended and waitlisted, with results; also
    /// served as `/reports/participation.csv|json`.
    pub async fn participation(
        &self,
        caller: &Principal,
        req: &pb::ReportRequest,
    ) -> Result<pb::ParticipationReportResponse, ApiError> {
        let (q, facts) = self
            .prepare(caller, req, Some(ReportKind::Participation))
            .await?;
        let report = report::participation(&facts, &q);
        let row = |r: &report::ParticipationRow| pb::ParticipationRow {
            organization: r.key.organization.clone(),
            organization_name: name(&facts, &r.key.organization),
            publisher: r.key.publisher.clone(),
            publisher_name: name(&facts, &r.key.publisher),
            direction: r.key.direction.clone(),
            kind: r.key.kind.clone(),
            month: r.key.month.clone(),
            grade: r.key.grade.clone(),
            designation: r.key.designation.clone(),
            cohorts: r.cohorts,
            registered: r.registered,
            attended: r.attended,
            participants: r.participants,
            prize_winners: r.prize_winners,
            winners: r.winners,
            cohorts_with_results: r.cohorts_with_results,
            waitlisted_cohorts: r.waitlisted_cohorts,
            waitlisted: r.waitlisted,
        };
        Ok(pb::ParticipationReportResponse {
            scope: Some(Self::scope_out(&q, &facts)),
            rows: report.rows.iter().map(row).collect(),
            total: Some(row(&report.total)),
        })
    }

    /// Agreements by kind and state, coming into force and expiring, planned
    /// against delivered hours; also served as `/reports/agreements.csv|json`.
    pub async fn agreements(
        &self,
        caller: &Principal,
        req: &pb::ReportRequest,
    ) -> Result<pb::AgreementsReportResponse, ApiError> {
        let (q, facts) = self
            .prepare(caller, req, Some(ReportKind::Agreements))
            .await?;
        let report = report::agreements(&facts, &q);
        let row = |r: &report::AgreementRow| pb::AgreementRow {
            organization: r.key.organization.clone(),
            organization_name: name(&facts, &r.key.organization),
            kind: r.key.kind.clone(),
            state: r.key.state.clone(),
            agreements: r.agreements,
            signed_in_period: r.signed_in_period,
            expiring_soon: r.expiring_soon,
            planned_hours: r.planned_hours,
            delivered_hours: r.delivered_hours,
            scheduled_hours: r.scheduled_hours,
            planned_students: r.planned_students,
            students_reached: r.students_reached,
            attended: r.attended,
        };
        Ok(pb::AgreementsReportResponse {
            scope: Some(Self::scope_out(&q, &facts)),
            rows: report.rows.iter().map(row).collect(),
            total: Some(row(&report.total)),
        })
    }

    /// Booked over bookable hours per resource, the busiest and idlest;
    /// also served as `/reports/resources.csv|json`.
    pub async fn resources(
        &self,
        caller: &Principal,
        req: &pb::ReportRequest,
    ) -> Result<pb::ResourcesReportResponse, ApiError> {
        let (q, facts) = self
            .prepare(caller, req, Some(ReportKind::Resources))
            .await?;
        let report = report::resources(&facts, &q);
        let row = |r: &report::ResourceRow| pb::ResourceRow {
            resource: r.key.resource.clone(),
            name: r.name.clone(),
            organization: r.key.organization.clone(),
            organization_name: name(&facts, &r.key.organization),
            kind: r.key.kind.clone(),
            month: r.key.month.clone(),
            resources: r.resources,
            bookable_hours: r.bookable_hours,
            booked_hours: r.booked_hours,
            utilization: r.utilization,
            bookings: r.bookings,
        };
        Ok(pb::ResourcesReportResponse {
            scope: Some(Self::scope_out(&q, &facts)),
            rows: report.report.rows.iter().map(row).collect(),
            total: Some(row(&report.report.total)),
            busiest: report.busiest.iter().map(row).collect(),
            idlest: report.idlest.iter().map(row).collect(),
        })
    }

    /// The network's indicators against the previous period and the
    /// targets in force; also served as `/reports/indicators.csv|json`.
    pub async fn indicators(
        &self,
        caller: &Principal,
        req: &pb::ReportRequest,
    ) -> Result<pb::IndicatorsReportResponse, ApiError> {
        let (q, facts) = self.prepare(caller, req, None).await?;
        let rows = report::indicators(&facts, &q)
            .into_iter()
            .map(|r| pb::IndicatorRow {
                indicator: r.indicator.as_str().to_owned(),
                organization_name: name(&facts, &r.organization),
                organization: r.organization,
                unit: r.indicator.unit().to_owned(),
                has_value: r.value.is_some(),
                value: r.value.unwrap_or(0.0),
                numerator: r.numerator,
                denominator: r.denominator,
                has_previous: r.previous.is_some(),
                previous: r.previous.unwrap_or(0.0),
                trend: r.trend.unwrap_or(0.0),
                has_target: r.target.is_some(),
                target: r.target.unwrap_or(0.0),
                target_due: r.target_due.map(|d| d.to_string()).unwrap_or_default(),
                gap: r.gap.unwrap_or(0.0),
            })
            .collect();
        Ok(pb::IndicatorsReportResponse {
            scope: Some(Self::scope_out(&q, &facts)),
            rows,
        })
    }

    /// Whom a target is for, and whether the caller may set it.
    async fn target_scope(
        &self,
        caller: &Principal,
        organization: &str,
        city: &str,
    ) -> Result<TargetScope, ApiError> {
        if !organization.trim().is_empty() && !city.trim().is_empty() {
            return Err(FieldError::new("city", "give an organization or a city, not both").into());
        }
        if !organization.trim().is_empty() {
            let org = self.org("organization", organization).await?;
            authorize(
                caller,
                Action::SetTargets,
                PolicyTarget::Organization(&org.id),
            )?;
            return Ok(TargetScope::Organization(org.id));
        }
        // A city's or the network's targets: the methodical centre's.
        let mut centres = Vec::new();
        for org in caller.organizations() {
            if let Ok(found) = self.store.get_organization(&OrgRef::Id(org.clone())).await
                && found.kind == OrgKind::MethodicalCentre
                && found.home_node.is_none()
            {
                centres.push(found.id);
            }
        }
        authorize(
            caller,
            Action::SetTargets,
            PolicyTarget::Network { centres: &centres },
        )?;
        if city.trim().is_empty() {
            Ok(TargetScope::Network)
        } else {
            Ok(TargetScope::City(text::fold(&text::line(
                "city", city, 100,
            )?)))
        }
    }
}

fn target_out(t: &report::Target) -> pb::Target {
    pb::Target {
        indicator: t.indicator.as_str().to_owned(),
        scope: t.scope.stored(),
        due: t.due.to_string(),
        value: t.value,
        note: t.note.clone(),
        update_time: Some(timestamp(t.updated_at)),
    }
}

fn enrolment_out(e: &report::Enrolment) -> pb::Enrolment {
    pb::Enrolment {
        org_id: e.org_id.to_string(),
        school_year: e.school_year.to_string(),
        students: e.students,
        update_time: Some(timestamp(e.updated_at)),
    }
}

#[tonic::async_trait]
impl ReportsApi for ReportsService {
    #[tracing::instrument(name = "api.reports.activities", skip_all)]
    async fn activities_report(
        &self,
        request: Request<pb::ReportRequest>,
    ) -> RpcResult<pb::ActivitiesReportResponse> {
        let caller = principal(&request)?;
        Ok(Response::new(
            self.activities(&caller, request.get_ref()).await?,
        ))
    }

    #[tracing::instrument(name = "api.reports.participation", skip_all)]
    async fn participation_report(
        &self,
        request: Request<pb::ReportRequest>,
    ) -> RpcResult<pb::ParticipationReportResponse> {
        let caller = principal(&request)?;
        Ok(Response::new(
            self.participation(&caller, request.get_ref()).await?,
        ))
    }

    #[tracing::instrument(name = "api.reports.agreements", skip_all)]
    async fn agreements_report(
        &self,
        request: Request<pb::ReportRequest>,
    ) -> RpcResult<pb::AgreementsReportResponse> {
        let caller = principal(&request)?;
        Ok(Response::new(
            self.agreements(&caller, request.get_ref()).await?,
        ))
    }

    #[tracing::instrument(name = "api.reports.resources", skip_all)]
    async fn resources_report(
        &self,
        request: Request<pb::ReportRequest>,
    ) -> RpcResult<pb::ResourcesReportResponse> {
        let caller = principal(&request)?;
        Ok(Response::new(
            self.resources(&caller, request.get_ref()).await?,
        ))
    }

    #[tracing::instrument(name = "api.reports.mentoring", skip_all)]
    async fn mentoring_report(
        &self,
        request: Request<pb::ReportRequest>,
    ) -> RpcResult<pb::MentoringReportResponse> {
        let caller = principal(&request)?;
        Ok(Response::new(
            self.mentoring(&caller, request.get_ref()).await?,
        ))
    }

    #[tracing::instrument(name = "api.reports.indicators", skip_all)]
    async fn indicators_report(
        &self,
        request: Request<pb::ReportRequest>,
    ) -> RpcResult<pb::IndicatorsReportResponse> {
        let caller = principal(&request)?;
        Ok(Response::new(
            self.indicators(&caller, request.get_ref()).await?,
        ))
    }

    #[tracing::instrument(name = "api.reports.set_enrolment", skip_all)]
    async fn set_enrolment(
        &self,
        request: Request<pb::SetEnrolmentRequest>,
    ) -> RpcResult<pb::Enrolment> {
        let caller = principal(&request)?;
        let req = request.into_inner();
        let org = self.org("organization", &req.organization).await?;
        authorize(
            &caller,
            Action::StateEnrolment,
            PolicyTarget::Organization(&org.id),
        )
        .map_err(ApiError::from)?;
        org.ensure_hosted_here().map_err(ApiError::from)?;
        let year = SchoolYear::parse("school_year", &req.school_year).map_err(ApiError::from)?;
        let enrolment = self
            .store
            .set_enrolment(
                &org.id,
                year,
                req.students,
                &Actor::Person(caller.person_id.clone()),
            )
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(enrolment_out(&enrolment)))
    }

    #[tracing::instrument(name = "api.reports.list_enrolments", skip_all)]
    async fn list_enrolments(
        &self,
        request: Request<pb::ListEnrolmentsRequest>,
    ) -> RpcResult<pb::ListEnrolmentsResponse> {
        let caller = principal(&request)?;
        may_read(&caller)?;
        let req = request.into_inner();
        let org = if req.organization.trim().is_empty() {
            None
        } else {
            Some(self.org("organization", &req.organization).await?.id)
        };
        let enrolments = self
            .store
            .enrolments(org.as_ref())
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(pb::ListEnrolmentsResponse {
            enrolments: enrolments.iter().map(enrolment_out).collect(),
        }))
    }

    #[tracing::instrument(name = "api.reports.set_target", skip_all)]
    async fn set_target(&self, request: Request<pb::SetTargetRequest>) -> RpcResult<pb::Target> {
        let caller = principal(&request)?;
        let req = request.into_inner();
        let indicator =
            Indicator::parse("indicator", req.indicator.trim()).map_err(ApiError::from)?;
        let due = date("due", &req.due).map_err(ApiError::from)?;
        let scope = self
            .target_scope(&caller, &req.organization, &req.city)
            .await?;
        let target = self
            .store
            .set_target(
                indicator,
                scope,
                due,
                req.value,
                &req.note,
                &Actor::Person(caller.person_id.clone()),
            )
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(target_out(&target)))
    }

    #[tracing::instrument(name = "api.reports.remove_target", skip_all)]
    async fn remove_target(
        &self,
        request: Request<pb::RemoveTargetRequest>,
    ) -> RpcResult<pb::RemoveTargetResponse> {
        let caller = principal(&request)?;
        let req = request.into_inner();
        let indicator =
            Indicator::parse("indicator", req.indicator.trim()).map_err(ApiError::from)?;
        let due = date("due", &req.due).map_err(ApiError::from)?;
        let scope = self
            .target_scope(&caller, &req.organization, &req.city)
            .await?;
        self.store
            .remove_target(indicator, &scope, due)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(pb::RemoveTargetResponse {}))
    }

    #[tracing::instrument(name = "api.reports.list_targets", skip_all)]
    async fn list_targets(
        &self,
        request: Request<pb::ListTargetsRequest>,
    ) -> RpcResult<pb::ListTargetsResponse> {
        let caller = principal(&request)?;
        may_read(&caller)?;
        let targets = self.store.targets().await.map_err(ApiError::from)?;
        Ok(Response::new(pb::ListTargetsResponse {
            targets: targets.iter().map(target_out).collect(),
        }))
    }
}
