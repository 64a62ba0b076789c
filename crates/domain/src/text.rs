//! Rules shared by free-text fields, and the folding used for search.

use crate::error::FieldError;

/// Checks a one-line text field: trims it, requires it unless `optional`, and
/// bounds its length in characters. Control characters are refused.
pub fn line(field: &str, raw: &str, max_chars: usize) -> Result<String, FieldError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    bounded(field, value, max_chars)?;
    if value.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    if value.chars().any(invisible) {
        return Err(FieldError::new(
            field,
            "must not contain invisible formatting characters (a text direction override, a zero-width space)",
        ));
    }
    Ok(value.to_owned())
}

/// Characters that change how text reads without showing themselves: the
/// bidirectional overrides and isolates (a U+202E can make «exe.pdf» of
/// «fdp.exe»), zero-width spaces and joiners' kin, the byte-order mark.
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// Like [`line()`], but an empty value is `None`.
pub fn optional_line(
    field: &str,
    raw: &str,
    max_chars: usize,
) -> Result<Option<String>, FieldError> {
    if raw.trim().is_empty() {
        Ok(None)
    } else {
        line(field, raw, max_chars).map(Some)
    }
}

/// Checks a multi-line text field that may be empty: trims it, turns CRLF
/// line breaks into LF, bounds its length, and refuses control characters
/// other than line breaks and tabs.
pub fn paragraph(field: &str, raw: &str, max_chars: usize) -> Result<String, FieldError> {
    let value = raw.trim().replace("\r\n", "\n");
    bounded(field, &value, max_chars)?;
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(FieldError::new(
            field,
            "must not contain control characters other than line breaks",
        ));
    }
    Ok(value)
}

fn bounded(field: &str, value: &str, max_chars: usize) -> Result<(), FieldError> {
    // Count lazily: a 10 MB value must not be walked to the end to be refused.
    if value.chars().nth(max_chars).is_some() {
        return Err(FieldError::new(
            field,
            format!("is longer than {max_chars} characters"),
        ));
    }
    Ok(())
}

/// A client's value as it may be quoted back in an error: quoted, and cut to
/// 64 characters, so that echoing bad input cannot make a response too big.
pub fn excerpt(value: &str) -> String {
    const MAX: usize = 64;
    match value.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{:?}…", &value[..cut]),
        None => format!("{value:?}"),
    }
}

/// Folds text for case-insensitive search: lowercase, and `ё` as `е`, as
/// Russian users type either.
pub fn fold(text: &str) -> String {
    text.chars()
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'ё' { 'е' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_formatting_is_refused_in_a_line() {
        for raw in [
            "\u{202E}fdp.exe",
            "Лицей\u{200B}№7",
            "\u{2067}Гимназия",
            "\u{FEFF}Школа",
        ] {
            assert!(line("title", raw, 100).is_err(), "{raw:?} passed");
        }
        assert!(line("title", "«Звезда» — олимпиада", 100).is_ok());
    }

    #[test]
    fn paragraphs_keep_line_breaks_and_refuse_other_controls() {
        assert_eq!(paragraph("notes", " a\r\nb\tc ", 10).unwrap(), "a\nb\tc");
        assert_eq!(paragraph("notes", "", 10).unwrap(), "");
        assert_eq!(paragraph("notes", "a\u{7}", 10).unwrap_err().field, "notes");
        assert!(paragraph("notes", "abcdefghijk", 10).is_err());
    }

    #[test]
    fn line_trims_and_bounds() {
        assert_eq!(line("name", "  Лицей №7 ", 10).unwrap(), "Лицей №7");
        assert_eq!(line("name", "", 10).unwrap_err().reason, "is required");
        let long = "я".repeat(11);
        assert_eq!(line("name", &long, 10).unwrap_err().field, "name");
        assert!(line("name", &"я".repeat(10), 10).is_ok());
        assert!(line("name", "a\u{0}b", 10).is_err());
    }

    #[test]
    fn excerpts_are_bounded() {
        assert_eq!(excerpt("Mars/Olympus"), "\"Mars/Olympus\"");
        let long = excerpt(&"я".repeat(10_000));
        assert!(long.chars().count() < 70, "{long}");
        assert!(long.ends_with('…'));
    }

    #[test]
    fn fold_treats_yo_as_ye() {
        assert_eq!(fold("Ёлка ЗЕЛЁНАЯ"), "елка зеленая");
    }
}
