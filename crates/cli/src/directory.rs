//! `edufed org|member|token|whoami`.

use anyhow::bail;
use chrono_tz::Tz;
use clap::Subcommand;
use edufed_proto::v1 as pb;

use crate::client::Connection;
use crate::output::out;
use crate::output::{Format, named, print_json, table, time};
use crate::values::{OrganizationKind, Role};
use crate::zones::{self, Zones};

/// `edufed org …`
#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organization (node operator only).
    Create {
        /// Unique slug, e.g. gym24-tomsk.
        #[arg(long)]
        slug: String,
        /// What the organization is.
        #[arg(long, value_enum, ignore_case = true)]
        kind: OrganizationKind,
        /// Full official name.
        #[arg(long)]
        full_name: String,
        /// The name lists and tables show, e.g. Гимназия №24.
        #[arg(long)]
        short_name: String,
        /// The city it is in, e.g. Томск; `org list --city` filters by it.
        #[arg(long)]
        city: String,
        /// IANA time zone, e.g. Asia/Tomsk.
        #[arg(long)]
        time_zone: String,
        #[command(flatten)]
        contacts: ContactArgs,
        /// Taxpayer number (ИНН).
        #[arg(long, default_value = "")]
        inn: String,
    },
    /// List organizations.
    List {
        /// Only this kind.
        #[arg(long, value_enum, ignore_case = true)]
        kind: Option<OrganizationKind>,
        /// Only this city.
        #[arg(long, default_value = "")]
        city: String,
        /// Only names containing this text.
        #[arg(long, short = 'q', default_value = "")]
        query: String,
        /// Only those with a designation of this kind standing today.
        #[arg(long, value_enum, ignore_case = true)]
        designation: Option<crate::designation::DesignationKind>,
        /// With --designation: only those whose designation's direction or
        /// programme contains this («робототехника»).
        #[arg(long, default_value = "")]
        designation_field: String,
        /// Organizations per page (1–500).
        #[arg(long, default_value_t = 100)]
        page_size: u32,
        /// Fetch every page, not just the first.
        #[arg(long)]
        all: bool,
    },
    /// Show one organization by id or slug.
    Show {
        /// The organization's id or slug.
        organization: String,
    },
    /// Change an organization's fields.
    Update {
        /// The organization's id or slug.
        organization: String,
        /// Apply only if the organization is still at this version.
        #[arg(long, default_value_t = 0)]
        expected_version: u64,
        /// What the organization now is.
        #[arg(long, value_enum, ignore_case = true)]
        kind: Option<OrganizationKind>,
        /// The new full official name.
        #[arg(long)]
        full_name: Option<String>,
        /// The new name lists and tables show.
        #[arg(long)]
        short_name: Option<String>,
        /// The city it is now in; `org list --city` filters by it.
        #[arg(long)]
        city: Option<String>,
        /// New IANA time zone, e.g. Asia/Yekaterinburg.
        #[arg(long)]
        time_zone: Option<String>,
        /// New taxpayer number; "" removes it.
        #[arg(long)]
        inn: Option<String>,
        /// Replace the contacts with the ones given.
        #[arg(long)]
        replace_contacts: bool,
        #[command(flatten)]
        contacts: ContactArgs,
    },
}

/// Contact flags.
#[derive(Debug, Clone, clap::Args)]
pub struct ContactArgs {
    /// Public contact e-mail, shown by `org show`.
    #[arg(long, default_value = "")]
    email: String,
    /// Public contact phone, shown by `org show`.
    #[arg(long, default_value = "")]
    phone: String,
    /// Its web site, e.g. https://gym24.tomsk.ru.
    #[arg(long, default_value = "")]
    website: String,
    /// Postal address, e.g. Белозерская ул., 12/1, Томск, 634003.
    #[arg(long, default_value = "")]
    address: String,
}

impl ContactArgs {
    fn to_proto(&self) -> pb::Contacts {
        pb::Contacts {
            email: self.email.clone(),
            phone: self.phone.clone(),
            website: self.website.clone(),
            address: self.address.clone(),
        }
    }
}

fn kind_name(raw: i32) -> String {
    named!(pb::OrganizationKind, raw)
}

