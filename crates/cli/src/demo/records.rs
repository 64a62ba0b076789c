//! What the demo publishes for a seed: an activity's details, an
//! agreement's content, with what the seeds leave out said in its text.

use std::collections::BTreeMap;

use anyhow::{Context as _, bail};
use chrono::NaiveDate;
use edufed_proto::v1 as pb;

use super::LoadedOrg;
use super::seeds::{ActivitySeed, AgreementSeed, Audience, Term, seeds};
use super::timing::{Timing, school_year};
use crate::values::ActivityFormat;

/// A part of the network-form agreement's programme: (name, hours).
const NETWORK_FORM_PARTS: &[(&str, u32)] = &[("Технология", 68), ("Информатика", 68)];

pub(super) fn activity_details(
    seed: &ActivitySeed,
    today: NaiveDate,
    orgs: &BTreeMap<String, LoadedOrg>,
) -> anyhow::Result<pb::ActivityDetails> {
    let Timing {
        schedule,
        stated,
        assumed,
    } = seed
        .when
        .schedule(today)
        .with_context(|| format!("the schedule of «{}»", seed.title))?;
    let mut assumed: Vec<String> = assumed.into_iter().collect();
    if seed.format.is_none() {
        assumed.push("Формат (очный) условен.".to_owned());
    }
    let students = match seed.audience {
        Audience::Grades(min, max) => Some(pb::GradeRange { min, max }),
        Audience::AssumedGrades(min, max) => {
            assumed.push(format!("Классы ({min}–{max}) условны."));
            Some(pb::GradeRange { min, max })
        }
        Audience::Unstated => {
            assumed.push("Классы в источнике не указаны: показаны 1–11.".to_owned());
            Some(pb::GradeRange { min: 1, max: 11 })
        }
        Audience::Teachers => None,
    };
    let mut description = [Some(seed.facts.clone()), stated]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if !assumed.is_empty() {
        if !description.is_empty() {
            description.push('\n');
        }
        description.push_str("Условно, для демонстрации: ");
        description.push_str(&assumed.join(" "));
    }
    let coordinator = (!seed.coordinator.is_empty()).then(|| {
        let (name, position) = seed
            .coordinator
            .split_once(", ")
            .unwrap_or((&seed.coordinator, ""));
        pb::Coordinator {
            name: name.to_owned(),
            position: position.to_owned(),
            contact: String::new(),
        }
    });
    let mut partners = Vec::new();
    for slug in &seed.partners {
        let org = orgs
            .get(slug)
            .with_context(|| format!("partner {slug} of «{}» was not loaded", seed.title))?;
        partners.push(org.id.clone());
    }
    Ok(pb::ActivityDetails {
        title: seed.title.clone(),
        description,
        kind: seed.kind.into(),
        direction: seed.direction.map_or(0, Into::into),
        subjects: seed.subjects.clone(),
        audience: Some(pb::Audience {
            students,
            teachers: matches!(seed.audience, Audience::Teachers),
            parents: false,
            university_students: false,
        }),
        format: seed.format.unwrap_or(ActivityFormat::InPerson).into(),
        place: Some(pb::Place {
            kind: pb::PlaceKind::AtPublisher.into(),
            value: String::new(),
        }),
        coordinator,
        partner_organization_ids: partners,
        capacity: seed.capacity,
        visibility: pb::Visibility::Public.into(),
        schedule: Some(schedule),
        ..Default::default()
    })
}

pub(super) fn agreement_content(
    seed: &AgreementSeed,
    today: NaiveDate,
) -> anyhow::Result<pb::AgreementContent> {
    let mut notes = Vec::new();
    let (from, to) = match seed.term {
        Term::Dates(ref from, ref to) => (from.clone(), to.clone()),
        Term::SchoolYear(year) => {
            notes.push(format!("Срок: {year}–{} учебный год.", year + 1));
            (format!("{year}-09-01"), format!("{}-08-31", year + 1))
        }
        Term::Unstated => {
            let year = school_year(today);
            notes.push(format!(
                "Срок в источнике не указан; условно — {year}–{} учебный год.",
                year + 1
            ));
            (format!("{year}-09-01"), format!("{}-08-31", year + 1))
        }
    };
    if !seed.assumed.is_empty() {
        notes.push(format!("Условно, для демонстрации: {}", seed.assumed));
    }
    let mut parties = Vec::new();
    for party in &seed.parties {
        let signatory = if seed.propose {
            Some(pb::Signatory {
                name: format!(
                    "ФИО не указано в источнике ({})",
                    seeds()?.org(&party.org)?.short_name
                ),
                position: "руководитель организации".to_owned(),
                basis: "Устава".to_owned(),
            })
        } else {
            None
        };
        parties.push(pb::Party {
            org: party.org.clone(),
            role: party.role.into(),
            signatory,
        });
    }
    let mut content = pb::AgreementContent {
        kind: seed.kind.into(),
        number: seed.number.clone(),
        dated: seed.dated.clone(),
        title: seed.title.clone(),
        valid_from: from,
        valid_to: to,
        parties,
        planned_teachers: seed.teachers,
        planned_students: seed.students,
        ..Default::default()
    };
    if seed.propose {
        let (Some(base), Some(participant)) = (seed.parties.first(), seed.parties.get(1)) else {
            bail!(
                "«{}» needs a base organization and a participant",
                seed.title
            );
        };
        content.programme = Some(pb::Programme {
            name: "Общеобразовательная программа: «Технология», «Информатика»".to_owned(),
            kind: "основная общеобразовательная".to_owned(),
            level: "основное общее образование".to_owned(),
            focus: "техническая".to_owned(),
            parts: NETWORK_FORM_PARTS
                .iter()
                .map(|(name, hours)| pb::ProgrammePart {
                    kind: pb::PartKind::Subject.into(),
                    name: (*name).to_owned(),
                    hours: *hours,
                    grade_min: 7,
                    grade_max: 8,
                })
                .collect(),
        });
        content.students = Some(pb::Students {
            status: "Обучающиеся базовой организации; в организацию-участника не зачисляются."
                .to_owned(),
            admission: "Группы формирует базовая организация.".to_owned(),
            grade_min: 7,
            grade_max: 8,
            planned_headcount: 0,
        });
        content.duties = NETWORK_FORM_PARTS
            .iter()
            .map(|(name, hours)| pb::Duty {
                org: participant.org.clone(),
                part: (*name).to_owned(),
                hours: *hours,
                description: format!(
                    "Проводит практическую часть учебного предмета «{name}» на базе технопарка силами своих педагогов."
                ),
            })
            .chain(std::iter::once(pb::Duty {
                org: base.org.clone(),
                part: String::new(),
                hours: 0,
                description: "Формирует группы и проводит промежуточную аттестацию.".to_owned(),
            }))
            .collect();
        content.documents = vec![pb::CompletionDocument {
            name: "Документ об освоении части программы в сетевой форме".to_owned(),
            issuer: base.org.clone(),
        }];
        content.amendment_procedure =
            "Дополнительным соглашением, подписанным всеми сторонами.".to_owned();
        content.termination_procedure =
            "По соглашению сторон или по уведомлению одной из сторон.".to_owned();
    }
    content.notes = notes.join("\n");
    Ok(content)
}
