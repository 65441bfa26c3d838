//! The Open Inference Protocol v2 (KServe's and Triton's REST protocol): health, server and
//! model metadata, readiness and `infer`, over the same service functions as the REST API.
//! Models are named as there, `owner/name` (with `@alias`, or `/versions/N`), so a client's
//! `model_name` is `alice/iris`. Errors take the protocol's shape, `{"error": "..."}`, with the
//! REST API's statuses: [`errors`] rewrites every error answer of these routes once.

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use feather_service::exec::tensors::{self, DataType, Signature, Tensor, TensorMeta};
use serde_json::{Map, Value, json};

use crate::auth::MaybeUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::Path;
use crate::state::AppState;

/// `GET /v2`: who this server is.
pub async fn server() -> Json<Value> {
    Json(json!({"name": "feather", "version": env!("CARGO_PKG_VERSION"), "extensions": []}))
}

pub async fn live() -> Json<Value> {
    Json(json!({"live": true}))
}

pub async fn ready() -> Json<Value> {
    Json(json!({"ready": true}))
}

fn meta_json(m: &TensorMeta) -> Value {
    json!({"name": m.name, "datatype": m.datatype.as_str(), "shape": m.shape})
}

fn metadata_json(name: &str, version: i64, sig: &Signature) -> Value {
    json!({
        "name": name,
        "versions": [version.to_string()],
        "platform": sig.platform,
        "inputs": sig.inputs.iter().map(meta_json).collect::<Vec<_>>(),
        "outputs": sig.outputs.iter().map(meta_json).collect::<Vec<_>>(),
    })
}

/// `owner/name` with a version, as the service names one.
fn reference(name: &str, version: Option<&str>) -> String {
    match version {
        Some(v) => format!("{}@{v}", name.split('@').next().unwrap_or(name)),
        None => name.to_owned(),
    }
}

async fn metadata_of(
    s: &AppState,
    caller: &MaybeUser,
    owner: &str,
    name: &str,
    version: Option<&str>,
) -> ApiResult<Json<Value>> {
    let (t, sig) = tensors::metadata(
        &s.service,
        owner,
        &reference(name, version),
        &caller.viewer(),
    )
    .await?;
    let model = format!("{}/{}", t.detail.owner, t.detail.name);
    Ok(Json(metadata_json(&model, t.detail.version.version, &sig)))
}

pub async fn model(
    State(s): State<AppState>,
    caller: MaybeUser,
    Path((owner, name)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    metadata_of(&s, &caller, &owner, &name, None).await
}

pub async fn model_version(
    State(s): State<AppState>,
    caller: MaybeUser,
    Path((owner, name, version)): Path<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    metadata_of(&s, &caller, &owner, &name, Some(&version)).await
}

async fn ready_of(
    s: &AppState,
    caller: &MaybeUser,
    owner: &str,
    name: &str,
    version: Option<&str>,
) -> ApiResult<Response> {
    let model = format!("{owner}/{name}");
    if tensors::ready(
        &s.service,
        owner,
        &reference(name, version),
        &caller.viewer(),
    )
    .await?
    {
        Ok(Json(json!({"name": model, "ready": true})).into_response())
    } else {
        Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "environment_not_ready",
            format!("{model} is not ready: its environment is being built"),
        ))
    }
}

