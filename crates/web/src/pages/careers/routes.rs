//! `/routes`: a school's route templates and its cohorts' routes, and a
//! new template composed from the network's offerings (activities of the
//! calendar, resources to book).

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use edufed_domain::policy::Action;
use edufed_i18n::ru;
use edufed_proto::v1 as pb;

use super::school_year;
use crate::errors::{Problem, above, beside, russian};
use crate::page::{Layout, Section, failure, render_with, see_other, t};
use crate::view::{Choice, Names, named, organizations};
use crate::visitor::{Posted, Visitor};

/// Rows of items the new template's form offers.
const ITEM_ROWS: usize = 8;

struct TemplateRow {
    id: String,
    title: String,
    profile: String,
    grade: u32,
    year: String,
    items: usize,
    hours: String,
    school: String,
}

struct RouteRow {
    id: String,
    cohort: String,
    title: String,
    year: String,
    state: String,
    progress: String,
    trials: String,
}

/// The new template's form as posted; the item rows come as repeated
/// fields, one per row.
#[derive(Debug, Default)]
pub(crate) struct NewTemplate {
    school: String,
    title: String,
    profile: String,
    grade: String,
    year: String,
    item_title: Vec<String>,
    activity: Vec<String>,
    resource: Vec<String>,
    start: Vec<String>,
    end: Vec<String>,
    /// Row numbers (from 0) marked required.
    required: Vec<usize>,
    hours: Vec<String>,
}

struct ItemRow {
    n: usize,
    shown: usize,
    title: String,
    activities: Vec<Choice>,
    resources: Vec<Choice>,
    start: String,
    end: String,
    required: bool,
    hours: String,
    error: String,
}

#[derive(Template)]
#[template(path = "routes.html")]
struct RoutesPage {
    layout: Layout,
    templates: Vec<TemplateRow>,
    routes: Vec<RouteRow>,
    schools: Vec<Choice>,
    items: Vec<ItemRow>,
    form: NewTemplate,
    problem: Option<Problem>,
}

impl RoutesPage {
    fn error(&self, field: &str) -> String {
        beside(self.problem.as_ref(), field)
    }

    fn general_error(&self) -> String {
        above(
            self.problem.as_ref(),
            &[
                "school",
                "template.title",
                "template.profile",
                "template.grade",
                "template.school_year",
                "template.items",
            ],
        )
    }
}

fn parse(pairs: Vec<(String, String)>) -> NewTemplate {
    let mut form = NewTemplate::default();
    for (key, value) in pairs {
        match key.as_str() {
            "school" => form.school = value,
            "title" => form.title = value,
            "profile" => form.profile = value,
            "grade" => form.grade = value,
            "year" => form.year = value,
            "item_title" => form.item_title.push(value),
            "activity" => form.activity.push(value),
            "resource" => form.resource.push(value),
            "start" => form.start.push(value),
            "end" => form.end.push(value),
            "required" => {
                if let Ok(n) = value.parse() {
                    form.required.push(n);
                }
            }
            "hours" => form.hours.push(value),
            _ => {}
        }
    }
    form
}

/// `GET /routes`.
pub(crate) async fn show(visitor: Visitor) -> Response {
    if !visitor.signed_in() {
        return see_other("/calendar");
    }
    page(&visitor, NewTemplate::default(), None).await
}

/// The activities the visitor may pick for a route: those of the coming
/// year with pupils in their audience, one choice each.
async fn offerings(visitor: &Visitor) -> Result<Vec<(String, String)>, tonic::Status> {
    let now = visitor.now;
    let mut request = pb::ListOccurrencesRequest {
        from: Some(prost_types::Timestamp {
            seconds: now.timestamp(),
            nanos: 0,
        }),
        to: Some(prost_types::Timestamp {
            seconds: now.timestamp() + 399 * 86_400,
            nanos: 0,
        }),
        page_size: 500,
        ..Default::default()
    };
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for _ in 0..4 {
        let page = visitor
            .api()
            .calendar()
            .list_occurrences(request.clone())
            .await?
            .into_inner();
        for o in page.occurrences {
            let a = o.activity.unwrap_or_default();
            let d = a.details.unwrap_or_default();
            let Some(students) = d.audience.and_then(|x| x.students) else {
                continue;
            };
            if seen.insert(a.id.clone()) {
                out.push((
                    a.id,
                    format!(
                        "{} · {} · {}",
                        d.title,
                        named::<pb::ActivityKind>(d.kind),
                        ru().grades(students.min, students.max)
                    ),
                ));
            }
        }
        if page.next_page_token.is_empty() {
            break;
        }
        request.page_token = page.next_page_token;
    }
    Ok(out)
}

