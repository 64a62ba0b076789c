//! `edufed designation …`: an organization's standing in the network
//! (resource centre, base site, innovation site), stated by its admins and
//! shared with the network.

use clap::{Args, Subcommand};
use edufed_proto::v1 as pb;

use crate::client::Connection;
use crate::output::out;
use crate::output::{Format, named, print_json, table};
use crate::values::proto_enum;
use crate::zones::Zones;

proto_enum! {
    /// What standing an organization has.
    DesignationKind => DesignationKind {
        /// A resource centre for a direction.
        #[value(alias = "resource-centre")]
        ResourceCentre,
        /// A base site of an olympiad or a programme.
        #[value(alias = "base-site")]
        BaseSite,
        /// An innovation, experimental or network site.
        #[value(alias = "innovation-site")]
        InnovationSite,
    }
}

proto_enum! {
    /// Whose site it is.
    DesignationLevel => DesignationLevel {
        International,
        Federal,
        Regional,
        Municipal,
    }
}

/// What an organization states about a designation.
#[derive(Debug, Args)]
pub struct DetailsArgs {
    #[arg(long, value_enum, ignore_case = true)]
    kind: DesignationKind,
    /// The direction («Робототехника»), the olympiad or programme
    /// («Звезда»), or the project of an innovation site.
    #[arg(long)]
    field: String,
    /// Required for an innovation site.
    #[arg(long, value_enum, ignore_case = true)]
    level: Option<DesignationLevel>,
    /// Who issued the document (order, agreement, certificate).
    #[arg(long, default_value = "")]
    issuer: String,
    /// The document's number, e.g. «№568-р».
    #[arg(long, default_value = "")]
    number: String,
    /// The document's date, YYYY-MM-DD.
    #[arg(long, default_value = "")]
    document_date: String,
    /// The term's first day, YYYY-MM-DD.
    #[arg(long, default_value = "")]
    from: String,
    /// The term's last day, YYYY-MM-DD.
    #[arg(long, default_value = "")]
    until: String,
    /// Teachers taking part.
    #[arg(long)]
    teachers: Option<u32>,
    /// Pupils taking part.
    #[arg(long)]
    pupils: Option<u32>,
}

impl DetailsArgs {
    fn proto(self) -> pb::DesignationDetails {
        let document =
            !(self.issuer.is_empty() && self.number.is_empty() && self.document_date.is_empty());
        pb::DesignationDetails {
            kind: self.kind.into(),
            field: self.field,
            level: self.level.map_or(0, i32::from),
            document: document.then_some(pb::DesignationDocument {
                issuer: self.issuer,
                number: self.number,
                date: self.document_date,
            }),
            valid_from: self.from,
            valid_until: self.until,
            teachers: self.teachers,
            pupils: self.pupils,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum DesignationCommand {
    /// State a designation of an organization of this node (its admins).
    Add {
        /// The organization (id or slug).
        #[arg(long = "org")]
        organization: String,
        #[command(flatten)]
        details: DetailsArgs,
    },
    /// Replace a designation's details.
    Change {
        designation: String,
        #[command(flatten)]
        details: DetailsArgs,
    },
    /// Remove a designation.
    Remove { designation: String },
    /// Designations here and on peers.
    List {
        /// Only this organization's (id or slug).
        #[arg(long = "org", default_value = "")]
        organization: String,
        #[arg(long, value_enum, ignore_case = true)]
        kind: Option<DesignationKind>,
        /// Only those whose field contains this (with --kind).
        #[arg(long, default_value = "")]
        field: String,
        /// Only those standing on this day, YYYY-MM-DD.
        #[arg(long, default_value = "")]
        on: String,
    },
}

/// Runs `edufed designation …`.
pub async fn designation(
    conn: Connection,
    command: DesignationCommand,
    format: Format,
) -> anyhow::Result<()> {
    let mut client = conn.designations();
    let mut zones = Zones::new(&conn);
    let list = match command {
        DesignationCommand::Add {
            organization,
            details,
        } => pb::ListDesignationsResponse {
            designations: vec![
                client
                    .add_designation(pb::AddDesignationRequest {
                        organization,
                        details: Some(details.proto()),
                    })
                    .await?
                    .into_inner(),
            ],
        },
        DesignationCommand::Change {
            designation,
            details,
        } => pb::ListDesignationsResponse {
            designations: vec![
                client
                    .change_designation(pb::ChangeDesignationRequest {
                        id: designation,
                        expected_version: 0,
                        details: Some(details.proto()),
                    })
                    .await?
                    .into_inner(),
            ],
        },
        DesignationCommand::Remove { designation } => pb::ListDesignationsResponse {
            designations: vec![
                client
                    .remove_designation(pb::RemoveDesignationRequest {
                        id: designation,
                        expected_version: 0,
                    })
                    .await?
                    .into_inner(),
            ],
        },
        DesignationCommand::List {
            organization,
            kind,
            field,
            on,
        } => client
            .list_designations(pb::ListDesignationsRequest {
                organization,
                kind: kind.map_or(0, i32::from),
                field,
                on,
            })
            .await?
            .into_inner(),
    };
    if format == Format::Json {
        return print_json(&list);
    }
    let mut t = table(&[
        "organization",
        "kind",
        "field",
        "level",
        "document",
        "term",
        "teachers",
        "pupils",
        "id",
    ]);
    for d in &list.designations {
        let x = d.details.clone().unwrap_or_default();
        let document = x
            .document
            .map(|doc| {
                [doc.issuer, doc.number, doc.date]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default();
        let count = |n: Option<u32>| n.map(|n| n.to_string()).unwrap_or_default();
        t.add_row(vec![
            zones.organization_name(&d.organization_id).await,
            named!(pb::DesignationKind, x.kind),
            x.field,
            if x.level == 0 {
                String::new()
            } else {
                named!(pb::DesignationLevel, x.level)
            },
            document,
            format!("{} – {}", x.valid_from, x.valid_until)
                .trim_matches([' ', '–'])
                .to_owned(),
            count(x.teachers),
            count(x.pupils),
            d.id.clone(),
        ]);
    }
    out!("{t}");
    Ok(())
}
