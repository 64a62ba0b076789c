//! The printable rendering of an agreement version: a self-contained A4 page
//! with the Article 15 content, the parties and a signature block for each,
//! fit for printing and signing on paper. No scripts, no external resources.

use std::collections::BTreeMap;

/// Marks a table cell as a number (right-aligned). A control character, so
/// no validated text can start with it.
const NUM: char = '\u{1}';

use chrono::{DateTime, NaiveDate, Utc};

use super::lifecycle::{Phase, State};
use super::{Agreement, AgreementKind, Content, PartKind, PartyRole, PledgePeriod, Version};
use crate::ids::OrgId;

const STYLE: &str = "\
@page { size: A4; margin: 20mm 15mm 20mm 25mm; }
body { font-family: 'Times New Roman', Times, 'PT Serif', 'Liberation Serif', serif; font-size: 12pt;
  line-height: 1.4; color: #000; background: #fff; margin: 0; }
main { max-width: 180mm; margin: 0 auto; padding: 12mm 8mm; }
h1 { font-size: 15pt; text-align: center; margin: 0 0 4pt; } h2 { font-size: 13pt; margin: 16pt 0 6pt; }
h3 { font-size: 12pt; margin: 10pt 0 4pt; } p { margin: 4pt 0; } .center { text-align: center; }
table { width: 100%; border-collapse: collapse; margin: 4pt 0 8pt; } table.meta th { width: 38%; }
th, td { border: 1px solid #000; padding: 3pt 5pt; vertical-align: top; text-align: left; } th { background: #eee; }
.num { text-align: right; white-space: nowrap; } .pre { white-space: pre-line; } .none { font-style: italic; }
.hash { font-family: 'Courier New', monospace; font-size: 10pt; word-break: break-all; }
.sign { border: 1px solid #000; padding: 6pt 8pt; margin: 8pt 0; }
.declined { border: 2px solid #a00; padding: 6pt 8pt; margin: 8pt 0; }
.ok { font-weight: bold; } .bad { font-weight: bold; color: #a00; }
.blank { display: inline-block; width: 60mm; border-bottom: 1px solid #000; margin-right: 6pt; }
tr, .sign, .declined { break-inside: avoid; page-break-inside: avoid; }
@media print {
  main { max-width: none; padding: 0; } th { background: none; } thead { display: table-header-group; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
}
";

/// `text` with the characters HTML gives meaning to escaped.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn date(d: NaiveDate) -> String {
    d.format("%d.%m.%Y").to_string()
}

fn instant(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// `n` with the Russian plural of «день».
fn days(n: u32) -> String {
    let word = match (n % 10, n % 100) {
        (_, 11..=14) => "дней",
        (1, _) => "день",
        (2..=4, _) => "дня",
        _ => "дней",
    };
    format!("{n} {word}")
}

fn kind_label(kind: AgreementKind) -> &'static str {
    match kind {
        AgreementKind::NetworkForm => {
            "Договор о сетевой форме реализации образовательных программ (ст. 15 273-ФЗ)"
        }
        AgreementKind::Cooperation => "Договор о сотрудничестве",
        AgreementKind::NetworkInteraction => "Договор о сетевом взаимодействии",
        AgreementKind::InnovationSite => "Инновационная площадка",
        AgreementKind::Other => "Иное соглашение",
    }
}

fn state_label(state: State) -> &'static str {
    match state {
        State::Draft => "черновик",
        State::Proposed => "на подписании",
        State::Declined => "отклонён",
        State::Signed => "подписан",
        State::Active => "действует",
        State::Expired => "истёк",
        State::Terminated => "расторгнут",
    }
}

fn role_label(role: PartyRole) -> &'static str {
    match role {
        PartyRole::Base => "базовая организация",
        PartyRole::Participant => "организация-участник",
        PartyRole::ResourceProvider => "ресурсная организация",
    }
}

fn part_label(kind: PartKind) -> &'static str {
    match kind {
        PartKind::Module => "модуль",
        PartKind::Subject => "учебный предмет",
        PartKind::Practice => "практика",
    }
}

fn period_label(period: PledgePeriod) -> &'static str {
    match period {
        PledgePeriod::Term => "за срок действия договора",
        PledgePeriod::SchoolYear => "в учебный год",
        PledgePeriod::HalfYear => "в полугодие",
        PledgePeriod::Month => "в месяц",
    }
}

/// Where version `n` stands in the lifecycle, in words.
fn version_status(agreement: &Agreement, n: u32) -> String {
    let lifecycle = &agreement.lifecycle;
    let in_force = lifecycle.in_force_version();
    let ballot = lifecycle.ballot().map(|b| b.version);
    match (&lifecycle.phase, in_force, ballot) {
        (Phase::Ended { .. }, Some(v), _) if v == n => {
            "последняя действовавшая редакция договора".into()
        }
        (_, Some(v), _) if v == n => "действующая редакция договора".into(),
        (_, Some(v), Some(b)) if b == n => format!(
            "изменения к действующей редакции {v}; ожидают подписей сторон и в силу не вступили"
        ),
        (_, _, Some(b)) if b == n => "проект договора на подписании; в силу не вступил".into(),
        (Phase::Draft { version }, _, _) if *version == n => {
            "проект (черновик); не подписан и в силу не вступил".into()
        }
        (Phase::Declined { version, .. }, _, _) if *version == n => {
            "проект отклонён стороной; в силу не вступил".into()
        }
        (_, Some(v), _) if n < v => format!("прежняя редакция; заменена редакцией {v}"),
        _ => "редакция не действует".into(),
    }
}

struct Page<'a> {
    names: &'a BTreeMap<OrgId, String>,
    out: String,
}

impl Page<'_> {
    /// The organization's full name, escaped; its id when the name is unknown.
    fn org(&self, id: &OrgId) -> String {
        esc(self.names.get(id).map_or(id.as_str(), String::as_str))
    }

    fn push(&mut self, html: &str) {
        self.out.push_str(html);
        self.out.push('\n');
    }

    /// A table of `items`, one row each by `row`, or `missing` when there
    /// are none. Cells are already escaped; a cell starting with `#` is a
    /// right-aligned number (the `#` dropped).
    fn table<T>(
        &mut self,
        head: &[&str],
        items: &[T],
        missing: &str,
        row: impl Fn(&Self, &T) -> Vec<String>,
    ) {
        if items.is_empty() {
            return self.none(missing);
        }
        let th: String = head
            .iter()
            .map(|h| format!("<th>{}</th>", esc(h)))
            .collect();
        self.push(&format!("<table>\n<thead><tr>{th}</tr></thead><tbody>"));
        for item in items {
            let cells: String = row(self, item)
                .iter()
                .map(|c| match c.strip_prefix(NUM) {
                    Some(n) => format!("<td class=\"num\">{n}</td>"),
                    None => format!("<td>{c}</td>"),
                })
                .collect();
            self.push(&format!("<tr>{cells}</tr>"));
        }
        self.push("</tbody></table>");
    }

    fn h2(&mut self, heading: &str) {
        self.push(&format!("<h2>{}</h2>", esc(heading)));
    }

    fn meta(&mut self, rows: &[(&str, String)]) {
        self.push("<table class=\"meta\"><tbody>");
        for (label, value) in rows {
            self.push(&format!("<tr><th>{}</th><td>{value}</td></tr>", esc(label)));
        }
        self.push("</tbody></table>");
    }

    fn none(&mut self, text: &str) {
        self.push(&format!("<p class=\"none\">{}</p>", esc(text)));
    }

    /// A labelled multi-line text, or «не указано» when empty.
    fn text(&mut self, label: &str, value: &str) {
        let value = if value.trim().is_empty() {
            "<span class=\"none\">не указано</span>".to_owned()
        } else {
            format!("<span class=\"pre\">{}</span>", esc(value))
        };
        self.push(&format!("<p><b>{}:</b> {value}</p>", esc(label)));
    }
}

