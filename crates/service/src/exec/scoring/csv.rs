//! The scoring protocol's CSV body (`text/csv`, as `mlflow models predict --content-type csv`
//! sends a file): a header row of column names, then a row a prediction. Cells are typed by
//! the field their column answers, as pandas' reader would type them: numbers for number
//! fields, true/false for checkboxes, text otherwise; an empty cell is a missing value.

use feather_spec::{Component, Props};
use serde_json::{Map, Number, Value};

use super::{Columns, bad, field, unknown};
use crate::Result;

/// The rows of a CSV body as inputs by component id, in order.
pub(super) fn rows(
    body: &[u8],
    columns: &Columns,
    init: &[Component],
) -> Result<Vec<Map<String, Value>>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(body);
    let header = reader
        .headers()
        .map_err(|e| bad(format!("the CSV body cannot be read: {e}")))?
        .clone();
    // A DataFrame written with its index has a first column with no name: it is no field.
    let fields: Vec<Option<&Component>> = header
        .iter()
        .map(|name| {
            if name.is_empty() {
                return Ok(None);
            }
            let id = field(columns, name).ok_or_else(|| unknown(name, columns))?;
            Ok(init.iter().find(|c| c.id == id))
        })
        .collect::<Result<_>>()?;
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| bad(format!("CSV row {}: {e}", i + 1)))?;
        if rows.len() == super::MAX_ROWS {
            return Err(bad(format!(
                "more than {} rows; one request takes at most that many",
                super::MAX_ROWS
            )));
        }
        let row = fields
            .iter()
            .zip(record.iter())
            .filter_map(|(c, cell)| c.map(|c| (c.id.clone(), typed(cell, c))))
            .collect();
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(bad("the CSV has a header but no rows"));
    }
    Ok(rows)
}

/// A cell as the value its field takes; one that does not parse stays text, and the field's
/// check names it.
fn typed(cell: &str, c: &Component) -> Value {
    let cell = cell.trim();
    if cell.is_empty() {
        return Value::Null;
    }
    match &c.props {
        Props::NumberIn(_) | Props::Slider(_) => {
            if let Ok(n) = cell.parse::<i64>() {
                return Value::from(n);
            }
            if let Some(n) = cell.parse::<f64>().ok().and_then(Number::from_f64) {
                return Value::Number(n);
            }
        }
        Props::Checkbox(_) => match cell {
            "true" | "True" | "TRUE" | "1" => return Value::Bool(true),
            "false" | "False" | "FALSE" | "0" => return Value::Bool(false),
            _ => {}
        },
        _ => {}
    }
    Value::String(cell.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn init() -> Vec<Component> {
        [
            json!({"type": "Number.In", "id": "sepal_length_cm", "title": "sepal length (cm)"}),
            json!({"type": "Text.In", "id": "plan"}),
            json!({"type": "Checkbox", "id": "paid"}),
        ]
        .iter()
        .map(|c| Component::parse(c).unwrap())
        .collect()
    }

    fn cols() -> Columns {
        vec![
            (
                "sepal_length_cm".into(),
                vec!["sepal length (cm)".into(), "sepal_length_cm".into()],
            ),
            ("plan".into(), vec!["plan".into()]),
            ("paid".into(), vec!["paid".into()]),
        ]
    }

    #[test]
    fn cells_are_typed_by_their_field() {
        let body = b",sepal length (cm),plan,paid\n0,5.1,12,True\n1,6,a b,false\n2,,x,0\n";
        let got = rows(body, &cols(), &init()).unwrap();
        assert_eq!(
            serde_json::to_value(got).unwrap(),
            json!([
                {"sepal_length_cm": 5.1, "plan": "12", "paid": true},
                {"sepal_length_cm": 6, "plan": "a b", "paid": false},
                {"sepal_length_cm": null, "plan": "x", "paid": false}
            ])
        );
    }

    #[test]
    fn what_cannot_be_read_is_named() {
        let e = rows(b"colour\n1\n", &cols(), &init()).unwrap_err();
        assert!(e.message.contains("no column \"colour\""), "{}", e.message);
        let e = rows(b"plan,paid\na\n", &cols(), &init()).unwrap_err();
        assert!(e.message.contains("CSV row 1"), "{}", e.message);
    }
}
