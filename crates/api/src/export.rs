//! Reports as CSV, JSON and plain tables, read off the response messages by
//! their descriptors, so every report exports the same way on the HTTP side
//! and in the command-line client.

use std::sync::OnceLock;

use prost_reflect::{DescriptorPool, DynamicMessage, ReflectMessage as _, SerializeOptions, Value};

/// The API's descriptors, with their imports and comments.
pub fn descriptor_pool() -> &'static DescriptorPool {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    POOL.get_or_init(|| {
        DescriptorPool::decode(edufed_proto::FILE_DESCRIPTOR_SET)
            .unwrap_or_else(|_| DescriptorPool::new())
    })
}

fn dynamic<M: prost::Message + prost::Name>(message: &M) -> Option<DynamicMessage> {
    let descriptor = descriptor_pool().get_message_by_name(&M::full_name())?;
    DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice()).ok()
}

/// The message as canonical protobuf JSON, field names as in the .proto
/// files, defaults included.
pub fn to_json<M: prost::Message + prost::Name>(message: &M, pretty: bool) -> String {
    let Some(dynamic) = dynamic(message) else {
        return "{}".to_owned();
    };
    let options = SerializeOptions::new()
        .use_proto_field_name(true)
        .skip_default_fields(false);
    let mut out = Vec::new();
    let result = if pretty {
        let mut serializer = serde_json::Serializer::pretty(&mut out);
        dynamic.serialize_with_options(&mut serializer, &options)
    } else {
        let mut serializer = serde_json::Serializer::new(&mut out);
        dynamic.serialize_with_options(&mut serializer, &options)
    };
    match result {
        Ok(()) => String::from_utf8(out).unwrap_or_default(),
        Err(_) => "{}".to_owned(),
    }
}

/// A report's rows as a table: a header of the row message's field names,
/// then each row of `rows`, then `total` if the report has one, marked in a
/// first column `row`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Column names, the row message's fields in declaration order.
    pub header: Vec<String>,
    /// Cells, as text.
    pub rows: Vec<Vec<String>>,
}

fn cell(value: &Value) -> (String, bool) {
    match value {
        Value::String(s) => (s.clone(), true),
        Value::Bool(b) => (b.to_string(), false),
        Value::U32(n) => (n.to_string(), false),
        Value::U64(n) => (n.to_string(), false),
        Value::I32(n) => (n.to_string(), false),
        Value::I64(n) => (n.to_string(), false),
        Value::F64(x) => (x.to_string(), false),
        Value::F32(x) => (x.to_string(), false),
        Value::EnumNumber(n) => (n.to_string(), false),
        _ => (String::new(), false),
    }
}

/// The rows of a report response (its `rows` field, and `total`).
pub fn table<M: prost::Message + prost::Name>(message: &M) -> Table {
    let Some(dynamic) = dynamic(message) else {
        return Table {
            header: Vec::new(),
            rows: Vec::new(),
        };
    };
    let descriptor = dynamic.descriptor();
    let Some(rows_field) = descriptor.get_field_by_name("rows") else {
        return Table {
            header: Vec::new(),
            rows: Vec::new(),
        };
    };
    let prost_reflect::Kind::Message(row_type) = rows_field.kind() else {
        return Table {
            header: Vec::new(),
            rows: Vec::new(),
        };
    };
    let total_field = descriptor.get_field_by_name("total");
    let mut header: Vec<String> = Vec::new();
    if total_field.is_some() {
        header.push("row".to_owned());
    }
    header.extend(row_type.fields().map(|f| f.name().to_owned()));
    let line = |label: Option<&str>, row: &DynamicMessage| {
        let mut cells: Vec<String> = label.map(|l| vec![l.to_owned()]).unwrap_or_default();
        for field in row_type.fields() {
            cells.push(cell(&row.get_field(&field)).0);
        }
        cells
    };
    let mut rows = Vec::new();
    let mark = total_field.as_ref().map(|_| "row");
    if let Some(list) = dynamic.get_field(&rows_field).as_list() {
        for value in list {
            if let Some(row) = value.as_message() {
                rows.push(line(mark, row));
            }
        }
    }
    if let Some(total_field) = &total_field
        && dynamic.has_field(total_field)
        && let Some(total) = dynamic.get_field(total_field).as_message()
    {
        rows.push(line(Some("total"), total));
    }
    Table { header, rows }
}

/// A cell a spreadsheet would read as a formula, made inert.
fn inert(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') if text.parse::<f64>().is_err() => {
            format!("'{text}")
        }
        _ => text.to_owned(),
    }
}

/// The rows of a report response as CSV (RFC 4180, a header line first).
pub fn to_csv<M: prost::Message + prost::Name>(message: &M) -> String {
    let table = table(message);
    let mut writer = csv::Writer::from_writer(Vec::new());
    let _ = writer.write_record(&table.header);
    for row in &table.rows {
        let _ = writer.write_record(row.iter().map(|c| inert(c)));
    }
    writer
        .into_inner()
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use edufed_proto::v1 as pb;

    use super::*;

    #[test]
    fn rows_and_total_become_csv() {
        let response = pb::ActivitiesReportResponse {
            scope: None,
            rows: vec![pb::ActivityRow {
                organization: "o1".into(),
                organization_name: "=cmd, \"quoted\"".into(),
                direction: "innovation".into(),
                occurrences_held: 3,
                hours_held: 4.5,
                ..Default::default()
            }],
            total: Some(pb::ActivityRow {
                occurrences_held: 3,
                hours_held: 4.5,
                ..Default::default()
            }),
        };
        let csv = to_csv(&response);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3, "{csv}");
        assert!(lines[0].starts_with("row,organization,organization_name,direction,kind,month,"));
        assert!(
            lines[1].starts_with("row,o1,\"'=cmd, \"\"quoted\"\"\",innovation,,,"),
            "{csv}"
        );
        assert!(lines[1].ends_with(",3,0,0,4.5,"), "{csv}");
        assert!(lines[2].starts_with("total,,,,,,"), "{csv}");
        let json = to_json(&response, false);
        assert!(json.contains("\"occurrences_held\":3"), "{json}");
    }
}
