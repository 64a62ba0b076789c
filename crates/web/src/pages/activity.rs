//! One activity: what, when (in its own zone), where and for whom; its
//! occurrences with their seats; the cohorts registered and waiting; and
//! the form that registers a group, withdraws it or changes its headcount.

use askama::Template;
use axum::extract::{Path, Query};
use axum::response::Response;
use edufed_domain::policy::Action;
use edufed_i18n::ru;
use edufed_proto::v1 as pb;

use crate::errors::{Problem, russian};
use crate::page::{Layout, Section, failure, render_with, see_other, t};
use crate::view::{DEFAULT_ZONE, Names, instant, named, organizations, zone_of};
use crate::visitor::{Posted, Visitor};

pub(crate) fn routes() -> axum::Router<crate::Console> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/activities/{id}", get(show))
        .route("/activities/{id}/register", post(register))
        .route("/registrations/{id}/withdraw", post(withdraw))
        .route("/registrations/{id}/headcount", post(headcount))
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Shown {
    /// Results were just recorded.
    #[serde(default)]
    recorded: Option<u8>,
    /// The occurrence the visitor came from (its original start, Unix
    /// seconds), preselected in the form.
    #[serde(default)]
    occurrence: Option<i64>,
    /// A registration was just made or changed: its place in line when it
    /// waits, 0 when it is confirmed.
    #[serde(default)]
    place: Option<u32>,
}

/// The registration form as posted.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub(crate) struct RegisterForm {
    #[serde(default)]
    organization: String,
    /// An occurrence's original start (Unix seconds), or empty for the
    /// whole series.
    #[serde(default)]
    occurrence: String,
    /// `teachers` for a group of teachers, else a group of students.
    #[serde(default)]
    group: String,
    #[serde(default)]
    grade_min: String,
    #[serde(default)]
    grade_max: String,
    #[serde(default)]
    headcount: String,
    #[serde(default)]
    teacher: String,
    #[serde(default)]
    teacher_contact: String,
    /// The venue's number, for an activity held at several.
    #[serde(default)]
    venue: String,
}

/// A venue of an activity held at several, with what its cohorts add up
/// to (those the visitor sees: all of them for the publisher).
struct VenueRow {
    number: u32,
    place: String,
    host: String,
    seats: String,
    coordinator: String,
    cohorts: u32,
    registered: u32,
    results: String,
}

struct OccurrenceRow {
    value: String,
    when: String,
    seats: String,
    cancelled: bool,
    selected: bool,
}

struct RegistrationRow {
    id: String,
    organization: String,
    grades: String,
    headcount: u32,
    teacher: String,
    when: String,
    state: String,
    waiting: bool,
    withdrawn: bool,
    /// The visitor may withdraw it or change its headcount.
    own: bool,
    /// The publisher may record its results (it is confirmed).
    recordable: bool,
    /// «пришли 12, участвовали 12, призёров 3, победителей 1», once recorded.
    results: String,
    attended: String,
    participants: String,
    prize_winners: String,
    winners: String,
}

struct OrgChoice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "activity.html")]
struct ActivityPage {
    layout: Layout,
    id: String,
    title: String,
    description: String,
    facts: Vec<(String, String)>,
    status: String,
    cancelled: bool,
    occurrences: Vec<OccurrenceRow>,
    waitlisted: u32,
    registrations: Vec<RegistrationRow>,
    can_register: bool,
    /// The mentoring pair (or programme) it belongs to: its page and name.
    mentoring: Option<(String, String)>,
    /// The visitor publishes it: they see every cohort and record results.
    publisher: bool,
    /// Its results name winners and prize-winners, not only attendance.
    competitive: bool,
    /// Who may come: students (by grade), teachers, or both.
    for_students: bool,
    for_teachers: bool,
    organizations: Vec<OrgChoice>,
    venues: Vec<VenueRow>,
    form: RegisterForm,
    problem: Option<Problem>,
    signed_in: bool,
}

