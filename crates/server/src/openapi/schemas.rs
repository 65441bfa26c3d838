//! Schemas no Rust type derives: what a step's request carries, whose shape each model's
//! manifest decides. They say what every model shares (component ids, the kinds of value from
//! `feather_spec::schema`); a model's own document (`/api/v1/models/{owner}/{name}/openapi.json`)
//! says exactly what it takes.

use std::borrow::Cow;

use serde_json::{Value, json};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use feather_spec::schema::COMPONENT_ID;

fn schema(v: Value) -> RefOr<Schema> {
    serde_json::from_value(v).expect("a valid schema")
}

/// Answers by component id.
fn inputs_map() -> Value {
    json!({
        "type": "object",
        "description": "Component id to value.",
        "propertyNames": {"type": "string", "pattern": COMPONENT_ID},
        "additionalProperties": {"$ref": "#/components/schemas/ComponentValue"},
    })
}

/// Answers to a step as JSON.
pub struct StepInputs;

impl PartialSchema for StepInputs {
    fn schema() -> RefOr<Schema> {
        schema(json!({
            "type": "object",
            "description": "Answers to a step: component id to value.",
            "additionalProperties": false,
            "properties": {"inputs": inputs_map()},
        }))
    }
}

impl ToSchema for StepInputs {}

/// The same answers as multipart/form-data.
pub struct StepForm;

impl PartialSchema for StepForm {
    fn schema() -> RefOr<Schema> {
        schema(json!({
            "type": "object",
            "description": "A text part `inputs` with the JSON object of answers, and file parts named after their inputs' ids (several with one name for a multi-file input), or referenced from `inputs` as `{\"part\": N}` (N counts file parts from 0).",
            "properties": {"inputs": inputs_map()},
            "propertyNames": {"type": "string", "pattern": COMPONENT_ID},
            "additionalProperties": {"type": "string", "format": "binary"},
        }))
    }
}

impl ToSchema for StepForm {
    fn name() -> Cow<'static, str> {
        "StepForm".into()
    }
}

/// What was done, as the audit log names it.
pub struct AuditAction;

impl PartialSchema for AuditAction {
    fn schema() -> RefOr<Schema> {
        let names: Vec<&str> = feather_store::Action::ALL
            .iter()
            .map(|a| a.as_str())
            .collect();
        schema(json!({"type": "string", "enum": names}))
    }
}

impl ToSchema for AuditAction {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each is written as JSON, so each is read back once here rather than at a request.
    #[test]
    fn every_schema_reads() {
        for s in [
            StepInputs::schema(),
            StepForm::schema(),
            AuditAction::schema(),
        ] {
            assert!(matches!(s, RefOr::T(_)));
        }
        for s in [
            feather_spec::schema::ComponentValue::schema(),
            feather_spec::schema::FileInput::schema(),
        ] {
            assert!(matches!(s, RefOr::T(_)));
        }
    }
}