fn grades(min: u8, max: u8) -> String {
    match (min, max) {
        (a, b) if a == b => a.to_string(),
        (a, b) => format!("{a}–{b}"),
    }
}

/// `text` escaped, or a dash when empty.
fn or_dash(text: &str) -> String {
    match text {
        "" => "—".into(),
        t => esc(t),
    }
}

fn header(page: &mut Page, agreement: &Agreement, version: &Version) {
    let c = &version.content;
    page.push(&format!("<header>\n<h1>{}</h1>", esc(&c.title)));
    let mut line = c.number.as_deref().map_or(String::new(), |n| {
        format!("{}{n}", if n.starts_with('№') { "" } else { "№ " })
    });
    if let Some(d) = c.dated {
        line = format!("{line} от {}", date(d)).trim_start().to_owned();
    }
    if !line.is_empty() {
        page.push(&format!("<p class=\"center\">{}</p>", esc(&line)));
    }
    let term = format!("{}–{}", date(c.valid_from), date(c.valid_to));
    let state = esc(state_label(agreement.lifecycle.state()));
    let status = esc(&version_status(agreement, version.number));
    let mut rows = vec![
        ("Вид соглашения", esc(kind_label(c.kind))),
        ("Срок действия", term),
        ("Редакция", version.number.to_string()),
        ("Состояние договора", state),
        ("Статус редакции", status),
    ];
    if let Some(at) = version.proposed_at {
        rows.push(("Направлена на подписание", esc(&instant(at))));
    }
    if let Some(hash) = &version.content_hash {
        let hash = format!("<span class=\"hash\">{}</span>", esc(hash));
        rows.push(("Хеш содержания (SHA-256)", hash));
    }
    page.meta(&rows);
    page.push("</header>");
}

