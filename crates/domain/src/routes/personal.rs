//! Keeping children's personal data out of plans: a route is about a
//! cohort (a code and a count), so its texts must name no one. What a
//! school types (a title, a note, a result) is checked for what names a
//! person: an e-mail address, a phone number, a patronymic, initials beside
//! a surname, a given name. A check of text cannot be complete; it refuses
//! what is recognisably a name and says why, so the school rewrites it.

use crate::error::FieldError;

/// Common Russian given names and their everyday forms, folded (ё as е).
const GIVEN_NAMES: &[&str] = &[
    "александр",
    "саша",
    "алексей",
    "леша",
    "алеша",
    "андрей",
    "антон",
    "артем",
    "артемий",
    "богдан",
    "борис",
    "вадим",
    "валентин",
    "валерий",
    "василий",
    "вася",
    "виктор",
    "витя",
    "виталий",
    "владимир",
    "вова",
    "володя",
    "владислав",
    "влад",
    "всеволод",
    "вячеслав",
    "геннадий",
    "георгий",
    "глеб",
    "григорий",
    "гриша",
    "даниил",
    "данила",
    "даня",
    "денис",
    "дмитрий",
    "дима",
    "евгений",
    "женя",
    "егор",
    "иван",
    "ваня",
    "игорь",
    "илья",
    "кирилл",
    "константин",
    "костя",
    "максим",
    "макс",
    "марк",
    "матвей",
    "михаил",
    "миша",
    "никита",
    "николай",
    "коля",
    "олег",
    "павел",
    "паша",
    "петр",
    "петя",
    "родион",
    "ростислав",
    "руслан",
    "савелий",
    "семен",
    "сергей",
    "сережа",
    "степан",
    "тимофей",
    "тимур",
    "федор",
    "федя",
    "филипп",
    "юрий",
    "юра",
    "ярослав",
    "александра",
    "алена",
    "алина",
    "алиса",
    "алла",
    "анастасия",
    "настя",
    "ангелина",
    "анна",
    "аня",
    "арина",
    "валентина",
    "валерия",
    "варвара",
    "варя",
    "василиса",
    "вероника",
    "виктория",
    "вика",
    "галина",
    "дарья",
    "даша",
    "диана",
    "ева",
    "евгения",
    "екатерина",
    "катя",
    "елена",
    "лена",
    "елизавета",
    "лиза",
    "жанна",
    "зоя",
    "ирина",
    "ира",
    "кира",
    "ксения",
    "ксюша",
    "лариса",
    "людмила",
    "маргарита",
    "марина",
    "мария",
    "маша",
    "милана",
    "наталья",
    "наташа",
    "нина",
    "оксана",
    "ольга",
    "оля",
    "полина",
    "светлана",
    "света",
    "софия",
    "софья",
    "соня",
    "таисия",
    "тамара",
    "татьяна",
    "таня",
    "ульяна",
    "юлия",
    "юля",
    "яна",
];

/// Given names that are also everyday words («Вера в себя», «роман»,
/// «Лев Толстой»): a name only beside a capitalized word.
const AMBIGUOUS_NAMES: &[&str] = &[
    "вера",
    "надежда",
    "любовь",
    "роман",
    "лев",
    "слава",
    "мир",
    "лада",
    "майя",
    "роза",
    "лилия",
    "ника",
    "влада",
    "злата",
    "мирон",
];

/// How patronymics end, in their cases («Петрович», «Петровичем»,
/// «Сергеевны»); adjectives («основная») end otherwise.
const PATRONYMIC_ENDINGS: &[&str] = &[
    "ович",
    "евич",
    "овича",
    "евича",
    "овичу",
    "евичу",
    "овичем",
    "евичем",
    "овиче",
    "евиче",
    "овна",
    "евна",
    "овны",
    "евны",
    "овне",
    "евне",
    "овну",
    "евну",
    "овной",
    "евной",
];

/// Words ending like a patronymic that are not one.
const ADJECTIVES: &[&str] = &[
    "основной",
    "любовной",
    "духовной",
    "кровной",
    "церковной",
    "рядовной",
];

fn refuse(field: &str, what: &str) -> FieldError {
    FieldError::new(
        field,
        format!(
            "looks like {what}: a route names cohorts by code and count, never a child; \
             rewrite it without names or contacts"
        ),
    )
}

/// Whether a folded word ends as Russian surnames do.
fn surname_like(word: &str) -> bool {
    const ENDINGS: &[&str] = &[
        "ов", "ова", "ев", "ева", "ин", "ина", "ын", "ына", "ский", "ская", "цкий", "цкая", "ой",
        "ко", "ук", "юк", "ич", "ян", "ых", "их",
    ];
    word.chars().count() >= 4 && ENDINGS.iter().any(|e| word.ends_with(e))
}

fn capitalized(word: &str) -> bool {
    word.chars().next().is_some_and(char::is_uppercase)
}

