//! Network agreements (сетевые договоры): their Article 15 content, the
//! parties and signatories, the lifecycle from draft to expiry, signatures
//! that a third party can verify, the resource hours parties pledge, and
//! what an agreement delivered.

pub mod decide;
pub mod lifecycle;
pub mod quota;
pub mod report;
pub mod signing;
pub mod summary;

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike as _, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, FieldError, ServiceError, StorageError};
use crate::ids::{AgreementId, OrgId, PersonId, ResourceId};
use crate::stable::string_enum;
use crate::text;

pub use lifecycle::{Lifecycle, Phase, State, Term};

/// States in the network's register: every member of the node may read an
/// agreement in one of them, and its change-log entries are shared.
pub const REGISTER: [State; 4] = [
    State::Signed,
    State::Active,
    State::Expired,
    State::Terminated,
];

string_enum!(
    /// What an agreement is.
    AgreementKind {
        /// Network-form delivery of a programme under Article 15 of 273-FZ.
        NetworkForm = "network_form",
        /// A cooperation agreement (договор о сотрудничестве).
        Cooperation = "cooperation",
        /// A network-interaction agreement (договор о сетевом взаимодействии).
        NetworkInteraction = "network_interaction",
        /// An innovation-site status with its programme.
        InnovationSite = "innovation_site",
        Other = "other",
    }
);

string_enum!(
    /// A party's place in an agreement.
    PartyRole {
        /// The base organization: it holds the students.
        Base = "base",
        /// A participant organization: it delivers part of the programme.
        Participant = "participant",
        /// A resource provider: a museum, an enterprise, a scientific organization.
        ResourceProvider = "resource_provider",
    }
);

string_enum!(
    /// What part of a programme is delivered in network form.
    PartKind {
        /// A module of the programme.
        Module = "module",
        /// A subject (учебный предмет), e.g. «Технология».
        Subject = "subject",
        /// Practice (практика).
        Practice = "practice",
    }
);

string_enum!(
    /// The period a pledge of resource hours renews over.
    PledgePeriod {
        /// Once, for the whole term of the agreement.
        Term = "term",
        /// Each school year, 1 September to 31 August.
        SchoolYear = "school_year",
        /// Each half of the school year: 1 September to 31 December, 1 January to 31 August.
        HalfYear = "half_year",
        /// Each calendar month.
        Month = "month",
    }
);

/// The longest title, in characters.
pub const MAX_TITLE: usize = 500;
/// The longest procedure or note text, in characters.
pub const MAX_TEXT: usize = 10_000;
/// The most parties of one agreement.
pub const MAX_PARTIES: usize = 50;
/// The most entries of each list of the content (parts, duties, pledges, documents).
pub const MAX_ITEMS: usize = 200;
/// The earliest year a date of an agreement may fall in.
pub const MIN_YEAR: i32 = 1990;
/// The latest year a date of an agreement may fall in.
pub const MAX_YEAR: i32 = 2200;
/// The longest term, in years.
pub const MAX_TERM_YEARS: i32 = 25;

/// Who signs for a party, and on what authority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signatory {
    /// Full name, e.g. «Иванова Мария Петровна».
    pub name: String,
    /// Position, e.g. «директор».
    pub position: String,
    /// The authority they act on, e.g. «Устава».
    pub basis: String,
}

/// A party to an agreement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    pub org_id: OrgId,
    pub role: PartyRole,
    /// Who signs for it.
    pub signatory: Signatory,
}

/// A part of the programme delivered in network form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgrammePart {
    /// Module, subject or practice.
    pub kind: PartKind,
    /// Its name, e.g. «Технология».
    pub name: String,
    /// Hours of teaching over the term.
    pub hours: u32,
    /// The lowest grade it is taught to.
    pub grade_min: u8,
    /// The highest grade it is taught to.
    pub grade_max: u8,
}

/// The programme, or its part, delivered in network form (Article 15, item 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Programme {
    /// The programme's name.
    pub name: String,
    /// Its kind, e.g. «основная общеобразовательная».
    pub kind: String,
    /// Its level, e.g. «основное общее образование».
    pub level: String,
    /// Its focus (направленность), e.g. «техническая».
    pub focus: String,
    /// The parts delivered in network form.
    pub parts: Vec<ProgrammePart>,
}