async fn page(visitor: &Visitor, form: NewTemplate, problem: Option<Problem>) -> Response {
    let api = visitor.api();
    let names = match organizations(api).await {
        Ok(orgs) => Names::of(&orgs),
        Err(status) => return failure(&status),
    };
    let mut templates = Vec::new();
    let mut routes = Vec::new();
    for m in visitor.memberships_for(Action::ViewRoutes) {
        let school = m.organization_id.clone();
        let Ok(listed) = api
            .routes()
            .list_route_templates(pb::ListRouteTemplatesRequest {
                school: school.clone(),
                school_year: 0,
            })
            .await
        else {
            continue;
        };
        for x in listed.into_inner().templates {
            templates.push(TemplateRow {
                id: x.id,
                title: x.title,
                profile: x.profile,
                grade: x.grade,
                year: school_year(x.school_year),
                items: x.items.len(),
                hours: format!("{} / {}", x.required_hours, x.total_hours),
                school: names.name(&school),
            });
        }
        let Ok(listed) = api
            .routes()
            .list_routes(pb::ListRoutesRequest {
                school: school.clone(),
                ..Default::default()
            })
            .await
        else {
            continue;
        };
        for r in listed.into_inner().routes {
            let f = r.figures.unwrap_or_default();
            routes.push(RouteRow {
                id: r.id,
                cohort: r.cohort.map(|c| c.code).unwrap_or_default(),
                title: r.title,
                year: school_year(r.school_year),
                state: named::<pb::RouteState>(r.state),
                progress: format!("{} / {}", f.items_attended, f.items_chosen),
                trials: format!("{:.1}", f.trials_per_pupil).replace('.', ","),
            });
        }
    }
    let schools: Vec<Choice> = visitor
        .memberships_for(Action::ManageRoutes)
        .iter()
        .map(|m| Choice {
            value: m.organization_id.clone(),
            label: names.name(&m.organization_id),
            selected: m.organization_id == form.school,
        })
        .collect();
    let items = if schools.is_empty() {
        Vec::new()
    } else {
        let activities = match offerings(visitor).await {
            Ok(list) => list,
            Err(status) => return failure(&status),
        };
        let resources = match api
            .booking()
            .list_resources(pb::ListResourcesRequest::default())
            .await
        {
            Ok(list) => list.into_inner().resources,
            Err(status) => return failure(&status),
        };
        (0..ITEM_ROWS)
            .map(|n| {
                let at = |v: &Vec<String>| v.get(n).cloned().unwrap_or_default();
                let chosen_activity = at(&form.activity);
                let chosen_resource = at(&form.resource);
                ItemRow {
                    n,
                    shown: n + 1,
                    title: at(&form.item_title),
                    activities: activities
                        .iter()
                        .map(|(id, label)| Choice {
                            value: id.clone(),
                            label: label.clone(),
                            selected: *id == chosen_activity,
                        })
                        .collect(),
                    resources: resources
                        .iter()
                        .map(|r| Choice {
                            value: r.id.clone(),
                            label: format!("{} · {}", r.name, names.name(&r.owner_id)),
                            selected: r.id == chosen_resource,
                        })
                        .collect(),
                    start: at(&form.start),
                    end: at(&form.end),
                    required: form.required.contains(&n) || (form.item_title.is_empty() && n < 2),
                    hours: at(&form.hours),
                    error: problem
                        .as_ref()
                        .and_then(|p| p.about(&format!("template.items[{n}]")))
                        .unwrap_or_default()
                        .to_owned(),
                }
            })
            .collect()
    };
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render_with(
        status,
        &RoutesPage {
            layout: Layout::new(visitor, Section::Careers, t("routes-title")),
            templates,
            routes,
            schools,
            items,
            form,
            problem,
        },
    )
}

/// `POST /routes`: a new template from the rows filled in.
pub(crate) async fn create(posted: Posted<Vec<(String, String)>>) -> Response {
    let Posted { visitor, form } = posted;
    let form = parse(form);
    let at = |v: &Vec<String>, n: usize| v.get(n).map(|s| s.trim().to_owned()).unwrap_or_default();
    let mut items = Vec::new();
    // Rows are numbered as the form shows them, so a refusal of
    // `template.items[n]` lands beside its row: only filled rows are sent,
    // and the API's index is mapped back below.
    let mut rows = Vec::new();
    for n in 0..ITEM_ROWS {
        let activity = at(&form.activity, n);
        let resource = at(&form.resource, n);
        let title = at(&form.item_title, n);
        if activity.is_empty() && resource.is_empty() && title.is_empty() {
            continue;
        }
        rows.push(n);
        items.push(pb::RouteItemDraft {
            title,
            offering: Some(if resource.is_empty() {
                pb::RouteOffering {
                    activity_id: activity,
                    ..Default::default()
                }
            } else {
                pb::RouteOffering {
                    resource_id: resource,
                    start: at(&form.start, n),
                    end: at(&form.end, n),
                    purpose: at(&form.item_title, n),
                    ..Default::default()
                }
            }),
            required: form.required.contains(&n),
            hours: at(&form.hours, n).parse().unwrap_or(0),
            note: String::new(),
        });
    }
    let created = visitor
        .api()
        .routes()
        .create_route_template(pb::CreateRouteTemplateRequest {
            school: form.school.clone(),
            template: Some(pb::RouteTemplateDraft {
                title: form.title.clone(),
                profile: form.profile.clone(),
                grade: form.grade.trim().parse().unwrap_or(0),
                school_year: form.year.trim().parse().unwrap_or(0),
                items,
            }),
        })
        .await;
    match created {
        Ok(t) => see_other(&format!("/routes/templates/{}", t.into_inner().id)),
        Err(status) => {
            let mut problem = russian(&status);
            if let Some(field) = &problem.field
                && let Some(rest) = field.strip_prefix("template.items[")
                && let Some((index, tail)) = rest.split_once(']')
                && let Some(row) = index.parse::<usize>().ok().and_then(|i| rows.get(i))
            {
                problem.field = Some(format!("template.items[{row}]{tail}"));
            }
            page(&visitor, form, Some(problem)).await
        }
    }
}
