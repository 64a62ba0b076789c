//! `/mentoring/pairs/{id}`: a pair or group with its checkpoints; those who
//! run the programme start it, assess it against the monitoring card and
//! record how it ended.

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use edufed_domain::policy::Action;
use edufed_proto::v1 as pb;

use super::meetings::{Meeting, MeetingForm, of_pair, publishers};
use super::{date, form_name, state_class, term, who};
use crate::errors::{Problem, above, beside, russian};
use crate::page::{Layout, Section, failure, render_with, see_other, t};
use crate::view::{Choice, Names, choices, named, organizations};
use crate::visitor::{Posted, Visitor};

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Shown {
    /// What was just done: `started`, `assessed`, `completed`, `ended`.
    #[serde(default)]
    done: String,
}

struct Checkpoint {
    name: String,
    on: String,
    scores: Vec<String>,
    comment: String,
}

struct Criterion {
    key: String,
    title: String,
    scale: u32,
}

#[derive(Template)]
#[template(path = "mentoring_pair.html")]
struct PairPage {
    layout: Layout,
    id: String,
    programme_id: String,
    programme: String,
    facts: Vec<(String, String)>,
    state: String,
    class: &'static str,
    criteria: Vec<Criterion>,
    checkpoints: Vec<Checkpoint>,
    starts: bool,
    assesses: bool,
    closes: bool,
    /// May end it early (the programme's people, or the pair's own
    /// organizations' admins and coordinators).
    ends: bool,
    results: Vec<Choice>,
    meetings: Vec<Meeting>,
    /// The pair's organizations the visitor schedules meetings for; none
    /// when they may not, or the pair has ended.
    publishers: Vec<Choice>,
    meeting: MeetingForm,
    problem: Option<Problem>,
}

impl PairPage {
    fn error(&self, field: &str) -> String {
        beside(self.problem.as_ref(), field)
    }

    fn general_error(&self) -> String {
        above(
            self.problem.as_ref(),
            &[
                "on",
                "checkpoint",
                "scores",
                "reason",
                "outcome",
                "details.title",
                "details.schedule",
                "details.place",
                "date",
                "start",
                "end",
                "weeks",
            ],
        )
    }
}

/// `GET /mentoring/pairs/{id}`.
pub(crate) async fn show(
    visitor: Visitor,
    Path(id): Path<String>,
    Query(shown): Query<Shown>,
) -> Response {
    if !visitor.signed_in() {
        return see_other("/calendar");
    }
    let notice = match shown.done.as_str() {
        "started" => Some(t("mentoring-pair-started")),
        "assessed" => Some(t("mentoring-pair-assessed")),
        "completed" => Some(t("mentoring-pair-completed")),
        "ended" => Some(t("mentoring-pair-ended")),
        "scheduled" => Some(t("mentoring-meetings-scheduled")),
        _ => None,
    };
    page(&visitor, &id, notice, None, None).await
}

async fn page(
    visitor: &Visitor,
    id: &str,
    notice: Option<String>,
    problem: Option<Problem>,
    meeting: Option<MeetingForm>,
) -> Response {
    let api = visitor.api();
    let record = match api
        .mentoring()
        .get_pair(pb::GetPairRequest { id: id.to_owned() })
        .await
    {
        Ok(found) => found.into_inner(),
        Err(status) => return failure(&status),
    };
    let pair = record.pair.clone().unwrap_or_default();
    let programme = match api
        .mentoring()
        .get_programme(pb::GetProgrammeRequest {
            id: pair.programme_id.clone(),
        })
        .await
    {
        Ok(found) => found.into_inner(),
        Err(status) => return failure(&status),
    };
    let names = match organizations(api).await {
        Ok(orgs) => Names::of(&orgs),
        Err(status) => return failure(&status),
    };
    let details = programme.details.clone().unwrap_or_default();
    let mut facts = vec![
        (t("mentoring-form"), form_name(&details)),
        (
            t("mentoring-mentor"),
            pair.mentor
                .as_ref()
                .map(|m| who(m, &names))
                .unwrap_or_default(),
        ),
        (
            t("mentoring-mentees"),
            pair.mentees
                .iter()
                .map(|m| who(m, &names))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        (
            t("mentoring-term-column"),
            term(&pair.starts_on, &pair.ends_on),
        ),
    ];
    if let Some(outcome) = &pair.outcome {
        facts.push((
            t("mentoring-outcome"),
            named::<pb::MentoringResult>(outcome.result),
        ));
        if !outcome.comment.is_empty() {
            facts.push((t("mentoring-outcome-comment"), outcome.comment.clone()));
        }
        if !outcome.profile.is_empty() {
            facts.push((t("mentoring-profile"), outcome.profile.clone()));
        }
    }
    if !pair.reason.is_empty() {
        facts.push((t("mentoring-reason"), pair.reason.clone()));
    }
    let criteria: Vec<Criterion> = details
        .criteria
        .iter()
        .map(|c| Criterion {
            key: c.key.clone(),
            title: c.title.clone(),
            scale: c.scale,
        })
        .collect();
    let checkpoints = record
        .assessments
        .iter()
        .map(|a| Checkpoint {
            name: a.checkpoint.clone(),
            on: date(&a.on),
            scores: criteria
                .iter()
                .map(|c| {
                    a.scores
                        .iter()
                        .find(|s| s.criterion == c.key)
                        .map(|s| format!("{} / {}", s.value, c.scale))
                        .unwrap_or_default()
                })
                .collect(),
            comment: a.comment.clone(),
        })
        .collect();
    let state = pb::PairState::try_from(pair.state).unwrap_or(pb::PairState::Unspecified);
    let meetings = match of_pair(visitor, &pair).await {
        Ok(meetings) => meetings,
        Err(status) => return failure(&status),
    };
    let meeting = meeting.unwrap_or_default();
    let publishers = if matches!(state, pb::PairState::Planned | pb::PairState::Active) {
        publishers(visitor, &pair, &names, &meeting.publisher)
    } else {
        Vec::new()
    };
    let runs = visitor.may_in_pair(Action::ManageMentoring, &programme, &pair);
    let assesses = visitor.may_in_programme(Action::AssessMentoring, &programme);
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render_with(
        status,
        &PairPage {
            layout: Layout::new(visitor, Section::Mentoring, t("mentoring-pair-title"))
                .with_notice(notice),
            id: pair.id.clone(),
            programme_id: programme.id.clone(),
            programme: details.title.clone(),
            facts,
            state: named::<pb::PairState>(pair.state),
            class: state_class(pair.state),
            criteria,
            checkpoints,
            starts: runs && state == pb::PairState::Planned,
            assesses: assesses
                && matches!(state, pb::PairState::Active | pb::PairState::Completed)
                && !details.criteria.is_empty(),
            closes: assesses && matches!(state, pb::PairState::Planned | pb::PairState::Active),
            ends: runs && matches!(state, pb::PairState::Planned | pb::PairState::Active),
            results: choices::<pb::MentoringResult>(0),
            meetings,
            publishers,
            meeting,
            problem,
        },
    )
}

async fn refused(visitor: &Visitor, id: &str, status: &tonic::Status) -> Response {
    page(visitor, id, None, Some(russian(status)), None).await
}

/// The pair's page again, the scheduling form as it was posted and what
/// was wrong with it.
pub(super) async fn refused_meeting(
    visitor: &Visitor,
    id: &str,
    form: MeetingForm,
    problem: Problem,
) -> Response {
    page(visitor, id, None, Some(problem), Some(form)).await
}

/// A date as posted.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct On {
    #[serde(default)]
    on: String,
}