/// The students and their admission (Article 15, item 2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Students {
    /// Their status, e.g. «обучающиеся базовой организации».
    pub status: String,
    /// How they are admitted.
    pub admission: String,
    /// The lowest grade admitted.
    pub grade_min: u8,
    /// The highest grade admitted.
    pub grade_max: u8,
    /// Students planned over the term.
    pub planned_headcount: u32,
}

/// What one party delivers (Article 15, item 3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Duty {
    /// The party that delivers it.
    pub org_id: OrgId,
    /// The programme part it delivers, by name; empty for a duty outside the parts.
    pub part: String,
    /// Hours it delivers of that part.
    pub hours: u32,
    /// The duty in words.
    pub description: String,
}

/// Resources a party provides, and their volume (Article 15, item 3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pledge {
    /// The providing party.
    pub org_id: OrgId,
    /// The bookable resource, when it is one; any of the party's resources when unset.
    pub resource_id: Option<ResourceId>,
    /// The resource in words, e.g. «лаборатория робототехники».
    pub description: String,
    /// Hours pledged per period.
    pub hours: u32,
    /// The period the hours renew over.
    pub period: PledgePeriod,
}

/// A document issued on completion, and who issues it (Article 15, item 4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletionDocument {
    /// The document, e.g. «аттестат об основном общем образовании».
    pub name: String,
    /// The party that issues it.
    pub issuer: OrgId,
}

/// The content of one version of an agreement: what parties sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Content {
    pub kind: AgreementKind,
    /// Its number, e.g. «№314-мип».
    pub number: Option<String>,
    /// The date it is dated, e.g. 2020-04-30.
    pub dated: Option<NaiveDate>,
    /// At most [`MAX_TITLE`] characters.
    pub title: String,
    /// The first day in force.
    pub valid_from: NaiveDate,
    /// The last day in force.
    pub valid_to: NaiveDate,
    /// The parties, each once.
    pub parties: Vec<Party>,
    /// The programme or its part (network-form agreements).
    pub programme: Option<Programme>,
    /// The students and their admission (network-form agreements).
    pub students: Option<Students>,
    /// What each party delivers.
    pub duties: Vec<Duty>,
    /// The resources each party provides.
    pub resources: Vec<Pledge>,
    /// Documents issued on completion.
    pub documents: Vec<CompletionDocument>,
    /// How the agreement is changed.
    pub amendment_procedure: String,
    /// How it is terminated.
    pub termination_procedure: String,
    /// Days of notice a party gives before an early termination takes effect.
    pub termination_notice_days: u32,
    /// Teachers planned to take part.
    pub planned_teachers: Option<u32>,
    /// Students planned to take part.
    pub planned_students: Option<u32>,
    /// Anything else the parties agreed.
    pub notes: String,
}

fn grades(field: &str, min: u8, max: u8) -> Result<(), FieldError> {
    if !(1..=11).contains(&min) || !(1..=11).contains(&max) {
        return Err(FieldError::new(field, "grades run from 1 to 11"));
    }
    if min > max {
        return Err(FieldError::new(
            field,
            format!("grade_min {min} is above grade_max {max}"),
        ));
    }
    Ok(())
}

fn bounded_list<T>(field: &str, items: &[T]) -> Result<(), FieldError> {
    if items.len() > MAX_ITEMS {
        return Err(FieldError::new(
            field,
            format!("at most {MAX_ITEMS} entries"),
        ));
    }
    Ok(())
}

