//! An agreement's content as a form. Each input is named after the API's
//! field (`parties[0].signatory.name` for `content.parties[0].signatory.name`),
//! so a refusal that names a field is shown beside its input; rows left
//! empty are not sent, and the page maps the API's row numbers back to the
//! form's.

use std::cell::Cell;
use std::collections::HashMap;

use edufed_proto::v1 as pb;

use super::Orgs;
use crate::errors::Problem;
use crate::page::t;
use crate::view::{Choice, choices};

/// What a form posted, by input name.
pub(crate) type Values = HashMap<String, String>;

/// Which rows of each repeated group were sent: the API's row `i` is the
/// form's row `rows[group][i]`.
#[derive(Default)]
pub(crate) struct Sent(HashMap<&'static str, Vec<usize>>);

impl Sent {
    /// Every row as sent: the content came from the API, not the form.
    pub(crate) fn all() -> Self {
        Self::default()
    }

    /// The API's index of the form's row `row` of `group`.
    fn api_row(&self, group: &str, row: usize) -> Option<usize> {
        match self.0.get(group) {
            Some(rows) => rows.iter().position(|r| *r == row),
            None => Some(row),
        }
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Text,
    Number,
    Date,
    Area,
    Org,
    PartyRole,
    Part,
    Period,
    Agreement,
}

/// A repeated group: its path, its fields (suffix, kind, label) and how
/// many rows the form shows at least.
struct Group {
    path: &'static str,
    legend: &'static str,
    fields: &'static [(&'static str, Kind, &'static str)],
    min: usize,
}

const PARTIES: Group = Group {
    path: "parties",
    legend: "agreement-form-party",
    fields: &[
        ("org", Kind::Org, "agreement-organization"),
        ("role", Kind::PartyRole, "agreement-role"),
        (
            "signatory.name",
            Kind::Text,
            "agreement-form-signatory-name",
        ),
        (
            "signatory.position",
            Kind::Text,
            "agreement-form-signatory-position",
        ),
        (
            "signatory.basis",
            Kind::Text,
            "agreement-form-signatory-basis",
        ),
    ],
    min: 2,
};

const PARTS: Group = Group {
    path: "programme.parts",
    legend: "agreement-form-part",
    fields: &[
        ("kind", Kind::Part, "agreement-part-kind"),
        ("name", Kind::Text, "agreement-part-name"),
        ("hours", Kind::Number, "agreement-hours"),
        ("grade_min", Kind::Number, "agreement-form-grade-min"),
        ("grade_max", Kind::Number, "agreement-form-grade-max"),
    ],
    min: 1,
};

const DUTIES: Group = Group {
    path: "duties",
    legend: "agreement-form-duty",
    fields: &[
        ("org", Kind::Org, "agreement-party"),
        ("part", Kind::Text, "agreement-part-name"),
        ("hours", Kind::Number, "agreement-hours"),
        ("description", Kind::Area, "agreement-duty"),
    ],
    min: 1,
};

const PLEDGES: Group = Group {
    path: "resources",
    legend: "agreement-form-pledge",
    fields: &[
        ("org", Kind::Org, "agreement-party"),
        ("description", Kind::Text, "agreement-resource"),
        ("hours", Kind::Number, "agreement-hours"),
        ("period", Kind::Period, "agreement-period"),
    ],
    min: 1,
};

const DOCUMENTS: Group = Group {
    path: "documents",
    legend: "agreement-form-document",
    fields: &[
        ("name", Kind::Text, "agreement-document"),
        ("issuer", Kind::Org, "agreement-issuer"),
    ],
    min: 1,
};

/// The most rows of a group a form sends.
const MAX_ROWS: usize = 200;

fn get<'a>(values: &'a Values, name: &str) -> &'a str {
    values.get(name).map_or("", |v| v.trim())
}

fn number(values: &Values, name: &str) -> u32 {
    get(values, name).parse().unwrap_or(0)
}

fn code(values: &Values, name: &str) -> i32 {
    get(values, name).parse().unwrap_or(0)
}