impl ActivityPage {
    /// The problem's message if it is about `field`.
    fn error(&self, field: &str) -> String {
        self.problem
            .as_ref()
            .and_then(|p| p.about(field))
            .unwrap_or_default()
            .to_owned()
    }

    /// The problem's message when there is no form to show it in.
    fn top_error(&self) -> String {
        match &self.problem {
            Some(p) if !self.can_register => p.message.clone(),
            _ => String::new(),
        }
    }

    /// The problem's message when it names no field of the form.
    fn general_error(&self) -> String {
        match &self.problem {
            Some(p)
                if ["organization", "occurrence_start", "cohort"]
                    .iter()
                    .all(|f| p.about(f).is_none()) =>
            {
                p.message.clone()
            }
            _ => String::new(),
        }
    }
}

/// `GET /activities/{id}`.
pub(crate) async fn show(
    visitor: Visitor,
    Path(id): Path<String>,
    Query(shown): Query<Shown>,
) -> Response {
    let notice = shown
        .place
        .map(|place| match place {
            0 => t("registered-confirmed"),
            place => ru().text_with("registered-waitlisted", &[("place", place.into())]),
        })
        .or_else(|| shown.recorded.map(|_| t("results-recorded")));
    let form = RegisterForm {
        occurrence: shown.occurrence.map(|s| s.to_string()).unwrap_or_default(),
        ..RegisterForm::default()
    };
    page(&visitor, &id, form, None, notice).await
}

/// `POST /activities/{id}/register`.
pub(crate) async fn register(Path(id): Path<String>, posted: Posted<RegisterForm>) -> Response {
    let Posted { visitor, form } = posted;
    let number = |raw: &str| raw.trim().parse::<u32>().unwrap_or(0);
    let request = pb::RegisterRequest {
        activity_id: id.clone(),
        occurrence_start: form
            .occurrence
            .trim()
            .parse::<i64>()
            .ok()
            .map(|seconds| prost_types::Timestamp { seconds, nanos: 0 }),
        cohort: Some(pb::Cohort {
            organization: form.organization.trim().to_owned(),
            grades: (form.group != "teachers").then(|| pb::GradeRange {
                min: number(&form.grade_min),
                max: number(&form.grade_max),
            }),
            headcount: number(&form.headcount),
            teacher: form.teacher.trim().to_owned(),
            teacher_contact: form.teacher_contact.trim().to_owned(),
            teachers: form.group == "teachers",
        }),
        venue: number(&form.venue),
    };
    match visitor.api().calendar().register(request).await {
        Ok(registration) => see_other(&format!(
            "/activities/{id}?place={}#registrations",
            registration.into_inner().waitlist_place
        )),
        Err(status) => {
            let problem = russian(&status);
            page(&visitor, &id, form, Some(problem), None).await
        }
    }
}