impl Content {
    /// Checks and normalizes the content: every field's own rule, and that
    /// every party it names is one of the parties. A draft may still be
    /// incomplete; [`Content::check_complete`] is what proposing requires.
    pub fn validated(mut self) -> Result<Self, FieldError> {
        self.number = self
            .number
            .as_deref()
            .map(|n| text::optional_line("number", n, 60))
            .transpose()?
            .flatten();
        self.title = text::line("title", &self.title, MAX_TITLE)?;
        for (field, day) in [
            ("valid_from", Some(self.valid_from)),
            ("valid_to", Some(self.valid_to)),
            ("dated", self.dated),
        ] {
            if let Some(day) = day
                && !(MIN_YEAR..=MAX_YEAR).contains(&day.year())
            {
                return Err(FieldError::new(
                    field,
                    format!("{day} is outside the years {MIN_YEAR} to {MAX_YEAR}"),
                ));
            }
        }
        if self.valid_to < self.valid_from {
            return Err(FieldError::new(
                "valid_to",
                format!("{} is before valid_from {}", self.valid_to, self.valid_from),
            ));
        }
        if self.valid_to.year() - self.valid_from.year() > MAX_TERM_YEARS {
            return Err(FieldError::new(
                "valid_to",
                format!("a term is at most {MAX_TERM_YEARS} years"),
            ));
        }
        if self.parties.len() < 2 {
            return Err(FieldError::new(
                "parties",
                "an agreement needs at least two parties",
            ));
        }
        if self.parties.len() > MAX_PARTIES {
            return Err(FieldError::new(
                "parties",
                format!("at most {MAX_PARTIES} parties"),
            ));
        }
        let mut seen = BTreeSet::new();
        for (i, party) in self.parties.iter_mut().enumerate() {
            let at = |f: &str| format!("parties[{i}].{f}");
            if !seen.insert(party.org_id.clone()) {
                return Err(FieldError::new(
                    at("org"),
                    format!("organization {} is a party twice", party.org_id),
                ));
            }
            let s = &mut party.signatory;
            s.name = text::optional_line(&at("signatory.name"), &s.name, 200)?.unwrap_or_default();
            s.position = text::optional_line(&at("signatory.position"), &s.position, 200)?
                .unwrap_or_default();
            s.basis =
                text::optional_line(&at("signatory.basis"), &s.basis, 200)?.unwrap_or_default();
        }
        let bases = self
            .parties
            .iter()
            .filter(|p| p.role == PartyRole::Base)
            .count();
        if bases > 1 {
            return Err(FieldError::new(
                "parties",
                "at most one party is the base organization",
            ));
        }
        if let Some(programme) = &mut self.programme {
            programme.name = text::line("programme.name", &programme.name, MAX_TITLE)?;
            programme.kind =
                text::optional_line("programme.kind", &programme.kind, 200)?.unwrap_or_default();
            programme.level =
                text::optional_line("programme.level", &programme.level, 200)?.unwrap_or_default();
            programme.focus =
                text::optional_line("programme.focus", &programme.focus, 200)?.unwrap_or_default();
            bounded_list("programme.parts", &programme.parts)?;
            let mut names = BTreeSet::new();
            for (i, part) in programme.parts.iter_mut().enumerate() {
                let at = |f: &str| format!("programme.parts[{i}].{f}");
                part.name = text::line(&at("name"), &part.name, 200)?;
                if !names.insert(text::fold(&part.name)) {
                    return Err(FieldError::new(
                        at("name"),
                        format!("{} is named twice", text::excerpt(&part.name)),
                    ));
                }
                if part.hours == 0 || part.hours > 10_000 {
                    return Err(FieldError::new(at("hours"), "must be between 1 and 10000"));
                }
                grades(&at("grade_min"), part.grade_min, part.grade_max)?;
            }
        }
        if let Some(students) = &mut self.students {
            students.status = text::paragraph("students.status", &students.status, MAX_TEXT)?;
            students.admission =
                text::paragraph("students.admission", &students.admission, MAX_TEXT)?;
            grades("students.grade_min", students.grade_min, students.grade_max)?;
            if students.planned_headcount > 1_000_000 {
                return Err(FieldError::new(
                    "students.planned_headcount",
                    "at most 1000000",
                ));
            }
        }
        bounded_list("duties", &self.duties)?;
        for (i, duty) in self.duties.iter_mut().enumerate() {
            let at = |f: &str| format!("duties[{i}].{f}");
            if !seen.contains(&duty.org_id) {
                return Err(FieldError::new(
                    at("org"),
                    format!("organization {} is not a party", duty.org_id),
                ));
            }
            duty.part = text::optional_line(&at("part"), &duty.part, 200)?.unwrap_or_default();
            duty.description = text::paragraph(&at("description"), &duty.description, MAX_TEXT)?;
            if !duty.part.is_empty() {
                let known = self.programme.as_ref().is_some_and(|p| {
                    p.parts
                        .iter()
                        .any(|part| text::fold(&part.name) == text::fold(&duty.part))
                });
                if !known {
                    return Err(FieldError::new(
                        at("part"),
                        format!(
                            "{} is not a part of the programme",
                            text::excerpt(&duty.part)
                        ),
                    ));
                }
            }
            if duty.hours > 10_000 {
                return Err(FieldError::new(at("hours"), "at most 10000"));
            }
        }
        bounded_list("resources", &self.resources)?;
        for (i, pledge) in self.resources.iter_mut().enumerate() {
            let at = |f: &str| format!("resources[{i}].{f}");
            if !seen.contains(&pledge.org_id) {
                return Err(FieldError::new(
                    at("org"),
                    format!("organization {} is not a party", pledge.org_id),
                ));
            }
            pledge.description = text::line(&at("description"), &pledge.description, 300)?;
            if pledge.hours > 100_000 {
                return Err(FieldError::new(at("hours"), "at most 100000"));
            }
        }
        for (i, a) in self.resources.iter().enumerate() {
            for b in &self.resources[..i] {
                if a.org_id == b.org_id
                    && a.resource_id == b.resource_id
                    && a.hours > 0
                    && b.hours > 0
                {
                    return Err(FieldError::new(
                        format!("resources[{i}].resource_id"),
                        "the same resource is pledged twice; pledge its hours once",
                    ));
                }
            }
        }
        bounded_list("documents", &self.documents)?;
        for (i, doc) in self.documents.iter_mut().enumerate() {
            let at = |f: &str| format!("documents[{i}].{f}");
            doc.name = text::line(&at("name"), &doc.name, 300)?;
            if !seen.contains(&doc.issuer) {
                return Err(FieldError::new(
                    at("issuer"),
                    format!("organization {} is not a party", doc.issuer),
                ));
            }
        }
        self.amendment_procedure =
            text::paragraph("amendment_procedure", &self.amendment_procedure, MAX_TEXT)?;
        self.termination_procedure = text::paragraph(
            "termination_procedure",
            &self.termination_procedure,
            MAX_TEXT,
        )?;
        if self.termination_notice_days > 366 {
            return Err(FieldError::new("termination_notice_days", "at most 366"));
        }
        for (field, value) in [
            ("planned_teachers", self.planned_teachers),
            ("planned_students", self.planned_students),
        ] {
            if value.is_some_and(|v| v > 1_000_000) {
                return Err(FieldError::new(field, "at most 1000000"));
            }
        }
        self.notes = text::paragraph("notes", &self.notes, MAX_TEXT)?;
        Ok(self)
    }

