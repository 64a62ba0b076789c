//! `edufed ics …`: the iCalendar feeds of the network's calendar.

use clap::Subcommand;
use edufed_proto::v1 as pb;

use crate::client::Connection;
use crate::output::out;
use crate::values::{ActivityFormat, ActivityKind, Direction};

/// `edufed ics url`
#[derive(Debug, Subcommand)]
pub enum IcsCommand {
    /// Print the URLs of a feed to subscribe to from a calendar app.
    Url {
        /// One organization's activities (id or slug).
        #[arg(long, default_value = "")]
        org: String,
        /// Only this activity (its id).
        #[arg(long, default_value = "")]
        activity: String,
        /// Only for this grade.
        #[arg(long, default_value_t = 0)]
        grade: u32,
        /// Only this kind.
        #[arg(long, value_enum, ignore_case = true)]
        kind: Option<ActivityKind>,
        /// Only this direction.
        #[arg(long, value_enum, ignore_case = true)]
        direction: Option<Direction>,
        /// Only activities with this subject tag, e.g. физика.
        #[arg(long, default_value = "")]
        subject: String,
        /// Only this format.
        #[arg(long, value_enum, ignore_case = true)]
        format: Option<ActivityFormat>,
        /// A learning route's items instead (its id; private only).
        #[arg(long, default_value = "")]
        route: String,
    },
}

/// Runs `edufed ics …`.
pub async fn ics(conn: Connection, server: &str, command: IcsCommand) -> anyhow::Result<()> {
    let IcsCommand::Url {
        org,
        activity,
        grade,
        kind: k,
        direction: d,
        subject,
        format: f,
        route,
    } = command;
    let urls = conn
        .calendar()
        .get_feed_urls(pb::GetFeedUrlsRequest {
            organization: org,
            activity_id: activity,
            grade,
            kind: k.map_or(0, i32::from),
            direction: d.map_or(0, i32::from),
            subject,
            format: f.map_or(0, i32::from),
            route_id: route,
        })
        .await?
        .into_inner();
    let base = server.trim_end_matches('/');
    if !urls.public_path.is_empty() {
        out!("public:  {base}{}", urls.public_path);
    }
    out!(
        "private: {base}{}   (keep it secret: it shows what your token may see)",
        urls.private_path
    );
    Ok(())
}
