//! `/mentoring/growth`: a teacher's professional growth by person. In each
//! of their organizations a member agrees (or no longer agrees) to have it
//! recorded, then lists and adds their courses, internships, seminars; the
//! organization's admins and coordinators see the records of those who
//! agreed.

use askama::Template;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use edufed_domain::policy::Action;
use edufed_i18n::ru;
use edufed_proto::v1 as pb;

use super::date;
use crate::errors::{Problem, above, beside, russian};
use crate::page::{Layout, Section, failure, render_with, see_other, t};
use crate::view::{Choice, Names, choices, instant, named, organizations};
use crate::visitor::{Posted, Visitor};

/// A record as listed.
struct Line {
    id: String,
    on: String,
    kind: String,
    title: String,
    hours: String,
    /// Whose, on the organization's list.
    person: String,
}

/// One of the visitor's organizations.
struct Mine {
    org: String,
    name: String,
    /// When they agreed, empty when they have not.
    agreed: String,
    records: Vec<Line>,
    /// The records of everyone who agreed, for admins and coordinators.
    everyone: Option<Vec<Line>>,
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Shown {
    #[serde(default)]
    done: String,
}

/// A record as posted (and shown again when refused).
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub(crate) struct RecordForm {
    #[serde(default)]
    organization: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    on: String,
    #[serde(default)]
    hours: String,
}

#[derive(Template)]
#[template(path = "mentoring_growth.html")]
struct GrowthPage {
    layout: Layout,
    mine: Vec<Mine>,
    kinds: Vec<Choice>,
    form: RecordForm,
    problem: Option<Problem>,
}

impl GrowthPage {
    fn error(&self, org: &str, field: &str) -> String {
        if self.form.organization == org {
            beside(self.problem.as_ref(), field)
        } else {
            String::new()
        }
    }

    fn general_error(&self) -> String {
        above(self.problem.as_ref(), &["kind", "title", "on", "hours"])
    }
}

/// `GET /mentoring/growth`.
pub(crate) async fn show(visitor: Visitor, Query(shown): Query<Shown>) -> Response {
    if !visitor.signed_in() {
        return see_other("/calendar");
    }
    let notice = match shown.done.as_str() {
        "agreed" => Some(t("growth-agreed-notice")),
        "withdrawn" => Some(t("growth-withdrawn-notice")),
        "recorded" => Some(t("growth-recorded-notice")),
        "deleted" => Some(t("growth-deleted-notice")),
        _ => None,
    };
    page(&visitor, RecordForm::default(), notice, None).await
}

fn line(r: &pb::GrowthRecord, person: String) -> Line {
    Line {
        id: r.id.clone(),
        on: date(&r.on),
        kind: named::<pb::GrowthKind>(r.kind),
        title: r.title.clone(),
        hours: if r.hours == 0 {
            String::new()
        } else {
            ru().count("hours", i64::from(r.hours))
        },
        person,
    }
}

async fn page(
    visitor: &Visitor,
    form: RecordForm,
    notice: Option<String>,
    problem: Option<Problem>,
) -> Response {
    let api = visitor.api();
    let names = match organizations(api).await {
        Ok(orgs) => Names::of(&orgs),
        Err(status) => return failure(&status),
    };
    let me = visitor
        .me
        .as_ref()
        .and_then(|m| m.person.as_ref())
        .map(|p| p.id.clone())
        .unwrap_or_default();
    let mut mine = Vec::new();
    for membership in visitor.memberships() {
        let org = membership.organization_id.clone();
        let own = match api
            .mentoring()
            .list_growth(pb::ListGrowthRequest {
                organization: org.clone(),
                person_id: me.clone(),
            })
            .await
        {
            Ok(listed) => listed.into_inner(),
            Err(status) => return failure(&status),
        };
        let agreed = own
            .consents
            .first()
            .and_then(|c| instant(c.given_at.as_ref()))
            .map(|at| ru().date(at.date_naive()))
            .unwrap_or_default();
        let everyone = if visitor.may(Action::StateTeacherFigures, &org) {
            let all = match api
                .mentoring()
                .list_growth(pb::ListGrowthRequest {
                    organization: org.clone(),
                    person_id: String::new(),
                })
                .await
            {
                Ok(listed) => listed.into_inner(),
                Err(status) => return failure(&status),
            };
            let people = member_names(visitor, &org).await;
            Some(
                all.records
                    .iter()
                    .map(|r| {
                        let who = people
                            .iter()
                            .find(|(id, _)| *id == r.person_id)
                            .map_or_else(|| r.person_id.clone(), |(_, name)| name.clone());
                        line(r, who)
                    })
                    .collect(),
            )
        } else {
            None
        };
        mine.push(Mine {
            name: names.name(&org),
            org,
            agreed,
            records: own.records.iter().map(|r| line(r, String::new())).collect(),
            everyone,
        });
    }
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render_with(
        status,
        &GrowthPage {
            layout: Layout::new(visitor, Section::Mentoring, t("growth-title")).with_notice(notice),
            mine,
            kinds: choices::<pb::GrowthKind>(form.kind.trim().parse().unwrap_or(0)),
            form,
            problem,
        },
    )
}

/// The names of an organization's members, by person id.
async fn member_names(visitor: &Visitor, org: &str) -> Vec<(String, String)> {
    let mut names = Vec::new();
    let mut token = String::new();
    loop {
        let Ok(page) = visitor
            .api()
            .directory()
            .list_members(pb::ListMembersRequest {
                organization: org.to_owned(),
                page_size: 500,
                page_token: token,
            })
            .await
        else {
            return names;
        };
        let page = page.into_inner();
        names.extend(
            page.members
                .into_iter()
                .filter_map(|m| m.person)
                .map(|p| (p.id, p.display_name)),
        );
        if page.next_page_token.is_empty() {
            return names;
        }
        token = page.next_page_token;
    }
}

/// The agreement as posted.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ConsentForm {
    #[serde(default)]
    organization: String,
    /// `yes` to agree, anything else to withdraw.
    #[serde(default)]
    given: String,
}

