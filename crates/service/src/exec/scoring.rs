//! MLflow's scoring protocol (what `mlflow models serve` answers at `/invocations`) over the
//! service: a request of rows (`dataframe_split`, `dataframe_records`, `instances` or
//! `inputs`) becomes one prediction a row, all of one version, every row checked before any
//! runs; the answer is `{"predictions": [...]}`, each the plain value of the row's output.
//!
//! Columns are named as the model knows them: a deployed model's signature names (the
//! DataFrame's own columns), else each field's title or id. A body may also be CSV with a
//! header row (`text/csv`), as MLflow's server takes it.

mod csv;

use feather_spec::{Component, Problem};
use futures::StreamExt;
use serde_json::{Map, Value};

use super::{StepRequest, predict, resolve, viewer};
use crate::{Actor, Result, Service, ServiceError};

/// The most rows one request may hold.
pub const MAX_ROWS: usize = 10_000;

/// Rows predicted at once; the version's queue batches them as it batches any requests.
const IN_FLIGHT: usize = 64;

/// A scoring request's body.
pub enum Body<'a> {
    /// One of `dataframe_split`, `dataframe_records`, `instances` or `inputs`.
    Json(&'a Value),
    /// A header row of column names, then a row a prediction.
    Csv(&'a [u8]),
}

/// Each input field's id and the column names that answer it.
type Columns = Vec<(String, Vec<String>)>;

/// The predictions of `owner/name[@ref]` for the rows of an MLflow scoring request.
pub async fn invocations(
    s: &Service,
    owner: &str,
    name: &str,
    body: Body<'_>,
    user: Option<&Actor>,
) -> Result<Value> {
    let t = resolve(s, owner, name, &viewer(user)).await?;
    if t.manifest.steps.len() != 1 {
        return Err(ServiceError::conflict(format!(
            "{owner}/{name} has {} steps; the scoring protocol calls models of one step",
            t.manifest.steps.len()
        )));
    }
    let columns = columns(&t.manifest);
    let rows = match body {
        Body::Json(v) => rows(v, &columns)?,
        Body::Csv(bytes) => csv::rows(bytes, &columns, &t.manifest.init)?,
    };
    check(&t.manifest.init, &rows)?;
    // Every row of one request goes to the version the first resolution found.
    let pinned = format!("{}@{}", super::split_ref(name).0, t.detail.version.version);
    let calls = rows.into_iter().map(|inputs| {
        let pinned = pinned.as_str();
        async move {
            let req = StepRequest {
                inputs: Value::Object(inputs),
                ..StepRequest::default()
            };
            predict(s, owner, pinned, &req, user, false).await
        }
    });
    let answers: Vec<Result<_>> = futures::stream::iter(calls)
        .buffered(IN_FLIGHT)
        .collect()
        .await;
    let mut predictions = Vec::with_capacity(answers.len());
    for a in answers {
        predictions.push(plain(&a?.outputs));
    }
    Ok(serde_json::json!({ "predictions": predictions }))
}

/// Each input field and the column names that answer it.
fn columns(manifest: &feather_spec::Manifest) -> Columns {
    let inputs: Vec<&Component> = manifest.init.iter().filter(|c| c.is_input()).collect();
    let signature: Option<Vec<&str>> = manifest.model.as_ref().and_then(|m| {
        let names: Vec<&str> = m.signature.inputs.iter().map(|f| f.name.as_str()).collect();
        (names.len() == inputs.len()).then_some(names)
    });
    inputs
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut names = Vec::new();
            if let Some(sig) = &signature {
                names.push(sig[i].to_owned());
            }
            if let Some(title) = &c.title {
                names.push(title.clone());
            }
            names.push(c.id.clone());
            (c.id.clone(), names)
        })
        .collect()
}

fn bad(message: impl Into<String>) -> ServiceError {
    ServiceError::bad_request(message)
}