    /// What proposing requires beyond [`Content::validated`]: a signatory
    /// for every party, and for network-form delivery every item Article 15
    /// names: the programme, the students, who delivers what, the documents
    /// issued, and how the agreement is changed and terminated.
    pub fn check_complete(&self) -> Result<(), FieldError> {
        for (i, party) in self.parties.iter().enumerate() {
            let s = &party.signatory;
            for (name, value) in [
                ("name", &s.name),
                ("position", &s.position),
                ("basis", &s.basis),
            ] {
                if value.is_empty() {
                    return Err(FieldError::new(
                        format!("parties[{i}].signatory.{name}"),
                        "is required before the agreement is proposed",
                    ));
                }
            }
        }
        if self.kind != AgreementKind::NetworkForm {
            return Ok(());
        }
        let required = |field: &str| {
            FieldError::new(
                field,
                "is required of a network-form agreement (Article 15 of 273-FZ)",
            )
        };
        if !self.parties.iter().any(|p| p.role == PartyRole::Base) {
            return Err(FieldError::new(
                "parties",
                "a network-form agreement names its base organization",
            ));
        }
        let Some(programme) = &self.programme else {
            return Err(required("programme"));
        };
        if programme.parts.is_empty() {
            return Err(required("programme.parts"));
        }
        for (field, value) in [
            ("programme.kind", &programme.kind),
            ("programme.level", &programme.level),
            ("programme.focus", &programme.focus),
        ] {
            if value.is_empty() {
                return Err(required(field));
            }
        }
        let Some(students) = &self.students else {
            return Err(required("students"));
        };
        if students.status.is_empty() {
            return Err(required("students.status"));
        }
        if students.admission.is_empty() {
            return Err(required("students.admission"));
        }
        if self.duties.is_empty() {
            return Err(required("duties"));
        }
        for (i, part) in programme.parts.iter().enumerate() {
            let assigned: u32 = self
                .duties
                .iter()
                .filter(|d| text::fold(&d.part) == text::fold(&part.name))
                .map(|d| d.hours)
                .sum();
            if assigned == 0 {
                return Err(FieldError::new(
                    format!("programme.parts[{i}]"),
                    format!("no party delivers {}", text::excerpt(&part.name)),
                ));
            }
            if assigned > part.hours {
                return Err(FieldError::new(
                    "duties",
                    format!(
                        "the duties give {assigned} hours of {}, which has {}",
                        text::excerpt(&part.name),
                        part.hours
                    ),
                ));
            }
        }
        if self.documents.is_empty() {
            return Err(required("documents"));
        }
        if self.amendment_procedure.is_empty() {
            return Err(required("amendment_procedure"));
        }
        if self.termination_procedure.is_empty() {
            return Err(required("termination_procedure"));
        }
        Ok(())
    }

