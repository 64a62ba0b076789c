//! `edufed registration …`: cohorts registered for activities.

use clap::Subcommand;
use edufed_proto::v1 as pb;

use edufed_i18n::ru;

use crate::activity::grades;
use crate::client::Connection;
use crate::output::out;
use crate::output::{Format, instant, named, print_json, table, time};
use crate::zones::Zones;

/// `edufed registration …`
#[derive(Debug, Subcommand)]
pub enum RegistrationCommand {
    /// Register a cohort: confirmed if seats allow, else waitlisted.
    Create {
        /// The activity's id, as `activity list` prints it.
        #[arg(long)]
        activity: String,
        /// The registering organization (id or slug).
        #[arg(long)]
        org: String,
        /// The group's grades, e.g. 9 or 9-10 (a group of students).
        #[arg(
            long,
            required_unless_present = "teachers",
            conflicts_with = "teachers"
        )]
        grades: Option<String>,
        /// A group of teachers (for a seminar, a round table, an internship
        /// for teachers): no grades.
        #[arg(long)]
        teachers: bool,
        /// How many people come, 1 to 1000.
        #[arg(long)]
        headcount: u32,
        /// The responsible teacher's name.
        #[arg(long)]
        teacher: String,
        /// The teacher's e-mail or phone.
        #[arg(long, default_value = "")]
        contact: String,
        /// One occurrence's original start [default: the whole series].
        #[arg(long)]
        occurrence: Option<String>,
        /// The venue's number, for an activity held at several.
        #[arg(long, default_value_t = 0)]
        venue: u32,
    },
    /// Withdraw a registration.
    Withdraw {
        /// The registration's id, as `registration list` prints it.
        registration: String,
    },
    /// Change a registration's headcount.
    Headcount {
        /// The registration's id, as `registration list` prints it.
        registration: String,
        /// How many students come now, 1 to 1000.
        headcount: u32,
    },
    /// List an activity's registrations you may see.
    List {
        /// The activity's id, as `activity list` prints it.
        #[arg(long)]
        activity: String,
    },
}

pub(crate) async fn print_registrations(
    list: &[pb::Registration],
    format: Format,
    zones: &mut Zones<'_>,
) -> anyhow::Result<()> {
    if format == Format::Json {
        return print_json(&pb::ListRegistrationsResponse {
            registrations: list.to_vec(),
        });
    }
    let mut t = table(&[
        "#",
        "state",
        "organization",
        "grades",
        "headcount",
        "teacher",
        "occurrence",
        "results",
        "id",
    ]);
    for r in list {
        let c = r.cohort.clone().unwrap_or_default();
        let grades_label = match c.grades {
            None => ru().text("activity-teachers-group"),
            Some(g) if g.min == g.max => g.min.to_string(),
            Some(g) => format!("{}–{}", g.min, g.max),
        };
        let results = r
            .results
            .map(|x| {
                format!(
                    "{} came, {} winners, {} prize-winners",
                    x.attended, x.winners, x.prize_winners
                )
            })
            .unwrap_or_default();
        let occurrence = match &r.occurrence_start {
            Some(start) => time(Some(start), zones.activity(&r.activity_id).await),
            None => ru().text("activity-whole-series"),
        };
        t.add_row(vec![
            r.position.to_string(),
            named!(pb::RegistrationState, r.state),
            zones.organization_name(&c.organization).await,
            grades_label,
            c.headcount.to_string(),
            c.teacher,
            occurrence,
            results,
            r.id.clone(),
        ]);
    }
    out!("{t}");
    Ok(())
}

/// Runs `edufed registration …`.
pub async fn registration(
    conn: Connection,
    command: RegistrationCommand,
    format: Format,
) -> anyhow::Result<()> {
    let mut cal = conn.calendar();
    let r = match command {
        RegistrationCommand::Create {
            activity,
            org,
            grades: g,
            teachers,
            headcount,
            teacher,
            contact,
            occurrence,
            venue,
        } => cal
            .register(pb::RegisterRequest {
                activity_id: activity,
                venue,
                occurrence_start: occurrence.as_deref().map(instant).transpose()?,
                cohort: Some(pb::Cohort {
                    organization: org,
                    grades: g.as_deref().map(grades).transpose()?,
                    headcount,
                    teacher,
                    teacher_contact: contact,
                    teachers,
                }),
            })
            .await?
            .into_inner(),
        RegistrationCommand::Withdraw { registration } => cal
            .withdraw(pb::WithdrawRequest {
                registration_id: registration,
            })
            .await?
            .into_inner(),
        RegistrationCommand::Headcount {
            registration,
            headcount,
        } => cal
            .change_headcount(pb::ChangeHeadcountRequest {
                registration_id: registration,
                headcount,
            })
            .await?
            .into_inner(),
        RegistrationCommand::List { activity } => {
            let list = cal
                .list_registrations(pb::ListRegistrationsRequest {
                    activity_id: activity,
                })
                .await?
                .into_inner();
            return print_registrations(&list.registrations, format, &mut Zones::new(&conn)).await;
        }
    };
    print_registrations(&[r], format, &mut Zones::new(&conn)).await
}