fn role_name(raw: i32) -> String {
    named!(pb::Role, raw)
}

fn print_org(org: &pb::Organization, format: Format) -> anyhow::Result<()> {
    if format == Format::Json {
        return print_json(org);
    }
    let contacts = org.contacts.clone().unwrap_or_default();
    let zone = zones::parse(&org.time_zone);
    let mut t = table(&["field", "value"]);
    for (k, v) in [
        ("id", org.id.clone()),
        ("slug", org.slug.clone()),
        ("kind", kind_name(org.kind)),
        ("full name", org.full_name.clone()),
        ("short name", org.short_name.clone()),
        ("city", org.city.clone()),
        ("time zone", org.time_zone.clone()),
        ("e-mail", contacts.email),
        ("phone", contacts.phone),
        ("website", contacts.website),
        ("address", contacts.address),
        ("INN", org.inn.clone()),
        ("version", org.version.to_string()),
        ("created", time(org.create_time.as_ref(), zone)),
        ("updated", time(org.update_time.as_ref(), zone)),
    ] {
        t.add_row(vec![k.to_owned(), v]);
    }
    out!("{t}");
    Ok(())
}

/// Runs `edufed org …`.
pub async fn org(conn: Connection, command: OrgCommand, format: Format) -> anyhow::Result<()> {
    let mut client = conn.directory();
    match command {
        OrgCommand::Create {
            slug,
            kind: k,
            full_name,
            short_name,
            city,
            time_zone,
            contacts,
            inn,
        } => {
            let org = client
                .create_organization(pb::CreateOrganizationRequest {
                    slug,
                    kind: k.into(),
                    full_name,
                    short_name,
                    city,
                    time_zone,
                    contacts: Some(contacts.to_proto()),
                    inn,
                })
                .await?
                .into_inner();
            print_org(&org, format)?;
        }
        OrgCommand::List {
            kind: k,
            city,
            query,
            designation,
            designation_field,
            page_size,
            all,
        } => {
            let kind = k.map_or(0, i32::from);
            let mut page_token = String::new();
            let mut response = pb::ListOrganizationsResponse::default();
            loop {
                let page = client
                    .list_organizations(pb::ListOrganizationsRequest {
                        page_size,
                        page_token,
                        kind,
                        city: city.clone(),
                        query: query.clone(),
                        designation_kind: designation.map_or(0, i32::from),
                        designation_field: designation_field.clone(),
                    })
                    .await?
                    .into_inner();
                response.organizations.extend(page.organizations);
                response.next_page_token = page.next_page_token.clone();
                if !all || page.next_page_token.is_empty() {
                    break;
                }
                page_token = page.next_page_token;
            }
            if format == Format::Json {
                return print_json(&response);
            }
            let mut t = table(&["slug", "kind", "short name", "city", "time zone", "id"]);
            for org in &response.organizations {
                t.add_row(vec![
                    org.slug.clone(),
                    kind_name(org.kind),
                    org.short_name.clone(),
                    org.city.clone(),
                    org.time_zone.clone(),
                    org.id.clone(),
                ]);
            }
            out!("{t}");
            if !response.next_page_token.is_empty() {
                out!("more organizations: repeat with --all");
            }
        }
        OrgCommand::Show { organization } => {
            let org = client
                .get_organization(pb::GetOrganizationRequest { organization })
                .await?
                .into_inner();
            print_org(&org, format)?;
        }
        OrgCommand::Update {
            organization,
            expected_version,
            kind: k,
            full_name,
            short_name,
            city,
            time_zone,
            inn,
            replace_contacts,
            contacts,
        } => {
            let org = client
                .update_organization(pb::UpdateOrganizationRequest {
                    organization,
                    expected_version,
                    kind: k.map(i32::from),
                    full_name,
                    short_name,
                    city,
                    time_zone,
                    contacts: replace_contacts.then(|| contacts.to_proto()),
                    inn,
                })
                .await?
                .into_inner();
            print_org(&org, format)?;
        }
    }
    Ok(())
}