fn parties(page: &mut Page, c: &Content) {
    page.h2("Стороны договора");
    let head = ["Организация", "Роль", "Подписант", "Должность", "Основание"];
    page.table(&head, &c.parties, "не указаны", |page, p| {
        let s = &p.signatory;
        let basis = match s.basis.as_str() {
            "" => "—".into(),
            b => format!("действует на основании {}", esc(b)),
        };
        let role = esc(role_label(p.role));
        vec![
            page.org(&p.org_id),
            role,
            or_dash(&s.name),
            or_dash(&s.position),
            basis,
        ]
    });
}

fn article_15(page: &mut Page, c: &Content) {
    let missing = if c.kind == AgreementKind::NetworkForm {
        "не указано"
    } else {
        "не предусмотрено"
    };

    page.h2("1. Образовательная программа, реализуемая в сетевой форме");
    match &c.programme {
        Some(p) => {
            page.meta(&[
                ("Программа", esc(&p.name)),
                ("Вид", or_dash(&p.kind)),
                ("Уровень", or_dash(&p.level)),
                ("Направленность", or_dash(&p.focus)),
            ]);
            let head = ["Вид части", "Наименование", "Часов", "Классы"];
            page.table(
                &head,
                &p.parts,
                "Части программы не указаны.",
                |_, part| {
                    let kind = esc(part_label(part.kind));
                    let hours = format!("{NUM}{}", part.hours);
                    vec![
                        kind,
                        esc(&part.name),
                        hours,
                        grades(part.grade_min, part.grade_max),
                    ]
                },
            );
        }
        None => page.none(missing),
    }

    page.h2("2. Статус обучающихся и правила приёма");
    match &c.students {
        Some(s) => {
            page.text("Статус обучающихся", &s.status);
            page.text("Правила приёма", &s.admission);
            page.push(&format!(
                "<p><b>Классы:</b> {}</p>\n<p><b>Планируемая численность обучающихся:</b> {}</p>",
                grades(s.grade_min, s.grade_max),
                s.planned_headcount
            ));
        }
        None => page.none(missing),
    }

    page.h2("3. Условия и порядок реализации программы");
    page.push("<h3>3.1. Распределение обязанностей между сторонами</h3>");
    let head = ["Сторона", "Часть программы", "Часов", "Обязанности"];
    page.table(&head, &c.duties, missing, |page, d| {
        let description = format!("<span class=\"pre\">{}</span>", esc(&d.description));
        vec![
            page.org(&d.org_id),
            or_dash(&d.part),
            format!("{NUM}{}", d.hours),
            description,
        ]
    });
    page.push("<h3>3.2. Ресурсы, используемые сторонами, и их объём</h3>");
    let head = ["Сторона", "Ресурс", "Идентификатор", "Часов", "Период"];
    page.table(&head, &c.resources, missing, |page, r| {
        let id = r.resource_id.as_ref().map_or("", |id| id.as_str());
        let (hours, period) = (format!("{NUM}{}", r.hours), esc(period_label(r.period)));
        vec![
            page.org(&r.org_id),
            esc(&r.description),
            or_dash(id),
            hours,
            period,
        ]
    });

    page.h2("4. Документы, выдаваемые по завершении обучения");
    page.table(
        &["Документ", "Выдаёт"],
        &c.documents,
        missing,
        |page, d| vec![esc(&d.name), page.org(&d.issuer)],
    );

    page.h2("5. Срок действия, порядок изменения и прекращения договора");
    page.push(&format!(
        "<p><b>Срок действия:</b> с {} по {} включительно</p>",
        date(c.valid_from),
        date(c.valid_to)
    ));
    page.text("Порядок изменения", &c.amendment_procedure);
    page.text("Порядок прекращения", &c.termination_procedure);
    page.push(&format!(
        "<p><b>Срок уведомления о досрочном расторжении:</b> {}</p>",
        days(c.termination_notice_days)
    ));

    if c.planned_teachers.is_some() || c.planned_students.is_some() || !c.notes.is_empty() {
        page.h2("Дополнительные сведения");
        if let Some(n) = c.planned_teachers {
            page.push(&format!("<p><b>Планируемое число педагогов:</b> {n}</p>"));
        }
        if let Some(n) = c.planned_students {
            page.push(&format!("<p><b>Планируемое число обучающихся:</b> {n}</p>"));
        }
        if !c.notes.is_empty() {
            page.text("Примечания", &c.notes);
        }
    }
}

