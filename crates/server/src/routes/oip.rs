//! The Open Inference Protocol v2 (KServe's and Triton's REST protocol): health, server and
//! model metadata, readiness and `infer`, over the same service functions as the REST API.
//! Models are named as there, `owner/name` (with `@alias`, or `/versions/N`), so a client's
//! `model_name` is `alice/iris`. Errors take the protocol's shape, `{"error": "..."}`, with the
//! REST API's statuses: [`errors`] rewrites every error answer of these routes once.

use axum::Json;
use axum::body::Bytes;
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
) -> ApiResult<Response> {
    infer_of(&s, &caller, &owner, &name, None, &headers, &body).await
}

pub async fn version_infer(
    State(s): State<AppState>,
    caller: MaybeUser,
    Path((owner, name, version)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    infer_of(&s, &caller, &owner, &name, Some(&version), &headers, &body).await
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::bad_request(message)
}

/// What an inference request asks: its id (echoed), inputs, and the outputs it wants (all
/// when none are named).
struct InferRequest {
    id: Option<Value>,
    inputs: Vec<Tensor>,
    /// The outputs asked for by name, each as binary data or not.
    outputs: Option<Vec<(String, bool)>>,
    /// Whether outputs not named are sent as binary data.
    binary_outputs: bool,
}

fn read_request(body: &[u8], mut binary: &[u8]) -> ApiResult<InferRequest> {
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
    let mut inputs = Vec::new();
    for t in raw {
        inputs.push(read_tensor(t, &mut binary)?);
    }
    if !binary.is_empty() {
        return Err(bad(format!(
            "{} bytes of binary data follow the JSON that no input's binary_data_size accounts for",
            binary.len()
        )));
    }
    let binary_outputs = o
        .get("parameters")
        .is_some_and(|p| p["binary_data_output"] == json!(true));
    let outputs = match o.get("outputs") {
        None => None,
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .map(|i| {
                    let name = i
                        .get("name")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                        .ok_or_else(|| bad("each requested output needs a name"))?;
                    let as_binary = match i["parameters"]["binary_data"].as_bool() {
                        Some(b) => b,
                        None => binary_outputs,
                    };
                    Ok((name, as_binary))
                })
                .collect::<ApiResult<Vec<_>>>()?,
        ),
        Some(_) => return Err(bad("outputs must be an array")),
    };
    Ok(InferRequest {
        id,
        inputs,
        outputs,
        binary_outputs,
    })
}

fn read_tensor(v: &Value, binary: &mut &[u8]) -> ApiResult<Tensor> {
    let name = v["name"]
        .as_str()
        .ok_or_else(|| bad("each input needs a name"))?
        .to_owned();
    let datatype = v["datatype"]
        .as_str()
        .and_then(DataType::parse)
        .ok_or_else(|| {
            bad(format!(
                "the input {name:?} has no datatype this server reads ({})",
                DataType::ALL.map(DataType::as_str).join(", ")
            ))
        })?;
    let shape: Vec<i64> = v["shape"]
        .as_array()
        .and_then(|a| a.iter().map(Value::as_i64).collect())
        .ok_or_else(|| bad(format!("the input {name:?} needs a shape of whole numbers")))?;
    let data = match v["parameters"].get("binary_data_size") {
        Some(size) => {
            let size = size
                .as_u64()
                .ok_or_else(|| bad(format!("the binary_data_size of {name:?} must be a number")))?
                as usize;
            if size > binary.len() {
                return Err(bad(format!(
                    "the input {name:?} has {size} bytes of binary data, but {} are left",
                    binary.len()
                )));
            }
            let (raw, rest) = binary.split_at(size);
            *binary = rest;
            super::oip_binary::decode(&name, datatype, raw)?
        }
        None => tensors::flatten(&v["data"]).1,
    };
    let typed = data.iter().all(|d| match datatype {
        DataType::Bool => d.is_boolean(),
        DataType::Bytes => d.is_string(),
        DataType::Fp32 | DataType::Fp64 => d.is_number(),
        _ => d.is_i64() || d.is_u64(),
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

async fn infer_of(
    s: &AppState,
    caller: &MaybeUser,
    owner: &str,
    name: &str,
    version: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> ApiResult<Response> {
    let actor = caller.runner()?;
    let json_len = headers
        .get(super::oip_binary::HEADER)
        .and_then(|v| v.to_str().ok());
    let (json_part, binary) = super::oip_binary::split(body, json_len)?;
    let InferRequest {
        id,
        inputs,
        outputs: wanted,
        binary_outputs,
    } = read_request(json_part, binary)?;
    let names = wanted
        .as_ref()
        .map(|w| w.iter().map(|(n, _)| n.clone()).collect());
    let (t, outputs) = tensors::infer(
        &s.service,
        owner,
        &reference(name, version),
        actor.as_ref(),
        inputs,
        names,
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
    let as_binary = |n: &str| match &wanted {
        Some(w) => w.iter().any(|(name, b)| name == n && *b),
        None => binary_outputs,
    };
    let mut raw = Vec::new();
    let mut listed = Vec::new();
    for o in outputs {
        let mut entry = json!({"name": o.name, "datatype": o.datatype.as_str(), "shape": o.shape});
        if as_binary(&o.name) {
            let bytes = super::oip_binary::encode(o.datatype, &o.data);
            entry["parameters"] = json!({"binary_data_size": bytes.len()});
            raw.extend(bytes);
        } else {
            entry["data"] = Value::Array(o.data);
        }
        listed.push(entry);
    }
    answer.insert("outputs".into(), Value::Array(listed));
    let json = serde_json::to_vec(&Value::Object(answer)).expect("JSON");
    if raw.is_empty() {
        return Ok((
            [(header::CONTENT_TYPE, "application/json".to_owned())],
            json,
        )
            .into_response());
    }
    let len = json.len();
    let mut body = json;
    body.extend(raw);
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                header::HeaderName::from_static(super::oip_binary::HEADER),
                len.to_string(),
            ),
        ],
        body,
    )
        .into_response())
}

/// Rewrites every error answer of these routes, the REST shape
/// `{"error": {"code", "message", ...}}`, into the protocol's `{"error": "message"}`.
pub async fn errors(res: Response) -> Response {
    super::reshape_error(res, |_, message| json!({ "error": message })).await
}
