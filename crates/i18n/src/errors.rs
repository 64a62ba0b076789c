//! The API's refusals in Russian. The API speaks English to programs; the
//! console shows people the same refusal in Russian, translated here from
//! its English text, gettext-style: each English template (its variable
//! parts as `{}`) has its Russian form (`{1}`, `{2}`… the parts in order).
//! A refusal no template matches is shown with a Russian lead and its
//! English text, never dropped.

/// English templates and their Russian forms, the more specific first.
const TEMPLATES: &[(&str, &str)] = &[
    ("is required", "обязательное поле"),
    (
        "must be between 1 minute and 3 days",
        "от 1 минуты до 3 дней",
    ),
    (
        "must be a positive duration",
        "должно быть положительной длительностью",
    ),
    (
        "the sign-in link was already used at {}; ask for a new one",
        "ссылка для входа уже использована; попросите новую",
    ),
    (
        "the sign-in link expired at {}; ask for a new one",
        "срок действия ссылки для входа истёк; попросите новую",
    ),
    (
        "the sign-in link is not valid",
        "ссылка для входа недействительна",
    ),
    (
        "the session is not valid; sign in again",
        "сеанс недействителен; войдите снова",
    ),
    (
        "the session ended at {}; sign in again",
        "сеанс завершён; войдите снова",
    ),
    (
        "the session expired at {}; sign in again",
        "срок сеанса истёк; войдите снова",
    ),
];

/// The Russian form of an English refusal, if a template matches it whole.
pub fn translate(english: &str) -> Option<String> {
    TEMPLATES.iter().find_map(|(template, russian)| {
        let parts = matches(template, english)?;
        let mut out = (*russian).to_owned();
        for (i, part) in parts.iter().enumerate() {
            out = out.replace(&format!("{{{}}}", i + 1), part);
        }
        Some(out)
    })
}

/// The variable parts of `text` if it reads as `template`.
fn matches<'a>(template: &str, text: &'a str) -> Option<Vec<&'a str>> {
    let pieces: Vec<&str> = template.split("{}").collect();
    let mut rest = text.strip_prefix(pieces[0])?;
    let mut parts = Vec::new();
    for (i, piece) in pieces.iter().enumerate().skip(1) {
        let last = i == pieces.len() - 1;
        let at = if last && piece.is_empty() {
            rest.len()
        } else if last {
            if !rest.ends_with(piece) {
                return None;
            }
            rest.len() - piece.len()
        } else {
            rest.find(piece)?
        };
        parts.push(&rest[..at]);
        rest = &rest[at + piece.len()..];
    }
    rest.is_empty().then_some(parts)
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
        assert_eq!(matches("a {} b {}", "a x b y"), Some(vec!["x", "y"]));
        assert_eq!(matches("{} left", "3 left"), Some(vec!["3"]));
        assert_eq!(matches("a {} b", "a x c"), None);
    }
}
