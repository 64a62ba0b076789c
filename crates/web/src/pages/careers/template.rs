//! `/routes/templates/{id}`: a route template's items; those who manage
//! the school's routes assign it to a cohort (by code and count, choosing
//! electives) or copy it for another school year.

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use edufed_domain::policy::Action;
use edufed_proto::v1 as pb;

use super::school_year;
use crate::errors::{Problem, above, beside, russian};
use crate::page::{Layout, Section, failure, render_with, see_other, t};
use crate::view::{Names, organizations};
use crate::visitor::{Posted, Visitor};

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Shown {
    #[serde(default)]
    done: String,
}

struct ItemLine {
    number: u32,
    title: String,
    offering: String,
    by: String,
    required: bool,
    hours: u32,
    trial: bool,
    elective_chosen: bool,
}

/// The assignment form as posted.
#[derive(Debug, Default)]
pub(crate) struct AssignForm {
    code: String,
    headcount: String,
    teacher: String,
    teacher_contact: String,
    electives: Vec<u32>,
}

#[derive(Template)]
#[template(path = "route_template.html")]
struct TemplatePage {
    layout: Layout,
    id: String,
    facts: Vec<(String, String)>,
    items: Vec<ItemLine>,
    manages: bool,
    next_year: u32,
    form: AssignForm,
    problem: Option<Problem>,
}

impl TemplatePage {
    fn error(&self, field: &str) -> String {
        beside(self.problem.as_ref(), field)
    }

    fn general_error(&self) -> String {
        above(
            self.problem.as_ref(),
            &["cohort", "electives", "school_year"],
        )
    }
}

/// `GET /routes/templates/{id}`.
pub(crate) async fn show(
    visitor: Visitor,
    Path(id): Path<String>,
    Query(shown): Query<Shown>,
) -> Response {
    if !visitor.signed_in() {
        return see_other("/calendar");
    }
    let notice = (shown.done == "copied").then(|| t("routes-copied"));
    page(&visitor, &id, notice, AssignForm::default(), None).await
}

async fn page(
    visitor: &Visitor,
    id: &str,
    notice: Option<String>,
    form: AssignForm,
    problem: Option<Problem>,
) -> Response {
    let api = visitor.api();
    let x = match api
        .routes()
        .get_route_template(pb::GetRouteTemplateRequest { id: id.to_owned() })
        .await
    {
        Ok(found) => found.into_inner(),
        Err(status) => return failure(&status),
    };
    let names = match organizations(api).await {
        Ok(orgs) => Names::of(&orgs),
        Err(status) => return failure(&status),
    };
    let facts = vec![
        (t("routes-school"), names.name(&x.school_id)),
        (t("routes-profile"), x.profile.clone()),
        (t("routes-grade"), x.grade.to_string()),
        (t("routes-year"), school_year(x.school_year)),
        (
            t("routes-hours"),
            format!("{} / {}", x.required_hours, x.total_hours),
        ),
    ];
    let items = x
        .items
        .iter()
        .map(|i| ItemLine {
            number: i.number,
            title: i.title.clone(),
            offering: i.offering_name.clone(),
            by: names.name(&i.organization_id),
            required: i.required,
            hours: i.hours,
            trial: i.trial,
            elective_chosen: form.electives.contains(&i.number),
        })
        .collect();
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render_with(
        status,
        &TemplatePage {
            layout: Layout::new(visitor, Section::Careers, x.title.clone()).with_notice(notice),
            id: x.id.clone(),
            facts,
            items,
            manages: visitor.may(Action::ManageRoutes, &x.school_id),
            next_year: x.school_year + 1,
            form,
            problem,
        },
    )
}

fn parse(pairs: Vec<(String, String)>) -> AssignForm {
    let mut form = AssignForm::default();
    for (key, value) in pairs {
        match key.as_str() {
            "code" => form.code = value,
            "headcount" => form.headcount = value,
            "teacher" => form.teacher = value,
            "teacher_contact" => form.teacher_contact = value,
            "elective" => {
                if let Ok(n) = value.parse() {
                    form.electives.push(n);
                }
            }
            _ => {}
        }
    }
    form
}

/// `POST /routes/templates/{id}/assign`.
pub(crate) async fn assign(
    Path(id): Path<String>,
    posted: Posted<Vec<(String, String)>>,
) -> Response {
    let Posted { visitor, form } = posted;
    let form = parse(form);
    let assigned = visitor
        .api()
        .routes()
        .assign_route(pb::AssignRouteRequest {
            template_id: id.clone(),
            cohort: Some(pb::RouteCohort {
                code: form.code.clone(),
                headcount: form.headcount.trim().parse().unwrap_or(0),
                teacher: form.teacher.clone(),
                teacher_contact: form.teacher_contact.clone(),
            }),
            electives: form.electives.clone(),
        })
        .await;
    match assigned {
        Ok(route) => see_other(&format!("/routes/{}?done=assigned", route.into_inner().id)),
        Err(status) => page(&visitor, &id, None, form, Some(russian(&status))).await,
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct CopyForm {
    #[serde(default)]
    year: String,
}

/// `POST /routes/templates/{id}/copy`.
pub(crate) async fn copy(Path(id): Path<String>, posted: Posted<CopyForm>) -> Response {
    let Posted { visitor, form } = posted;
    let copied = visitor
        .api()
        .routes()
        .copy_route_template(pb::CopyRouteTemplateRequest {
            id: id.clone(),
            school_year: form.year.trim().parse().unwrap_or(0),
        })
        .await;
    match copied {
        Ok(copy) => see_other(&format!(
            "/routes/templates/{}?done=copied",
            copy.into_inner().id
        )),
        Err(status) => {
            page(
                &visitor,
                &id,
                None,
                AssignForm::default(),
                Some(russian(&status)),
            )
            .await
        }
    }
}