/// How many rows of `group` the form has.
fn rows_in(values: &Values, group: &Group) -> usize {
    (0..MAX_ROWS)
        .take_while(|r| {
            let prefix = format!("{}[{r}].", group.path);
            values.keys().any(|k| k.starts_with(&prefix))
        })
        .count()
}

/// The rows of `group` someone filled in (selects alone do not count).
fn filled(values: &Values, group: &Group, sent: &mut Sent) -> Vec<usize> {
    let rows: Vec<usize> = (0..rows_in(values, group))
        .filter(|r| {
            group.fields.iter().any(|(field, kind, _)| {
                matches!(kind, Kind::Text | Kind::Number | Kind::Area | Kind::Org)
                    && !get(values, &format!("{}[{r}].{field}", group.path)).is_empty()
            })
        })
        .collect();
    sent.0.insert(group.path, rows.clone());
    rows
}

/// The content a form describes, and which of its rows it sends.
pub(crate) fn content(values: &Values) -> (pb::AgreementContent, Sent) {
    let mut sent = Sent::default();
    let v = |name: &str| get(values, name).to_owned();
    let at = |group: &Group, r: usize, field: &str| format!("{}[{r}].{field}", group.path);
    let parties = filled(values, &PARTIES, &mut sent)
        .into_iter()
        .map(|r| {
            let f = |field: &str| v(&at(&PARTIES, r, field));
            pb::Party {
                org: f("org"),
                role: code(values, &at(&PARTIES, r, "role")),
                signatory: Some(pb::Signatory {
                    name: f("signatory.name"),
                    position: f("signatory.position"),
                    basis: f("signatory.basis"),
                }),
            }
        })
        .collect();
    let parts: Vec<pb::ProgrammePart> = filled(values, &PARTS, &mut sent)
        .into_iter()
        .map(|r| pb::ProgrammePart {
            kind: code(values, &at(&PARTS, r, "kind")),
            name: v(&at(&PARTS, r, "name")),
            hours: number(values, &at(&PARTS, r, "hours")),
            grade_min: number(values, &at(&PARTS, r, "grade_min")),
            grade_max: number(values, &at(&PARTS, r, "grade_max")),
        })
        .collect();
    let programme_fields = ["name", "kind", "level", "focus"].map(|f| v(&format!("programme.{f}")));
    let programme =
        (!parts.is_empty() || programme_fields.iter().any(|f| !f.is_empty())).then(|| {
            let [name, kind, level, focus] = programme_fields;
            pb::Programme {
                name,
                kind,
                level,
                focus,
                parts,
            }
        });
    let students = [
        "status",
        "admission",
        "grade_min",
        "grade_max",
        "planned_headcount",
    ]
    .iter()
    .any(|f| !v(&format!("students.{f}")).is_empty())
    .then(|| pb::Students {
        status: v("students.status"),
        admission: v("students.admission"),
        grade_min: number(values, "students.grade_min"),
        grade_max: number(values, "students.grade_max"),
        planned_headcount: number(values, "students.planned_headcount"),
    });
    let duties = filled(values, &DUTIES, &mut sent)
        .into_iter()
        .map(|r| pb::Duty {
            org: v(&at(&DUTIES, r, "org")),
            part: v(&at(&DUTIES, r, "part")),
            hours: number(values, &at(&DUTIES, r, "hours")),
            description: v(&at(&DUTIES, r, "description")),
        })
        .collect();
    let resources = filled(values, &PLEDGES, &mut sent)
        .into_iter()
        .map(|r| pb::Pledge {
            org: v(&at(&PLEDGES, r, "org")),
            resource_id: v(&at(&PLEDGES, r, "resource_id")),
            description: v(&at(&PLEDGES, r, "description")),
            hours: number(values, &at(&PLEDGES, r, "hours")),
            period: code(values, &at(&PLEDGES, r, "period")),
        })
        .collect();
    let documents = filled(values, &DOCUMENTS, &mut sent)
        .into_iter()
        .map(|r| pb::CompletionDocument {
            name: v(&at(&DOCUMENTS, r, "name")),
            issuer: v(&at(&DOCUMENTS, r, "issuer")),
        })
        .collect();
    let content = pb::AgreementContent {
        kind: code(values, "kind"),
        number: v("number"),
        dated: v("dated"),
        title: v("title"),
        valid_from: v("valid_from"),
        valid_to: v("valid_to"),
        parties,
        programme,
        students,
        duties,
        resources,
        documents,
        amendment_procedure: v("amendment_procedure"),
        termination_procedure: v("termination_procedure"),
        termination_notice_days: number(values, "termination_notice_days"),
        planned_teachers: number(values, "planned_teachers"),
        planned_students: number(values, "planned_students"),
        notes: v("notes"),
    };
    (content, sent)
}

