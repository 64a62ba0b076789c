//! `/mentoring/{id}`: a programme, its closed register for those who read
//! it, and a new pair or group for those who run it.

use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use edufed_domain::mentoring::MentoringForm;
use edufed_domain::policy::Action;
use edufed_i18n::ru;
use edufed_proto::v1 as pb;

use super::{date, form_name, state_class, term, who};
use crate::errors::{Problem, above, beside, russian};
use crate::page::{Layout, Section, failure, render_with, see_other, t};
use crate::view::{Choice, Names, named, organizations};
use crate::visitor::{Posted, Visitor};

struct PairRow {
    id: String,
    mentor: String,
    mentees: Vec<String>,
    state: String,
    class: &'static str,
    term: String,
    outcome: String,
    checkpoints: u32,
    /// The visitor may open it: kept here, or one of their organizations
    /// is in it (its home node answers them).
    opens: bool,
}

/// A new pair as posted: a mentor and one mentee (a colleague, a group of
/// pupils, or a pupil by code).
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct NewPair {
    #[serde(default)]
    mentor_org: String,
    #[serde(default)]
    mentor_name: String,
    #[serde(default)]
    mentor_position: String,
    #[serde(default)]
    mentee_kind: String,
    #[serde(default)]
    mentee_org: String,
    #[serde(default)]
    mentee_name: String,
    #[serde(default)]
    mentee_position: String,
    #[serde(default)]
    grade_min: String,
    #[serde(default)]
    grade_max: String,
    #[serde(default)]
    headcount: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    starts_on: String,
}

#[derive(Template)]
#[template(path = "mentoring_programme.html")]
struct ProgrammePage {
    layout: Layout,
    id: String,
    facts: Vec<(String, String)>,
    goals: String,
    criteria: Vec<String>,
    reads_register: bool,
    /// The pairs' meetings and the events linked to the programme, as far
    /// as the visitor sees them.
    events: Vec<super::meetings::Meeting>,
    pairs: Vec<PairRow>,
    runs: bool,
    orgs: Vec<Choice>,
    pupils: bool,
    form: NewPair,
    problem: Option<Problem>,
}

impl ProgrammePage {
    fn error(&self, field: &str) -> String {
        beside(self.problem.as_ref(), field)
    }

    fn general_error(&self) -> String {
        above(self.problem.as_ref(), &["mentor", "mentees", "starts_on"])
    }
}

/// `GET /mentoring/{id}`.
pub(crate) async fn show(visitor: Visitor, Path(id): Path<String>) -> Response {
    if !visitor.signed_in() {
        return see_other("/calendar");
    }
    page(&visitor, &id, NewPair::default(), None).await
}

