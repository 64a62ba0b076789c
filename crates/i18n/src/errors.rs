//! The API's refusals in Russian. The API speaks English to programs; the
//! console shows people the same refusal in Russian, translated here from
//! its English text, gettext-style: each English template
//! (`locales/en/refusals.ftl`, its variable parts as Fluent variables) has
//! its Russian form under the same id (`locales/ru/refusals.ftl`). Both are
//! data: a new refusal is a line in each file, not code.
//!
//! What becomes of a part is decided by its variable's name and its shape,
//! never per message: a vocabulary's name gives the value's name from the
//! catalogue, a nested refusal is translated in turn, numbers agree with
//! their nouns, and times, dates, hours and quoted values read in Russian.
//! Ids, slugs and names keep their text.

use std::sync::LazyLock;

use chrono::{NaiveDate, NaiveDateTime, TimeZone as _, Utc};
use chrono_tz::Tz;
use fluent_bundle::{FluentArgs, FluentValue};
use fluent_syntax::ast;

use crate::{Catalogue, ru};

/// The English templates.
const ENGLISH: &str = include_str!("../locales/en/refusals.ftl");

/// Variables whose parts are refusals themselves (a rule's detail, what an
/// agreement's state does not allow, the action the policy refused).
const NESTED: &[&str] = &["why", "what", "detail", "action", "reason", "audience"];

/// How deep refusals nest in one another.
const MAX_DEPTH: usize = 3;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Part(String),
}

/// One English template.
#[derive(Debug)]
struct Template {
    id: String,
    pieces: Vec<Piece>,
    /// How much of it is literal text.
    literal: usize,
}

static TEMPLATES: LazyLock<Vec<Template>> = LazyLock::new(|| {
    templates(ENGLISH).unwrap_or_else(|error| panic!("locales/en/refusals.ftl: {error}"))
});

fn templates(source: &str) -> Result<Vec<Template>, String> {
    let resource = fluent_syntax::parser::parse(source).map_err(|(_, errors)| {
        let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
        errors.join("; ")
    })?;
    let mut out = Vec::new();
    for entry in resource.body {
        let ast::Entry::Message(message) = entry else {
            continue;
        };
        let id = message.id.name.to_owned();
        let pattern = message
            .value
            .ok_or_else(|| format!("{id} has no template"))?;
        let mut pieces: Vec<Piece> = Vec::new();
        for element in pattern.elements {
            match element {
                ast::PatternElement::TextElement { value } => match pieces.last_mut() {
                    Some(Piece::Text(text)) => text.push_str(value),
                    _ => pieces.push(Piece::Text(value.to_owned())),
                },
                ast::PatternElement::Placeable {
                    expression:
                        ast::Expression::Inline(ast::InlineExpression::VariableReference { id: var }),
                } => {
                    if matches!(pieces.last(), Some(Piece::Part(_))) {
                        return Err(format!("{id}: two variables touch"));
                    }
                    pieces.push(Piece::Part(var.name.to_owned()));
                }
                _ => return Err(format!("{id}: a template holds text and variables only")),
            }
        }
        let literal = pieces
            .iter()
            .map(|p| match p {
                Piece::Text(text) => text.len(),
                Piece::Part(_) => 0,
            })
            .sum();
        out.push(Template {
            id,
            pieces,
            literal,
        });
    }
    Ok(out)
}

/// The Russian form of an English refusal, if a template matches it whole.
pub fn translate(english: &str) -> Option<String> {
    translate_in(ru(), english, 0).map(|(russian, _)| russian)
}

