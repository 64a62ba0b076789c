//! The messages people are told, composed from the catalogue
//! (`locales/ru/notifications.ftl`): a subject, the plain text and the
//! same in HTML, with the lessons in their local times, the owner's
//! comment, a link to the record in the console and the link that turns
//! the news off.

use edufed_domain::notify::Kind;

use crate::{Arg, ru};

/// What a message says about its event, already in people's terms: names,
/// not ids; local times, not instants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// The activity's title, for registration news.
    pub activity: String,
    /// The agreement's title, for agreement news.
    pub agreement: String,
    /// How many days ahead a reminder's lesson or an agreement's end is.
    pub days: Option<u32>,
    /// The day an agreement ends («31 мая 2027»).
    pub until: Option<String>,
    /// The resource's name, for booking news.
    pub resource: String,
    /// The other organization: the publisher or owner for a school, the
    /// school for a publisher or owner.
    pub counterpart: String,
    /// A waiting group's place in line.
    pub place: Option<u32>,
    /// The lessons concerned, each as people read it («вт, 8 сентября
    /// 2026, 15:00»).
    pub lessons: Vec<String>,
    /// The owner's comment on a decision.
    pub comment: Option<String>,
    /// The record in the console, when the node serves one.
    pub link: Option<String>,
    /// Where the person turns this news off, without signing in.
    pub unsubscribe: String,
}

/// A message ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The catalogue's key of `kind`'s message.
fn key(kind: Kind) -> String {
    format!("notify-{}", kind.as_str().replace('_', "-"))
}

/// The subject and first line of `kind`'s message about `facts`.
fn headline(kind: Kind, facts: &Facts) -> (String, String) {
    let count = i64::try_from(facts.lessons.len()).unwrap_or(i64::MAX);
    let until = facts.until.clone().unwrap_or_default();
    let args = [
        ("activity", Arg::Text(&facts.activity)),
        ("resource", Arg::Text(&facts.resource)),
        ("agreement", Arg::Text(&facts.agreement)),
        ("counterpart", Arg::Text(&facts.counterpart)),
        ("place", Arg::Number(facts.place.map_or(0, i64::from))),
        ("count", Arg::Number(count)),
        ("days", Arg::Number(facts.days.map_or(0, i64::from))),
        ("until", Arg::Text(&until)),
    ];
    (
        ru().text_with(&format!("{}-subject", key(kind)), &args),
        ru().text_with(&key(kind), &args),
    )
}

/// Composes the daily digest of `items`, each a kind of news and its
/// facts; `settings` is where the person changes what they are told.
pub fn compose_digest(items: &[(Kind, Facts)], settings: &str) -> Message {
    let count = i64::try_from(items.len()).unwrap_or(i64::MAX);
    let subject = ru().text_with("notify-digest-subject", &[("count", Arg::Number(count))]);
    let lead = ru().text_with("notify-digest", &[("count", Arg::Number(count))]);
    let footer = ru().text_with("notify-footer", &[("unsubscribe", Arg::Text(settings))]);
    let mut text = format!("{lead}\n");
    let mut html = format!("<p>{}</p>\n", escape(&lead));
    for (kind, facts) in items {
        let (title, line) = headline(*kind, facts);
        text.push_str(&format!("\n{title}\n{line}\n"));
        html.push_str(&format!(
            "<h3>{}</h3>\n<p>{}</p>\n",
            escape(&title),
            escape(&line)
        ));
        if !facts.lessons.is_empty() {
            html.push_str("<ul>\n");
            for lesson in &facts.lessons {
                text.push_str(&format!("  • {lesson}\n"));
                html.push_str(&format!("<li>{}</li>\n", escape(lesson)));
            }
            html.push_str("</ul>\n");
        }
        if let Some(comment) = facts.comment.as_deref().filter(|c| !c.trim().is_empty()) {
            let comment = ru().text_with("notify-comment", &[("comment", Arg::Text(comment))]);
            text.push_str(&format!("{comment}\n"));
            html.push_str(&format!("<p>{}</p>\n", escape(&comment)));
        }
        if let Some(link) = &facts.link {
            text.push_str(&format!("{link}\n"));
            html.push_str(&format!("<p><a href=\"{0}\">{0}</a></p>\n", escape(link)));
        }
    }
    text.push_str(&format!("\n-- \n{footer}\n"));
    html.push_str(&format!(
        "<hr>\n<p style=\"color:#555;font-size:smaller\">{}</p>\n",
        escape(&footer)
    ));
    Message {
        subject,
        text,
        html,
    }
}