/// The form's values for `c` (an agreement's version, to edit or amend).
pub(crate) fn values_of(c: &pb::AgreementContent) -> Values {
    let mut out = Values::new();
    let mut put = |name: String, value: String| {
        if !value.is_empty() && value != "0" {
            out.insert(name, value);
        }
    };
    put("kind".into(), c.kind.to_string());
    put("number".into(), c.number.clone());
    put("dated".into(), c.dated.clone());
    put("title".into(), c.title.clone());
    put("valid_from".into(), c.valid_from.clone());
    put("valid_to".into(), c.valid_to.clone());
    for (i, p) in c.parties.iter().enumerate() {
        let s = p.signatory.clone().unwrap_or_default();
        put(format!("parties[{i}].org"), p.org.clone());
        put(format!("parties[{i}].role"), p.role.to_string());
        put(format!("parties[{i}].signatory.name"), s.name);
        put(format!("parties[{i}].signatory.position"), s.position);
        put(format!("parties[{i}].signatory.basis"), s.basis);
    }
    if let Some(p) = &c.programme {
        put("programme.name".into(), p.name.clone());
        put("programme.kind".into(), p.kind.clone());
        put("programme.level".into(), p.level.clone());
        put("programme.focus".into(), p.focus.clone());
        for (i, part) in p.parts.iter().enumerate() {
            let at = |f: &str| format!("programme.parts[{i}].{f}");
            put(at("kind"), part.kind.to_string());
            put(at("name"), part.name.clone());
            put(at("hours"), part.hours.to_string());
            put(at("grade_min"), part.grade_min.to_string());
            put(at("grade_max"), part.grade_max.to_string());
        }
    }
    if let Some(s) = &c.students {
        put("students.status".into(), s.status.clone());
        put("students.admission".into(), s.admission.clone());
        put("students.grade_min".into(), s.grade_min.to_string());
        put("students.grade_max".into(), s.grade_max.to_string());
        put(
            "students.planned_headcount".into(),
            s.planned_headcount.to_string(),
        );
    }
    for (i, d) in c.duties.iter().enumerate() {
        put(format!("duties[{i}].org"), d.org.clone());
        put(format!("duties[{i}].part"), d.part.clone());
        put(format!("duties[{i}].hours"), d.hours.to_string());
        put(format!("duties[{i}].description"), d.description.clone());
    }
    for (i, r) in c.resources.iter().enumerate() {
        put(format!("resources[{i}].org"), r.org.clone());
        put(format!("resources[{i}].resource_id"), r.resource_id.clone());
        put(format!("resources[{i}].description"), r.description.clone());
        put(format!("resources[{i}].hours"), r.hours.to_string());
        put(format!("resources[{i}].period"), r.period.to_string());
    }
    for (i, d) in c.documents.iter().enumerate() {
        put(format!("documents[{i}].name"), d.name.clone());
        put(format!("documents[{i}].issuer"), d.issuer.clone());
    }
    put("amendment_procedure".into(), c.amendment_procedure.clone());
    put(
        "termination_procedure".into(),
        c.termination_procedure.clone(),
    );
    put(
        "termination_notice_days".into(),
        c.termination_notice_days.to_string(),
    );
    put("planned_teachers".into(), c.planned_teachers.to_string());
    put("planned_students".into(), c.planned_students.to_string());
    put("notes".into(), c.notes.clone());
    out
}

