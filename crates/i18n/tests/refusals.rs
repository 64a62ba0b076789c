//! Every refusal a person can meet reads in Russian: the English templates
//! and their Russian forms agree, every error the domain builds translates
//! whole, and every message written in the sources of the domain, the API,
//! the store and the federation has its template. No English is left.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use edufed_domain::directory::{Email, Inn, Role, Slug};
use edufed_domain::ids::{ActivityId, OrgId, PersonId, RegistrationId, SessionId, TokenId};
use edufed_domain::policy::{Action, Credential, Principal, Target, authorize};
use edufed_domain::{
    FieldError, agreement, booking, calendar, changes, directory, federation, mentoring, report,
    trials,
};
use edufed_i18n::errors::translate;

/// Latin words a Russian refusal may keep: names of standards, headers and
/// the text of a rule a person types.
const KEPT: &[&str] = &[
    "ASCII",
    "Authorization",
    "Basic",
    "Bearer",
    "base",
    "COUNT",
    "hex",
    "http",
    "https",
    "RFC",
    "RRULE",
    "UNTIL",
    "unix",
    "UTC",
];

/// The English words left in `russian`, once `values` (the parts the
/// message was given) are taken out.
fn english_in(russian: &str, values: &[&str]) -> Vec<String> {
    let mut text = russian.to_owned();
    for value in values {
        text = text.replace(value, " ");
    }
    text.split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| w.len() > 1 && !KEPT.contains(w))
        .map(str::to_owned)
        .collect()
}

/// The values a message was given that a person typed or a program
/// reads: the field a bad value came in, the "quoted" value, the values
/// an enum takes.
fn given(english: &str) -> Vec<&str> {
    let mut values = Vec::new();
    if let Some(field) = english
        .strip_prefix("invalid ")
        .and_then(|rest| rest.split_once(": "))
    {
        values.push(field.0);
    }
    values.extend(english.split('"').skip(1).step_by(2));
    if let Some((_, list)) = english.split_once("expected one of ") {
        values.push(list);
    }
    values
}

fn check(english: &str, values: &[&str], failures: &mut Vec<String>) {
    match translate(english) {
        None => failures.push(format!("no template: {english}")),
        Some(russian) => {
            let mut values = values.to_vec();
            values.extend(given(english));
            let left = english_in(&russian, &values);
            if !left.is_empty() {
                failures.push(format!("{english}\n    → {russian}\n    keeps {left:?}"));
            }
        }
    }
}