/// Composes the message of `kind` about `facts`.
pub fn compose(kind: Kind, facts: &Facts) -> Message {
    let (subject, lead) = headline(kind, facts);
    let comment = facts
        .comment
        .as_deref()
        .filter(|c| !c.trim().is_empty())
        .map(|c| ru().text_with("notify-comment", &[("comment", Arg::Text(c))]));
    let open = facts
        .link
        .as_deref()
        .map(|l| ru().text_with("notify-open", &[("link", Arg::Text(l))]));
    let footer = ru().text_with(
        "notify-footer",
        &[("unsubscribe", Arg::Text(&facts.unsubscribe))],
    );

    let mut text = lead.clone();
    text.push('\n');
    for lesson in &facts.lessons {
        text.push_str(&format!("  • {lesson}\n"));
    }
    for line in comment.iter().chain(open.iter()) {
        text.push('\n');
        text.push_str(line);
        text.push('\n');
    }
    text.push_str(&format!("\n-- \n{footer}\n"));

    let mut html = format!("<p>{}</p>\n", escape(&lead));
    if !facts.lessons.is_empty() {
        html.push_str("<ul>\n");
        for lesson in &facts.lessons {
            html.push_str(&format!("<li>{}</li>\n", escape(lesson)));
        }
        html.push_str("</ul>\n");
    }
    if let Some(comment) = &comment {
        html.push_str(&format!("<p>{}</p>\n", escape(comment)));
    }
    if let Some(link) = &facts.link {
        html.push_str(&format!(
            "<p><a href=\"{}\">{}</a></p>\n",
            escape(link),
            escape(open.as_deref().unwrap_or_default())
        ));
    }
    html.push_str(&format!(
        "<hr>\n<p style=\"color:#555;font-size:smaller\">{}</p>\n",
        escape(&footer)
    ));
    Message {
        subject,
        text,
        html,
    }
}

/// Text as HTML: the five characters that mean markup, escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_news_has_its_message() {
        for kind in Kind::ALL {
            assert!(ru().has(&key(*kind)), "{}", key(*kind));
            assert!(ru().has(&format!("{}-subject", key(*kind))), "{kind:?}");
        }
    }

    #[test]
    fn a_waiting_group_hears_its_place() {
        let message = compose(
            Kind::RegistrationWaitlisted,
            &Facts {
                activity: "Олимпиадная математика".into(),
                counterpart: "ТУСУР".into(),
                place: Some(2),
                link: Some("https://hub.example/activities/a1".into()),
                unsubscribe: "https://hub.example/notifications/off/x".into(),
                ..Facts::default()
            },
        );
        assert_eq!(
            message.subject,
            "Группа в листе ожидания: Олимпиадная математика"
        );
        assert!(
            message.text.contains("2-е место в очереди"),
            "{}",
            message.text
        );
        assert!(
            message
                .text
                .contains("Открыть в консоли: https://hub.example/activities/a1")
        );
        assert!(
            message
                .text
                .contains("отписаться: https://hub.example/notifications/off/x")
        );
    }

    #[test]
    fn a_decision_lists_its_lessons_and_the_comment_as_text() {
        let message = compose(
            Kind::BookingApproved,
            &Facts {
                resource: "IT-квантум".into(),
                counterpart: "«Кванториум»".into(),
                lessons: vec![
                    "вт, 8 сентября 2026, 15:00".into(),
                    "чт, 10 сентября 2026, 15:00".into(),
                ],
                comment: Some("Ждём <b>вас</b> & ваших учеников".into()),
                ..Facts::default()
            },
        );
        assert!(
            message
                .text
                .starts_with("«Кванториум» подтверждает занятия в «IT-квантум»:"),
            "{}",
            message.text
        );
        assert!(message.text.contains("  • чт, 10 сентября 2026, 15:00\n"));
        assert!(
            message
                .text
                .contains("Комментарий: Ждём <b>вас</b> & ваших учеников")
        );
        assert!(
            message
                .html
                .contains("Комментарий: Ждём &lt;b&gt;вас&lt;/b&gt; &amp; ваших учеников"),
            "{}",
            message.html
        );
        assert!(message.html.contains("<li>вт, 8 сентября 2026, 15:00</li>"));

        let one = compose(
            Kind::BookingRequested,
            &Facts {
                resource: "IT-квантум".into(),
                counterpart: "МГМЛ".into(),
                lessons: vec!["вт, 8 сентября 2026, 15:00".into()],
                ..Facts::default()
            },
        );
        assert!(
            one.text.starts_with("МГМЛ просит IT-квантум на 1 занятие:"),
            "{}",
            one.text
        );
    }
}