/// The Russian form of `english`, and how much of it templates read: of
/// two templates a message reads as, the one that (with the refusals
/// nested in its parts) reads more of it wins.
fn translate_in(catalogue: &Catalogue, english: &str, depth: usize) -> Option<(String, usize)> {
    let mut best: Option<(usize, &Template, FluentArgs<'static>)> = None;
    for template in TEMPLATES.iter() {
        let mut parts = Vec::new();
        if !matches(&template.pieces, english, &mut parts) {
            continue;
        }
        let names = template.pieces.iter().filter_map(|p| match p {
            Piece::Part(name) => Some(name.as_str()),
            Piece::Text(_) => None,
        });
        let mut args = FluentArgs::new();
        let mut read = template.literal;
        for (name, part) in names.zip(parts) {
            let (value, nested) = value(catalogue, name, part, depth);
            read += nested;
            args.set(name.to_owned(), value);
        }
        if best.as_ref().is_none_or(|(most, _, _)| read > *most) {
            best = Some((read, template, args));
        }
    }
    let (read, template, args) = best?;
    let pattern = catalogue
        .bundle
        .get_message(&template.id)
        .and_then(|m| m.value())?;
    let mut errors = Vec::new();
    let text = catalogue
        .bundle
        .format_pattern(pattern, Some(&args), &mut errors);
    errors.is_empty().then(|| (text.into_owned(), read))
}

/// Whether `text` reads as `pieces`, with the variable parts it found.
fn matches<'t>(pieces: &[Piece], text: &'t str, parts: &mut Vec<&'t str>) -> bool {
    match pieces.split_first() {
        None => text.is_empty(),
        Some((Piece::Text(literal), rest)) => text
            .strip_prefix(literal.as_str())
            .is_some_and(|after| matches(rest, after, parts)),
        Some((Piece::Part(_), rest)) => match rest.first() {
            None if text.is_empty() => false,
            None => {
                parts.push(text);
                true
            }
            Some(Piece::Text(next)) => {
                for (at, _) in text.match_indices(next.as_str()) {
                    if at == 0 {
                        continue;
                    }
                    parts.push(&text[..at]);
                    if matches(rest, &text[at..], parts) {
                        return true;
                    }
                    parts.pop();
                }
                false
            }
            Some(Piece::Part(_)) => false,
        },
    }
}

/// What a part becomes in the message, and how much of it a nested
/// refusal's templates read.
fn value(
    catalogue: &Catalogue,
    name: &str,
    part: &str,
    depth: usize,
) -> (FluentValue<'static>, usize) {
    if let Some(named) = vocabulary(catalogue, name, part) {
        return (named.into(), 0);
    }
    if NESTED.contains(&name)
        && depth < MAX_DEPTH
        && let Some((nested, read)) = translate_in(catalogue, part, depth + 1)
    {
        return (nested.into(), read);
    }
    if let Ok(n) = part.parse::<i64>()
        && n.to_string() == part
    {
        return (n.into(), 0);
    }
    let text = shaped(catalogue, part).unwrap_or_else(|| part.to_owned());
    (text.into(), 0)
}

/// The catalogue's name of a value of the vocabulary the variable is named
/// after (`$booking-rule` and `bookable_hours`: «часы бронирования»), or of
/// each value of a list, for a plural (`$report-dimensions`).
fn vocabulary(catalogue: &Catalogue, name: &str, part: &str) -> Option<String> {
    let named = |vocabulary: &str, value: &str| {
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            return None;
        }
        let key = format!("{vocabulary}-{}", value.replace('_', "-"));
        catalogue.has(&key).then(|| lowered(&catalogue.text(&key)))
    };
    named(name, part).or_else(|| {
        let singular = name.strip_suffix('s')?;
        let names: Option<Vec<String>> = part.split(", ").map(|v| named(singular, v)).collect();
        names.map(|n| n.join(", "))
    })
}

/// A name inside a sentence: «Часы бронирования» reads «часы бронирования»;
/// an abbreviation keeps its capitals.
fn lowered(name: &str) -> String {
    let mut chars = name.chars();
    match (chars.next(), chars.next()) {
        (Some(first), Some(second)) if first.is_uppercase() && !second.is_uppercase() => {
            first.to_lowercase().chain(name.chars().skip(1)).collect()
        }
        _ => name.to_owned(),
    }
}