async fn page(
    visitor: &Visitor,
    id: &str,
    form: RegisterForm,
    problem: Option<Problem>,
    notice: Option<String>,
) -> Response {
    let api = visitor.api();
    let found = match api
        .calendar()
        .get_activity(pb::GetActivityRequest {
            activity_id: id.to_owned(),
        })
        .await
    {
        Ok(found) => found.into_inner(),
        Err(status) => return failure(&status),
    };
    let orgs = match organizations(api).await {
        Ok(orgs) => orgs,
        Err(status) => return failure(&status),
    };
    let names = Names::of(&orgs);
    let activity = found.activity.clone().unwrap_or_default();
    let details = activity.details.clone().unwrap_or_default();
    let viewer_zone = visitor.zone.unwrap_or(DEFAULT_ZONE);
    let zone = zone_of(
        details
            .schedule
            .as_ref()
            .map_or("", |s| s.time_zone.as_str()),
        viewer_zone,
    );
    let all_day = details.schedule.as_ref().is_some_and(|s| s.all_day);
    let when = |ts: Option<&prost_types::Timestamp>| {
        instant(ts)
            .map(|at| {
                if all_day {
                    ru().all_day(at, zone)
                } else {
                    ru().instant(at, zone, Some(viewer_zone))
                }
            })
            .unwrap_or_default()
    };
    let registrations = if visitor.signed_in() {
        match api
            .calendar()
            .list_registrations(pb::ListRegistrationsRequest {
                activity_id: id.to_owned(),
            })
            .await
        {
            Ok(list) => list.into_inner().registrations,
            Err(status) if status.code() == tonic::Code::PermissionDenied => Vec::new(),
            Err(status) => return failure(&status),
        }
    } else {
        Vec::new()
    };
    let mut facts = vec![
        (t("activity-kind"), named::<pb::ActivityKind>(details.kind)),
        (t("activity-publisher"), names.name(&activity.publisher_id)),
    ];
    let direction = named::<pb::Direction>(details.direction);
    if !direction.is_empty() {
        facts.push((t("activity-direction"), direction));
    }
    if let Some(students) = details.audience.as_ref().and_then(|a| a.students.as_ref()) {
        facts.push((
            t("activity-grades"),
            ru().grades(students.min, students.max),
        ));
    }
    facts.push((t("activity-format"), named::<pb::Format>(details.format)));
    if let Some(place) = &details.place {
        let kind = named::<pb::PlaceKind>(place.kind);
        facts.push((
            t("activity-place"),
            if place.value.is_empty() {
                kind
            } else {
                format!("{kind}: {}", place.value)
            },
        ));
    }
    if !details.subjects.is_empty() {
        facts.push((t("activity-subjects"), details.subjects.join(", ")));
    }
    facts.push((
        t("activity-capacity"),
        if details.capacity == 0 {
            t("activity-capacity-unlimited")
        } else {
            ru().count("places", i64::from(details.capacity))
        },
    ));
    if let Some(coordinator) = &details.coordinator
        && !coordinator.name.is_empty()
    {
        let mut text = coordinator.name.clone();
        for extra in [&coordinator.position, &coordinator.contact] {
            if !extra.is_empty() {
                text.push_str(", ");
                text.push_str(extra);
            }
        }
        facts.push((t("activity-coordinator"), text));
    }
    if details.visibility == pb::Visibility::Partners as i32 {
        let seen_by: Vec<String> = std::iter::once(&activity.publisher_id)
            .chain(&details.partner_organization_ids)
            .map(|org| names.name(org))
            .collect();
        facts.push((t("activity-seen-by"), seen_by.join(", ")));
    }
    facts.push((t("activity-zone"), ru().zone(zone, visitor.now)));

    let selected = form.occurrence.trim().to_owned();
    let now = visitor.now;
    let occurrences: Vec<OccurrenceRow> = found
        .occurrences
        .iter()
        .filter(|o| {
            instant(o.end.as_ref()).is_some_and(|end| end > now) || found.occurrences.len() <= 12
        })
        .take(200)
        .map(|o| {
            let value = o
                .original_start
                .as_ref()
                .map_or(String::new(), |ts| ts.seconds.to_string());
            OccurrenceRow {
                selected: value == selected,
                value,
                when: when(o.start.as_ref()),
                seats: match o.seats_free {
                    None => t("activity-capacity-unlimited"),
                    Some(0) => t("calendar-no-seats"),
                    Some(n) => ru().count("places", i64::from(n)),
                },
                cancelled: o.cancelled,
            }
        })
        .collect();
    let own_orgs = visitor.memberships_for(Action::RegisterCohorts);
    let chosen = if form.organization.is_empty() {
        own_orgs
            .first()
            .map(|m| m.organization_slug.clone())
            .unwrap_or_default()
    } else {
        form.organization.clone()
    };
    let organizations = own_orgs
        .iter()
        .map(|m| OrgChoice {
            value: m.organization_slug.clone(),
            label: names.name(&m.organization_id),
            selected: m.organization_slug == chosen || m.organization_id == chosen,
        })
        .collect();
    // Winners and prize-winners only for competitions (the domain's rule);
    // results once the activity has begun.
    let competitive = pb::ActivityKind::try_from(details.kind)
        .ok()
        .and_then(|k| {
            edufed_domain::calendar::ActivityKind::parse(
                "kind",
                &k.as_str_name()
                    .trim_start_matches("ACTIVITY_KIND_")
                    .to_lowercase(),
            )
            .ok()
        })
        .is_some_and(|k| k.has_results());
    let begun = found
        .occurrences
        .first()
        .and_then(|o| instant(o.start.as_ref()))
        .is_some_and(|start| start <= visitor.now);
    let is_publisher = visitor.may(Action::ManageActivities, &activity.publisher_id);
    let venues: Vec<VenueRow> = details
        .venues
        .iter()
        .map(|v| {
            let here = registrations.iter().filter(|r| {
                r.venue == v.number && r.state == pb::RegistrationState::Confirmed as i32
            });
            let (mut cohorts, mut registered) = (0, 0);
            let (mut attended, mut prize, mut winners, mut recorded) = (0, 0, 0, false);
            for r in here {
                cohorts += 1;
                registered += r.cohort.as_ref().map_or(0, |c| c.headcount);
                if let Some(x) = &r.results {
                    recorded = true;
                    attended += x.attended;
                    prize += x.prize_winners;
                    winners += x.winners;
                }
            }
            VenueRow {
                number: v.number,
                place: v.place.clone(),
                host: if v.organization.is_empty() {
                    String::new()
                } else {
                    names.name(&v.organization)
                },
                seats: if v.capacity == 0 {
                    t("activity-capacity-unlimited")
                } else {
                    ru().count("places", i64::from(v.capacity))
                },
                coordinator: v.coordinator.clone(),
                cohorts,
                registered,
                results: if recorded {
                    ru().text_with(
                        "venue-results",
                        &[
                            ("attended", attended.into()),
                            ("prize", prize.into()),
                            ("winners", winners.into()),
                        ],
                    )
                } else {
                    String::new()
                },
            }
        })
        .collect();
    let venue_of = |number: u32| {
        details
            .venues
            .iter()
            .find(|v| v.number == number)
            .map(|v| v.place.clone())
            .unwrap_or_default()
    };
    let registrations = registrations
        .iter()
        .map(|r| {
            let cohort = r.cohort.clone().unwrap_or_default();
            let grades = cohort
                .grades
                .as_ref()
                .map(|g| ru().grades(g.min, g.max))
                .unwrap_or_else(|| t("activity-teachers-group"));
            let state = r.state();
            RegistrationRow {
                id: r.id.clone(),
                own: visitor.may(Action::RegisterCohorts, &cohort.organization),
                organization: names.name(&cohort.organization),
                grades,
                headcount: cohort.headcount,
                teacher: cohort.teacher,
                when: {
                    let when = if r.occurrence_start.is_some() {
                        when(r.occurrence_start.as_ref())
                    } else {
                        t("activity-whole-series")
                    };
                    if r.venue == 0 {
                        when
                    } else {
                        format!("{when} · {}", venue_of(r.venue))
                    }
                },
                state: if state == pb::RegistrationState::Waitlisted && r.waitlist_place > 0 {
                    ru().text_with(
                        "registration-waitlisted-place",
                        &[("place", i64::from(r.waitlist_place).into())],
                    )
                } else {
                    named::<pb::RegistrationState>(r.state)
                },
                waiting: state == pb::RegistrationState::Waitlisted,
                withdrawn: state == pb::RegistrationState::Withdrawn,
                recordable: is_publisher && begun && state == pb::RegistrationState::Confirmed,
                results: r
                    .results
                    .as_ref()
                    .map(|x| {
                        ru().text_with(
                            if competitive {
                                "results-summary"
                            } else {
                                "results-summary-attendance"
                            },
                            &[
                                ("attended", x.attended.into()),
                                ("participants", x.participants.into()),
                                ("prize", x.prize_winners.into()),
                                ("winners", x.winners.into()),
                            ],
                        )
                    })
                    .unwrap_or_default(),
                attended: r
                    .results
                    .as_ref()
                    .map_or(cohort.headcount, |x| x.attended)
                    .to_string(),
                participants: r.results.as_ref().map_or(0, |x| x.participants).to_string(),
                prize_winners: r
                    .results
                    .as_ref()
                    .map_or(0, |x| x.prize_winners)
                    .to_string(),
                winners: r.results.as_ref().map_or(0, |x| x.winners).to_string(),
            }
        })
        .collect();
    let cancelled = activity.status == pb::ActivityStatus::Cancelled as i32;
    let layout = Layout::new(visitor, Section::Calendar, details.title.clone()).with_notice(notice);
    let status = if problem.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    render_with(
        status,
        &ActivityPage {
            layout,
            id: activity.id.clone(),
            title: details.title,
            description: details.description,
            facts,
            status: named::<pb::ActivityStatus>(activity.status),
            cancelled,
            occurrences,
            waitlisted: found.waitlisted,
            registrations,
            // A pair's meeting is for the pair; nobody registers groups.
            can_register: !cancelled
                && details.kind != pb::ActivityKind::MentoringMeeting as i32
                && visitor.may_somewhere(Action::RegisterCohorts),
            mentoring: if !details.mentoring_pair_id.is_empty() {
                Some((
                    format!("/mentoring/pairs/{}", details.mentoring_pair_id),
                    t("activity-mentoring-pair"),
                ))
            } else if !details.mentoring_programme_id.is_empty() {
                Some((
                    format!("/mentoring/{}", details.mentoring_programme_id),
                    t("activity-mentoring-programme"),
                ))
            } else {
                None
            },
            publisher: is_publisher,
            competitive,
            for_students: details
                .audience
                .as_ref()
                .is_some_and(|a| a.students.is_some()),
            for_teachers: details.audience.as_ref().is_some_and(|a| a.teachers),
            organizations,
            venues,
            form,
            problem,
            signed_in: visitor.signed_in(),
        },
    )
}

