//! The figures the indicators are measured against, stated by hand: each
//! organization's enrolment for a school year (the denominator of
//! coverage) and the targets set for an organization, a city or the
//! network. Everyone who reads reports sees them; the forms show to
//! admins and coordinators (and the operator), and the API decides.

use askama::Template;
use axum::extract::Query;
use axum::response::Response;
use edufed_domain::policy::Action;
use edufed_domain::report::{Indicator, TargetScope};
use edufed_i18n::ru;
use edufed_proto::v1 as pb;

use super::{Choice, capitalized, indicator_name, number, school_year, school_year_end};
use crate::Console;
use crate::errors::{Problem, russian};
use crate::page::{Layout, Section, failure, render_with, see_other, t};
use crate::view::{Names, organizations};
use crate::visitor::{Posted, Visitor};

pub(super) fn routes() -> axum::Router<Console> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/reports/targets", get(show).post(set_target))
        .route("/reports/targets/remove", post(remove_target))
        .route("/reports/enrolments", post(set_enrolment))
}

#[derive(Debug, Default, Clone, serde::Deserialize)]
pub(crate) struct TargetForm {
    #[serde(default)]
    indicator: String,
    /// `network`, `city:<name>` or `org:<slug>`.
    #[serde(default)]
    scope: String,
    #[serde(default)]
    due: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    note: String,
}

#[derive(Debug, Default, Clone, serde::Deserialize)]
pub(crate) struct EnrolmentForm {
    #[serde(default)]
    organization: String,
    #[serde(default)]
    school_year: String,
    #[serde(default)]
    students: String,
}

#[derive(Debug, Default, Clone, serde::Deserialize)]
pub(crate) struct RemoveForm {
    #[serde(default)]
    indicator: String,
    #[serde(default)]
    organization: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    due: String,
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Shown {
    #[serde(default)]
    saved: String,
}

struct TargetRow {
    indicator: String,
    indicator_raw: String,
    scope: String,
    organization: String,
    city: String,
    due: String,
    due_raw: String,
    value: String,
    note: String,
}

struct EnrolmentRow {
    organization: String,
    school_year: String,
    students: String,
}

/// Which form a problem belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Target,
    Enrolment,
    Remove,
}

#[derive(Template)]
#[template(path = "report_targets.html")]
struct TargetsPage {
    layout: Layout,
    targets: Vec<TargetRow>,
    enrolments: Vec<EnrolmentRow>,
    may_set: bool,
    indicators: Vec<Choice>,
    scopes: Vec<Choice>,
    organizations: Vec<Choice>,
    target: TargetForm,
    enrolment: EnrolmentForm,
    form: Option<Form>,
    problem: Option<Problem>,
}

impl TargetsPage {
    /// The problem's message if it is about `field` of `form`.
    fn error(&self, form: Form, field: &str) -> String {
        match &self.problem {
            Some(p) if self.form == Some(form) => p.about(field).unwrap_or_default().to_owned(),
            _ => String::new(),
        }
    }

    /// The problem of `form` when it names none of the fields shown.
    fn general_error(&self, form: Form) -> String {
        let fields: &[&str] = match form {
            Form::Target => &["indicator", "organization", "city", "due", "value", "note"],
            Form::Enrolment => &["organization", "school_year", "students"],
            Form::Remove => &[],
        };
        match &self.problem {
            Some(p) if self.form == Some(form) && fields.iter().all(|f| p.about(f).is_none()) => {
                p.message.clone()
            }
            _ => String::new(),
        }
    }

    fn scope_error(&self) -> String {
        let organization = self.error(Form::Target, "organization");
        if organization.is_empty() {
            self.error(Form::Target, "city")
        } else {
            organization
        }
    }
}

/// `GET /reports/targets`.
pub(crate) async fn show(visitor: Visitor, Query(shown): Query<Shown>) -> Response {
    if !visitor.signed_in() {
        return super::sign_in_first(&visitor);
    }
    let notice = match shown.saved.as_str() {
        "target" => Some(t("targets-saved")),
        "removed" => Some(t("targets-removed")),
        "enrolment" => Some(t("enrolment-saved")),
        _ => None,
    };
    let target = TargetForm {
        due: school_year_end(visitor.now).to_string(),
        scope: "network".into(),
        ..TargetForm::default()
    };
    let enrolment = EnrolmentForm {
        school_year: school_year(visitor.now),
        ..EnrolmentForm::default()
    };
    page(&visitor, target, enrolment, None, notice).await
}

