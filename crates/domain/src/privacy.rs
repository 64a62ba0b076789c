//! Personal data (152-FZ): what a node keeps about people and why, how
//! long, and what remains of a person once their data is erased.
//!
//! Children are never named anywhere (cohorts and pseudonymous codes); the
//! personal data a node keeps is adults': the people who sign in, and the
//! names that records carry in free text (an activity's coordinator, a
//! cohort's teacher). A name on a record that is over serves no purpose
//! after the retention: it is replaced by the role. An erased person keeps
//! their id (the audit trail names it) and nothing else.

use crate::text::fold;

/// What an activity's coordinator's name becomes.
pub const COORDINATOR: &str = "координатор";
/// What a cohort's teacher's name becomes.
pub const TEACHER: &str = "педагог";
/// What an erased person's name becomes.
pub const ERASED: &str = "удалённый пользователь";

/// How long names stay on records that are over (activities held,
/// registrations for them), in days, unless the operator says otherwise.
pub const DEFAULT_RETENTION_DAYS: u32 = 365;

/// A person whose name and contact are looked for in records' free text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// Their name, as folded for comparison.
    name: String,
    /// Their e-mail, lower-cased.
    email: Option<String>,
}

impl Subject {
    pub fn new(name: &str, email: Option<&str>) -> Self {
        Self {
            name: folded(name),
            email: email
                .map(|e| e.trim().to_lowercase())
                .filter(|e| !e.is_empty()),
        }
    }

    /// Whether `name` names them: the same words, whatever the case, «ё»
    /// and spacing.
    pub fn named(&self, name: &str) -> bool {
        !self.name.is_empty() && folded(name) == self.name
    }

    /// Whether `contact` is their e-mail.
    pub fn reached_at(&self, contact: &str) -> bool {
        self.email
            .as_deref()
            .is_some_and(|e| contact.trim().eq_ignore_ascii_case(e))
    }

    /// Strings that a record naming them contains, for a coarse search
    /// before [`Subject::named`] decides.
    pub fn needles(raw_name: &str, email: Option<&str>) -> Vec<String> {
        let mut needles = Vec::new();
        let surname = raw_name.split_whitespace().next().unwrap_or_default();
        if !surname.is_empty() {
            needles.push(surname.to_owned());
        }
        if let Some(email) = email.filter(|e| !e.trim().is_empty()) {
            needles.push(email.trim().to_owned());
        }
        needles
    }
}

fn folded(name: &str) -> String {
    fold(name).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One line of the register: a kind of personal data the node keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterEntry {
    /// Short key (`people`, `coordinators`…).
    pub key: &'static str,
    /// Whose data it is.
    pub subjects: &'static str,
    /// What data.
    pub data: &'static str,
    /// Why it is kept.
    pub purpose: &'static str,
    /// On what legal ground.
    pub basis: &'static str,
    /// Who else receives it.
    pub shared_with: &'static str,
    /// How long it is kept.
    pub retention: String,
    /// How many records hold it now.
    pub records: u64,
}

/// How many records hold each kind of personal data now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub people: u64,
    pub identities: u64,
    pub sessions: u64,
    pub coordinators: u64,
    pub teachers: u64,
    pub signatories: u64,
    pub mentors: u64,
    pub growth: u64,
    pub outbox: u64,
    pub audit: u64,
}

