//! `edufed trial …`: the network's bank of professional trials: a host
//! prepares and submits a programme, a methodical centre reviews it, and
//! schools find the approved ones.

use clap::{Args, Subcommand};
use edufed_proto::v1 as pb;

use crate::activity::grades;
use crate::client::Connection;
use crate::output::out;
use crate::output::{Format, named, print_json, table};
use crate::values::{Direction, proto_enum};
use crate::zones::Zones;

proto_enum! {
    /// What a reviewer decides.
    ReviewDecision => ReviewDecision {
        /// Into the bank.
        Approve,
        /// Back to the host with comments, to revise.
        Return,
        /// Out, with the reason.
        Refuse,
    }
}

proto_enum! {
    /// Where a trial is in its review.
    TrialState => TrialState {
        Draft,
        Submitted,
        Returned,
        Approved,
        Refused,
        Withdrawn,
    }
}

/// A trial's programme, as a host writes it.
#[derive(Debug, Args)]
pub struct ProgrammeArgs {
    /// The profession or field, e.g. «Повар-кондитер».
    #[arg(long)]
    profession: String,
    /// The network's line of work it belongs to.
    #[arg(long, value_enum, ignore_case = true)]
    direction: Option<Direction>,
    /// What the pupils learn of the profession.
    #[arg(long, default_value = "")]
    goals: String,
    /// What they do, session by session.
    #[arg(long)]
    content: String,
    /// Hours in all, 1 to 400.
    #[arg(long)]
    hours: u32,
    /// How long it runs, 1 to 13 weeks.
    #[arg(long)]
    weeks: u32,
    /// Pupils' grades, e.g. 7-8.
    #[arg(long)]
    grades: String,
    /// Pupils one session takes, 1 to 500.
    #[arg(long)]
    workplaces: u32,
    /// The person who answers for it at the host.
    #[arg(long)]
    responsible: String,
    /// Their position.
    #[arg(long, default_value = "")]
    position: String,
    /// Their e-mail or phone.
    #[arg(long, default_value = "")]
    contact: String,
    /// Safety requirements.
    #[arg(long, default_value = "")]
    safety: String,
}

impl ProgrammeArgs {
    fn proto(&self) -> anyhow::Result<pb::TrialProgramme> {
        Ok(pb::TrialProgramme {
            profession: self.profession.clone(),
            direction: self.direction.map_or(0, i32::from),
            goals: self.goals.clone(),
            content: self.content.clone(),
            hours: self.hours,
            weeks: self.weeks,
            grades: Some(grades(&self.grades)?),
            workplaces: self.workplaces,
            responsible: Some(pb::TrialResponsible {
                name: self.responsible.clone(),
                position: self.position.clone(),
                contact: self.contact.clone(),
            }),
            safety: self.safety.clone(),
        })
    }
}

/// `edufed trial …`
#[derive(Debug, Subcommand)]
pub enum TrialCommand {
    /// Prepare a draft trial of a host hosted on the node.
    Create {
        /// The host (id or slug).
        #[arg(long)]
        host: String,
        #[command(flatten)]
        programme: ProgrammeArgs,
    },
    /// Replace a trial's programme (a new revision once returned or approved).
    Revise {
        trial: String,
        #[command(flatten)]
        programme: ProgrammeArgs,
    },
    /// Submit a draft or returned trial for review.
    Submit { trial: String },
    /// Approve, return or refuse a submitted trial (a methodical centre).
    Review {
        trial: String,
        #[arg(long, value_enum, ignore_case = true)]
        decision: ReviewDecision,
        /// What to change, or why it is refused (required to return or refuse).
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// Take a trial back.
    Withdraw { trial: String },
    /// One trial with its reviews.
    Show { trial: String },
    /// The bank: approved trials here and on peers, and those you prepare
    /// or review.
    List {
        /// Only this host's (id or slug).
        #[arg(long, default_value = "")]
        host: String,
        #[arg(long, value_enum, ignore_case = true)]
        direction: Option<Direction>,
        /// Only trials for this grade.
        #[arg(long, default_value_t = 0)]
        grade: u32,
        #[arg(long, value_enum, ignore_case = true)]
        state: Option<TrialState>,
        /// Text in the profession, goals or content.
        #[arg(long, short = 'q', default_value = "")]
        query: String,
    },
}

/// Runs `edufed trial …`.
pub async fn trial(conn: Connection, command: TrialCommand, format: Format) -> anyhow::Result<()> {
    let mut client = conn.trials();
    let mut zones = Zones::new(&conn);
    let step = |trial: String| pb::TrialStepRequest {
        id: trial,
        expected_version: 0,
    };
    let one = match command {
        TrialCommand::Create { host, programme } => client
            .create_trial(pb::CreateTrialRequest {
                host,
                programme: Some(programme.proto()?),
            })
            .await?
            .into_inner(),
        TrialCommand::Revise { trial, programme } => client
            .revise_trial(pb::ReviseTrialRequest {
                id: trial,
                expected_version: 0,
                programme: Some(programme.proto()?),
            })
            .await?
            .into_inner(),
        TrialCommand::Submit { trial } => client.submit_trial(step(trial)).await?.into_inner(),
        TrialCommand::Withdraw { trial } => client.withdraw_trial(step(trial)).await?.into_inner(),
        TrialCommand::Review {
            trial,
            decision,
            comment,
        } => client
            .review_trial(pb::ReviewTrialRequest {
                id: trial,
                expected_version: 0,
                decision: decision.into(),
                comment,
            })
            .await?
            .into_inner(),
        TrialCommand::Show { trial } => client
            .get_trial(pb::GetTrialRequest { id: trial })
            .await?
            .into_inner(),
        TrialCommand::List {
            host,
            direction,
            grade,
            state,
            query,
        } => {
            let listed = client
                .list_trials(pb::ListTrialsRequest {
                    host,
                    direction: direction.map_or(0, i32::from),
                    grade,
                    state: state.map_or(0, i32::from),
                    query,
                })
                .await?
                .into_inner();
            return print_trials(&listed, format, &mut zones).await;
        }
    };
    if format == Format::Json {
        return print_json(&one);
    }
    print_trials(
        &pb::ListTrialsResponse {
            trials: vec![one.clone()],
        },
        format,
        &mut zones,
    )
    .await?;
    for review in &one.reviews {
        out!(
            "  revision {}: {}{}",
            review.revision,
            named!(pb::ReviewDecision, review.decision),
            if review.comment.is_empty() {
                String::new()
            } else {
                format!(" — {}", review.comment)
            }
        );
    }
    Ok(())
}

async fn print_trials(
    list: &pb::ListTrialsResponse,
    format: Format,
    zones: &mut Zones<'_>,
) -> anyhow::Result<()> {
    if format == Format::Json {
        return print_json(list);
    }
    let mut t = table(&[
        "profession",
        "host",
        "grades",
        "hours",
        "weeks",
        "workplaces",
        "state",
        "revision",
        "id",
    ]);
    for trial in &list.trials {
        let p = trial.programme.clone().unwrap_or_default();
        let g = p.grades.unwrap_or_default();
        t.add_row(vec![
            p.profession,
            zones.organization_name(&trial.host_id).await,
            format!("{}–{}", g.min, g.max),
            p.hours.to_string(),
            p.weeks.to_string(),
            p.workplaces.to_string(),
            named!(pb::TrialState, trial.state),
            trial.revision.to_string(),
            trial.id.clone(),
        ]);
    }
    out!("{t}");
    Ok(())
}
