//! The JSON Schema of the manifest, derived from the same types that serialise it.

use serde_json::{Value, json};
use utoipa::OpenApi;

use crate::components::{
    CellType, Checkbox, Column, DocumentView, DocumentWithTextIn, FileDownload, FileUpload,
    ImageUpload, ImageView, ImageWithSelectMulti, ImageWithSelectOne, ImageWithTextIn, JsonView,
    Label, MarkdownView, NumberIn, Props, SelectMulti, SelectOne, Slider, TableIn, TableView,
    TextIn, TextView,
};
use crate::file_ref::{FileRef, FileSource};
use crate::manifest::{Batch, Git, Limits, Provenance, Runtime, Step};
use crate::{Component, Manifest, Problem};

/// Collects the spec's schemas so that the server's OpenAPI document can include them.
#[derive(OpenApi)]
#[openapi(components(schemas(
    Manifest,
    Runtime,
    Step,
    Batch,
    Limits,
    Provenance,
    Git,
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
    TextView,
    MarkdownView,
    JsonView,
    Label,
    ImageView,
    DocumentView,
    FileDownload
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