/// One input, ready to render.
pub(crate) struct Field {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) label: String,
    pub(crate) value: String,
    /// `text`, `number`, `date`, `area` or `select`.
    pub(crate) kind: &'static str,
    pub(crate) choices: Vec<Choice>,
    pub(crate) error: String,
}

/// One row of a repeated group.
pub(crate) struct Row {
    pub(crate) legend: String,
    pub(crate) fields: Vec<Field>,
    pub(crate) error: String,
}

/// A part of the form: its own inputs, then its repeated groups.
pub(crate) struct Block {
    pub(crate) id: &'static str,
    pub(crate) heading: String,
    pub(crate) fields: Vec<Field>,
    pub(crate) groups: Vec<(String, String, Vec<Row>)>,
    pub(crate) error: String,
}

/// Builds the form's inputs from `values`, with `problem` beside the input
/// it names.
pub(crate) struct Builder<'a> {
    values: &'a Values,
    orgs: &'a Orgs,
    sent: &'a Sent,
    problem: Option<&'a Problem>,
    placed: Cell<bool>,
}

impl<'a> Builder<'a> {
    pub(crate) fn new(
        values: &'a Values,
        orgs: &'a Orgs,
        sent: &'a Sent,
        problem: Option<&'a Problem>,
    ) -> Self {
        Self {
            values,
            orgs,
            sent,
            problem,
            placed: Cell::new(false),
        }
    }

    /// The problem's message when it names `api` (the API's path) exactly,
    /// or within it unless `exact`.
    fn about(&self, api: Option<String>, exact: bool) -> String {
        let (Some(problem), Some(api)) = (self.problem, api) else {
            return String::new();
        };
        let api = format!("content.{api}");
        let hit = if exact {
            problem.field.as_deref() == Some(api.as_str())
        } else {
            problem.about(&api).is_some()
        };
        if hit {
            self.placed.set(true);
            problem.message.clone()
        } else {
            String::new()
        }
    }

    fn field(&self, name: String, api: Option<String>, kind: Kind, label: &str) -> Field {
        let value = get(self.values, &name).to_owned();
        let selected = value.parse().unwrap_or(0);
        let (kind_name, choices) = match kind {
            Kind::Text => ("text", Vec::new()),
            Kind::Number => ("number", Vec::new()),
            Kind::Date => ("date", Vec::new()),
            Kind::Area => ("area", Vec::new()),
            Kind::Org => ("select", self.orgs.choices(&value)),
            Kind::PartyRole => ("select", blank_first(choices::<pb::PartyRole>(selected))),
            Kind::Part => ("select", blank_first(choices::<pb::PartKind>(selected))),
            Kind::Period => ("select", blank_first(choices::<pb::PledgePeriod>(selected))),
            Kind::Agreement => (
                "select",
                blank_first(choices::<pb::AgreementKind>(selected)),
            ),
        };
        Field {
            id: name.replace(['[', '.'], "-").replace(']', ""),
            error: self.about(api, false),
            name,
            label: t(label),
            value,
            kind: kind_name,
            choices,
        }
    }

    /// A field outside the groups.
    fn single(&self, name: &str, kind: Kind, label: &str) -> Field {
        self.field(name.to_owned(), Some(name.to_owned()), kind, label)
    }

    fn group(&self, group: &Group) -> (String, String, Vec<Row>) {
        let shown = rows_in(self.values, group).max(group.min) + 1;
        let rows = (0..shown.min(MAX_ROWS))
            .map(|r| {
                let api_row = self.sent.api_row(group.path, r);
                let fields = group
                    .fields
                    .iter()
                    .map(|(field, kind, label)| {
                        self.field(
                            format!("{}[{r}].{field}", group.path),
                            api_row.map(|i| format!("{}[{i}].{field}", group.path)),
                            *kind,
                            label,
                        )
                    })
                    .collect();
                Row {
                    legend: format!("{} {}", t(group.legend), r + 1),
                    fields,
                    error: self.about(api_row.map(|i| format!("{}[{i}]", group.path)), true),
                }
            })
            .collect();
        let error = self.about(Some(group.path.to_owned()), true);
        (t(&format!("{}-heading", group.legend)), error, rows)
    }