/// `POST /mentoring/growth/consent`.
pub(crate) async fn consent(posted: Posted<ConsentForm>) -> Response {
    let Posted { visitor, form } = posted;
    let given = form.given == "yes";
    let answer = visitor
        .api()
        .mentoring()
        .set_growth_consent(pb::SetGrowthConsentRequest {
            organization: form.organization.clone(),
            given,
        })
        .await;
    match answer {
        Ok(_) if given => see_other("/mentoring/growth?done=agreed"),
        Ok(_) => see_other("/mentoring/growth?done=withdrawn"),
        Err(status) => {
            page(
                &visitor,
                RecordForm::default(),
                None,
                Some(russian(&status)),
            )
            .await
        }
    }
}

/// `POST /mentoring/growth`: records a course, internship, seminar…
pub(crate) async fn record(posted: Posted<RecordForm>) -> Response {
    let Posted { visitor, form } = posted;
    let recorded = visitor
        .api()
        .mentoring()
        .record_growth(pb::RecordGrowthRequest {
            organization: form.organization.trim().to_owned(),
            person_id: String::new(),
            kind: form.kind.trim().parse().unwrap_or(0),
            title: form.title.trim().to_owned(),
            on: form.on.trim().to_owned(),
            hours: form.hours.trim().parse().unwrap_or(0),
        })
        .await;
    match recorded {
        Ok(_) => see_other("/mentoring/growth?done=recorded"),
        Err(status) => page(&visitor, form, None, Some(russian(&status))).await,
    }
}

/// A record to delete, as posted.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct DeleteForm {
    #[serde(default)]
    id: String,
}

/// `POST /mentoring/growth/delete`.
pub(crate) async fn delete(posted: Posted<DeleteForm>) -> Response {
    let Posted { visitor, form } = posted;
    let deleted = visitor
        .api()
        .mentoring()
        .delete_growth(pb::DeleteGrowthRequest { id: form.id })
        .await;
    match deleted {
        Ok(_) => see_other("/mentoring/growth?done=deleted"),
        Err(status) => {
            page(
                &visitor,
                RecordForm::default(),
                None,
                Some(russian(&status)),
            )
            .await
        }
    }
}
