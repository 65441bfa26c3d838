//! The JSON Schema of the manifest, derived from the same types that serialise it.

use serde_json::{Value, json};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{OpenApi, PartialSchema, ToSchema};

use crate::components::{
    CellType, Checkbox, Column, DocumentView, DocumentWithTextIn, Dtype, FileDownload, FileUpload,
    ImageUpload, ImageView, ImageWithSelectMulti, ImageWithSelectOne, ImageWithTextIn, JsonView,
    Label, MarkdownView, NumberIn, NumberView, Props, SelectMulti, SelectOne, Slider, TableIn,
    TableView, TensorIn, TextIn, TextView,
};
use crate::file_ref::{FileRef, FileSource};
use crate::manifest::{Batch, Git, Limits, Provenance, Runtime, Step};
use crate::model::{Feature, Framework, ModelInfo, ModelSignature, Parity, Served, Task};
use crate::onnx::{OnnxRuntime, Signature, TensorSpec};
use crate::{Component, Manifest, Problem};

/// Collects the spec's schemas so that the server's OpenAPI document can include them.
#[derive(OpenApi)]
#[openapi(components(schemas(
    Manifest,
    Runtime,
    OnnxRuntime,
    Signature,
    TensorSpec,
    Step,
    Batch,
    Limits,
    Provenance,
    Git,
    ModelInfo,
    Framework,
    Task,
    ModelSignature,
    Feature,
    Served,
    Parity,
    Component,
    Props,
    FileRef,
    FileSource,
    Problem,
    TextIn,
    NumberIn,
    Slider,
    Checkbox,
    SelectOne,
    SelectMulti,
    FileUpload,
    ImageUpload,
    ImageWithSelectOne,
    ImageWithSelectMulti,
    ImageWithTextIn,
    DocumentWithTextIn,
    TableIn,
    Column,
    CellType,
    TableView,
    TensorIn,
    Dtype,
    TextView,
    MarkdownView,
    NumberView,
    JsonView,
    Label,
    ImageView,
    DocumentView,
    FileDownload,
    ComponentValue,
    FileInput,
    Cell
)))]
pub struct SpecDoc;

/// The manifest's JSON Schema (draft 2020-12), every referenced type under `$defs`.
pub fn manifest_schema() -> Value {
    let doc = SpecDoc::openapi();
    let schemas = serde_json::to_value(doc.components.map(|c| c.schemas).unwrap_or_default())
        .expect("schemas serialise");
    let text = serde_json::to_string(&schemas).expect("schemas serialise");
    let defs: Value = serde_json::from_str(&text.replace("#/components/schemas/", "#/$defs/"))
        .expect("still JSON");
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://feather.invalid/schemas/manifest-v1.json",
        "title": "feather manifest v1",
        "$ref": "#/$defs/Manifest",
        "$defs": defs,
    })
}

/// A component id, as the manifest's reader checks it.
pub const COMPONENT_ID: &str = "^[a-z][a-z0-9_]{0,63}$";

fn schema(v: Value) -> RefOr<Schema> {
    serde_json::from_value(v).expect("a valid schema")
}

/// The value of one input component: text, a number, a choice, a file, or a list of these
/// (several texts, choices per image, a table's rows).
pub struct ComponentValue;

impl PartialSchema for ComponentValue {
    fn schema() -> RefOr<Schema> {
        // Values nest two deep (a table's rows of cells, each image's choices) or, for a
        // tensor, deeper; the schema says two levels and then any array rather than recurring,
        // so that generated client types stay finite.
        let one = json!({"anyOf": [
            {"type": "string"},
            {"type": "number"},
            {"type": "boolean"},
            {"type": "null"},
            {"$ref": "#/components/schemas/FileInput"},
        ]});
        schema(json!({
            "description": "The value of one input component; which kind each takes is in the model's own document.",
            "anyOf": [
                one,
                {"type": "array", "items": {"anyOf": [
                    one,
                    {"type": "array", "items": {"anyOf": [one, {"type": "array"}]}},
                ]}},
            ],
        }))
    }
}

impl ToSchema for ComponentValue {
    fn schemas(out: &mut Vec<(String, RefOr<Schema>)>) {
        out.push(("FileInput".into(), FileInput::schema()));
    }
}

/// A file sent as an input.
pub struct FileInput;

impl PartialSchema for FileInput {
    fn schema() -> RefOr<Schema> {
        schema(json!({
            "description": "A file: its bytes as a `data:` URL, the id of an upload (`POST /api/v1/files`), or the number of a file part of the same multipart request.",
            "oneOf": [
                {"type": "object", "required": ["data"], "additionalProperties": false,
                 "properties": {"data": {"type": "string", "pattern": "^data:", "description": "A `data:` URL (RFC 2397)."}}},
                {"type": "object", "required": ["id"], "additionalProperties": false,
                 "properties": {"id": {"type": "string", "description": "A stored file's id."}}},
                {"type": "object", "required": ["part"], "additionalProperties": false,
                 "properties": {"part": {"type": "integer", "minimum": 0, "description": "The file part's number, from 0."}}},
            ],
        }))
    }
}

impl ToSchema for FileInput {}

/// One cell of a table: a string, number, boolean or null.
pub struct Cell;

impl PartialSchema for Cell {
    fn schema() -> RefOr<Schema> {
        schema(json!({
            "description": "One cell of a table.",
            "anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}, {"type": "null"}],
        }))
    }
}

impl ToSchema for Cell {}