    /// The parties' organizations.
    pub fn party_orgs(&self) -> BTreeSet<OrgId> {
        self.parties.iter().map(|p| p.org_id.clone()).collect()
    }

    /// Whether `org` is a party.
    pub fn is_party(&self, org: &OrgId) -> bool {
        self.parties.iter().any(|p| &p.org_id == org)
    }

    /// The programme part an activity delivers: the part one of its subjects
    /// names, else the part its title mentions.
    pub fn part_for(&self, subjects: &[String], title: &str) -> Option<String> {
        let parts = &self.programme.as_ref()?.parts;
        let by_subject = subjects
            .iter()
            .find_map(|s| parts.iter().find(|p| text::fold(&p.name) == text::fold(s)));
        let title = text::fold(title);
        by_subject
            .or_else(|| parts.iter().find(|p| title.contains(&text::fold(&p.name))))
            .map(|p| p.name.clone())
    }
}

/// One version of an agreement's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    /// 1, 2, …
    pub number: u32,
    /// Once proposed, read back from `canonical`, so what is shown is what
    /// was signed.
    pub content: Content,
    /// The SHA-256 of the canonical document, once proposed.
    pub content_hash: Option<String>,
    /// The canonical document the hash and the signatures cover, once proposed.
    pub canonical: Option<String>,
    /// When it was proposed.
    pub proposed_at: Option<DateTime<Utc>>,
    /// The signatures collected.
    pub signatures: Vec<signing::Signature>,
    /// The decline that ended it, if one did.
    pub declined: Option<Decline>,
}

/// A party's refusal to sign a version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decline {
    /// The declining party.
    pub org_id: OrgId,
    /// Who declined for it.
    pub person_id: PersonId,
    /// Why, for the other parties.
    pub comment: String,
    /// When it was cast, by the node's clock.
    pub at: DateTime<Utc>,
}

/// An agreement as stored: who started it, its lifecycle, its versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agreement {
    pub id: AgreementId,
    /// The organization that drafted it.
    pub initiator: OrgId,
    /// The zone its dates are read in (the initiator's).
    pub time_zone: crate::time::TimeZone,
    /// Where it stands.
    pub lifecycle: Lifecycle,
    /// Bumped by every change; a caller's expected revision guards
    /// against writing over a change it has not seen.
    pub revision: u64,
    /// Its versions, oldest first.
    pub versions: Vec<Version>,
    /// When it was drafted.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl Agreement {
    /// The version in force, if any.
    pub fn in_force(&self) -> Option<&Version> {
        let n = self.lifecycle.in_force_version()?;
        self.versions.iter().find(|v| v.number == n)
    }

    /// The newest version: the draft, the proposal, or the pending amendment.
    pub fn latest(&self) -> Option<&Version> {
        self.versions.iter().max_by_key(|v| v.number)
    }

    /// The version that reports and rules read: the one in force, else the latest.
    pub fn effective(&self) -> Option<&Version> {
        self.in_force().or_else(|| self.latest())
    }

    /// Whether `org` is one of [`Agreement::all_parties`].
    pub fn involves(&self, org: &OrgId) -> bool {
        self.all_parties().contains(org)
    }

    /// Who the agreement concerns now: the initiator, the parties to the
    /// latest version and to the one in force. A party a revision dropped
    /// no longer sees later drafts.
    pub fn all_parties(&self) -> BTreeSet<OrgId> {
        let mut all: BTreeSet<OrgId> = [self.latest(), self.in_force()]
            .into_iter()
            .flatten()
            .flat_map(|v| v.content.party_orgs())
            .collect();
        all.insert(self.initiator.clone());
        all
    }
}