    /// The form's blocks, and the problem's message when no input shows it.
    pub(crate) fn blocks(&self) -> (Vec<Block>, String) {
        let block = |id, heading: &str, fields, groups, api: Option<&str>| Block {
            id,
            heading: t(heading),
            fields,
            groups,
            error: self.about(api.map(str::to_owned), true),
        };
        let blocks = vec![
            block(
                "main",
                "agreement-form-main",
                vec![
                    self.single("kind", Kind::Agreement, "agreement-kind"),
                    self.single("title", Kind::Text, "agreement-title"),
                    self.single("number", Kind::Text, "agreement-number"),
                    self.single("dated", Kind::Date, "agreement-form-dated"),
                    self.single("valid_from", Kind::Date, "agreement-form-valid-from"),
                    self.single("valid_to", Kind::Date, "agreement-form-valid-to"),
                ],
                vec![self.group(&PARTIES)],
                None,
            ),
            block(
                "programme",
                "agreement-section-1",
                vec![
                    self.single("programme.name", Kind::Text, "agreement-programme"),
                    self.single("programme.kind", Kind::Text, "agreement-programme-kind"),
                    self.single("programme.level", Kind::Text, "agreement-programme-level"),
                    self.single("programme.focus", Kind::Text, "agreement-programme-focus"),
                ],
                vec![self.group(&PARTS)],
                Some("programme"),
            ),
            block(
                "students",
                "agreement-section-2",
                vec![
                    self.single("students.status", Kind::Area, "agreement-students-status"),
                    self.single(
                        "students.admission",
                        Kind::Area,
                        "agreement-students-admission",
                    ),
                    self.single(
                        "students.grade_min",
                        Kind::Number,
                        "agreement-form-grade-min",
                    ),
                    self.single(
                        "students.grade_max",
                        Kind::Number,
                        "agreement-form-grade-max",
                    ),
                    self.single(
                        "students.planned_headcount",
                        Kind::Number,
                        "agreement-students-planned",
                    ),
                ],
                Vec::new(),
                Some("students"),
            ),
            block(
                "delivery",
                "agreement-section-3",
                Vec::new(),
                vec![self.group(&DUTIES), self.group(&PLEDGES)],
                None,
            ),
            block(
                "documents",
                "agreement-section-4",
                Vec::new(),
                vec![self.group(&DOCUMENTS)],
                None,
            ),
            block(
                "term",
                "agreement-section-5",
                vec![
                    self.single("amendment_procedure", Kind::Area, "agreement-amendment"),
                    self.single("termination_procedure", Kind::Area, "agreement-termination"),
                    self.single(
                        "termination_notice_days",
                        Kind::Number,
                        "agreement-form-notice-days",
                    ),
                    self.single(
                        "planned_teachers",
                        Kind::Number,
                        "agreement-planned-teachers",
                    ),
                    self.single(
                        "planned_students",
                        Kind::Number,
                        "agreement-planned-students",
                    ),
                    self.single("notes", Kind::Area, "agreement-notes"),
                ],
                Vec::new(),
                None,
            ),
        ];
        let general = match self.problem {
            Some(p) if !self.placed.get() => p.message.clone(),
            _ => String::new(),
        };
        (blocks, general)
    }
}

fn blank_first(mut choices: Vec<Choice>) -> Vec<Choice> {
    let none = !choices.iter().any(|c| c.selected);
    choices.insert(
        0,
        Choice {
            value: String::new(),
            label: "—".into(),
            selected: none,
        },
    );
    choices
}
