//! The guide the demo prints once its network is ready: the nodes, what was
//! loaded, the tokens, and commands to try against the network.

use std::path::Path;

use chrono::{Datelike as _, NaiveDate, Weekday};

use super::nodes::{DemoNode, Site};
use super::people::Invitation;
use super::seeds::seeds;
use super::timing::plus_days;
use super::{Manifest, TOKENS_DIR, token_file};

/// A word for a POSIX shell: as it is when it is safe, else single-quoted.
fn sh(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=+@%,".contains(c));
    if safe {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn sh_path(path: &Path) -> String {
    sh(&path.display().to_string())
}

/// The next `weekday` at least two days after `today`.
fn next_weekday(today: NaiveDate, weekday: Weekday) -> anyhow::Result<NaiveDate> {
    let mut day = plus_days(today, 2)?;
    while day.weekday() != weekday {
        day = plus_days(day, 1)?;
    }
    Ok(day)
}

pub(super) fn guide(
    dir: &Path,
    nodes: &[DemoNode],
    manifest: &Manifest,
    mirrored: usize,
    invitations: &[Invitation],
    today: NaiveDate,
) -> anyhow::Result<String> {
    use std::fmt::Write as _;
    let node = |site: Site| &nodes[site.index()];
    let (university, technopark, hub) = (
        node(Site::University),
        node(Site::Technopark),
        node(Site::Hub),
    );
    let token = |slug: &str| sh_path(&token_file(dir, slug));
    let mut out = String::new();
    writeln!(out)?;
    writeln!(
        out,
        "Nodes (plain http on loopback; data in {}):",
        sh_path(dir)
    )?;
    for n in nodes {
        let hosted: Vec<&str> = seeds()?
            .organizations
            .iter()
            .filter_map(|seed| manifest.organizations.get(&seed.slug))
            .filter(|o| o.node == n.site.dir_name())
            .map(|o| o.short_name.as_str())
            .collect();
        writeln!(
            out,
            "  {:<16} {}  {}\n  {:<16} node id {}\n  {:<16} hosts {}",
            n.site.label(),
            n.url,
            n.site.node_name(),
            "",
            n.node_id(),
            "",
            hosted.join(", ")
        )?;
    }
    writeln!(out)?;
    writeln!(out, "Loaded through the nodes' gRPC APIs:")?;
    for line in &manifest.summary {
        writeln!(out, "  {line}")?;
    }
    writeln!(
        out,
        "  every node pins the other two by their node id and follows their change logs;"
    )?;
    writeln!(
        out,
        "  the hub's calendar shows all {mirrored} of the university node's activities of the coming year"
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "The web console, in a browser (each link signs one person in, once, within a day):"
    )?;
    for invitation in invitations {
        writeln!(out, "  {}:\n    {}", invitation.role, invitation.url)?;
    }
    writeln!(
        out,
        "  a new link for anyone with a token: edufed login-link --server <node> --token-file <file>"
    )?;
    writeln!(out)?;
    writeln!(out, "Tokens (files, mode 0600):")?;
    for n in nodes {
        writeln!(
            out,
            "  operator of the {:<16} {}",
            n.site.label(),
            sh_path(&n.operator_token_file)
        )?;
    }
    writeln!(
        out,
        "  each organization's admin        {}/{TOKENS_DIR}/<slug>.token",
        sh_path(dir)
    )?;
    writeln!(out)?;
    writeln!(out, "What to try:")?;
    writeln!(out)?;
    writeln!(
        out,
        "1. The hub's calendar shows the universities' courses, olympiads and excursions,\n   \
         mirrored from the university node, next to the hub's own (as Гимназия №24):"
    )?;
    writeln!(
        out,
        "     export EDUFED_SERVER={} EDUFED_TOKEN_FILE={}",
        hub.url,
        token("gym24-tomsk")
    )?;
    let year_on = plus_days(today, 365)?;
    writeln!(
        out,
        "     edufed activity list --from {today} --to {year_on} --grade 9 --all"
    )?;
    writeln!(out, "     edufed ics url --grade 9")?;
    writeln!(
        out,
        "     edufed peer status --server {} --token-file {}",
        hub.url,
        sh_path(&hub.operator_token_file)
    )?;
    writeln!(out)?;
    let tuesday = next_weekday(today, Weekday::Tue)?;
    writeln!(
        out,
        "2. A school on the hub (МГМЛ) books the technopark's {} (resource {});\n   \
         the hub forwards the request to the technopark node, whose admin approves it:",
        manifest.lab_name, manifest.lab_id
    )?;
    writeln!(
        out,
        "     edufed booking request --server {} --token-file {} \\\n       \
         --resource {} --requester mgml --purpose {} --headcount 12 \\\n       \
         --start {tuesday}T14:00 --end {tuesday}T15:30",
        hub.url,
        token("mgml"),
        manifest.lab_id,
        sh("Технология, 7 класс"),
    )?;
    writeln!(
        out,
        "     edufed booking approve <booking id> --server {} --token-file {}",
        technopark.url,
        token("kvantorium-mgn")
    )?;
    writeln!(out)?;
    match &manifest.agreement_id {
        Some(id) => {
            writeln!(
                out,
                "3. The network-form agreement of МГМЛ (hub) and «Кванториум» (technopark node),\n   \
                 proposed on the hub as {id}, is signed by both; the technopark's\n   \
                 signature goes through its own node, which forwards it to the hub (its term,\n   \
                 the 2020–2021 school year, is over, so once signed it shows as expired):"
            )?;
        }
        None => {
            writeln!(
                out,
                "3. The network-form agreement of МГМЛ (hub) and «Кванториум» (technopark node):\n   \
                 the hub refused its remote party when the demo loaded it, so draft and propose it\n   \
                 from its file, then both sign; the technopark's signature goes through its own\n   \
                 node, which forwards it to the hub (its term, the 2020–2021 school year, is over,\n   \
                 so once signed it shows as expired):"
            )?;
            writeln!(
                out,
                "     edufed agreement draft --initiator mgml --file {} --server {} --token-file {}",
                sh_path(&manifest.agreement_file),
                hub.url,
                token("mgml")
            )?;
            writeln!(
                out,
                "     edufed agreement propose <agreement id> --server {} --token-file {}",
                hub.url,
                token("mgml")
            )?;
        }
    }
    let id = manifest
        .agreement_id
        .clone()
        .unwrap_or_else(|| "<agreement id>".to_owned());
    writeln!(
        out,
        "     edufed agreement sign {id} --org mgml --server {} --token-file {}",
        hub.url,
        token("mgml")
    )?;
    writeln!(
        out,
        "     edufed agreement sign {id} --org kvantorium-mgn --server {} --token-file {}",
        technopark.url,
        token("kvantorium-mgn")
    )?;
    writeln!(
        out,
        "     edufed agreement show {id} --server {} --token-file {}",
        hub.url,
        token("mgml")
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "4. The methodical centre's reports count the hub's own records and what it mirrors\n   \
         of the university and technopark nodes (CSV and JSON with --format):"
    )?;
    let hub_operator = sh_path(&hub.operator_token_file);
    for name in ["activities", "agreements", "indicators"] {
        writeln!(
            out,
            "     edufed report {name} --network --from {today} --to {year_on} --server {} --token-file {hub_operator}",
            hub.url
        )?;
    }
    writeln!(
        out,
        "     edufed target set network_coverage 15 --org mgml --due {} --server {} --token-file {}",
        plus_days(today, 280)?,
        hub.url,
        token("mgml")
    )?;
    writeln!(
        out,
        "   and in the web console, signed in as a member (`edufed login-link`):\n     {}/reports?scope=network&from={today}&to={year_on}",
        hub.url
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "5. Mentoring: Lyceum 7's young teachers with Gymnasium 24 (the last school year, with\n   \
         checkpoints and outcomes), and МГМЛ's pupils mentored by МГТУ students; the register\n   \
         is closed to all but the programmes' coordinators, admins and coordinators:"
    )?;
    writeln!(
        out,
        "     edufed mentoring list --server {} --token-file {}",
        hub.url,
        token("lyceum7-tomsk")
    )?;
    writeln!(
        out,
        "     edufed mentoring register <programme id> --server {} --token-file {}",
        hub.url,
        token("lyceum7-tomsk")
    )?;
    writeln!(
        out,
        "     edufed mentoring list --server {} --token-file {}   # МГМЛ's programme, as the hub shares it",
        university.url,
        token("magtu")
    )?;
    writeln!(
        out,
        "   The running pairs meet weekly from next week; their meetings are in the calendar of
   \
         the pair's organizations only (МГТУ's on the university node, not ТУСУР's):"
    )?;
    writeln!(
        out,
        "     edufed activity list --programme <programme id> --server {} --token-file {}",
        university.url,
        token("magtu")
    )?;
    writeln!(out, "   and in the web console: {}/mentoring", hub.url)?;
    writeln!(out)?;
    let school_year_start = super::timing::school_year(today);
    writeln!(
        out,
        "6. Professional trials, designations and learning routes: МГМЛ's trial bank with hosts\n   \
         on three nodes (one programme returned with a comment and approved in its revision,\n   \
         «Оператор 3D-печати» waiting for the methodical centre), Magnitogorsk's resource\n   \
         centres, and Gymnasium 44's engineering route for grade 10, registered on the hub,\n   \
         the university and the technopark nodes:"
    )?;
    writeln!(
        out,
        "     edufed trial list --server {} --token-file {}",
        hub.url,
        token("imc-tomsk")
    )?;
    writeln!(
        out,
        "     edufed trial review <trial id> --decision approve --server {} --token-file {}",
        hub.url,
        token("imc-tomsk")
    )?;
    writeln!(
        out,
        "     edufed org list --designation resource-centre --designation-field робото --server {} --token-file {}",
        hub.url,
        token("mgml")
    )?;
    writeln!(
        out,
        "     edufed route list --school gym44-nkz --server {} --token-file {}",
        hub.url,
        token("gym44-nkz")
    )?;
    writeln!(
        out,
        "     edufed route show <route id> --server {} --token-file {}",
        hub.url,
        token("gym44-nkz")
    )?;
    writeln!(
        out,
        "     edufed report indicators --org gym44-nkz --from {}-09-01 --to {}-08-31 --server {} --token-file {}   # last year's leavers",
        school_year_start - 1,
        school_year_start,
        hub.url,
        token("gym44-nkz")
    )?;
    writeln!(
        out,
        "   and in the web console: {}/trials and {}/routes",
        hub.url, hub.url
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "The university node ({}) and the technopark node answer the same commands with\n\
         their own organizations' tokens, e.g. {}.",
        university.url,
        token("tusur")
    )?;
    Ok(out)
}