/// The rows of a request as inputs by component id, in order.
fn rows(body: &Value, columns: &Columns) -> Result<Vec<Map<String, Value>>> {
    let Value::Object(o) = body else {
        return Err(bad(
            "send a JSON object with one of dataframe_split, dataframe_records, instances or inputs",
        ));
    };
    let formats = [
        "dataframe_split",
        "dataframe_records",
        "instances",
        "inputs",
    ];
    let given: Vec<&str> = formats
        .iter()
        .copied()
        .filter(|f| o.contains_key(*f))
        .collect();
    if let Some(extra) = o
        .keys()
        .find(|k| !formats.contains(&k.as_str()) && k.as_str() != "params")
    {
        return Err(bad(format!(
            "unknown field {extra:?}: send one of {}",
            formats.join(", ")
        )));
    }
    let [format] = given.as_slice() else {
        return Err(bad(format!(
            "send exactly one of {} (found {})",
            formats.join(", "),
            if given.is_empty() {
                "none".to_owned()
            } else {
                given.join(", ")
            }
        )));
    };
    let value = &o[*format];
    let rows: Vec<Map<String, Value>> = match *format {
        "dataframe_split" => split(value, columns)?,
        "dataframe_records" => list(value, columns, format)?,
        _ => match value {
            // `inputs` may give the columns themselves: `{"col": [v1, v2]}`.
            Value::Object(cols) => by_column(cols, columns, format)?,
            _ => list(value, columns, format)?,
        },
    };
    if rows.is_empty() {
        return Err(bad("the request has no rows"));
    }
    if rows.len() > MAX_ROWS {
        return Err(bad(format!(
            "{} rows; one request takes at most {MAX_ROWS}",
            rows.len()
        )));
    }
    Ok(rows)
}

/// The field a column name answers.
fn field<'c>(columns: &'c [(String, Vec<String>)], name: &str) -> Option<&'c str> {
    columns
        .iter()
        .find(|(_, names)| names.iter().any(|n| n == name))
        .map(|(id, _)| id.as_str())
}

fn unknown(name: &str, columns: &Columns) -> ServiceError {
    let known: Vec<&str> = columns
        .iter()
        .map(|(id, names)| names.first().map_or(id.as_str(), String::as_str))
        .collect();
    bad(format!(
        "the model has no column {name:?}; its columns are {}",
        known.join(", ")
    ))
}

fn split(value: &Value, columns: &Columns) -> Result<Vec<Map<String, Value>>> {
    let names: Vec<&str> = match value.get("columns") {
        Some(Value::Array(names)) => names
            .iter()
            .map(|n| {
                n.as_str()
                    .ok_or_else(|| bad("dataframe_split.columns must be names"))
            })
            .collect::<Result<_>>()?,
        None => columns
            .iter()
            .map(|(id, names)| names.first().map_or(id.as_str(), String::as_str))
            .collect(),
        Some(_) => return Err(bad("dataframe_split.columns must be an array of names")),
    };
    let ids: Vec<&str> = names
        .iter()
        .map(|n| field(columns, n).ok_or_else(|| unknown(n, columns)))
        .collect::<Result<_>>()?;
    let Some(Value::Array(data)) = value.get("data") else {
        return Err(bad("dataframe_split.data must be an array of rows"));
    };
    data.iter()
        .enumerate()
        .map(|(i, row)| match row {
            Value::Array(cells) if cells.len() == ids.len() => Ok(ids
                .iter()
                .zip(cells)
                .map(|(id, v)| ((*id).to_owned(), v.clone()))
                .collect()),
            _ => Err(bad(format!(
                "dataframe_split.data[{i}] must be an array of {} values, one per column",
                ids.len()
            ))),
        })
        .collect()
}

fn list(value: &Value, columns: &Columns, format: &str) -> Result<Vec<Map<String, Value>>> {
    let Value::Array(items) = value else {
        return Err(bad(format!("{format} must be an array of rows")));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, row)| match row {
            Value::Object(cells) => cells
                .iter()
                .map(|(k, v)| {
                    let id = field(columns, k).ok_or_else(|| unknown(k, columns))?;
                    Ok((id.to_owned(), v.clone()))
                })
                .collect(),
            // A row of values in the columns' order.
            Value::Array(cells) if cells.len() == columns.len() => Ok(columns
                .iter()
                .zip(cells)
                .map(|((id, _), v)| (id.clone(), v.clone()))
                .collect()),
            // One value a row, for a model of one column.
            v if columns.len() == 1 && !v.is_array() => {
                Ok(Map::from_iter([(columns[0].0.clone(), v.clone())]))
            }
            _ => Err(bad(format!(
                "{format}[{i}] must be an object of column to value, or an array of {} values",
                columns.len()
            ))),
        })
        .collect()
}

fn by_column(
    cols: &Map<String, Value>,
    columns: &Columns,
    format: &str,
) -> Result<Vec<Map<String, Value>>> {
    let mut n = None;
    let mut named = Vec::new();
    for (k, v) in cols {
        let id = field(columns, k).ok_or_else(|| unknown(k, columns))?;
        let Value::Array(values) = v else {
            return Err(bad(format!(
                "{format}.{k} must be an array, one value a row"
            )));
        };
        if n.is_some_and(|n| n != values.len()) {
            return Err(bad(format!("{format}'s columns must be of one length")));
        }
        n = Some(values.len());
        named.push((id, values));
    }
    Ok((0..n.unwrap_or(0))
        .map(|i| {
            named
                .iter()
                .map(|(id, values)| ((*id).to_owned(), values[i].clone()))
                .collect()
        })
        .collect())
}

