//! `edufed mentoring …`: mentoring programmes, their pairs and groups,
//! checkpoints and outcomes.

use anyhow::{Context as _, bail};
use clap::Subcommand;
use edufed_i18n::ru;
use edufed_proto::v1 as pb;

use crate::client::Connection;
use crate::output::out;
use crate::output::{Format, named, print_json, table};
use crate::values::proto_enum;
use crate::zones::Zones;

proto_enum! {
    /// The form of mentoring.
    MentoringForm => MentoringForm {
        /// «учитель – учитель».
        #[value(alias = "teacher-teacher")]
        TeacherTeacher,
        /// «молодой учитель – опытный учитель».
        #[value(alias = "young-teacher")]
        YoungTeacher,
        /// A teacher and a student of a teachers' university.
        #[value(alias = "teacher-student")]
        TeacherStudent,
        /// «студент – ученик».
        #[value(alias = "student-pupil")]
        StudentPupil,
        /// «ученик – ученик».
        #[value(alias = "pupil-pupil")]
        PupilPupil,
        /// «учитель – ученик».
        #[value(alias = "teacher-pupil")]
        TeacherPupil,
        /// «работодатель – ученик».
        #[value(alias = "employer-pupil")]
        EmployerPupil,
        /// «работодатель – студент».
        #[value(alias = "employer-student")]
        EmployerStudent,
        /// «лидер – проектная команда».
        #[value(alias = "leader-project-team")]
        LeaderProjectTeam,
        /// «учитель – проектная команда».
        #[value(alias = "teacher-project-team")]
        TeacherProjectTeam,
        /// Reverse mentoring.
        Reverse,
        /// Another form, named with --form-label.
        Other,
    }
}

proto_enum! {
    /// Whether a pair reached its goal.
    MentoringResult => MentoringResult {
        Met,
        Partly,
        #[value(alias = "not-met")]
        NotMet,
    }
}