/// `edufed member …`
#[derive(Debug, Subcommand)]
pub enum MemberCommand {
    /// Add a person to an organization with a role.
    Add {
        /// The organization's id or slug.
        #[arg(long)]
        org: String,
        /// An existing person's id, as `member list` prints it.
        #[arg(long, conflicts_with_all = ["name", "email"])]
        person: Option<String>,
        /// A new person's display name, e.g. Иванова Анна Петровна.
        #[arg(long, required_unless_present = "person")]
        name: Option<String>,
        /// A new person's e-mail (an existing person with it is added instead).
        #[arg(long)]
        email: Option<String>,
        /// What the person may do in the organization.
        #[arg(long, value_enum, ignore_case = true)]
        role: Role,
    },
    /// List an organization's members.
    List {
        /// The organization's id or slug.
        #[arg(long)]
        org: String,
    },
    /// Remove a person from an organization.
    Remove {
        /// The organization's id or slug.
        #[arg(long)]
        org: String,
        /// The person's id, as `member list` prints it.
        #[arg(long)]
        person: String,
    },
}

fn member_rows(members: &[pb::Member], zone: Tz) -> comfy_table::Table {
    let mut t = table(&["name", "e-mail", "role", "person id", "since"]);
    for m in members {
        let person = m.person.clone().unwrap_or_default();
        t.add_row(vec![
            person.display_name,
            person.email,
            role_name(m.role),
            person.id,
            time(m.create_time.as_ref(), zone),
        ]);
    }
    t
}

/// Runs `edufed member …`.
pub async fn member(
    conn: Connection,
    command: MemberCommand,
    format: Format,
) -> anyhow::Result<()> {
    let mut client = conn.directory();
    match command {
        MemberCommand::Add {
            org,
            person,
            name,
            email,
            role: r,
        } => {
            let person = match (person, name) {
                (Some(id), _) => pb::add_member_request::Person::PersonId(id),
                (None, Some(display_name)) => {
                    pb::add_member_request::Person::NewPerson(pb::NewPerson {
                        display_name,
                        email: email.unwrap_or_default(),
                    })
                }
                (None, None) => bail!("give --person or --name"),
            };
            let zone = Zones::new(&conn).organization(&org).await;
            let member = client
                .add_member(pb::AddMemberRequest {
                    organization: org,
                    person: Some(person),
                    role: r.into(),
                })
                .await?
                .into_inner();
            if format == Format::Json {
                return print_json(&member);
            }
            out!("{}", member_rows(std::slice::from_ref(&member), zone));
        }
        MemberCommand::List { org } => {
            let mut members = Vec::new();
            let mut page_token = String::new();
            loop {
                let page = client
                    .list_members(pb::ListMembersRequest {
                        organization: org.clone(),
                        page_size: 500,
                        page_token,
                    })
                    .await?
                    .into_inner();
                members.extend(page.members);
                if page.next_page_token.is_empty() {
                    break;
                }
                page_token = page.next_page_token;
            }
            let response = pb::ListMembersResponse {
                members,
                next_page_token: String::new(),
            };
            if format == Format::Json {
                return print_json(&response);
            }
            let zone = Zones::new(&conn).organization(&org).await;
            out!("{}", member_rows(&response.members, zone));
        }
        MemberCommand::Remove { org, person } => {
            let removed = client
                .remove_member(pb::RemoveMemberRequest {
                    organization: org,
                    person_id: person,
                })
                .await?
                .into_inner();
            if format == Format::Json {
                return print_json(&removed);
            }
            let member = removed.removed.unwrap_or_default();
            let person = member.person.unwrap_or_default();
            out!(
                "removed {} ({}) from {}",
                person.display_name,
                person.id,
                member.organization_id
            );
        }
    }
    Ok(())
}

/// `edufed token …`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token; its secret is printed once.
    Create {
        /// The id of the person it is for [default: yours].
        #[arg(long, default_value = "")]
        person: String,
        /// A label, e.g. "laptop".
        #[arg(long)]
        name: String,
        /// Lifetime: a number with s, m, h, d or w, e.g. 90d [default: 90d].
        #[arg(long, value_parser = parse_ttl)]
        ttl: Option<prost_types::Duration>,
    },
    /// List tokens (never their secrets).
    List {
        /// Whose tokens [default: yours].
        #[arg(long, default_value = "")]
        person: String,
    },
    /// Revoke a token at once.
    Revoke {
        /// The token's id, as `token list` prints it.
        token_id: String,
    },
}