/// The register of the node's personal data, for the operator's
/// notification to the regulator (Roskomnadzor) and for people asking.
pub fn register(counts: &Counts, retention_days: u32, audit_days: u32) -> Vec<RegisterEntry> {
    let names = format!(
        "{retention_days} дн. после окончания мероприятия, затем заменяется ролью; сразу — \
         по требованию об удалении"
    );
    vec![
        RegisterEntry {
            key: "people",
            subjects: "работники организаций сети, работающие с узлом",
            data: "ФИО, адрес электронной почты, роль в организации",
            purpose: "вход и действия от имени организации; уведомления",
            basis: "п. 5 ч. 1 ст. 6 152-ФЗ (договоры о сетевой форме)",
            shared_with: "не передаются; имя передаётся с действием, пересланным на узел записи",
            retention: "пока человек состоит в организации; удаляются по требованию".into(),
            records: counts.people,
        },
        RegisterEntry {
            key: "identities",
            subjects: "входящие через региональный сервис идентификации",
            data: "идентификатор у поставщика, адрес электронной почты",
            purpose: "вход",
            basis: "п. 1 ч. 1 ст. 6 152-ФЗ (согласие у поставщика)",
            shared_with: "не передаются",
            retention: "до отвязки или удаления".into(),
            records: counts.identities,
        },
        RegisterEntry {
            key: "sessions",
            subjects: "вошедшие в консоль",
            data: "браузер, время входа и действий",
            purpose: "сохранение входа; безопасность",
            basis: "п. 5 ч. 1 ст. 6 152-ФЗ",
            shared_with: "не передаются",
            retention: "до окончания сеанса".into(),
            records: counts.sessions,
        },
        RegisterEntry {
            key: "coordinators",
            subjects: "координаторы совместных мероприятий",
            data: "ФИО, должность, почта или телефон",
            purpose: "связь школ с организатором мероприятия",
            basis: "п. 5 ч. 1 ст. 6 152-ФЗ",
            shared_with: "узлы, которым видно мероприятие",
            retention: names.clone(),
            records: counts.coordinators,
        },
        RegisterEntry {
            key: "teachers",
            subjects: "педагоги, ответственные за записанную группу",
            data: "ФИО, почта или телефон",
            purpose: "связь организатора с педагогом группы",
            basis: "п. 5 ч. 1 ст. 6 152-ФЗ",
            shared_with: "узел организатора мероприятия",
            retention: names,
            records: counts.teachers,
        },
        RegisterEntry {
            key: "signatories",
            subjects: "подписанты договоров о сетевой форме",
            data: "ФИО, должность, основание полномочий",
            purpose: "договор (ст. 15 273-ФЗ)",
            basis: "п. 5 ч. 1 ст. 6 152-ФЗ",
            shared_with: "узлы сторон договора",
            retention: "пока хранится договор (архивный документ)".into(),
            records: counts.signatories,
        },
        RegisterEntry {
            key: "mentors",
            subjects: "наставники и наставляемые педагоги",
            data: "ФИО, должность, организация",
            purpose: "реестр программы наставничества",
            basis: "п. 5 ч. 1 ст. 6 152-ФЗ",
            shared_with: "не передаются (узлы видят пары без людей)",
            retention: "пока хранится реестр программы".into(),
            records: counts.mentors,
        },
        RegisterEntry {
            key: "growth",
            subjects: "педагоги, давшие согласие",
            data: "курсы, стажировки, семинары по человеку",
            purpose: "отчёт о профессиональном росте педагогов",
            basis: "п. 1 ч. 1 ст. 6 152-ФЗ (согласие, отзывается в любой момент)",
            shared_with: "не передаются",
            retention: "до отзыва согласия или удаления".into(),
            records: counts.growth,
        },
        RegisterEntry {
            key: "outbox",
            subjects: "получатели уведомлений",
            data: "адрес электронной почты, текст уведомления",
            purpose: "уведомления",
            basis: "п. 5 ч. 1 ст. 6 152-ФЗ",
            shared_with: "почтовый сервер узла",
            retention: "до удаления".into(),
            records: counts.outbox,
        },
        RegisterEntry {
            key: "audit",
            subjects: "изменявшие записи",
            data: "кто, что, когда, сетевой адрес",
            purpose: "безопасность и подотчётность",
            basis: "п. 5 ч. 1 ст. 6, ст. 19 152-ФЗ",
            shared_with: "не передаются",
            retention: format!("{audit_days} дн.; имена удаляются по требованию"),
            records: counts.audit,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_whatever_the_case_spacing_and_yo() {
        let s = Subject::new("Фёдорова  Анна Петровна", Some("Fedorova@school.example"));
        assert!(s.named("федорова анна петровна"));
        assert!(s.named(" ФЁДОРОВА Анна  Петровна "));
        assert!(!s.named("Фёдорова Анна"));
        assert!(s.reached_at("fedorova@SCHOOL.example"));
        assert!(!s.reached_at("+7 3822 000000"));
        assert!(!Subject::new("", None).named(""));
    }
}

/// Why an erasure was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The person or their records.
    #[error(transparent)]
    Directory(#[from] crate::directory::Error),
    /// Their names on the calendar's records.
    #[error(transparent)]
    Calendar(#[from] crate::calendar::Error),
    /// The caller may not.
    #[error(transparent)]
    Denied(#[from] crate::policy::Denied),
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] crate::StorageError),
}

impl crate::ServiceError for Error {
    fn error_code(&self) -> crate::ErrorCode {
        match self {
            Error::Directory(e) => e.error_code(),
            Error::Calendar(e) => e.error_code(),
            Error::Denied(e) => e.error_code(),
            Error::Storage(e) => e.error_code(),
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            Error::Directory(e) => e.field(),
            Error::Calendar(e) => e.field(),
            _ => None,
        }
    }
}

/// What an erasure removed or replaced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Erased {
    /// Activities whose coordinator they were.
    pub activities: u64,
    /// Registrations whose teacher they were.
    pub registrations: u64,
    /// Organizations they left.
    pub memberships: u64,
    /// Tokens revoked, sessions ended, accounts unbound.
    pub credentials: u64,
    /// Growth records, consents, notification preferences and messages.
    pub records: u64,
}
