//! The OpenAPI document of one model version: its own routes, with the request bodies its
//! manifest describes, so that client generators and the portal's API tab see real fields.

use feather_spec::{Component, Manifest};
use serde_json::{Map, Value, json};

/// The document for `owner/name` at `version`.
pub fn document(manifest: &Manifest, owner: &str, name: &str, version: i64) -> Value {
    let base = format!("/api/v1/models/{owner}/{name}");
    let error = |what: &str| {
        json!({"description": what,
               "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}})
    };
    let errors = json!({
        "404": error("no such model or version"),
        "409": error("the environment is not ready yet"),
        "422": error("invalid inputs, each problem with its path"),
        "500": error("the step raised"),
        "502": error("the worker crashed"),
        "504": error("the step took longer than its limit"),
    });
    let ok = |schema: &str, what: &str| {
        json!({"description": what,
               "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}})
    };
    let body = json!({
        "required": true,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/InitInputs"}},
            "multipart/form-data": {"schema": multipart(&manifest.init)},
        }
    });
    let mut paths = Map::new();
    let step = &manifest.steps[0];
    if manifest.steps.len() == 1 {
        let mut responses = errors.clone();
        responses["200"] = ok("Prediction", "the outputs");
        paths.insert(
            format!("{base}/predict"),
            json!({"post": {
                "operationId": "predict",
                "summary": step.title,
                "description": step.description,
                "requestBody": body,
                "responses": responses,
            }}),
        );
    }
    let mut responses = errors.clone();
    responses["201"] = ok(
        "RunView",
        "the run, with step 1's outputs and what it waits for",
    );
    paths.insert(
        format!("{base}/runs"),
        json!({"post": {
            "operationId": "start_run",
            "summary": format!("Start a run: {}", step.title),
            "description": step.description,
            "requestBody": body,
            "responses": responses,
        }}),
    );
    if manifest.steps.len() > 1 {
        let mut responses = errors;
        responses["200"] = ok("RunView", "the run, with the step's outputs");
        responses["409"] = error("the run takes no more answers");
        paths.insert(
            "/api/v1/runs/{id}/steps".into(),
            json!({"post": {
                "operationId": "answer_run",
                "summary": "Answer the step the run waits for",
                "description": "The inputs answer the components in the run's `next.components`.",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/StepInputs"}}}},
                "responses": responses,
            }}),
        );
    }
    paths.insert(
        "/api/v1/runs/{id}".into(),
        json!({"get": {
            "operationId": "get_run",
            "summary": "A run's history and what it waits for",
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
            "responses": {"200": ok("RunView", "the run"), "404": error("no such run")},
        }}),
    );
    paths.insert(
        "/api/v1/files/{id}".into(),
        json!({"get": {
            "operationId": "get_file",
            "summary": "An output file, with its content type",
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "the file's bytes"}, "404": error("no such file")},
        }}),
    );
    let mut schemas = platform_schemas();
    schemas.insert("InitInputs".into(), init_inputs(&manifest.init));
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": manifest.title,
            "description": manifest.description,
            "version": version.to_string(),
        },
        "paths": paths,
        "components": {"schemas": schemas},
    })
}

/// `{"inputs": {...}}` with one property per input component, required as the manifest says.
fn init_inputs(init: &[Component]) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for c in init.iter().filter(|c| c.is_input()) {
        let mut schema = c.props.value_schema().unwrap_or(json!({}));
        if let Some(t) = &c.title {
            schema["title"] = json!(t);
        }
        if let Some(d) = &c.description {
            schema["description"] = json!(d);
        }
        properties.insert(c.id.clone(), schema);
        if c.required {
            required.push(c.id.clone());
        }
    }
    json!({
        "type": "object",
        "required": ["inputs"],
        "properties": {"inputs": {
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": false,
        }},
    })
}

/// The multipart form: the JSON inputs as a text part, and a binary part per file input.
fn multipart(init: &[Component]) -> Value {
    let mut properties = Map::new();
    properties.insert(
        "inputs".into(),
        json!({"type": "string", "description": "the JSON object of the other inputs"}),
    );
    for c in init {
        let file = json!({"type": "string", "format": "binary"});
        match &c.props {
            feather_spec::Props::FileUpload(_) => {
                properties.insert(c.id.clone(), json!({"type": "array", "items": file}));
            }
            feather_spec::Props::ImageUpload(_) => {
                properties.insert(c.id.clone(), file);
            }
            _ => {}
        }
    }
    json!({"type": "object", "properties": properties})
}

/// The platform's schemas (runs, predictions, errors, components, file references).
fn platform_schemas() -> Map<String, Value> {
    let doc = serde_json::to_value(crate::openapi::document()).expect("the document serialises");
    doc["components"]["schemas"]
        .as_object()
        .cloned()
        .unwrap_or_default()
}