/// `edufed mentoring …`
#[derive(Debug, Subcommand)]
pub enum MentoringCommand {
    /// Create a programme run by an organization of this node.
    Create(Box<ProgrammeArgs>),
    /// Replace what a programme says of itself.
    Update {
        /// The programme's id, as `mentoring list` prints it.
        programme: String,
        /// Refuse if the programme changed since this version.
        #[arg(long, default_value_t = 0)]
        expected_version: u64,
        #[command(flatten)]
        details: Box<ProgrammeArgs>,
    },
    /// The programmes your organizations take part in.
    List {
        /// Only those of this organization (id or slug).
        #[arg(long, default_value = "")]
        org: String,
    },
    /// Form a pair or group: a mentor and their mentees.
    Pair {
        /// The programme's id.
        #[arg(long)]
        programme: String,
        /// The mentor, an adult: "organization;name;position".
        #[arg(long, conflicts_with = "mentor_pupil")]
        mentor: Option<String>,
        /// The mentor, a pupil (pupil-to-pupil form): "school;code".
        #[arg(long)]
        mentor_pupil: Option<String>,
        /// A colleague mentored: "organization;name;position". Repeat for a group.
        #[arg(long)]
        colleague: Vec<String>,
        /// A group of pupils: "school;grades;headcount", e.g. "mgml;8-9;6".
        #[arg(long)]
        cohort: Vec<String>,
        /// A pupil by their school's code: "school;code". Never a name.
        #[arg(long)]
        pupil: Vec<String>,
        /// The first day, YYYY-MM-DD.
        #[arg(long)]
        starts: String,
        /// The planned last day, YYYY-MM-DD.
        #[arg(long, default_value = "")]
        ends: String,
    },
    /// A programme's closed register: who mentors whom.
    Register {
        /// The programme's id.
        programme: String,
    },
    /// One pair with its assessments.
    Show {
        /// The pair's id, as `mentoring register` prints it.
        pair: String,
    },
    /// The pair starts meeting.
    Start {
        pair: String,
        /// The first meeting's date, YYYY-MM-DD.
        #[arg(long)]
        on: String,
    },
    /// Assess a pair at a checkpoint against the programme's card.
    Assess {
        pair: String,
        /// The checkpoint's name, e.g. "I полугодие 2025/26".
        #[arg(long)]
        checkpoint: String,
        /// YYYY-MM-DD.
        #[arg(long)]
        on: String,
        /// A criterion's score, "key=value"; one per criterion of the card.
        #[arg(long = "score")]
        scores: Vec<String>,
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// The pair completed its term, with its outcome.
    Complete {
        pair: String,
        /// YYYY-MM-DD.
        #[arg(long)]
        on: String,
        #[arg(long, value_enum, ignore_case = true)]
        result: MentoringResult,
        #[arg(long, default_value = "")]
        comment: String,
        /// For career guidance: the profile chosen.
        #[arg(long, default_value = "")]
        profile: String,
    },
    /// State an organization's teachers and their professional growth for
    /// a school year (the denominators of the mentoring report's shares).
    Teachers {
        /// The organization (id or slug).
        #[arg(long)]
        org: String,
        /// The school year, e.g. 2025/26.
        #[arg(long)]
        year: String,
        /// Teachers in all.
        #[arg(long)]
        teachers: u32,
        /// Of them, young specialists.
        #[arg(long, default_value_t = 0)]
        young: u32,
        /// Completed a qualification course (КПК).
        #[arg(long, default_value_t = 0)]
        courses: u32,
        /// Those courses' hours, all teachers together.
        #[arg(long, default_value_t = 0)]
        course_hours: u32,
        /// Completed an internship.
        #[arg(long, default_value_t = 0)]
        internships: u32,
        /// Attended the network's seminars and round tables.
        #[arg(long, default_value_t = 0)]
        seminars: u32,
        /// Members of a mentors' association.
        #[arg(long, default_value_t = 0)]
        association: u32,
        /// In the national system of professional growth.
        #[arg(long, default_value_t = 0)]
        growth_system: u32,
    },
    /// The teacher figures stated on the node.
    TeachersList {
        /// Only this organization's (id or slug).
        #[arg(long, default_value = "")]
        org: String,
    },
    /// The pair ended before its term.
    End {
        pair: String,
        /// YYYY-MM-DD.
        #[arg(long)]
        on: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
}

/// What a programme says of itself.
#[derive(Debug, clap::Args)]
pub struct ProgrammeArgs {
    /// The organization that runs it (id or slug); not changed by update.
    #[arg(long, default_value = "")]
    owner: String,
    #[arg(long)]
    title: String,
    #[arg(long, value_enum, ignore_case = true)]
    form: MentoringForm,
    /// The form's name when it is `other`.
    #[arg(long, default_value = "")]
    form_label: String,
    /// A partner organization (id or slug). Repeat for more.
    #[arg(long)]
    partner: Vec<String>,
    /// The network agreement it runs under.
    #[arg(long, default_value = "")]
    agreement: String,
    /// The first day, YYYY-MM-DD.
    #[arg(long)]
    starts: String,
    /// The last day, YYYY-MM-DD.
    #[arg(long)]
    ends: String,
    #[arg(long, default_value = "")]
    goals: String,
    /// The coordinator's person id (`edufed member list` prints it).
    #[arg(long)]
    coordinator: String,
    /// A criterion of the monitoring card: "key;scale;title", e.g.
    /// "success;5;Профессиональная успешность". Repeat for more.
    #[arg(long)]
    criterion: Vec<String>,
}

impl ProgrammeArgs {
    fn details(&self) -> anyhow::Result<pb::MentoringProgrammeDetails> {
        let criteria = self
            .criterion
            .iter()
            .map(|raw| {
                let [key, scale, title] = parts::<3>("--criterion", raw)?;
                Ok(pb::MentoringCriterion {
                    key,
                    scale: scale
                        .parse()
                        .with_context(|| format!("--criterion {raw:?}: the scale is a number"))?,
                    title,
                })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(pb::MentoringProgrammeDetails {
            title: self.title.clone(),
            form: self.form.into(),
            form_label: self.form_label.clone(),
            partners: self.partner.clone(),
            agreement_id: self.agreement.clone(),
            starts_on: self.starts.clone(),
            ends_on: self.ends.clone(),
            goals: self.goals.clone(),
            coordinator_id: self.coordinator.clone(),
            criteria,
        })
    }
}

/// `raw` split on `;` into exactly `N` parts.
fn parts<const N: usize>(flag: &str, raw: &str) -> anyhow::Result<[String; N]> {
    let parts: Vec<String> = raw.split(';').map(|p| p.trim().to_owned()).collect();
    match <[String; N]>::try_from(parts) {
        Ok(parts) => Ok(parts),
        Err(_) => bail!("{flag} {raw:?}: expected {N} parts separated by \";\""),
    }
}

fn adult(flag: &str, raw: &str) -> anyhow::Result<pb::MentoringParticipant> {
    let [organization, name, position] = parts::<3>(flag, raw)?;
    Ok(pb::MentoringParticipant {
        kind: pb::MentoringParticipantKind::Adult.into(),
        organization,
        name,
        position,
        ..Default::default()
    })
}

fn pupil(flag: &str, raw: &str) -> anyhow::Result<pb::MentoringParticipant> {
    let [organization, code] = parts::<2>(flag, raw)?;
    Ok(pb::MentoringParticipant {
        kind: pb::MentoringParticipantKind::Pupil.into(),
        organization,
        code,
        ..Default::default()
    })
}

fn cohort(raw: &str) -> anyhow::Result<pb::MentoringParticipant> {
    let [organization, grades, headcount] = parts::<3>("--cohort", raw)?;
    let g = crate::activity::grades(&grades)?;
    Ok(pb::MentoringParticipant {
        kind: pb::MentoringParticipantKind::Cohort.into(),
        organization,
        min_grade: g.min,
        max_grade: g.max,
        headcount: headcount
            .parse()
            .with_context(|| format!("--cohort {raw:?}: the headcount is a number"))?,
        ..Default::default()
    })
}

fn who(p: &pb::MentoringParticipant, orgs: &str) -> String {
    match pb::MentoringParticipantKind::try_from(p.kind) {
        Ok(pb::MentoringParticipantKind::Cohort) => {
            format!(
                "{orgs}: {}, {}",
                ru().count("pupils", p.headcount.into()),
                ru().grades(p.min_grade, p.max_grade)
            )
        }
        Ok(pb::MentoringParticipantKind::Pupil) => format!("{orgs}: {}", p.code),
        _ => format!("{} ({}, {orgs})", p.name, p.position),
    }
}

async fn print_programmes(
    list: &[pb::MentoringProgramme],
    format: Format,
    zones: &mut Zones<'_>,
) -> anyhow::Result<()> {
    if format == Format::Json {
        return print_json(&pb::ListProgrammesResponse {
            programmes: list.to_vec(),
        });
    }
    let mut t = table(&[
        "title", "form", "owner", "partners", "term", "version", "id",
    ]);
    for p in list {
        let d = p.details.clone().unwrap_or_default();
        let mut partners = Vec::new();
        for partner in &d.partners {
            partners.push(zones.organization_name(partner).await);
        }
        let form = if d.form_label.is_empty() {
            named!(pb::MentoringForm, d.form)
        } else {
            d.form_label.clone()
        };
        t.add_row(vec![
            d.title,
            form,
            zones.organization_name(&p.owner_id).await,
            partners.join(", "),
            format!("{} – {}", d.starts_on, d.ends_on),
            p.version.to_string(),
            p.id.clone(),
        ]);
    }
    out!("{t}");
    Ok(())
}

async fn print_pairs(
    list: &[pb::MentoringPair],
    format: Format,
    zones: &mut Zones<'_>,
) -> anyhow::Result<()> {
    if format == Format::Json {
        return print_json(&pb::ListPairsResponse {
            pairs: list.to_vec(),
        });
    }
    let mut t = table(&[
        "mentor",
        "mentees",
        "state",
        "from",
        "to",
        "outcome",
        "checkpoints",
        "id",
    ]);
    for p in list {
        let (mentor, mentees) = if p.home_node.is_empty() {
            let mentor = match &p.mentor {
                Some(m) => who(m, &zones.organization_name(&m.organization).await),
                None => String::new(),
            };
            let mut mentees = Vec::new();
            for m in &p.mentees {
                mentees.push(who(m, &zones.organization_name(&m.organization).await));
            }
            (mentor, mentees)
        } else {
            // Kept on another node: its organizations and how many, as shared.
            let mut orgs = Vec::new();
            for org in &p.organization_ids {
                orgs.push(zones.organization_name(org).await);
            }
            let mentor = orgs.first().cloned().unwrap_or_default();
            let mentees = format!(
                "{}: {}",
                ru().count("pupils", p.headcount.into()),
                orgs.iter().skip(1).cloned().collect::<Vec<_>>().join(", ")
            );
            (mentor, vec![mentees])
        };
        let outcome = match &p.outcome {
            Some(o) => named!(pb::MentoringResult, o.result),
            None => p.reason.clone(),
        };
        t.add_row(vec![
            mentor,
            mentees.join("\n"),
            named!(pb::PairState, p.state),
            p.starts_on.clone(),
            p.ends_on.clone(),
            outcome,
            p.assessments.to_string(),
            p.id.clone(),
        ]);
    }
    out!("{t}");
    Ok(())
}

async fn print_figures(
    list: &[pb::TeacherFigures],
    format: Format,
    zones: &mut Zones<'_>,
) -> anyhow::Result<()> {
    if format == Format::Json {
        return print_json(&pb::ListTeacherFiguresResponse {
            figures: list.to_vec(),
        });
    }
    let mut t = table(&[
        "organization",
        "year",
        "teachers",
        "young",
        "КПК",
        "КПК hours",
        "internships",
        "seminars",
        "association",
        "growth system",
    ]);
    for f in list {
        t.add_row(vec![
            zones.organization_name(&f.organization).await,
            f.school_year.clone(),
            f.teachers.to_string(),
            f.young_teachers.to_string(),
            f.courses.to_string(),
            f.course_hours.to_string(),
            f.internships.to_string(),
            f.seminars.to_string(),
            f.association_members.to_string(),
            f.growth_system.to_string(),
        ]);
    }
    out!("{t}");
    Ok(())
}

/// Runs `edufed mentoring …`.
pub async fn mentoring(
    conn: Connection,
    command: MentoringCommand,
    format: Format,
) -> anyhow::Result<()> {
    let mut client = conn.mentoring();
    let mut zones = Zones::new(&conn);
    let pair = match command {
        MentoringCommand::Create(args) => {
            let programme = client
                .create_programme(pb::CreateProgrammeRequest {
                    owner: args.owner.clone(),
                    details: Some(args.details()?),
                })
                .await?
                .into_inner();
            return print_programmes(&[programme], format, &mut zones).await;
        }
        MentoringCommand::Update {
            programme,
            expected_version,
            details,
        } => {
            let programme = client
                .update_programme(pb::UpdateProgrammeRequest {
                    id: programme,
                    expected_version,
                    details: Some(details.details()?),
                })
                .await?
                .into_inner();
            return print_programmes(&[programme], format, &mut zones).await;
        }
        MentoringCommand::List { org } => {
            let list = client
                .list_programmes(pb::ListProgrammesRequest { organization: org })
                .await?
                .into_inner();
            return print_programmes(&list.programmes, format, &mut zones).await;
        }
        MentoringCommand::Register { programme } => {
            let list = client
                .list_pairs(pb::ListPairsRequest {
                    programme_id: programme,
                })
                .await?
                .into_inner();
            return print_pairs(&list.pairs, format, &mut zones).await;
        }
        MentoringCommand::Show { pair } => {
            let record = client
                .get_pair(pb::GetPairRequest { id: pair })
                .await?
                .into_inner();
            if format == Format::Json {
                return print_json(&record);
            }
            print_pairs(
                &record.pair.into_iter().collect::<Vec<_>>(),
                format,
                &mut zones,
            )
            .await?;
            let mut t = table(&["checkpoint", "on", "scores", "comment"]);
            for a in &record.assessments {
                let scores: Vec<String> = a
                    .scores
                    .iter()
                    .map(|s| format!("{}={}", s.criterion, s.value))
                    .collect();
                t.add_row(vec![
                    a.checkpoint.clone(),
                    a.on.clone(),
                    scores.join(", "),
                    a.comment.clone(),
                ]);
            }
            out!("{t}");
            return Ok(());
        }
        MentoringCommand::Pair {
            programme,
            mentor,
            mentor_pupil,
            colleague,
            cohort: cohorts,
            pupil: pupils,
            starts,
            ends,
        } => {
            let mentor = match (mentor, mentor_pupil) {
                (Some(raw), _) => adult("--mentor", &raw)?,
                (None, Some(raw)) => pupil("--mentor-pupil", &raw)?,
                (None, None) => bail!("name the mentor with --mentor or --mentor-pupil"),
            };
            let mut mentees = Vec::new();
            for raw in &colleague {
                mentees.push(adult("--colleague", raw)?);
            }
            for raw in &cohorts {
                mentees.push(cohort(raw)?);
            }
            for raw in &pupils {
                mentees.push(pupil("--pupil", raw)?);
            }
            client
                .add_pair(pb::AddPairRequest {
                    programme_id: programme,
                    mentor: Some(mentor),
                    mentees,
                    starts_on: starts,
                    ends_on: ends,
                })
                .await?
                .into_inner()
        }
        MentoringCommand::Start { pair, on } => client
            .start_pair(pb::StartPairRequest {
                id: pair,
                expected_version: 0,
                on,
            })
            .await?
            .into_inner(),
        MentoringCommand::Assess {
            pair,
            checkpoint,
            on,
            scores,
            comment,
        } => {
            let scores = scores
                .iter()
                .map(|raw| {
                    let (criterion, value) = raw
                        .split_once('=')
                        .with_context(|| format!("--score {raw:?}: expected key=value"))?;
                    Ok(pb::MentoringScore {
                        criterion: criterion.trim().to_owned(),
                        value: value
                            .trim()
                            .parse()
                            .with_context(|| format!("--score {raw:?}: the value is a number"))?,
                    })
                })
                .collect::<anyhow::Result<_>>()?;
            let assessment = client
                .assess_pair(pb::AssessPairRequest {
                    pair_id: pair.clone(),
                    checkpoint,
                    on,
                    scores,
                    comment,
                })
                .await?
                .into_inner();
            if format == Format::Json {
                return print_json(&assessment);
            }
            client
                .get_pair(pb::GetPairRequest { id: pair })
                .await?
                .into_inner()
                .pair
                .unwrap_or_default()
        }
        MentoringCommand::Complete {
            pair,
            on,
            result,
            comment,
            profile,
        } => client
            .close_pair(pb::ClosePairRequest {
                id: pair,
                state: pb::PairState::Completed.into(),
                on,
                outcome: Some(pb::MentoringOutcome {
                    result: result.into(),
                    comment,
                    profile,
                }),
                ..Default::default()
            })
            .await?
            .into_inner(),
        MentoringCommand::Teachers {
            org,
            year,
            teachers,
            young,
            courses,
            course_hours,
            internships,
            seminars,
            association,
            growth_system,
        } => {
            let stated = client
                .set_teacher_figures(pb::TeacherFigures {
                    organization: org,
                    school_year: year,
                    teachers,
                    young_teachers: young,
                    courses,
                    course_hours,
                    internships,
                    seminars,
                    association_members: association,
                    growth_system,
                    updated_at: None,
                })
                .await?
                .into_inner();
            return print_figures(&[stated], format, &mut zones).await;
        }
        MentoringCommand::TeachersList { org } => {
            let listed = client
                .list_teacher_figures(pb::ListTeacherFiguresRequest { organization: org })
                .await?
                .into_inner();
            return print_figures(&listed.figures, format, &mut zones).await;
        }
        MentoringCommand::End { pair, on, reason } => client
            .close_pair(pb::ClosePairRequest {
                id: pair,
                state: pb::PairState::EndedEarly.into(),
                on,
                reason,
                ..Default::default()
            })
            .await?
            .into_inner(),
    };
    print_pairs(&[pair], format, &mut zones).await
}
