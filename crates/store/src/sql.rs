//! The SQL both backends share: how instants, counts and lists are written
//! and read, and queries built clause by clause.

use chrono::{DateTime, Utc};
use edufed_domain::StorageError;

/// An instant as stored: microseconds since the Unix epoch.
pub(crate) fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

/// The instant stored as `micros`; an error past chrono's range.
pub(crate) fn instant(micros: i64) -> Result<DateTime<Utc>, StorageError> {
    DateTime::from_timestamp_micros(micros)
        .ok_or_else(|| StorageError::msg(format!("stored instant {micros} is out of range")))
}

/// [`instant`] of a nullable column.
pub(crate) fn optional_instant(micros: Option<i64>) -> Result<Option<DateTime<Utc>>, StorageError> {
    micros.map(instant).transpose()
}

/// A value stored as JSON text.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, StorageError> {
    serde_json::from_str(text).map_err(StorageError::new)
}

/// A value to store as JSON text.
pub(crate) fn to_json(value: &impl serde::Serialize) -> Result<String, StorageError> {
    serde_json::to_string(value).map_err(StorageError::new)
}

/// Rows decoded into the domain's values, each by its row type's
/// `TryFrom`.
pub(crate) fn decode_all<R, T, C>(rows: Vec<R>) -> Result<C, StorageError>
where
    T: TryFrom<R, Error = StorageError>,
    C: FromIterator<T>,
{
    rows.into_iter().map(T::try_from).collect()
}

/// A stored version or sequence, never negative.
pub(crate) fn unsigned(value: i64) -> Result<u64, StorageError> {
    u64::try_from(value).map_err(|_| StorageError::msg(format!("stored count {value} is negative")))
}

/// A version or sequence to store.
pub(crate) fn signed(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Numbered placeholders `$from..$from+count`, comma-separated, for `IN (...)`.
pub(crate) fn placeholders(from: usize, count: usize) -> String {
    (from..from + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern.
pub(crate) fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A value bound to a query built at run time.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    Text(String),
    Int(i64),
}

/// A query built clause by clause, with numbered placeholders: each `$?` in
/// a clause becomes the next number, bound to the value pushed with it.
#[derive(Debug, Default)]
pub(crate) struct QueryText {
    pub(crate) sql: String,
    values: Vec<Value>,
}

impl QueryText {
    pub(crate) fn new(sql: impl Into<String>) -> Self {
        Self {
            sql: sql.into(),
            values: Vec::new(),
        }
    }

    /// Appends `clause`, its `$?` standing for `value`.
    pub(crate) fn push(&mut self, clause: &str, value: Value) {
        self.values.push(value);
        self.sql += &clause.replace("$?", &format!("${}", self.values.len()));
    }

    /// Appends `clause` with `$list` standing for `values` as placeholders.
    pub(crate) fn push_list(&mut self, clause: &str, values: Vec<Value>) {
        let first = self.values.len() + 1;
        let list = placeholders(first, values.len());
        self.values.extend(values);
        self.sql += &clause.replace("$list", &list);
    }

    /// Appends text with no value.
    pub(crate) fn raw(&mut self, text: &str) {
        self.sql += text;
    }

    /// The query with its values bound, its rows decoded as `R`.
    pub(crate) fn query_as<R>(
        &self,
    ) -> sqlx::query::QueryAs<'_, sqlx::Any, R, sqlx::any::AnyArguments<'_>>
    where
        R: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>,
    {
        let mut query = sqlx::query_as(&self.sql);
        for value in &self.values {
            query = match value {
                Value::Text(v) => query.bind(v.clone()),
                Value::Int(v) => query.bind(*v),
            };
        }
        query
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered() {
        assert_eq!(placeholders(3, 3), "$3, $4, $5");
        assert_eq!(like_escape("50%_a\\"), "50\\%\\_a\\\\");
    }
}
