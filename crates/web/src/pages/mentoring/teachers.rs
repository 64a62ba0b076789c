//! `/mentoring/teachers`: each organization's teachers per school year, as
//! its admins and coordinators state them: the denominators of the
//! mentoring report's shares.

use askama::Template;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use edufed_domain::policy::Action;
use edufed_proto::v1 as pb;

use crate::errors::{Problem, above, beside, russian};
use crate::page::{Layout, Section, failure, render_with, see_other, t};
use crate::pages::reports::school_year;
use crate::view::{Choice, Names, organizations};
use crate::visitor::{Posted, Visitor};

/// The counts of the form, each a field of `TeacherFigures`, with its label.
const COUNTS: [(&str, &str); 8] = [
    ("teachers", "mentoring-teachers-teachers"),
    ("young_teachers", "mentoring-teachers-young"),
    ("courses", "mentoring-teachers-courses"),
    ("course_hours", "mentoring-teachers-course-hours"),
    ("internships", "mentoring-teachers-internships"),
    ("seminars", "mentoring-teachers-seminars"),
    ("association_members", "mentoring-teachers-association"),
    ("growth_system", "mentoring-teachers-growth-system"),
];

struct Row {
    organization: String,
    year: String,
    counts: Vec<u32>,
}

struct Count {
    field: &'static str,
    label: String,
    value: String,
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Shown {
    #[serde(default)]
    done: String,
}

#[derive(Template)]
#[template(path = "mentoring_teachers.html")]
struct TeachersPage {
    layout: Layout,
    headers: Vec<String>,
    rows: Vec<Row>,
    orgs: Vec<Choice>,
    year: String,
    counts: Vec<Count>,
    problem: Option<Problem>,
}

impl TeachersPage {
    fn error(&self, field: &str) -> String {
        beside(self.problem.as_ref(), field)
    }

    fn general_error(&self) -> String {
        let mut fields: Vec<&str> = COUNTS.iter().map(|(f, _)| *f).collect();
        fields.extend(["organization", "school_year"]);
        above(self.problem.as_ref(), &fields)
    }
}

/// `GET /mentoring/teachers`.
pub(crate) async fn show(visitor: Visitor, Query(shown): Query<Shown>) -> Response {
    if !visitor.signed_in() {
        return see_other("/calendar");
    }
    let notice = (shown.done == "stated").then(|| t("mentoring-teachers-stated"));
    page(&visitor, Vec::new(), notice, None).await
}

async fn page(
    visitor: &Visitor,
    posted: Vec<(String, String)>,
    notice: Option<String>,
    problem: Option<Problem>,
) -> Response {
    let api = visitor.api();
    let names = match organizations(api).await {
        Ok(orgs) => Names::of(&orgs),
        Err(status) => return failure(&status),
    };
    let states: Vec<String> = visitor
        .memberships_for(Action::StateTeacherFigures)
        .iter()
        .map(|m| m.organization_id.clone())
        .collect();
    let listed = match api
        .mentoring()
        .list_teacher_figures(pb::ListTeacherFiguresRequest::default())
        .await
    {
        Ok(listed) => listed.into_inner().figures,
        Err(status) => return failure(&status),
    };
    let mine: Vec<String> = visitor
        .memberships()
        .iter()
        .map(|m| m.organization_id.clone())
        .collect();
    let rows = listed
        .iter()
        .filter(|f| mine.contains(&f.organization) || visitor.may_on_node(Action::ViewAllRecords))
        .map(|f| Row {
            organization: names.name(&f.organization),
            year: f.school_year.clone(),
            counts: vec![
                f.teachers,
                f.young_teachers,
                f.courses,
                f.course_hours,
                f.internships,
                f.seminars,
                f.association_members,
                f.growth_system,
            ],
        })
        .collect();
    let field = |name: &str| {
        posted
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let chosen = field("organization");
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render_with(
        status,
        &TeachersPage {
            layout: Layout::new(visitor, Section::Mentoring, t("mentoring-teachers-title"))
                .with_notice(notice),
            headers: COUNTS.iter().map(|(_, label)| t(label)).collect(),
            rows,
            orgs: states
                .iter()
                .map(|o| Choice {
                    value: o.clone(),
                    label: names.name(o),
                    selected: *o == chosen,
                })
                .collect(),
            year: if posted.is_empty() {
                school_year(visitor.now)
            } else {
                field("school_year")
            },
            counts: COUNTS
                .iter()
                .map(|(name, label)| Count {
                    field: name,
                    label: t(label),
                    value: field(name),
                })
                .collect(),
            problem,
        },
    )
}

/// `POST /mentoring/teachers`.
pub(crate) async fn state(posted: Posted<Vec<(String, String)>>) -> Response {
    let Posted { visitor, form } = posted;
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let count = |name: &str| field(name).parse::<u32>().unwrap_or(0);
    let stated = visitor
        .api()
        .mentoring()
        .set_teacher_figures(pb::TeacherFigures {
            organization: field("organization"),
            school_year: field("school_year"),
            teachers: count("teachers"),
            young_teachers: count("young_teachers"),
            courses: count("courses"),
            course_hours: count("course_hours"),
            internships: count("internships"),
            seminars: count("seminars"),
            association_members: count("association_members"),
            growth_system: count("growth_system"),
            updated_at: None,
        })
        .await;
    match stated {
        Ok(_) => see_other("/mentoring/teachers?done=stated"),
        Err(status) => page(&visitor, form, None, Some(russian(&status))).await,
    }
}
