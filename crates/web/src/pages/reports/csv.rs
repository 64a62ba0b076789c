//! A report's table, shown on its page and downloaded as a CSV file that
//! a spreadsheet in Russian opens as it is: UTF-8 with a byte order mark
//! (so Excel reads Cyrillic), semicolons between fields and decimal commas
//! (as Excel in a Russian locale expects), Russian headers.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse as _, Response};
use edufed_proto::v1 as pb;

use edufed_i18n::{Arg, ru};

use super::number;

/// One cell of a table.
pub(crate) enum Cell {
    Text(String),
    Number(f64),
    /// A percentage.
    Share(f64),
    /// No figure (a share of nothing).
    Empty,
}

impl Cell {
    /// As the page shows it.
    pub(crate) fn shown(&self) -> String {
        match self {
            Cell::Text(text) => text.clone(),
            Cell::Number(x) => number(*x),
            Cell::Share(x) => format!("{}\u{a0}%", number(*x)),
            Cell::Empty => "—".to_owned(),
        }
    }

    /// As the CSV file has it: numbers without thousands apart.
    fn csv(&self) -> String {
        match self {
            Cell::Text(text) => text.clone(),
            Cell::Number(x) | Cell::Share(x) => number(*x).replace('\u{a0}', "").replace('−', "-"),
            Cell::Empty => String::new(),
        }
    }

    /// Whether it is a figure (aligned right).
    pub(crate) fn numeric(&self) -> bool {
        !matches!(self, Cell::Text(_))
    }
}

/// A table: its columns, rows and total.
pub(crate) struct Table {
    pub(crate) id: String,
    pub(crate) caption: String,
    pub(crate) columns: Vec<String>,
    pub(crate) rows: Vec<Vec<Cell>>,
    pub(crate) total: Option<Vec<Cell>>,
    /// Which rows a page shows when there are more than `PAGE_ROWS`.
    pub(crate) paging: Option<Paging>,
}

/// Rows a page shows at most; the CSV has them all.
pub(crate) const PAGE_ROWS: usize = 200;

/// Keeps page `number` (from 1) of `rows` when there are more than
/// `PAGE_ROWS`, and says where it stands, with the links `href` makes to
/// the pages around it.
pub(crate) fn page_of<T>(
    rows: &mut Vec<T>,
    number: usize,
    href: impl Fn(usize) -> String,
) -> Option<Paging> {
    let count = rows.len();
    if count <= PAGE_ROWS {
        return None;
    }
    let pages = count.div_ceil(PAGE_ROWS);
    let number = number.clamp(1, pages);
    let from = (number - 1) * PAGE_ROWS;
    let to = (from + PAGE_ROWS).min(count);
    *rows = rows.drain(from..to).collect();
    let n = |x: usize| Arg::Number(i64::try_from(x).unwrap_or(i64::MAX));
    Some(Paging {
        note: ru().text_with(
            "reports-rows-shown",
            &[("from", n(from + 1)), ("to", n(to)), ("count", n(count))],
        ),
        previous: if number > 1 {
            href(number - 1)
        } else {
            String::new()
        },
        next: if number < pages {
            href(number + 1)
        } else {
            String::new()
        },
    })
}

/// Where a long table's page stands: «Строки 201–400 из 4 512» and the
/// links to the pages before and after (empty at either end).
pub(crate) struct Paging {
    pub(crate) note: String,
    pub(crate) previous: String,
    pub(crate) next: String,
}

impl Table {
    /// A table whose columns are the catalogue's `column_keys`.
    pub(crate) fn new(
        id: &str,
        caption: String,
        column_keys: &[&str],
        rows: Vec<Vec<Cell>>,
        total: Option<Vec<Cell>>,
    ) -> Self {
        Self {
            id: id.to_owned(),
            caption,
            columns: column_keys.iter().map(|k| crate::t(k)).collect(),
            rows,
            total,
            paging: None,
        }
    }

    /// Keeps page `number` (from 1) of a table longer than `PAGE_ROWS`,
    /// with the links `href` makes to the pages around it; the total stays
    /// the whole table's.
    pub(crate) fn page(&mut self, number: usize, href: impl Fn(usize) -> String) {
        self.paging = page_of(&mut self.rows, number, href);
    }

    /// The table as CSV text, the total last.
    pub(crate) fn csv(&self) -> String {
        let mut out = String::from("\u{feff}");
        line(&mut out, self.columns.iter().cloned());
        for row in self.rows.iter().chain(self.total.iter()) {
            line(&mut out, row.iter().map(Cell::csv));
        }
        out
    }
}

fn line(out: &mut String, fields: impl Iterator<Item = String>) {
    for (i, field) in fields.enumerate() {
        if i > 0 {
            out.push(';');
        }
        if field.contains([';', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&field);
        }
    }
    out.push_str("\r\n");
}

/// `table` as a file to download, named after the report and its period.
pub(crate) fn download(name: &str, scope: Option<&pb::ReportScope>, table: &Table) -> Response {
    let period = scope.map_or(String::new(), |s| format!("-{}-{}", s.from, s.to));
    let ascii = format!("{name}{period}.csv");
    let russian = format!("{}{period}.csv", table.caption);
    let disposition = format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        percent_encoded(&russian)
    );
    let mut response = table.csv().into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// RFC 5987's encoding of a file name.
fn percent_encoded(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_tables_show_a_page_and_link_the_others() {
        let rows = (0..450)
            .map(|i| vec![Cell::Text(format!("строка {i}"))])
            .collect();
        let mut table = Table::new("t", "Таблица".into(), &[], rows, None);
        table.page(2, |n| format!("?page={n}"));
        assert_eq!(table.rows.len(), PAGE_ROWS);
        assert_eq!(table.rows[0][0].csv(), "строка 200");
        let paging = table.paging.as_ref().expect("paged");
        assert_eq!(
            paging.note,
            "Строки 201–400 из 450; все строки — в файле CSV."
        );
        assert_eq!(
            (paging.previous.as_str(), paging.next.as_str()),
            ("?page=1", "?page=3")
        );

        let mut last = Table::new(
            "t",
            "Таблица".into(),
            &[],
            (0..450).map(|_| Vec::new()).collect(),
            None,
        );
        last.page(99, |n| format!("?page={n}"));
        assert_eq!(last.rows.len(), 50, "past the end: the last page");
        assert!(last.paging.as_ref().unwrap().next.is_empty());

        let mut short = Table::new(
            "t",
            "Таблица".into(),
            &[],
            (0..10).map(|_| Vec::new()).collect(),
            None,
        );
        short.page(1, |n| format!("?page={n}"));
        assert!(short.paging.is_none());
    }

    #[test]
    fn csv_opens_in_a_russian_spreadsheet() {
        let table = Table {
            id: "t".into(),
            caption: "Мероприятия".into(),
            columns: vec!["Вид".into(), "Часов".into()],
            rows: vec![vec![
                Cell::Text("Курс; «вводный»".into()),
                Cell::Number(4.5),
            ]],
            total: Some(vec![Cell::Text("Итого".into()), Cell::Number(12345.0)]),
            paging: None,
        };
        assert_eq!(
            table.csv(),
            "\u{feff}Вид;Часов\r\n\"Курс; «вводный»\";4,5\r\nИтого;12345\r\n"
        );
        assert_eq!(percent_encoded("Мы a.csv"), "%D0%9C%D1%8B%20a.csv");
    }
}
