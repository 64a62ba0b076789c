//! `edufed privacy …`: the register of the node's personal data, and a
//! person's erasure on request.

use clap::Subcommand;
use edufed_proto::v1 as pb;

use crate::client::Connection;
use crate::output::out;
use crate::output::{Format, print_json, table};

#[derive(Debug, Subcommand)]
pub enum PrivacyCommand {
    /// What personal data the node keeps, why, for how long, and in how
    /// many records now: for the notification to the regulator (operator
    /// only).
    Register,
    /// Erase a person's personal data on their request (an admin of every
    /// organization they belong to, or the operator). It cannot be undone.
    Erase {
        /// The person's id.
        person: String,
        /// Confirm: the erasure cannot be undone.
        #[arg(long)]
        yes: bool,
    },
}

/// Runs `edufed privacy …`.
pub async fn privacy(
    conn: Connection,
    command: PrivacyCommand,
    format: Format,
) -> anyhow::Result<()> {
    let mut client = conn.privacy();
    match command {
        PrivacyCommand::Register => {
            let register = client
                .get_register(pb::GetRegisterRequest {})
                .await?
                .into_inner();
            if format == Format::Json {
                return print_json(&register);
            }
            let mut t = table(&[
                "data",
                "whose",
                "what",
                "why",
                "ground",
                "shared with",
                "kept",
                "records",
            ]);
            for e in register.entries {
                t.add_row(vec![
                    e.key,
                    e.subjects,
                    e.data,
                    e.purpose,
                    e.basis,
                    e.shared_with,
                    e.retention,
                    e.records.to_string(),
                ]);
            }
            out!("{t}");
        }
        PrivacyCommand::Erase { person, yes } => {
            anyhow::ensure!(
                yes,
                "erasing {person}'s personal data cannot be undone; add --yes to confirm"
            );
            let erased = client
                .erase_person(pb::ErasePersonRequest {
                    person_id: person.clone(),
                })
                .await?
                .into_inner();
            if format == Format::Json {
                return print_json(&erased);
            }
            out!(
                "erased {person}: named by the role on {} activities and {} registrations; \
                 left {} organizations; {} tokens, sessions and accounts ended; {} other records \
                 deleted; peers are told",
                erased.activities,
                erased.registrations,
                erased.memberships,
                erased.credentials,
                erased.records
            );
        }
    }
    Ok(())
}