/// Every row against the fields it answers, before any row runs.
fn check(init: &[Component], rows: &[Map<String, Value>]) -> Result<()> {
    let mut problems = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        for c in init.iter().filter(|c| c.is_input()) {
            for p in c.check_value(row.get(&c.id)) {
                problems.push(Problem::new(
                    format!("/rows/{i}/{}{}", c.id, p.path),
                    p.reason,
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::invalid_inputs(problems))
    }
}

/// A row's outputs as one plain value: a label, a number, text or JSON; an object of them by
/// id when the model shows several.
fn plain(outputs: &[Value]) -> Value {
    let one = |o: &Value| -> Value {
        match o["type"].as_str() {
            Some("Label") => o
                .get("label")
                .cloned()
                .unwrap_or_else(|| o["confidences"].clone()),
            Some("Number.View") => o["value"].clone(),
            Some("Json.View") => o["data"].clone(),
            Some("Text.View" | "Markdown.View") => o["text"].clone(),
            _ => o.clone(),
        }
    };
    match outputs {
        [o] => one(o),
        many => Value::Object(
            many.iter()
                .map(|o| (o["id"].as_str().unwrap_or_default().to_owned(), one(o)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cols() -> Columns {
        vec![
            (
                "sepal_length_cm".into(),
                vec!["sepal length (cm)".into(), "sepal_length_cm".into()],
            ),
            ("plan".into(), vec!["plan".into()]),
        ]
    }

    #[test]
    fn every_format_gives_the_same_rows() {
        let want = vec![
            Map::from_iter([
                ("sepal_length_cm".into(), json!(5.1)),
                ("plan".into(), json!("a")),
            ]),
            Map::from_iter([
                ("sepal_length_cm".into(), json!(6.0)),
                ("plan".into(), json!("b")),
            ]),
        ];
        let bodies = [
            json!({"dataframe_split": {"columns": ["sepal length (cm)", "plan"], "data": [[5.1, "a"], [6.0, "b"]]}}),
            json!({"dataframe_split": {"data": [[5.1, "a"], [6.0, "b"]]}}),
            json!({"dataframe_records": [{"sepal length (cm)": 5.1, "plan": "a"}, {"sepal_length_cm": 6.0, "plan": "b"}]}),
            json!({"instances": [[5.1, "a"], [6.0, "b"]]}),
            json!({"inputs": {"sepal length (cm)": [5.1, 6.0], "plan": ["a", "b"]}}),
            json!({"inputs": [{"sepal length (cm)": 5.1, "plan": "a"}, {"sepal length (cm)": 6.0, "plan": "b"}]}),
        ];
        for b in bodies {
            assert_eq!(rows(&b, &cols()).unwrap(), want, "{b}");
        }
    }

    #[test]
    fn malformed_requests_are_named() {
        let cases = [
            (json!([1, 2]), "send a JSON object"),
            (json!({}), "found none"),
            (
                json!({"instances": [], "inputs": []}),
                "found instances, inputs",
            ),
            (json!({"instancez": []}), "unknown field \"instancez\""),
            (json!({"instances": []}), "no rows"),
            (
                json!({"dataframe_records": [{"colour": 1}]}),
                "no column \"colour\"",
            ),
            (
                json!({"dataframe_split": {"columns": ["plan"], "data": [[1, 2]]}}),
                "data[0]",
            ),
            (
                json!({"inputs": {"plan": ["a"], "sepal_length_cm": [1, 2]}}),
                "one length",
            ),
            (json!({"instances": [[1]]}), "instances[0]"),
        ];
        for (body, needle) in cases {
            let e = rows(&body, &cols()).unwrap_err();
            assert!(e.message.contains(needle), "{body}: {}", e.message);
        }
    }

    #[test]
    fn outputs_become_plain_values() {
        assert_eq!(
            plain(&[json!({"id": "label", "type": "Label", "label": "setosa", "confidences": {}})]),
            json!("setosa")
        );
        assert_eq!(
            plain(&[json!({"id": "p", "type": "Number.View", "value": 2.5})]),
            json!(2.5)
        );
        assert_eq!(
            plain(&[
                json!({"id": "a", "type": "Text.View", "text": "x"}),
                json!({"id": "b", "type": "Json.View", "data": [1]})
            ]),
            json!({"a": "x", "b": [1]})
        );
    }
}