/// A part in the catalogue's form by its shape: a local time with its zone
/// ("2026-12-11 17:00 Asia/Tomsk"), an instant in UTC, a local date-time,
/// a date, a zone, hours ("1.5 h"), a "quoted" value.
fn shaped(catalogue: &Catalogue, part: &str) -> Option<String> {
    if let Some((local, zone)) = part.get(..16).zip(part.get(17..))
        && let Ok(local) = NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M")
        && let Ok(zone) = zone.parse::<Tz>()
    {
        let at = zone.from_local_datetime(&local).earliest()?;
        return Some(catalogue.instant_named(at.with_timezone(&Utc), zone));
    }
    if let Some(utc) = part.strip_suffix(" UTC")
        && let Ok(at) = NaiveDateTime::parse_from_str(utc, "%Y-%m-%d %H:%M:%S%.f")
    {
        return Some(format!(
            "{}, {} UTC",
            catalogue.date(at.date()),
            catalogue.time(at.time())
        ));
    }
    if let Ok(at) = NaiveDateTime::parse_from_str(part, "%Y-%m-%d %H:%M:%S") {
        return Some(format!(
            "{}, {}",
            catalogue.date(at.date()),
            catalogue.time(at.time())
        ));
    }
    if let Ok(date) = NaiveDate::parse_from_str(part, "%Y-%m-%d") {
        return Some(catalogue.date(date));
    }
    if part.contains('/')
        && let Ok(zone) = part.parse::<Tz>()
    {
        return Some(catalogue.city(zone));
    }
    if let Some(hours) = part.strip_suffix(" h")
        && hours.parse::<f64>().is_ok()
    {
        return Some(format!(
            "{} {}",
            hours.replace('.', ","),
            catalogue.text("unit-hours")
        ));
    }
    let (quoted, cut) = match part.strip_suffix('…') {
        Some(cut) => (cut, "…"),
        None => (part, ""),
    };
    if quoted.len() >= 2 && quoted.starts_with('"') && quoted.ends_with('"') {
        let inner = quoted[1..quoted.len() - 1]
            .replace("\\\"", "\"")
            .replace("\\\\", "\\");
        return Some(format!("«{inner}{cut}»"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_whole_messages_and_keep_their_parts() {
        assert_eq!(
            translate("is required").as_deref(),
            Some("обязательное поле")
        );
        assert_eq!(
            translate("the sign-in link expired at 2026-12-06 10:00:00 UTC; ask for a new one")
                .as_deref(),
            Some("срок действия ссылки для входа истёк; попросите новую")
        );
        assert_eq!(translate("is required, really"), None);
        let pieces = |t: &str| templates(&format!("t = {t}\n")).unwrap().remove(0).pieces;
        let mut parts = Vec::new();
        assert!(matches(&pieces("a { $x } b { $y }"), "a x b y", &mut parts));
        assert_eq!(parts, ["x", "y"]);
        parts.clear();
        assert!(matches(&pieces("{ $n } left"), "3 left", &mut parts));
        assert_eq!(parts, ["3"]);
        assert!(!matches(&pieces("a { $x } b"), "a x c", &mut Vec::new()));
        // A later separator is tried when the first leaves no match.
        parts.clear();
        assert!(matches(
            &pieces("{ $a }: { $b } end"),
            "x: y: z end",
            &mut parts
        ));
        assert_eq!(parts, ["x", "y: z"]);
        assert!(templates("t = { $a }{ $b }\n").is_err());
    }

    #[test]
    fn parts_read_in_russian_by_their_names_and_shapes() {
        assert_eq!(
            translate("refused by the bookable_hours rule: the resource is closed: ремонт")
                .as_deref(),
            Some("отказ по правилу «часы бронирования»: ресурс закрыт: ремонт")
        );
        assert_eq!(
            translate("registration is closed: it closed at 2026-12-11 17:00 Asia/Tomsk")
                .as_deref(),
            Some("запись закрыта: она закрылась пт, 11 декабря 2026, 17:00, Томск (UTC+7)")
        );
        assert_eq!(
            translate("is longer than 21 characters").as_deref(),
            Some("длиннее 21 символа")
        );
        assert_eq!(
            translate("\"Ab\" must start with a letter").as_deref(),
            Some("«Ab»: короткое имя должно начинаться с буквы")
        );
        assert_eq!(
            translate("this report is not grouped by grade; it takes organization, month")
                .as_deref(),
            Some("этот отчёт не группируется по полю «класс»; допустимы: организация, месяц")
        );
        assert_eq!(
            translate(
                "the admin role in organization lyceum does not allow you to manage the node's peers"
            )
            .as_deref(),
            Some("роль «администратор» в организации lyceum не позволяет управлять соседними узлами")
        );
    }
}