/// `POST /mentoring/pairs/{id}/start`.
pub(crate) async fn start(Path(id): Path<String>, posted: Posted<On>) -> Response {
    let Posted { visitor, form } = posted;
    let started = visitor
        .api()
        .mentoring()
        .start_pair(pb::StartPairRequest {
            id: id.clone(),
            expected_version: 0,
            on: form.on,
        })
        .await;
    match started {
        Ok(_) => see_other(&format!("/mentoring/pairs/{id}?done=started")),
        Err(status) => refused(&visitor, &id, &status).await,
    }
}

/// `POST /mentoring/pairs/{id}/assess`: the checkpoint, its date, a score
/// per criterion (`score-<key>`) and a comment.
pub(crate) async fn assess(
    Path(id): Path<String>,
    posted: Posted<Vec<(String, String)>>,
) -> Response {
    let Posted { visitor, form } = posted;
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let scores = form
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .filter_map(|(k, v)| {
            let criterion = k.strip_prefix("score-")?;
            Some(pb::MentoringScore {
                criterion: criterion.to_owned(),
                value: v.trim().parse().unwrap_or(0),
            })
        })
        .collect();
    let assessed = visitor
        .api()
        .mentoring()
        .assess_pair(pb::AssessPairRequest {
            pair_id: id.clone(),
            checkpoint: field("checkpoint"),
            on: field("on"),
            scores,
            comment: field("comment"),
        })
        .await;
    match assessed {
        Ok(_) => see_other(&format!("/mentoring/pairs/{id}?done=assessed")),
        Err(status) => refused(&visitor, &id, &status).await,
    }
}

/// An outcome as posted.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Ending {
    #[serde(default)]
    on: String,
    #[serde(default)]
    result: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    profile: String,
    #[serde(default)]
    reason: String,
}

/// `POST /mentoring/pairs/{id}/complete`.
pub(crate) async fn complete(Path(id): Path<String>, posted: Posted<Ending>) -> Response {
    close(id, posted, pb::PairState::Completed).await
}

/// `POST /mentoring/pairs/{id}/end`: ended before its term.
pub(crate) async fn end(Path(id): Path<String>, posted: Posted<Ending>) -> Response {
    close(id, posted, pb::PairState::EndedEarly).await
}

async fn close(id: String, posted: Posted<Ending>, state: pb::PairState) -> Response {
    let Posted { visitor, form } = posted;
    let outcome = (state == pb::PairState::Completed).then(|| pb::MentoringOutcome {
        result: form.result.trim().parse().unwrap_or(0),
        comment: form.comment.clone(),
        profile: form.profile.clone(),
    });
    let closed = visitor
        .api()
        .mentoring()
        .close_pair(pb::ClosePairRequest {
            id: id.clone(),
            expected_version: 0,
            state: state.into(),
            on: form.on.clone(),
            reason: form.reason.clone(),
            outcome,
        })
        .await;
    let done = if state == pb::PairState::Completed {
        "completed"
    } else {
        "ended"
    };
    match closed {
        Ok(_) => see_other(&format!("/mentoring/pairs/{id}?done={done}")),
        Err(status) => refused(&visitor, &id, &status).await,
    }
}