async fn page(
    visitor: &Visitor,
    target: TargetForm,
    enrolment: EnrolmentForm,
    problem: Option<(Form, Problem)>,
    notice: Option<String>,
) -> Response {
    let api = visitor.api();
    let targets = match api.reports().list_targets(pb::ListTargetsRequest {}).await {
        Ok(list) => list.into_inner().targets,
        Err(status) => return failure(&status),
    };
    let enrolments = match api
        .reports()
        .list_enrolments(pb::ListEnrolmentsRequest::default())
        .await
    {
        Ok(list) => list.into_inner().enrolments,
        Err(status) => return failure(&status),
    };
    let orgs = match organizations(api).await {
        Ok(orgs) => orgs,
        Err(status) => return failure(&status),
    };
    let names = Names::of(&orgs);
    let slug_of = |id: &str| {
        orgs.iter()
            .find(|o| o.id == id)
            .map_or_else(|| id.to_owned(), |o| o.slug.clone())
    };
    let mut targets: Vec<TargetRow> = targets
        .iter()
        .map(|target| {
            let (scope, organization, city) = match TargetScope::from_stored(&target.scope) {
                Some(TargetScope::Organization(id)) => {
                    (names.name(id.as_str()), slug_of(id.as_str()), String::new())
                }
                Some(TargetScope::City(city)) => (
                    ru().text_with(
                        "reports-scope-city-named",
                        &[("city", capitalized(&city).as_str().into())],
                    ),
                    String::new(),
                    city,
                ),
                _ => (t("reports-scope-network"), String::new(), String::new()),
            };
            let share =
                Indicator::parse("indicator", &target.indicator).is_ok_and(|i| i.is_share());
            TargetRow {
                indicator: indicator_name(&target.indicator),
                indicator_raw: target.indicator.clone(),
                scope,
                organization,
                city,
                due: chrono::NaiveDate::parse_from_str(&target.due, "%Y-%m-%d")
                    .map_or_else(|_| target.due.clone(), |d| ru().date(d)),
                due_raw: target.due.clone(),
                value: if share {
                    format!("{}\u{a0}%", number(target.value))
                } else {
                    number(target.value)
                },
                note: target.note.clone(),
            }
        })
        .collect();
    targets.sort_by(|a, b| {
        (&a.indicator, &a.scope, &a.due_raw).cmp(&(&b.indicator, &b.scope, &b.due_raw))
    });
    let mut enrolments: Vec<EnrolmentRow> = enrolments
        .iter()
        .map(|e| EnrolmentRow {
            organization: names.name(&e.org_id),
            school_year: e.school_year.clone(),
            students: number(f64::from(e.students)),
        })
        .collect();
    enrolments
        .sort_by(|a, b| (&b.school_year, &a.organization).cmp(&(&a.school_year, &b.organization)));

    // What the forms offer: the visitor's own organizations where they set
    // figures, the cities and the network when they work for a methodical
    // centre (or run the node). A hint only: the API decides.
    let setting = |org: &pb::Organization| {
        org.home_node.is_empty()
            && (visitor.may(Action::SetTargets, &org.id)
                || visitor.may(Action::StateEnrolment, &org.id))
    };
    let centre = orgs
        .iter()
        .any(|o| o.kind == pb::OrganizationKind::MethodicalCentre as i32 && setting(o));
    let everywhere = crate::pages::node::runs_the_node(visitor);
    let mut own: Vec<(String, String)> = orgs
        .iter()
        .filter(|o| setting(o))
        .map(|o| (names.name(&o.id), o.slug.clone()))
        .collect();
    own.sort();
    let mut scopes = Vec::new();
    if centre || everywhere {
        scopes.push(Choice {
            value: "network".into(),
            label: t("reports-scope-network"),
            selected: target.scope == "network",
        });
        let mut cities: Vec<String> = orgs
            .iter()
            .map(|o| o.city.trim().to_owned())
            .filter(|c| !c.is_empty())
            .collect();
        cities.sort();
        cities.dedup();
        scopes.extend(cities.into_iter().map(|city| Choice {
            selected: target.scope == format!("city:{city}"),
            value: format!("city:{city}"),
            label: ru().text_with(
                "reports-scope-city-named",
                &[("city", city.as_str().into())],
            ),
        }));
    }
    scopes.extend(own.iter().map(|(name, slug)| Choice {
        selected: target.scope == format!("org:{slug}"),
        value: format!("org:{slug}"),
        label: name.clone(),
    }));
    let organizations = own
        .iter()
        .map(|(name, slug)| Choice {
            selected: enrolment.organization == *slug,
            value: slug.clone(),
            label: name.clone(),
        })
        .collect();
    let indicators = Indicator::ALL
        .iter()
        .map(|i| Choice {
            value: i.as_str().to_owned(),
            label: ru().name(*i),
            selected: target.indicator == i.as_str(),
        })
        .collect();
    let status = if problem.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    let (form, problem) = problem.map_or((None, None), |(f, p)| (Some(f), Some(p)));
    render_with(
        status,
        &TargetsPage {
            may_set: !own.is_empty() || centre || everywhere,
            layout: Layout::new(visitor, Section::Reports, t("targets-title")).with_notice(notice),
            targets,
            enrolments,
            indicators,
            scopes,
            organizations,
            target,
            enrolment,
            form,
            problem,
        },
    )
}