/// Strips a Russian case ending, so «Петровичем» and «Машей» are found.
fn stems(word: &str) -> Vec<String> {
    let mut out = vec![word.to_owned()];
    for ending in [
        "ами", "ому", "ему", "ой", "ей", "ем", "ом", "ым", "им", "ую", "юю", "а", "у", "е", "ы",
        "и", "ю", "я", "ю",
    ] {
        if let Some(stem) = word.strip_suffix(ending)
            && stem.chars().count() >= 2
        {
            out.push(stem.to_owned());
            out.push(format!("{stem}а"));
            out.push(format!("{stem}я"));
        }
    }
    out
}

/// Refuses `value` (the text of `field`) when it names a person or gives
/// a contact.
pub fn check(field: &str, value: &str) -> Result<(), FieldError> {
    if value.contains('@')
        && value
            .split('@')
            .nth(1)
            .is_some_and(|domain| domain.contains('.'))
    {
        return Err(refuse(field, "an e-mail address"));
    }
    // Digits in a run that a phone number is written with.
    let mut digits = 0;
    for c in value.chars() {
        if c.is_ascii_digit() {
            digits += 1;
            if digits >= 10 {
                return Err(refuse(field, "a phone number"));
            }
        } else if !matches!(c, ' ' | '-' | '(' | ')' | '+' | '\u{a0}') {
            digits = 0;
        }
    }
    let words: Vec<&str> = value
        .split(|c: char| !(c.is_alphabetic() || c == '.' || c == '-'))
        .filter(|w| !w.is_empty())
        .collect();
    for (i, raw) in words.iter().enumerate() {
        let word = raw.trim_matches('.');
        if word.is_empty() {
            continue;
        }
        let folded = crate::text::fold(word);
        if capitalized(word)
            && word.chars().count() >= 6
            && PATRONYMIC_ENDINGS.iter().any(|e| folded.ends_with(e))
            && !ADJECTIVES.contains(&folded.as_str())
        {
            return Err(refuse(field, "a patronymic"));
        }
        // Initials: «И.И.», «И. И.» beside a capitalized word.
        let initial = |w: &str| {
            let letters: Vec<char> = w.chars().filter(|c| *c != '.').collect();
            w.contains('.')
                && !letters.is_empty()
                && letters.len() <= 2
                && letters.iter().all(|c| c.is_uppercase())
        };
        let neighbour_capitalized = |j: Option<usize>| {
            j.and_then(|j| words.get(j)).is_some_and(|w| {
                let w = w.trim_matches('.');
                capitalized(w) && w.chars().count() >= 3 && !initial(w)
            })
        };
        let before = i.checked_sub(1);
        // «им. Г. И. Носова»: an institution named after someone.
        let named_after = (1..=3).any(|back| {
            i.checked_sub(back)
                .and_then(|j| words.get(j))
                .is_some_and(|w| {
                    matches!(
                        crate::text::fold(w.trim_matches('.')).as_str(),
                        "им" | "имени"
                    )
                })
        });
        let after = Some(i + 1);
        if initial(raw)
            && !named_after
            && (neighbour_capitalized(before) || neighbour_capitalized(after))
        {
            return Err(refuse(field, "initials and a surname"));
        }
        if capitalized(word) {
            let forms = stems(&folded);
            if forms.iter().any(|f| GIVEN_NAMES.contains(&f.as_str())) {
                return Err(refuse(field, "a given name"));
            }
            let surname = |j: Option<usize>| {
                j.and_then(|j| words.get(j))
                    .is_some_and(|w| capitalized(w) && surname_like(&crate::text::fold(w)))
            };
            if forms.iter().any(|f| AMBIGUOUS_NAMES.contains(&f.as_str()))
                && (surname(before) || surname(after))
            {
                return Err(refuse(field, "a name and a surname"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn names_and_contacts_are_refused() {
        for text in [
            "Иванов Пётр Сергеевич",
            "с Петровичем",
            "Иванова М.",
            "И. И. Петров",
            "Маша пропустила занятие",
            "Для Даши и Кирилла",
            "Роман Петров",
            "Вера Петрова",
            "Лев Толстой",
            "ivanov@example.ru",
            "+7 (912) 345-67-89",
            "89123456789",
        ] {
            assert!(check("note", text).is_err(), "{text} passed");
        }
    }

    #[test]
    fn plans_pass() {
        for text in [
            "Инженерный профиль, 10 класс",
            "«Технология» в Кванториуме, 2 часа в неделю",
            "Олимпиада «Звезда», отборочный этап",
            "Профильная смена ЮУрГУ",
            "Диплом призёра; 12 из 14 присутствовали",
            "Вера в себя: тренинг",
            "Роман как жанр: урок литературы",
            "Основная группа, условное деление",
            "Конференция «Мир науки глазами детей»",
            "Группа 10И-2026",
            "3D-моделирование, г. Магнитогорск",
            "Лаборатория робототехники МГТУ им. Г. И. Носова",
        ] {
            assert!(
                check("note", text).is_ok(),
                "{text}: {:?}",
                check("note", text)
            );
        }
    }
}