fn signatures(page: &mut Page, version: &Version, verified: &[bool]) {
    page.h2("Подписи сторон");
    for party in &version.content.parties {
        page.push("<div class=\"sign\">");
        page.push(&format!(
            "<p><b>{}</b> ({})</p>",
            page.org(&party.org_id),
            esc(role_label(party.role))
        ));
        let s = &party.signatory;
        page.push(&format!("<p>{} {}</p>", esc(&s.position), esc(&s.name)));
        let signed = version
            .signatures
            .iter()
            .position(|sig| sig.org_id == party.org_id);
        match signed {
            Some(i) => {
                let sig = &version.signatures[i];
                let node: String = sig.node_id.chars().take(16).collect();
                page.push(&format!(
                    "<p>Подписано электронно: {}, {}, узел <span class=\"hash\">{}</span></p>",
                    esc(&sig.signatory),
                    esc(&instant(sig.signed_at)),
                    esc(&node)
                ));
                page.push(match verified.get(i) {
                    Some(true) => "<p class=\"ok\">подпись проверена</p>",
                    Some(false) => "<p class=\"bad\">ПОДПИСЬ НЕ ПРОШЛА ПРОВЕРКУ</p>",
                    None => "<p class=\"bad\">подпись не проверялась</p>",
                });
            }
            None => {
                page.push("<p class=\"none\">не подписано</p>");
                page.push(&format!(
                    "<p><span class=\"blank\">&nbsp;</span>/ {} /</p>\n<p>М.П.</p>",
                    esc(&s.name)
                ));
            }
        }
        page.push("</div>");
    }
    if let Some(d) = &version.declined {
        page.push("<div class=\"declined\">");
        page.push(&format!(
            "<p><b>Отклонено стороной:</b> {} (пользователь {}), {}</p>",
            page.org(&d.org_id),
            esc(d.person_id.as_str()),
            esc(&instant(d.at))
        ));
        page.text("Комментарий", &d.comment);
        page.push("</div>");
    }
}