/// `POST /reports/targets`.
pub(crate) async fn set_target(posted: Posted<TargetForm>) -> Response {
    let Posted { visitor, form } = posted;
    let mut request = pb::SetTargetRequest {
        indicator: form.indicator.trim().to_owned(),
        due: form.due.trim().to_owned(),
        value: form.value.trim().replace(',', ".").parse().unwrap_or(-1.0),
        note: form.note.trim().to_owned(),
        ..Default::default()
    };
    match form.scope.split_once(':') {
        Some(("org", slug)) => slug.clone_into(&mut request.organization),
        Some(("city", city)) => city.clone_into(&mut request.city),
        _ => {}
    }
    match visitor.api().reports().set_target(request).await {
        Ok(_) => see_other("/reports/targets?saved=target"),
        Err(status) => {
            let enrolment = EnrolmentForm {
                school_year: school_year(visitor.now),
                ..EnrolmentForm::default()
            };
            page(
                &visitor,
                form,
                enrolment,
                Some((Form::Target, russian(&status))),
                None,
            )
            .await
        }
    }
}

/// `POST /reports/targets/remove`.
pub(crate) async fn remove_target(posted: Posted<RemoveForm>) -> Response {
    let Posted { visitor, form } = posted;
    let request = pb::RemoveTargetRequest {
        indicator: form.indicator,
        organization: form.organization,
        city: form.city,
        due: form.due,
    };
    match visitor.api().reports().remove_target(request).await {
        Ok(_) => see_other("/reports/targets?saved=removed"),
        Err(status) => {
            let target = TargetForm {
                due: school_year_end(visitor.now).to_string(),
                ..TargetForm::default()
            };
            let enrolment = EnrolmentForm {
                school_year: school_year(visitor.now),
                ..EnrolmentForm::default()
            };
            page(
                &visitor,
                target,
                enrolment,
                Some((Form::Remove, russian(&status))),
                None,
            )
            .await
        }
    }
}

/// `POST /reports/enrolments`.
pub(crate) async fn set_enrolment(posted: Posted<EnrolmentForm>) -> Response {
    let Posted { visitor, form } = posted;
    let request = pb::SetEnrolmentRequest {
        organization: form.organization.trim().to_owned(),
        school_year: form.school_year.trim().to_owned(),
        students: form.students.trim().parse().unwrap_or(0),
    };
    match visitor.api().reports().set_enrolment(request).await {
        Ok(_) => see_other("/reports/targets?saved=enrolment"),
        Err(status) => {
            let target = TargetForm {
                due: school_year_end(visitor.now).to_string(),
                scope: "network".into(),
                ..TargetForm::default()
            };
            page(
                &visitor,
                target,
                form,
                Some((Form::Enrolment, russian(&status))),
                None,
            )
            .await
        }
    }
}
