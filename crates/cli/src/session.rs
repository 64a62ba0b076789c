//! `edufed login-link` and `edufed session …`: how people get into the web
//! console, and how they leave it.

use clap::{Args, Subcommand};
use edufed_proto::v1 as pb;

use crate::client::Connection;
use crate::directory::parse_ttl;
use crate::output::out;
use crate::output::{Format, named, print_json, table, time};
use crate::zones::Zones;

/// `edufed login-link`.
#[derive(Debug, Args)]
pub struct LoginLinkArgs {
    /// The id of the person it signs in, as `member list` prints it
    /// [default: you].
    #[arg(long, default_value = "")]
    person: String,
    /// How long it works if unused: a number with s, m, h or d, from 1m to
    /// 3d [default: 15m].
    #[arg(long, value_parser = parse_ttl)]
    ttl: Option<prost_types::Duration>,
    /// Issue an invitation instead: it binds the account that signs in
    /// with it through the node's identity provider to the person, and
    /// starts no session itself.
    #[arg(long)]
    invitation: bool,
}

/// `edufed session …`.
#[derive(Debug, Subcommand)]
pub enum SessionCommand {
    /// List a person's console sessions, newest first.
    List {
        /// Whose sessions [default: yours].
        #[arg(long, default_value = "")]
        person: String,
    },
    /// End a console session at once.
    End {
        /// The session's id, as `session list` prints it.
        session_id: String,
    },
}

/// Runs `edufed login-link`.
pub async fn login_link(
    conn: Connection,
    args: LoginLinkArgs,
    format: Format,
) -> anyhow::Result<()> {
    let link = conn
        .directory()
        .create_sign_in_link(pb::CreateSignInLinkRequest {
            person_id: args.person,
            ttl: args.ttl,
            invitation: args.invitation,
        })
        .await?
        .into_inner();
    if format == Format::Json {
        return print_json(&link);
    }
    out!(
        "{} for person {}, one use, until {}:",
        if args.invitation {
            "invitation"
        } else {
            "sign-in link"
        },
        link.person_id,
        time(link.expire_time.as_ref(), Zones::new(&conn).caller().await)
    );
    out!("{}", link.url);
    Ok(())
}

/// Runs `edufed session …`.
pub async fn session(
    conn: Connection,
    command: SessionCommand,
    format: Format,
) -> anyhow::Result<()> {
    let mut client = conn.directory();
    match command {
        SessionCommand::List { person } => {
            let response = client
                .list_sessions(pb::ListSessionsRequest { person_id: person })
                .await?
                .into_inner();
            if format == Format::Json {
                return print_json(&response);
            }
            let zone = Zones::new(&conn).caller().await;
            let mut t = table(&["id", "state", "browser", "started", "last seen", "ends"]);
            for s in &response.sessions {
                t.add_row(vec![
                    s.id.clone(),
                    state(s),
                    s.user_agent.clone(),
                    time(s.start_time.as_ref(), zone),
                    time(s.last_seen_time.as_ref(), zone),
                    time(s.end_time.as_ref().or(s.expire_time.as_ref()), zone),
                ]);
            }
            out!("{t}");
        }
        SessionCommand::End { session_id } => {
            let ended = client
                .end_session(pb::EndSessionRequest { session_id })
                .await?
                .into_inner();
            if format == Format::Json {
                return print_json(&ended);
            }
            out!("ended session {} ({})", ended.id, ended.user_agent);
        }
    }
    Ok(())
}

/// A session's state as the console names it: how it ended, or whether it
/// is active or expired.
fn state(session: &pb::Session) -> String {
    use pb::SessionEndReason as R;
    match R::try_from(session.end_reason).unwrap_or(R::Unspecified) {
        R::Unspecified if session.active => edufed_i18n::ru().text("session-active"),
        R::Unspecified => edufed_i18n::ru().text("session-expired"),
        _ => named!(pb::SessionEndReason, session.end_reason),
    }
}