pub(crate) fn parse_ttl(raw: &str) -> Result<prost_types::Duration, String> {
    let raw = raw.trim();
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (number, unit) = raw.split_at(split);
    let number: i64 = number
        .parse()
        .map_err(|_| format!("{raw:?} is not a duration like 90d"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" | "" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(format!("unknown unit {unit:?}; use s, m, h, d or w")),
    };
    Ok(prost_types::Duration {
        seconds: number.saturating_mul(seconds),
        nanos: 0,
    })
}

fn token_state(token: &pb::ApiToken) -> &'static str {
    let now = chrono::Utc::now().timestamp();
    if token.revoke_time.is_some() {
        "revoked"
    } else if token.expire_time.as_ref().is_some_and(|t| t.seconds <= now) {
        "expired"
    } else {
        "active"
    }
}

/// Runs `edufed token …`.
pub async fn token(conn: Connection, command: TokenCommand, format: Format) -> anyhow::Result<()> {
    let mut client = conn.directory();
    match command {
        TokenCommand::Create { person, name, ttl } => {
            let created = client
                .create_token(pb::CreateTokenRequest {
                    person_id: person,
                    name,
                    ttl,
                })
                .await?
                .into_inner();
            if format == Format::Json {
                return print_json(&created);
            }
            let token = created.token.unwrap_or_default();
            out!("token {} for person {}", token.id, token.person_id);
            let zone = Zones::new(&conn).caller().await;
            out!("expires {}", time(token.expire_time.as_ref(), zone));
            out!("secret (shown once, store it now):");
            out!("{}", created.secret);
        }
        TokenCommand::List { person } => {
            let response = client
                .list_tokens(pb::ListTokensRequest { person_id: person })
                .await?
                .into_inner();
            if format == Format::Json {
                return print_json(&response);
            }
            let zone = Zones::new(&conn).caller().await;
            let mut t = table(&["id", "name", "state", "created", "expires"]);
            for token in &response.tokens {
                t.add_row(vec![
                    token.id.clone(),
                    token.name.clone(),
                    token_state(token).to_owned(),
                    time(token.create_time.as_ref(), zone),
                    time(token.expire_time.as_ref(), zone),
                ]);
            }
            out!("{t}");
        }
        TokenCommand::Revoke { token_id } => {
            let token = client
                .revoke_token(pb::RevokeTokenRequest { token_id })
                .await?
                .into_inner();
            if format == Format::Json {
                return print_json(&token);
            }
            out!("revoked token {} ({})", token.id, token.name);
        }
    }
    Ok(())
}

/// Runs `edufed whoami`.
pub async fn whoami(conn: Connection, format: Format) -> anyhow::Result<()> {
    let me = conn
        .directory()
        .who_am_i(pb::WhoAmIRequest {})
        .await?
        .into_inner();
    if format == Format::Json {
        return print_json(&me);
    }
    let person = me.person.clone().unwrap_or_default();
    out!(
        "{} ({}){}",
        person.display_name,
        person.id,
        if person.operator {
            ", node operator"
        } else {
            ""
        }
    );
    if me.session_id.is_empty() {
        out!("token {} on node {}", me.token_id, me.node_id);
    } else {
        out!("session {} on node {}", me.session_id, me.node_id);
    }
    let mut t = table(&["organization", "role", "organization id"]);
    for m in &me.memberships {
        t.add_row(vec![
            m.organization_slug.clone(),
            role_name(m.role),
            m.organization_id.clone(),
        ]);
    }
    out!("{t}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_units() {
        assert_eq!(parse_ttl("90d").unwrap().seconds, 90 * 86_400);
        assert_eq!(parse_ttl("12h").unwrap().seconds, 12 * 3600);
        assert!(parse_ttl("soon").is_err());
        assert!(parse_ttl("5y").is_err());
    }

    #[test]
    fn kinds_by_name() {
        assert_eq!(kind_name(pb::OrganizationKind::School as i32), "Школа");
        assert_eq!(role_name(pb::Role::Teacher as i32), "Педагог");
        assert_eq!(role_name(0), "—");
    }
}