pub async fn model_ready(
    State(s): State<AppState>,
    caller: MaybeUser,
    Path((owner, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    ready_of(&s, &caller, &owner, &name, None).await
}

pub async fn version_ready(
    State(s): State<AppState>,
    caller: MaybeUser,
    Path((owner, name, version)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    ready_of(&s, &caller, &owner, &name, Some(&version)).await
}

pub async fn infer(
    State(s): State<AppState>,
    caller: MaybeUser,
    Path((owner, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    json_only(&headers)?;
    infer_of(&s, &caller, &owner, &name, None, &body).await
}

pub async fn version_infer(
    State(s): State<AppState>,
    caller: MaybeUser,
    Path((owner, name, version)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    json_only(&headers)?;
    infer_of(&s, &caller, &owner, &name, Some(&version), &body).await
}

/// Refuses Triton's binary tensor extension, which sends the JSON's length in this header and
/// raw tensors after it.
fn json_only(headers: &HeaderMap) -> ApiResult<()> {
    if headers.contains_key("inference-header-content-length") {
        return Err(binary_refused());
    }
    Ok(())
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::bad_request(message)
}

/// What an inference request asks: its id (echoed), inputs, and the outputs it wants (all
/// when none are named).
struct InferRequest {
    id: Option<Value>,
    inputs: Vec<Tensor>,
    outputs: Option<Vec<String>>,
}

fn read_request(body: &[u8]) -> ApiResult<InferRequest> {
    let v: Value = feather_spec::strict::from_slice(body)
        .map_err(|_| bad("the body must be a JSON inference request: {\"inputs\": [...]}"))?;
    let Value::Object(o) = v else {
        return Err(bad("the body must be a JSON object"));
    };
    for key in o.keys() {
        if !["id", "parameters", "inputs", "outputs"].contains(&key.as_str()) {
            return Err(bad(format!(
                "unknown field {key:?} in the inference request"
            )));
        }
    }
    let id = o.get("id").cloned();
    if id.as_ref().is_some_and(|i| !i.is_string()) {
        return Err(bad("id must be a string"));
    }
    let Some(Value::Array(raw)) = o.get("inputs") else {
        return Err(bad("inputs must be an array of tensors"));
    };
    let inputs = raw.iter().map(read_tensor).collect::<ApiResult<Vec<_>>>()?;
    let outputs = match o.get("outputs") {
        None => None,
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .map(|i| {
                    if binary(i) {
                        return Err(binary_refused());
                    }
                    i.get("name")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                        .ok_or_else(|| bad("each requested output needs a name"))
                })
                .collect::<ApiResult<Vec<_>>>()?,
        ),
        Some(_) => return Err(bad("outputs must be an array")),
    };
    Ok(InferRequest {
        id,
        inputs,
        outputs,
    })
}

fn binary(v: &Value) -> bool {
    let p = &v["parameters"];
    p["binary_data"] == json!(true) || p.get("binary_data_size").is_some()
}

fn binary_refused() -> ApiError {
    bad("binary tensor data is not supported: send the data as JSON")
}

fn read_tensor(v: &Value) -> ApiResult<Tensor> {
    if binary(v) {
        return Err(binary_refused());
    }
    let name = v["name"]
        .as_str()
        .ok_or_else(|| bad("each input needs a name"))?
        .to_owned();
    let datatype = v["datatype"]
        .as_str()
        .and_then(DataType::parse)
        .ok_or_else(|| bad(format!("the input {name:?} has no datatype this server reads (BOOL, INT32, INT64, FP32, FP64, BYTES)")))?;
    let shape: Vec<i64> = v["shape"]
        .as_array()
        .and_then(|a| a.iter().map(Value::as_i64).collect())
        .ok_or_else(|| bad(format!("the input {name:?} needs a shape of whole numbers")))?;
    let mut data = Vec::new();
    flatten(&v["data"], &mut data);
    let typed = data.iter().all(|d| match datatype {
        DataType::Bool => d.is_boolean(),
        DataType::Bytes => d.is_string(),
        DataType::Int32 | DataType::Int64 => d.is_i64() || d.is_u64(),
        DataType::Fp32 | DataType::Fp64 => d.is_number(),
    });
    if !typed {
        return Err(bad(format!(
            "the data of {name:?} is not all {}",
            datatype.as_str()
        )));
    }
    Ok(Tensor {
        name,
        datatype,
        shape,
        data,
    })
}

/// Data given flat or nested: the protocol allows both.
fn flatten(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| flatten(i, out)),
        Value::Null => {}
        other => out.push(other.clone()),
    }
}

async fn infer_of(
    s: &AppState,
    caller: &MaybeUser,
    owner: &str,
    name: &str,
    version: Option<&str>,
    body: &[u8],
) -> ApiResult<Json<Value>> {
    let actor = caller.runner()?;
    let InferRequest {
        id,
        inputs,
        outputs: wanted,
    } = read_request(body)?;
    let (t, outputs) = tensors::infer(
        &s.service,
        owner,
        &reference(name, version),
        actor.as_ref(),
        inputs,
        wanted,
    )
    .await?;
    let mut answer = Map::new();
    answer.insert(
        "model_name".into(),
        json!(format!("{}/{}", t.detail.owner, t.detail.name)),
    );
    answer.insert(
        "model_version".into(),
        json!(t.detail.version.version.to_string()),
    );
    if let Some(id) = id {
        answer.insert("id".into(), id);
    }
    answer.insert(
        "outputs".into(),
        Value::Array(
            outputs
                .into_iter()
                .map(|o| json!({"name": o.name, "datatype": o.datatype.as_str(), "shape": o.shape, "data": o.data}))
                .collect(),
        ),
    );
    Ok(Json(Value::Object(answer)))
}

/// Rewrites every error answer of these routes, the REST shape
/// `{"error": {"code", "message", ...}}`, into the protocol's `{"error": "message"}`.
pub async fn errors(res: Response) -> Response {
    if res.status().is_success() {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let message = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
    let body = serde_json::to_vec(&json!({ "error": message })).expect("JSON");
    parts.headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}