#[derive(serde::Deserialize)]
pub(crate) struct HeadcountForm {
    #[serde(default)]
    headcount: String,
    #[serde(default)]
    activity: String,
}

#[derive(serde::Deserialize)]
pub(crate) struct WithdrawForm {
    #[serde(default)]
    activity: String,
}

/// The activity's page with a refusal of one of its forms.
pub(crate) async fn refused(visitor: &Visitor, activity: &str, problem: Problem) -> Response {
    page(
        visitor,
        activity,
        RegisterForm::default(),
        Some(problem),
        None,
    )
    .await
}

/// `POST /registrations/{id}/withdraw`.
pub(crate) async fn withdraw(Path(id): Path<String>, posted: Posted<WithdrawForm>) -> Response {
    let Posted { visitor, form } = posted;
    match visitor
        .api()
        .calendar()
        .withdraw(pb::WithdrawRequest {
            registration_id: id,
        })
        .await
    {
        Ok(registration) => see_other(&format!(
            "/activities/{}",
            registration.into_inner().activity_id
        )),
        Err(status) => {
            let problem = russian(&status);
            page(
                &visitor,
                &form.activity,
                RegisterForm::default(),
                Some(problem),
                None,
            )
            .await
        }
    }
}

/// `POST /registrations/{id}/headcount`.
pub(crate) async fn headcount(Path(id): Path<String>, posted: Posted<HeadcountForm>) -> Response {
    let Posted { visitor, form } = posted;
    match visitor
        .api()
        .calendar()
        .change_headcount(pb::ChangeHeadcountRequest {
            registration_id: id.clone(),
            headcount: form.headcount.trim().parse().unwrap_or(0),
        })
        .await
    {
        Ok(registration) => {
            let registration = registration.into_inner();
            see_other(&format!(
                "/activities/{}?place={}#registrations",
                registration.activity_id, registration.waitlist_place
            ))
        }
        Err(status) => {
            let problem = russian(&status);
            page(
                &visitor,
                &form.activity,
                RegisterForm::default(),
                Some(problem),
                None,
            )
            .await
        }
    }
}