async fn page(visitor: &Visitor, id: &str, form: NewPair, problem: Option<Problem>) -> Response {
    let api = visitor.api();
    let programme = match api
        .mentoring()
        .get_programme(pb::GetProgrammeRequest { id: id.to_owned() })
        .await
    {
        Ok(found) => found.into_inner(),
        Err(status) => return failure(&status),
    };
    let names = match organizations(api).await {
        Ok(orgs) => Names::of(&orgs),
        Err(status) => return failure(&status),
    };
    let d = programme.details.clone().unwrap_or_default();
    let mut facts = vec![
        (t("mentoring-form"), form_name(&d)),
        (t("mentoring-owner"), names.name(&programme.owner_id)),
        (
            t("mentoring-partners"),
            d.partners
                .iter()
                .map(|o| names.name(o))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        (t("mentoring-term-column"), term(&d.starts_on, &d.ends_on)),
    ];
    if !programme.home_node.is_empty() {
        facts.push((t("mentoring-kept-on"), programme.home_node.clone()));
    }
    let reads_register = visitor.may_in_programme(Action::ViewMentoringRegister, &programme);
    let mut pairs = Vec::new();
    if reads_register {
        let listed = match api
            .mentoring()
            .list_pairs(pb::ListPairsRequest {
                programme_id: programme.id.clone(),
            })
            .await
        {
            Ok(listed) => listed.into_inner().pairs,
            Err(status) => return failure(&status),
        };
        pairs = listed.iter().map(|p| row(p, &names, visitor)).collect();
    }
    let local = programme.home_node.is_empty();
    let runs = local && visitor.may_in_programme(Action::ManageMentoring, &programme);
    let orgs = std::iter::once(&programme.owner_id)
        .chain(d.partners.iter())
        .map(|o| Choice {
            value: o.clone(),
            label: names.name(o),
            selected: false,
        })
        .collect();
    // Whether the form mentors pupils, as the domain says: the new
    // mentee is then a group by default.
    let pupils = pb::MentoringForm::try_from(d.form).is_ok_and(|form| {
        let name = form.as_str_name().trim_start_matches("MENTORING_FORM_");
        MentoringForm::parse("form", &name.to_ascii_lowercase())
            .is_ok_and(MentoringForm::mentees_are_pupils)
    });
    let events = match super::meetings::of_programme(visitor, &programme).await {
        Ok(events) => events,
        Err(status) => return failure(&status),
    };
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render_with(
        status,
        &ProgrammePage {
            layout: Layout::new(visitor, Section::Mentoring, d.title.clone()),
            id: programme.id.clone(),
            events,
            facts,
            goals: d.goals.clone(),
            criteria: d
                .criteria
                .iter()
                .map(|c| {
                    ru().text_with(
                        "mentoring-criterion-scale",
                        &[
                            ("title", (&c.title).into()),
                            ("scale", i64::from(c.scale).into()),
                        ],
                    )
                })
                .collect(),
            reads_register,
            pairs,
            runs,
            orgs,
            pupils,
            form,
            problem,
        },
    )
}

fn row(p: &pb::MentoringPair, names: &Names, visitor: &Visitor) -> PairRow {
    let shared = !p.home_node.is_empty();
    let opens = !shared
        || visitor
            .memberships()
            .iter()
            .any(|m| p.organization_ids.contains(&m.organization_id));
    PairRow {
        id: p.id.clone(),
        mentor: match &p.mentor {
            Some(m) => who(m, names),
            None => p
                .organization_ids
                .first()
                .map(|o| names.name(o))
                .unwrap_or_default(),
        },
        mentees: if shared {
            vec![
                ru().text_with(
                    "mentoring-shared-mentees",
                    &[
                        ("count", i64::from(p.headcount).into()),
                        (
                            "orgs",
                            (&p.organization_ids
                                .iter()
                                .skip(1)
                                .map(|o| names.name(o))
                                .collect::<Vec<_>>()
                                .join(", "))
                                .into(),
                        ),
                    ],
                ),
            ]
        } else {
            p.mentees.iter().map(|m| who(m, names)).collect()
        },
        state: named::<pb::PairState>(p.state),
        class: state_class(p.state),
        term: if p.ends_on.is_empty() {
            ru().text_with("mentoring-since", &[("from", (&date(&p.starts_on)).into())])
        } else {
            term(&p.starts_on, &p.ends_on)
        },
        outcome: match &p.outcome {
            Some(o) => named::<pb::MentoringResult>(o.result),
            None => p.reason.clone(),
        },
        checkpoints: p.assessments,
        opens,
    }
}

/// `POST /mentoring/{id}/pairs`.
pub(crate) async fn add_pair(Path(id): Path<String>, posted: Posted<NewPair>) -> Response {
    let Posted { visitor, form } = posted;
    let kind = match form.mentee_kind.as_str() {
        "cohort" => pb::MentoringParticipantKind::Cohort,
        "pupil" => pb::MentoringParticipantKind::Pupil,
        _ => pb::MentoringParticipantKind::Adult,
    };
    let number = |raw: &str| raw.trim().parse::<u32>().unwrap_or(0);
    let mentee = match kind {
        pb::MentoringParticipantKind::Cohort => pb::MentoringParticipant {
            kind: kind.into(),
            organization: form.mentee_org.clone(),
            min_grade: number(&form.grade_min),
            max_grade: number(&form.grade_max),
            headcount: number(&form.headcount),
            ..Default::default()
        },
        pb::MentoringParticipantKind::Pupil => pb::MentoringParticipant {
            kind: kind.into(),
            organization: form.mentee_org.clone(),
            code: form.code.clone(),
            ..Default::default()
        },
        _ => pb::MentoringParticipant {
            kind: kind.into(),
            organization: form.mentee_org.clone(),
            name: form.mentee_name.clone(),
            position: form.mentee_position.clone(),
            ..Default::default()
        },
    };
    let added = visitor
        .api()
        .mentoring()
        .add_pair(pb::AddPairRequest {
            programme_id: id.clone(),
            mentor: Some(pb::MentoringParticipant {
                kind: pb::MentoringParticipantKind::Adult.into(),
                organization: form.mentor_org.clone(),
                name: form.mentor_name.clone(),
                position: form.mentor_position.clone(),
                ..Default::default()
            }),
            mentees: vec![mentee],
            starts_on: form.starts_on.clone(),
            ends_on: String::new(),
        })
        .await;
    match added {
        Ok(pair) => see_other(&format!("/mentoring/pairs/{}", pair.into_inner().id)),
        Err(status) => page(&visitor, &id, form, Some(russian(&status))).await,
    }
}