fn report(failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} refusals do not read in Russian:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------
// The two files agree.

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Each message's id and the variables it uses.
fn messages(path: &Path) -> Vec<(String, Vec<String>)> {
    use fluent_syntax::ast;
    fn walk(pattern: &ast::Pattern<String>, vars: &mut Vec<String>) {
        for element in &pattern.elements {
            if let ast::PatternElement::Placeable { expression } = element {
                expression_vars(expression, vars);
            }
        }
    }
    fn expression_vars(expression: &ast::Expression<String>, vars: &mut Vec<String>) {
        match expression {
            ast::Expression::Inline(inline) => inline_vars(inline, vars),
            ast::Expression::Select { selector, variants } => {
                inline_vars(selector, vars);
                for variant in variants {
                    walk(&variant.value, vars);
                }
            }
        }
    }
    fn inline_vars(inline: &ast::InlineExpression<String>, vars: &mut Vec<String>) {
        match inline {
            ast::InlineExpression::VariableReference { id } => vars.push(id.name.clone()),
            ast::InlineExpression::Placeable { expression } => expression_vars(expression, vars),
            _ => {}
        }
    }
    let source = std::fs::read_to_string(path).unwrap();
    let resource = fluent_syntax::parser::parse(source)
        .unwrap_or_else(|(_, e)| panic!("{}: {e:?}", path.display()));
    resource
        .body
        .iter()
        .filter_map(|entry| match entry {
            ast::Entry::Message(m) => {
                let mut vars = Vec::new();
                if let Some(value) = &m.value {
                    walk(value, &mut vars);
                }
                vars.sort();
                vars.dedup();
                Some((m.id.name.clone(), vars))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn every_template_has_its_russian_form_with_the_same_parts() {
    let locales = root().join("crates/i18n/locales");
    let english = messages(&locales.join("en/refusals.ftl"));
    let russian = messages(&locales.join("ru/refusals.ftl"));
    let mut failures = Vec::new();
    for (id, vars) in &english {
        match russian.iter().find(|(r, _)| r == id) {
            None => failures.push(format!("ru lacks {id}")),
            Some((_, used)) => {
                for var in used {
                    if !vars.contains(var) {
                        failures.push(format!("{id}: ru uses ${var}, which en does not give"));
                    }
                }
            }
        }
    }
    for (id, _) in &russian {
        if !english.iter().any(|(e, _)| e == id) {
            failures.push(format!("ru has {id}, which no English template has"));
        }
    }
    report(&failures);
}

// ---------------------------------------------------------------------
// The errors the domain builds.

#[test]
fn the_domains_errors_translate_whole() {
    let activity = ActivityId::generate();
    let registration = RegistrationId::generate();
    let person = PersonId::generate();
    let org = OrgId::generate();
    let token = TokenId::generate();
    let session = SessionId::generate();
    let (a, r, p, o, t, s) = (
        activity.to_string(),
        registration.to_string(),
        person.to_string(),
        org.to_string(),
        token.to_string(),
        session.to_string(),
    );
    let ids = [
        a.as_str(),
        r.as_str(),
        p.as_str(),
        o.as_str(),
        t.as_str(),
        s.as_str(),
        "kvantorium",
    ];
    let field = || FieldError::new("headcount", "is required");
    let mut messages: Vec<String> = Vec::new();

    for status in calendar::ActivityStatus::ALL {
        for why in [
            "only published activities take registrations",
            "it can no longer be changed",
            "only a draft can be published",
            "only a published activity can be completed",
            "it is over already",
            "an activity never goes back to draft",
        ] {
            messages.push(
                calendar::Error::WrongStatus {
                    id: activity.clone(),
                    status: *status,
                    why,
                }
                .to_string(),
            );
        }
    }
    messages.extend(
        [
            calendar::Error::Invalid(field()),
            calendar::Error::ActivityNotFound(a.clone()),
            calendar::Error::RegistrationNotFound(registration.clone()),
            calendar::Error::OrganizationNotFound("kvantorium".into()),
            calendar::Error::ProgrammeNotFound("0f6c1f0e-7d3a-4a53-9a43-5b1c2c0e8e11".into()),
            calendar::Error::PairNotFound("0f6c1f0e-7d3a-4a53-9a43-5b1c2c0e8e12".into()),
            calendar::Error::TrialNotFound("0f6c1f0e-7d3a-4a53-9a43-5b1c2c0e8e13".into()),
            calendar::Error::TrialNotInBank(
                "0f6c1f0e-7d3a-4a53-9a43-5b1c2c0e8e13".into(),
                trials::TrialState::Submitted,
            ),
            calendar::Error::PairOver {
                id: "0f6c1f0e-7d3a-4a53-9a43-5b1c2c0e8e12".into(),
                state: mentoring::PairState::Completed,
            },
            calendar::Error::VersionMismatch {
                id: activity.clone(),
                expected: 3,
                actual: 4,
            },
            calendar::Error::RegistrationClosed("that occurrence is cancelled".into()),
            calendar::Error::RegistrationClosed("it opens at 2026-12-11 17:00 Asia/Tomsk".into()),
            calendar::Error::RegistrationClosed("it closed at 2026-12-11 17:00 Asia/Tomsk".into()),
            calendar::Error::RegistrationClosed(
                "headcounts are fixed once registration closes".into(),
            ),
        ]
        .map(|e| e.to_string()),
    );
    messages.extend(
        [
            mentoring::Error::Invalid(field()),
            mentoring::Error::NotInProgramme {
                field: "mentees[0].organization".into(),
                org: a.clone(),
            },
            mentoring::Error::CodeElsewhere {
                field: "mentees[0].code".into(),
                school: a.clone(),
            },
            mentoring::Error::NotKnown {
                field: "details.partners[0]".into(),
                org: "kvantorium".into(),
            },
            mentoring::Error::HostedElsewhere {
                organization: a.clone(),
                node: "kvantorium".into(),
            },
            mentoring::Error::ProgrammeFull {
                max: mentoring::MAX_PAIRS,
            },
            mentoring::Error::ProgrammeNotFound(a.clone()),
            mentoring::Error::PairNotFound(a.clone()),
            mentoring::Error::OrganizationNotFound(a.clone()),
            mentoring::Error::PersonNotFound(a.clone()),
            mentoring::Error::AgreementNotFound(a.clone()),
            mentoring::Error::GrowthNotFound(a.clone()),
            mentoring::Error::NoConsent {
                person: a.clone(),
                organization: a.clone(),
            },
            mentoring::Error::ProgrammeVersion {
                id: edufed_domain::ids::ProgrammeId::from_stored(a.clone()),
                expected: 2,
                actual: 3,
            },
            mentoring::Error::PairVersion {
                id: edufed_domain::ids::PairId::from_stored(a.clone()),
                expected: 2,
                actual: 3,
            },
        ]
        .map(|e| e.to_string()),
    );
    messages.extend(
        [
            trials::Error::Invalid(field()),
            trials::Error::NotFound(a.clone()),
            trials::Error::Version {
                id: edufed_domain::ids::TrialId::from_stored(a.clone()),
                expected: 2,
                actual: 3,
            },
        ]
        .map(|e| e.to_string()),
    );
    messages.extend(
        [
            edufed_domain::designations::Error::Invalid(field()),
            edufed_domain::designations::Error::NotFound(a.clone()),
            edufed_domain::designations::Error::Version {
                id: edufed_domain::ids::DesignationId::from_stored(a.clone()),
                expected: 2,
                actual: 3,
            },
        ]
        .map(|e| e.to_string()),
    );
    messages.extend(
        [
            edufed_domain::routes::Error::Invalid(field()),
            edufed_domain::routes::Error::TemplateNotFound(a.clone()),
            edufed_domain::routes::Error::RouteNotFound(a.clone()),
            edufed_domain::routes::Error::TemplateVersion {
                id: edufed_domain::ids::RouteTemplateId::from_stored(a.clone()),
                expected: 2,
                actual: 3,
            },
            edufed_domain::routes::Error::RouteVersion {
                id: edufed_domain::ids::RouteId::from_stored(a.clone()),
                expected: 2,
                actual: 3,
            },
        ]
        .map(|e| e.to_string()),
    );
    for text in [
        "Маша",
        "Петровичем",
        "Иванов И. И.",
        "a@b.ru",
        "+7 912 345 67 89",
        "Роман Петров",
    ] {
        messages.push(
            edufed_domain::routes::Error::Invalid(
                edufed_domain::routes::check_no_person("note", text).unwrap_err(),
            )
            .to_string(),
        );
    }
    for state in edufed_domain::routes::RouteState::ALL {
        messages.push(
            edufed_domain::routes::Error::NotActive {
                id: edufed_domain::ids::RouteId::from_stored(a.clone()),
                route_state: *state,
            }
            .to_string(),
        );
    }
    for state in trials::TrialState::ALL {
        for step in trials::TrialStep::ALL {
            messages.push(
                trials::Error::WrongState {
                    trial_state: *state,
                    trial_step: *step,
                }
                .to_string(),
            );
        }
    }
    for state in mentoring::PairState::ALL {
        for step in mentoring::Transition::ALL {
            messages.push(
                mentoring::Error::WrongState {
                    pair_state: *state,
                    pair_transition: *step,
                }
                .to_string(),
            );
        }
    }
    for rule in booking::Rule::ALL {
        messages.push(booking::Error::rule(*rule, "the end must be after the start").to_string());
    }
    messages.extend(
        [
            booking::Error::Invalid(field()),
            booking::Error::Conflict("the time was just booked by another request".into()),
            booking::Error::ResourceNotFound(a.clone()),
            booking::Error::BookingNotFound(a.clone()),
            booking::Error::OrganizationNotFound("kvantorium".into()),
            booking::Error::WrongState("nothing pending or held to approve".into()),
        ]
        .map(|e| e.to_string()),
    );
    for state in booking::OccurrenceState::ALL {
        messages.push(
            booking::Error::WrongState(format!("no occurrence of booking {a} can become {state}"))
                .to_string(),
        );
    }
    for state in agreement::State::ALL {
        for what in [
            "only a draft or a declined proposal can be edited; propose an amendment instead",
            "only a draft or a declined proposal can be edited",
            "only a draft can be proposed",
            "version 2 is already awaiting signatures",
            "a party has given notice of termination",
            "only an agreement in force can be amended",
            "no version awaits signatures",
            "termination already takes effect at 2027-05-31 17:00:00 UTC",
            "only an agreement signed by every party can be terminated",
            "version 2 has not been proposed",
        ] {
            messages.push(
                agreement::Error::WrongState(format!("the agreement is {state}: {what}"))
                    .to_string(),
            );
        }
        messages.push(format!(
            "organization kvantorium has already signed version 2 (agreement is {state})"
        ));
    }
    messages.extend(
        [
            agreement::Error::Invalid(field()),
            agreement::Error::NotFound(a.clone()),
            agreement::Error::Stale("version 3 awaits signatures, not version 2".into()),
        ]
        .map(|e| e.to_string()),
    );
    let day = || "2026-12-06T10:00:00Z".parse::<DateTime<Utc>>().unwrap();
    messages.extend(
        [
            directory::Error::Invalid(field()),
            directory::Error::OrganizationNotFound("kvantorium".into()),
            directory::Error::PersonNotFound(p.clone()),
            directory::Error::TokenNotFound(t.clone()),
            directory::Error::NotAMember {
                person: person.clone(),
                organization: org.clone(),
            },
            directory::Error::SlugTaken("kvantorium".into()),
            directory::Error::EmailTaken("kvantorium".into()),
            directory::Error::AlreadyMember {
                person: person.clone(),
                organization: org.clone(),
            },
            directory::Error::VersionMismatch {
                id: org.clone(),
                expected: 1,
                actual: 2,
            },
            directory::Error::LastAdmin {
                person: person.clone(),
                organization: org.clone(),
            },
            directory::Error::HostedElsewhere {
                organization: org.clone(),
                node: "kvantorium".into(),
            },
            directory::Error::AlreadyRevoked(token.clone()),
            directory::Error::UnknownToken,
            directory::Error::RevokedToken,
            directory::Error::ExpiredToken(day()),
            directory::Error::SessionNotFound(s.clone()),
            directory::Error::SessionAlreadyEnded(session.clone()),
            directory::Error::UnknownLink,
            directory::Error::LinkUsed(day()),
            directory::Error::LinkExpired(day()),
            directory::Error::UnknownSession,
            directory::Error::SessionEnded(day()),
            directory::Error::SessionExpired(day()),
        ]
        .map(|e| e.to_string()),
    );
    messages.extend(
        [
            federation::Error::NotFound("kvantorium".into()),
            federation::Error::AlreadyPinned("kvantorium".into()),
            federation::Error::AlreadySubscribed("kvantorium".into()),
            federation::Error::NoSubscription("kvantorium".into()),
        ]
        .map(|e| e.to_string()),
    );
    for indicator in report::Indicator::ALL {
        messages.push(
            report::Error::TargetNotFound {
                indicator: *indicator,
                scope: "42".into(),
                due: NaiveDate::from_ymd_opt(2027, 5, 31).unwrap(),
            }
            .to_string(),
        );
    }
    messages.push(
        changes::Error::CursorExpired {
            cursor: 1,
            oldest: 5,
            latest: 9,
        }
        .to_string(),
    );
    // Values a person types, refused by the domain's own parsers.
    for (raw, parse) in [
        (
            "Ab",
            Slug::parse as fn(&str, &str) -> Result<Slug, FieldError>,
        ),
        ("ab#", Slug::parse),
        ("1ab", Slug::parse),
        ("ab-", Slug::parse),
        ("", Slug::parse),
    ] {
        messages.push(parse("slug", raw).unwrap_err().to_string());
    }
    messages.push(Inn::parse("inn", "123").unwrap_err().to_string());
    messages.push(Inn::parse("inn", "7701234567").unwrap_err().to_string());
    messages.push(Email::parse("email", "кто-то").unwrap_err().to_string());
    messages.push(
        edufed_domain::time::TimeZone::parse("time_zone", "Asia/Nowhere")
            .unwrap_err()
            .to_string(),
    );
    messages.push(
        ActivityId::parse("activity_id", "42")
            .unwrap_err()
            .to_string(),
    );
    messages.push(
        edufed_domain::text::line("title", &"я".repeat(300), 200)
            .unwrap_err()
            .to_string(),
    );
    messages.push(
        calendar::ActivityKind::parse("kind", "42")
            .unwrap_err()
            .to_string(),
    );

    let mut failures = Vec::new();
    for message in &messages {
        check(message, &ids, &mut failures);
    }
    check_policy(&org, &mut failures);
    report(&failures);
}

/// Every denial of the policy: every action, on the node, on a network, in
/// an organization (with each role, and with none), for a person.
fn check_policy(org: &OrgId, failures: &mut Vec<String>) {
    use Action::*;
    let actions = [
        CreateOrganization,
        UpdateOrganization,
        ListMembers,
        AddMember,
        RemoveMember,
        WatchChanges,
        ManageTokens,
        ManageActivities,
        RegisterCohorts,
        ViewRegistrations,
        ManageResources,
        RequestBookings,
        ViewBookings,
        ManageAgreements,
        SignAgreements,
        ViewAgreements,
        ManagePeers,
        ViewReports,
        StateEnrolment,
        SetTargets,
        ViewAllRecords,
        ManageMentoring,
        ViewMentoringProgrammes,
        ViewMentoringRegister,
        AssessMentoring,
        StateTeacherFigures,
        ConsentToGrowthRecords,
        RecordTeacherGrowth,
        ManageTrials,
        ReviewTrials,
        ManageDesignations,
        ManageRoutes,
        ViewRoutes,
        ReadAuditTrail,
        ErasePersonalData,
    ];
    let principal = |role: Option<Role>| Principal {
        person_id: PersonId::generate(),
        credential: Credential::Token(TokenId::generate()),
        operator: false,
        memberships: role.map(|r| (org.clone(), r)).into_iter().collect(),
    };
    let other = PersonId::generate();
    let orgs = [org.clone()];
    let o = org.to_string();
    for action in actions {
        for role in [None, Some(Role::Viewer), Some(Role::Teacher)] {
            let p = principal(role);
            for target in [
                Target::Node,
                Target::Network { centres: &orgs },
                Target::Organization(org),
                Target::Person {
                    id: &other,
                    operator: false,
                    organizations: &orgs,
                },
                Target::Programme {
                    owner: org,
                    partners: &orgs,
                    coordinator: &other,
                },
                Target::Growth {
                    org,
                    person: &other,
                },
                Target::Pair {
                    owner: org,
                    partners: &orgs,
                    coordinator: &other,
                    organizations: &orgs,
                },
            ] {
                if let Err(denied) = authorize(&p, action, target) {
                    check(&denied.to_string(), &[o.as_str()], failures);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------
// The messages written in the sources.

/// Where refusals are written: a message is a string literal among the
/// arguments of one of these.
const CONSTRUCTORS: &[&str] = &[
    "FieldError::new(",
    "Error::rule(",
    "WrongState(",
    "Stale(",
    "Conflict(",
    "RegistrationRefused(",
    "RegistrationClosed(",
    "KeyMismatch(",
    "Denied(",
    "Misfit::Capacity(",
    "Misfit::Quota(",
    "write_str(",
    "#[error(",
    "fail(",
    "refuse(",
    "why: ",
    "Missing(",
];

/// Files whose messages never reach a person through the API: the node's
/// start-up and its log.
const NOT_REFUSALS: &[&str] = &[
    "crates/store/src/db.rs",
    "crates/federation/src/identity.rs",
    "crates/federation/src/sync.rs",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The string literals among the arguments that follow `from`, up to the
/// first bracket that closes what it did not open.
fn literals_after(source: &str, from: usize) -> Vec<(usize, String)> {
    let bytes = source.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut depth) = (from, 0i32);
    while i < bytes.len() && i - from < 1500 {
        match bytes[i] {
            b'"' => {
                let start = i;
                let mut text = String::new();
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        match bytes.get(i + 1) {
                            Some(b'\n') => {
                                i += 2;
                                while bytes[i].is_ascii_whitespace() {
                                    i += 1;
                                }
                                continue;
                            }
                            Some(&c) => {
                                text.push(c as char);
                                i += 2;
                                continue;
                            }
                            None => break,
                        }
                    }
                    let c = source[i..].chars().next().unwrap();
                    text.push(c);
                    i += c.len_utf8();
                }
                out.push((start, text));
            }
            b'\'' if bytes.get(i + 2) == Some(&b'\'') => i += 2,
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth < 0 {
                    break;
                }
            }
            b';' if depth <= 0 => break,
            _ => {}
        }
        i += 1;
    }
    out
}

/// A message with each of its `format!` placeholders given `42`.
fn filled(message: &str) -> String {
    let mut out = String::new();
    let mut rest = message;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        match rest[open..].find('}') {
            Some(close) => {
                out.push_str("42");
                rest = &rest[open + close + 1..];
            }
            None => {
                rest = &rest[open..];
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn every_message_in_the_sources_has_its_template() {
    let root = root();
    let templates = std::fs::read_to_string(root.join("crates/i18n/locales/en/refusals.ftl"))
        .unwrap()
        .to_lowercase();
    let mut files = Vec::new();
    for krate in ["domain", "api", "federation", "store"] {
        rust_files(&root.join("crates").join(krate).join("src"), &mut files);
    }
    let mut failures = Vec::new();
    let mut seen = 0;
    for file in files {
        let name = file
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if NOT_REFUSALS.contains(&name.as_str()) {
            continue;
        }
        let source = std::fs::read_to_string(&file).unwrap();
        let source = match source.find("#[cfg(test)]\nmod ") {
            Some(cut) => &source[..cut],
            None => &source[..],
        };
        for constructor in CONSTRUCTORS {
            for (at, _) in source.match_indices(constructor) {
                for (from, message) in literals_after(source, at + constructor.len()) {
                    let line_start = source[..from].rfind('\n').map_or(0, |n| n + 1);
                    if source[line_start..from].contains("tracing::") {
                        continue;
                    }
                    if !message.contains(' ') || message.starts_with("{}") && message.len() < 6 {
                        continue;
                    }
                    seen += 1;
                    let english = filled(&message);
                    if translate(&english).is_some_and(|r| english_in(&r, &["42"]).is_empty()) {
                        continue;
                    }
                    // A fragment of a longer message (a slug's fault, a
                    // rule's detail) is covered by the template it is in.
                    let pieces: Vec<&str> = english
                        .split("42")
                        .map(str::trim)
                        .filter(|p| p.len() > 3)
                        .collect();
                    let glue = pieces.is_empty();
                    let inside = !glue
                        && templates
                            .lines()
                            .any(|line| pieces.iter().all(|p| line.contains(&p.to_lowercase())));
                    if !glue && !inside {
                        let line = source[..at].lines().count();
                        failures.push(format!("{name}:{line}: {message}"));
                    }
                }
            }
        }
    }
    assert!(seen > 200, "the scan found only {seen} messages");
    failures.sort();
    failures.dedup();
    report(&failures);
}