/// One entry of an agreement's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// Its position in the agreement's history, from 1.
    pub seq: u64,
    /// What happened: drafted, updated, proposed, signed, declined, amended, …
    pub action: String,
    /// The version it concerns.
    pub version: u32,
    /// The state after it.
    pub state: State,
    /// The acting person, or `node` for the node's own transitions.
    pub actor: String,
    /// The acting organization, if a person acted for one.
    pub org_id: Option<OrgId>,
    /// A comment (a decline's reason, a termination's grounds).
    pub comment: String,
    /// When it happened, by the node's clock.
    pub at: DateTime<Utc>,
}

/// Which agreements to list.
#[derive(Debug, Clone, Default)]
pub struct AgreementFilter {
    /// Only agreements this organization is a party to.
    pub party: Option<OrgId>,
    /// Only of these kinds; any kind when empty.
    pub kinds: Vec<AgreementKind>,
    /// Only in these states; any state when empty.
    pub states: Vec<State>,
    /// Only those in force whose term ends before this instant.
    pub ending_before: Option<DateTime<Utc>>,
    /// Only agreements these organizations are party to, plus those in the
    /// network register (in force or ended); every agreement when `None`.
    pub visible_to: Option<Vec<OrgId>>,
}

/// Why an agreement operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input broke a rule of its own.
    #[error(transparent)]
    Invalid(#[from] FieldError),
    /// No such agreement, or not visible to the caller.
    #[error("agreement {0} not found")]
    NotFound(String),
    /// The caller may not do this.
    #[error(transparent)]
    Denied(#[from] crate::policy::Denied),
    /// The state does not allow the operation; names the state.
    #[error("{0}")]
    WrongState(String),
    /// Someone changed it since the caller read it.
    #[error("{0}")]
    Stale(String),
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl ServiceError for Error {
    fn error_code(&self) -> ErrorCode {
        match self {
            Error::Invalid(e) => e.error_code(),
            Error::NotFound(_) => ErrorCode::NotFound,
            Error::WrongState(_) | Error::Stale(_) => ErrorCode::FailedPrecondition,
            Error::Denied(_) => ErrorCode::PermissionDenied,
            Error::Storage(e) => e.error_code(),
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            Error::Invalid(e) => Some(&e.field),
            _ => None,
        }
    }

    fn reason(&self) -> Option<crate::Reason> {
        let reason = match self {
            Error::WrongState(_) => "AGREEMENT_STATE",
            Error::Stale(_) => "AGREEMENT_CHANGED",
            _ => return None,
        };
        Some(crate::Reason {
            reason,
            metadata: Vec::new(),
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn party(org: &OrgId, role: PartyRole) -> Party {
        Party {
            org_id: org.clone(),
            role,
            signatory: Signatory {
                name: "Иванова Мария Петровна".into(),
                position: "директор".into(),
                basis: "Устава".into(),
            },
        }
    }

    /// The technopark–school agreement of the seeds: 68 hours of «Технология»
    /// for grades 7–8, 70 lab hours per term.
    pub(crate) fn network_form(school: &OrgId, technopark: &OrgId) -> Content {
        Content {
            kind: AgreementKind::NetworkForm,
            number: Some("№12-сф".into()),
            dated: NaiveDate::from_ymd_opt(2026, 8, 28),
            title: "Договор о сетевой форме реализации образовательной программы".into(),
            valid_from: NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
            valid_to: NaiveDate::from_ymd_opt(2027, 5, 31).unwrap(),
            parties: vec![
                party(school, PartyRole::Base),
                party(technopark, PartyRole::Participant),
            ],
            programme: Some(Programme {
                name: "Основная образовательная программа основного общего образования".into(),
                kind: "основная общеобразовательная".into(),
                level: "основное общее образование".into(),
                focus: "техническая".into(),
                parts: vec![ProgrammePart {
                    kind: PartKind::Subject,
                    name: "Технология".into(),
                    hours: 68,
                    grade_min: 7,
                    grade_max: 8,
                }],
            }),
            students: Some(Students {
                status: "обучающиеся базовой организации".into(),
                admission: "по списку базовой организации".into(),
                grade_min: 7,
                grade_max: 8,
                planned_headcount: 50,
            }),
            duties: vec![Duty {
                org_id: technopark.clone(),
                part: "Технология".into(),
                hours: 68,
                description: "проводит занятия в своих лабораториях".into(),
            }],
            resources: vec![Pledge {
                org_id: technopark.clone(),
                resource_id: None,
                description: "лаборатории технопарка".into(),
                hours: 70,
                period: PledgePeriod::Term,
            }],
            documents: vec![CompletionDocument {
                name: "аттестат об основном общем образовании".into(),
                issuer: school.clone(),
            }],
            amendment_procedure: "дополнительным соглашением сторон".into(),
            termination_procedure: "по соглашению сторон или с уведомлением за 30 дней".into(),
            termination_notice_days: 30,
            planned_teachers: Some(4),
            planned_students: Some(50),
            notes: String::new(),
        }
    }

    type Change = Box<dyn Fn(&mut Content)>;

    #[test]
    fn a_complete_network_form_agreement_passes() {
        let (a, b) = (OrgId::generate(), OrgId::generate());
        let content = network_form(&a, &b).validated().unwrap();
        content.check_complete().unwrap();
    }

    #[test]
    fn rules_name_their_field() {
        let (a, b) = (OrgId::generate(), OrgId::generate());
        let cases: Vec<(Change, &str)> = vec![
            (Box::new(|c| c.title = " ".into()), "title"),
            (
                Box::new(|c| c.valid_to = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap()),
                "valid_to",
            ),
            (Box::new(|c| c.parties.truncate(1)), "parties"),
            (
                Box::new(|c| c.parties[1].org_id = c.parties[0].org_id.clone()),
                "parties[1].org",
            ),
            (
                Box::new(|c| c.duties[0].org_id = OrgId::generate()),
                "duties[0].org",
            ),
            (
                Box::new(|c| c.duties[0].part = "Химия".into()),
                "duties[0].part",
            ),
            (
                Box::new(|c| c.programme.as_mut().unwrap().parts[0].grade_min = 12),
                "programme.parts[0].grade_min",
            ),
            (
                Box::new(|c| c.documents[0].issuer = OrgId::generate()),
                "documents[0].issuer",
            ),
            (
                Box::new(|c| c.resources[0].org_id = OrgId::generate()),
                "resources[0].org",
            ),
        ];
        for (change, field) in cases {
            let mut content = network_form(&a, &b);
            change(&mut content);
            assert_eq!(content.validated().unwrap_err().field, field);
        }
    }

    #[test]
    fn proposing_needs_every_article_15_item() {
        let (a, b) = (OrgId::generate(), OrgId::generate());
        let cases: Vec<(Change, &str)> = vec![
            (
                Box::new(|c| {
                    c.programme = None;
                    c.duties[0].part.clear();
                }),
                "programme",
            ),
            (Box::new(|c| c.students = None), "students"),
            (Box::new(|c| c.documents.clear()), "documents"),
            (
                Box::new(|c| c.termination_procedure.clear()),
                "termination_procedure",
            ),
            (
                Box::new(|c| c.parties[1].signatory.basis.clear()),
                "parties[1].signatory.basis",
            ),
            (Box::new(|c| c.duties[0].hours = 70), "duties"),
            (
                Box::new(|c| c.parties[0].role = PartyRole::Participant),
                "parties",
            ),
        ];
        for (change, field) in cases {
            let mut content = network_form(&a, &b);
            change(&mut content);
            let content = content.validated().unwrap();
            assert_eq!(content.check_complete().unwrap_err().field, field);
        }
        // Other kinds need signatories only.
        let mut coop = network_form(&a, &b);
        coop.kind = AgreementKind::Cooperation;
        coop.programme = None;
        coop.students = None;
        coop.duties.clear();
        coop.documents.clear();
        coop.validated().unwrap().check_complete().unwrap();
    }

    #[test]
    fn activities_map_to_parts_by_subject_or_title() {
        let (a, b) = (OrgId::generate(), OrgId::generate());
        let c = network_form(&a, &b);
        assert_eq!(
            c.part_for(&["технология".into()], ""),
            Some("Технология".into())
        );
        assert_eq!(
            c.part_for(&[], "Технология, 7 класс"),
            Some("Технология".into())
        );
        assert_eq!(c.part_for(&["химия".into()], "Химия"), None);
    }
}
