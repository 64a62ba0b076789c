//! `edufed growth …`: a teacher's professional growth recorded by person,
//! once they agreed; kept on their organization's node only.

use clap::Subcommand;
use edufed_proto::v1 as pb;

use crate::client::Connection;
use crate::output::out;
use crate::output::{Format, named, print_json, table};
use crate::values::proto_enum;
use crate::zones::Zones;

proto_enum! {
    /// What a growth record is of.
    GrowthKind => GrowthKind {
        /// A qualification course (КПК), with its hours.
        Course,
        /// An internship (стажировка).
        Internship,
        /// A seminar, round table or conference of the network.
        Seminar,
        /// Membership of a mentors' association.
        Association,
        /// Entry into the national system of professional growth.
        #[value(alias = "growth-system")]
        GrowthSystem,
    }
}

/// `edufed growth …`
#[derive(Debug, Subcommand)]
pub enum GrowthCommand {
    /// Agree to have your own growth recorded by person in one of your
    /// organizations.
    Consent {
        /// The organization (id or slug).
        #[arg(long)]
        org: String,
    },
    /// No longer agree: your records there are erased.
    Withdraw {
        /// The organization (id or slug).
        #[arg(long)]
        org: String,
    },
    /// Record a course, an internship, a seminar, an association or the
    /// national growth system, for yourself or (as an admin or coordinator)
    /// for a teacher who agreed.
    Record {
        /// The organization (id or slug).
        #[arg(long)]
        org: String,
        /// The teacher's person id; yourself when left out.
        #[arg(long, default_value = "")]
        person: String,
        #[arg(long, value_enum, ignore_case = true)]
        kind: GrowthKind,
        /// The course's, internship's, seminar's or association's name.
        #[arg(long)]
        title: String,
        /// When completed, attended or joined, e.g. 2025-11-20.
        #[arg(long)]
        on: String,
        /// A course's hours (required for a course), an internship's.
        #[arg(long, default_value_t = 0)]
        hours: u32,
    },
    /// An organization's records: one teacher's, or (as an admin or
    /// coordinator) everyone's, with who agreed.
    List {
        /// The organization (id or slug).
        #[arg(long)]
        org: String,
        /// Only this teacher's (person id).
        #[arg(long, default_value = "")]
        person: String,
    },
    /// Delete a record.
    Delete {
        /// The record's id.
        id: String,
    },
}

/// Runs `edufed growth …`.
pub async fn growth(
    conn: Connection,
    command: GrowthCommand,
    format: Format,
) -> anyhow::Result<()> {
    let mut client = conn.mentoring();
    let mut zones = Zones::new(&conn);
    match command {
        GrowthCommand::Consent { org } => consent(&mut client, org, true, format).await,
        GrowthCommand::Withdraw { org } => consent(&mut client, org, false, format).await,
        GrowthCommand::Record {
            org,
            person,
            kind,
            title,
            on,
            hours,
        } => {
            let record = client
                .record_growth(pb::RecordGrowthRequest {
                    organization: org,
                    person_id: person,
                    kind: kind.into(),
                    title,
                    on,
                    hours,
                })
                .await?
                .into_inner();
            print_records(
                &pb::ListGrowthResponse {
                    records: vec![record],
                    consents: Vec::new(),
                },
                format,
                &mut zones,
            )
            .await
        }
        GrowthCommand::List { org, person } => {
            let listed = client
                .list_growth(pb::ListGrowthRequest {
                    organization: org,
                    person_id: person,
                })
                .await?
                .into_inner();
            print_records(&listed, format, &mut zones).await
        }
        GrowthCommand::Delete { id } => {
            client
                .delete_growth(pb::DeleteGrowthRequest { id: id.clone() })
                .await?;
            out!("growth record {id} deleted");
            Ok(())
        }
    }
}

/// Gives or withdraws the caller's agreement in `org`.
async fn consent(
    client: &mut pb::mentoring_client::MentoringClient<crate::client::Authed>,
    org: String,
    given: bool,
    format: Format,
) -> anyhow::Result<()> {
    let answer = client
        .set_growth_consent(pb::SetGrowthConsentRequest {
            organization: org.clone(),
            given,
        })
        .await?
        .into_inner();
    if format == Format::Json {
        return print_json(&answer);
    }
    if given {
        out!("you agreed to have your growth recorded by person in {org}");
    } else {
        out!("you no longer agree; your growth records in {org} are erased");
    }
    Ok(())
}

async fn print_records(
    list: &pb::ListGrowthResponse,
    format: Format,
    zones: &mut Zones<'_>,
) -> anyhow::Result<()> {
    if format == Format::Json {
        return print_json(list);
    }
    let mut t = table(&[
        "on",
        "kind",
        "title",
        "hours",
        "organization",
        "person",
        "id",
    ]);
    for r in &list.records {
        t.add_row(vec![
            r.on.clone(),
            named!(pb::GrowthKind, r.kind),
            r.title.clone(),
            if r.hours == 0 {
                String::new()
            } else {
                r.hours.to_string()
            },
            zones.organization_name(&r.organization_id).await,
            r.person_id.clone(),
            r.id.clone(),
        ]);
    }
    out!("{t}");
    if !list.consents.is_empty() {
        out!(
            "  agreed to records by person: {}",
            list.consents
                .iter()
                .map(|c| c.person_id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}