/// Renders `version` of `agreement` as a self-contained HTML page.
pub fn render(
    agreement: &Agreement,
    version: &Version,
    names: &BTreeMap<OrgId, String>,
    verified: &[bool],
) -> String {
    let mut page = Page {
        names,
        out: String::new(),
    };
    page.push("<!DOCTYPE html>\n<html lang=\"ru\">\n<head>\n<meta charset=\"utf-8\">");
    page.push("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    page.push(&format!(
        "<title>{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<main>",
        esc(&version.content.title)
    ));
    header(&mut page, agreement, version);
    parties(&mut page, &version.content);
    article_15(&mut page, &version.content);
    signatures(&mut page, version, verified);
    page.push(&format!(
        "<footer><p class=\"center hash\">Договор {}, редакция {}</p></footer>",
        esc(agreement.id.as_str()),
        version.number
    ));
    page.push("</main>\n</body>\n</html>");
    page.out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agreement::signing::Signature;
    use crate::agreement::{Decline, Lifecycle, Term};
    use crate::ids::{AgreementId, PersonId};
    use crate::time::TimeZone;

    fn setup() -> (OrgId, OrgId, Agreement, BTreeMap<OrgId, String>) {
        let (school, park) = (OrgId::generate(), OrgId::generate());
        let content = super::super::tests::network_form(&school, &park);
        let at = DateTime::from_timestamp(1_788_000_000, 0).unwrap();
        let agreement = Agreement {
            id: AgreementId::generate(),
            initiator: school.clone(),
            time_zone: TimeZone::parse("tz", "Asia/Tomsk").unwrap(),
            lifecycle: Lifecycle::new(),
            revision: 1,
            versions: vec![Version {
                number: 1,
                content,
                content_hash: None,
                canonical: None,
                proposed_at: None,
                signatures: vec![],
                declined: None,
            }],
            created_at: at,
            updated_at: at,
        };
        let names = BTreeMap::from([(school.clone(), "МАОУ «Лицей № 7»".to_owned())]);
        (school, park, agreement, names)
    }

    fn signature(org: &OrgId, at: DateTime<Utc>) -> Signature {
        Signature {
            version: 1,
            content_hash: "ab".repeat(32),
            org_id: org.clone(),
            person_id: PersonId::generate(),
            signatory: "Иванова Мария Петровна".into(),
            signed_at: at,
            node_id: "0123456789abcdef".repeat(4),
            public_key: [0; 32],
            signature: vec![0; 64],
        }
    }

    #[test]
    fn a_draft_shows_every_article_15_item_and_the_parties() {
        let (_, park, agreement, names) = setup();
        let html = render(&agreement, &agreement.versions[0], &names, &[]);
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<html lang=\"ru\">") && html.contains("@media print"));
        assert!(!html.contains("<script") && !html.contains("http"));
        for heading in [
            "<h2>1. Образовательная программа",
            "<h2>2. Статус обучающихся",
            "<h2>3. Условия и порядок",
            "<h2>4. Документы",
            "<h2>5. Срок действия",
        ] {
            assert!(html.contains(heading), "{heading} is missing");
        }
        // An organization without a known name shows by its id.
        assert!(html.contains("МАОУ «Лицей № 7»"));
        assert!(html.contains(park.as_str()));
        assert!(html.contains("№12-сф от 28.08.2026"));
        assert!(html.contains("01.09.2026–31.05.2027"));
        assert!(html.contains("учебный предмет") && html.contains("за срок действия договора"));
        assert!(html.contains("черновик") && html.contains("30 дней"));
        assert!(html.contains("не подписано") && html.contains("М.П."));
    }

    #[test]
    fn text_is_escaped() {
        let (school, _, mut agreement, _) = setup();
        let c = &mut agreement.versions[0].content;
        c.title = "<script>alert('x')</script> & \"Ко\"".into();
        c.notes = "первая строка\nвторая <b>".into();
        let names = BTreeMap::from([(school, "<img src=x>".to_owned())]);
        let html = render(&agreement, &agreement.versions[0], &names, &[]);
        assert!(!html.contains("<script>") && !html.contains("<img"));
        assert!(
            html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;Ко&quot;")
        );
        assert!(html.contains("<span class=\"pre\">первая строка\nвторая &lt;b&gt;</span>"));
    }

    #[test]
    fn signatures_show_whether_they_verified() {
        let (school, park, mut agreement, names) = setup();
        let now = DateTime::from_timestamp(1_788_000_000, 0).unwrap();
        let content = agreement.versions[0].content.clone();
        let term = Term::of(&content, agreement.time_zone);
        agreement.lifecycle = Lifecycle::new()
            .propose(content.party_orgs(), term)
            .and_then(|l| l.sign(&school, now))
            .and_then(|l| l.sign(&park, now))
            .unwrap();
        let v = &mut agreement.versions[0];
        v.content_hash = Some("ab".repeat(32));
        v.signatures = vec![signature(&park, now), signature(&school, now)];
        let html = render(&agreement, &agreement.versions[0], &names, &[true, false]);
        assert!(html.contains("подпись проверена"));
        assert!(html.contains("ПОДПИСЬ НЕ ПРОШЛА ПРОВЕРКУ"));
        assert!(!html.contains("не подписано"));
        assert!(html.contains(&instant(now)) && html.contains(">0123456789abcdef<"));
        assert!(html.contains(&"ab".repeat(32)));
        assert!(html.contains("<td>подписан</td>") && html.contains("действующая редакция"));
    }

    #[test]
    fn other_kinds_and_declines_render() {
        let (school, _, mut agreement, names) = setup();
        let v = &mut agreement.versions[0];
        v.content.kind = AgreementKind::Cooperation;
        v.content.programme = None;
        v.content.students = None;
        v.content.duties.clear();
        v.content.documents.clear();
        v.declined = Some(Decline {
            org_id: school,
            person_id: PersonId::generate(),
            comment: "не согласны с часами".into(),
            at: agreement.created_at,
        });
        let html = render(&agreement, &agreement.versions[0], &names, &[]);
        assert!(html.contains("Договор о сотрудничестве"));
        assert!(html.contains("<p class=\"none\">не предусмотрено</p>"));
        assert!(html.contains("Отклонено стороной") && html.contains("не согласны с часами"));
    }
}
