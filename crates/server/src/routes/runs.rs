//! Runs, one-call predictions, and files.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use utoipa::ToSchema;

use crate::auth::{MaybeUser, User};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ClientAddr, Path, Query};
use crate::openapi::schemas::{StepForm, StepInputs};
use crate::state::AppState;
use axum::extract::multipart::{MultipartError, MultipartRejection};
use axum::extract::{FromRequest, Multipart, Request};
use feather_service::ServiceError;
use feather_service::exec::{
    self, files,
    views::{Environment, Prediction, RunView},
};
use feather_spec::strict::StrictError;

/// A step's request body: JSON `{"inputs": {...}}`, or the multipart form.
pub struct StepBody(exec::StepRequest);

/// The most parts one multipart request may have: files and the `inputs` part.
const MAX_PARTS: usize = 256;

const SHAPE: &str =
    "the body must be JSON of the form {\"inputs\": {\"<component id>\": <value>, ...}}";

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        "the inputs are too large; upload big files with POST /api/v1/files and send their ids",
    )
}

impl<S: Send + Sync> FromRequest<S> for StepBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let client = Some(crate::extract::client_ip(req.extensions()));
        Self::read(req, state).await.map(|mut b| {
            b.0.client = client;
            b
        })
    }
}

impl StepBody {
    async fn read<S: Send + Sync>(req: Request, state: &S) -> Result<Self, ApiError> {
        let multipart = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("multipart/form-data"));
        if multipart {
            let form = Multipart::from_request(req, state)
                .await
                .map_err(|e| ApiError::bad_request(e.body_text()))?;
            return read_form(form).await.map(Self);
        }
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| {
                let t = t.split(';').next().unwrap_or_default().trim();
                t == "application/json" || t.ends_with("+json")
            });
        if !json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                format!("{SHAPE}, sent as application/json (or multipart/form-data)"),
            ));
        }
        let body = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    too_large()
                } else {
                    ApiError::bad_request(e.body_text())
                }
            })?;
        Ok(Self(exec::StepRequest {
            inputs: inputs_of(strict_json(&body, "")?)?,
            ..Default::default()
        }))
    }
}

/// JSON with no key given twice; a repeated key is an invalid input at its path (`prefix`
/// says where this document sits in the request).
fn strict_json(bytes: &[u8], prefix: &str) -> ApiResult<Value> {
    feather_spec::strict::from_slice(bytes).map_err(|e| match e {
        StrictError::Syntax(e) => ApiError::bad_request(format!("{SHAPE}: {e}")),
        StrictError::Duplicate { pointer, key } => {
            ServiceError::invalid_inputs(vec![feather_spec::Problem::new(
                format!("{prefix}{pointer}"),
                format!("the key {key:?} is given twice"),
            )])
            .into()
        }
    })
}

/// The `inputs` of a body shaped `{"inputs": {...}}` (absent: no inputs).
fn inputs_of(v: Value) -> ApiResult<Value> {
    let Value::Object(mut o) = v else {
        return Err(ApiError::bad_request(SHAPE));
    };
    if let Some(k) = o.keys().find(|k| *k != "inputs") {
        return Err(ApiError::bad_request(format!(
            "{SHAPE}; {k:?} is not expected"
        )));
    }
    Ok(o.remove("inputs")
        .unwrap_or_else(|| Value::Object(Default::default())))
}

async fn read_form(mut form: Multipart) -> ApiResult<exec::StepRequest> {
    let fail = |e: MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            ApiError::bad_request(e.body_text())
        }
    };
    let mut out = exec::StepRequest {
        inputs: Value::Object(Default::default()),
        ..Default::default()
    };
    let mut parts = 0;
    let mut inputs_given = false;
    while let Some(field) = form.next_field().await.map_err(fail)? {
        parts += 1;
        if parts > MAX_PARTS {
            return Err(ApiError::bad_request(format!(
                "a request may have at most {MAX_PARTS} parts"
            )));
        }
        let name = field.name().unwrap_or_default().to_owned();
        if name == "inputs" && field.file_name().is_none() {
            if std::mem::replace(&mut inputs_given, true) {
                return Err(ApiError::bad_request(
                    "the part `inputs` is given twice; send it once",
                ));
            }
            let text = field.bytes().await.map_err(fail)?;
            let v = strict_json(&text, "/inputs").map_err(|e| {
                if e.code == "bad_request" {
                    ApiError::bad_request(format!(
                        "the part `inputs` must be a JSON object: {}",
                        e.message
                    ))
                } else {
                    e
                }
            })?;
            if !v.is_object() {
                return Err(ApiError::bad_request(
                    "the part `inputs` must be a JSON object of component id to value",
                ));
            }
            out.inputs = v;
            continue;
        }
        let file_name = field
            .file_name()
            .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n).to_owned())
            .filter(|n| !n.is_empty());
        let mime = field
            .content_type()
            .filter(|t| *t != "application/octet-stream")
            .map(str::to_owned);
        let bytes = field.bytes().await.map_err(fail)?;
        out.uploads.push(files::Upload {
            field: name,
            name: file_name,
            mime,
            bytes,
        });
    }
    Ok(out)
}

/// Starts a run: runs step 1 with the init inputs. `name` may end in `@version` or `@alias`.
#[utoipa::path(post, path = "/api/v1/models/{owner}/{name}/runs", tag = "runs", request_body(content((StepInputs = "application/json"), (StepForm = "multipart/form-data"))),
    responses((status = 201, body = RunView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "the environment is not ready"),
              (status = 422, body = ErrorBody, description = "invalid inputs, each problem with its path"),
              (status = 500, body = ErrorBody, description = "the step raised"), (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
pub async fn start(
    State(s): State<AppState>,
    caller: MaybeUser,
    Path((owner, name)): Path<(String, String)>,
    StepBody(body): StepBody,
) -> ApiResult<(StatusCode, Json<RunView>)> {
    Ok((
        StatusCode::CREATED,
        Json(exec::start_run(&s.service, &owner, &name, body, caller.runner()?.as_ref()).await?),
    ))
}

/// Answers the step the run waits for, and runs it.
#[utoipa::path(post, path = "/api/v1/runs/{id}/steps", tag = "runs", request_body(content((StepInputs = "application/json"), (StepForm = "multipart/form-data"))),
    responses((status = 200, body = RunView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "the run takes no more answers, or another request is answering its step (`step_in_progress`)"),
              (status = 422, body = ErrorBody), (status = 500, body = ErrorBody), (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
pub async fn answer(
    State(s): State<AppState>,
    caller: MaybeUser,
    Path(id): Path<String>,
    StepBody(body): StepBody,
) -> ApiResult<Json<RunView>> {
    Ok(Json(
        exec::answer_run(&s.service, &id, body, caller.runner()?.as_ref()).await?,
    ))
}

/// A run's whole history and what it waits for.
#[utoipa::path(get, path = "/api/v1/runs/{id}", tag = "runs", operation_id = "show_run", responses((status = 200, body = RunView), (status = 404, body = ErrorBody)))]
pub async fn show(
    State(s): State<AppState>,
    caller: MaybeUser,
    Path(id): Path<String>,
) -> ApiResult<Json<RunView>> {
    Ok(Json(
        exec::get_run(&s.service, &id, &caller.viewer()).await?,
    ))
}

/// Options of a one-call prediction.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PredictParams {
    /// Return output files inline as `data:` URLs instead of stored file ids.
    #[serde(default)]
    pub inline: bool,
}

/// One call to a one-step model: inputs in, outputs out.
#[utoipa::path(post, path = "/api/v1/models/{owner}/{name}/predict", tag = "runs", request_body(content((StepInputs = "application/json"), (StepForm = "multipart/form-data"))), params(PredictParams),
    responses((status = 200, body = Prediction), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 500, body = ErrorBody), (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
pub async fn predict(
    State(s): State<AppState>,
    caller: MaybeUser,
    Path((owner, name)): Path<(String, String)>,
    Query(p): Query<PredictParams>,
    StepBody(body): StepBody,
) -> ApiResult<Json<Prediction>> {
    let caller = caller.runner()?;
    Ok(Json(
        exec::predict(&s.service, &owner, &name, &body, caller.as_ref(), p.inline).await?,
    ))
}

/// A version's Python environment: status (`pending`, `building`, `ready`, `failed` with the
/// reason) and the build log; 503 when the server has no sandbox, so nothing would build.
#[utoipa::path(get, path = "/api/v1/models/{owner}/{name}/versions/{version}/environment", tag = "runs",
    responses((status = 200, body = Environment), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn environment(
    State(s): State<AppState>,
    caller: MaybeUser,
    Path((owner, name, version)): Path<(String, String, String)>,
) -> ApiResult<Json<Environment>> {
    Ok(Json(
        exec::environment(&s.service, &owner, &name, &version, &caller.viewer()).await?,
    ))
}

/// Uploads a file to use in runs: send it as the multipart part `file`, then pass
/// `{"id": ...}` as the input's value. It is kept for the upload TTL unless a run uses it, and
/// counts against the uploader's quota until then.
#[utoipa::path(post, path = "/api/v1/files", tag = "runs",
    request_body(content = FileForm, content_type = "multipart/form-data"),
    responses((status = 201, body = feather_store::StoredFile), (status = 400, body = ErrorBody),
              (status = 413, body = ErrorBody, description = "over the size cap (`too_large`) or the uploader's quota (`quota_exceeded`)"),
              (status = 415, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn upload(
    State(s): State<AppState>,
    caller: MaybeUser,
    ClientAddr(addr): ClientAddr,
    form: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Json<feather_store::StoredFile>)> {
    let mut form = form.map_err(|e| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!(
                "send multipart/form-data with a part `file` ({})",
                e.body_text()
            ),
        )
    })?;
    let Some(field) = form
        .next_field()
        .await
        .map_err(|e| ApiError::bad_request(e.body_text()))?
    else {
        return Err(ApiError::bad_request("the `file` part is missing"));
    };
    if field.name() != Some("file") {
        return Err(ApiError::bad_request(
            "send the file as the multipart part `file`",
        ));
    }
    let name = field
        .file_name()
        .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n).to_owned())
        .filter(|n| !n.is_empty());
    let mime = field
        .content_type()
        .filter(|t| *t != "application/octet-stream")
        .map(str::to_owned);
    let new = files::NewUpload {
        body: field,
        name,
        media_type: mime,
        caller: caller.0.as_ref().map(User::actor),
        client: Some(addr),
    };
    let f = files::receive_upload(&s.service, new).await?;
    if form
        .next_field()
        .await
        .map_err(|e| ApiError::bad_request(e.body_text()))?
        .is_some()
    {
        files::discard_upload(&s.service, &f).await?;
        return Err(ApiError::bad_request("send one part, `file`, per upload"));
    }
    Ok((StatusCode::CREATED, Json(f)))
}

/// The part of a file upload.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct FileForm {
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// A stored file (an upload or a step's output), with its type.
#[utoipa::path(get, path = "/api/v1/files/{id}", tag = "runs",
    responses((status = 200, description = "the file's bytes, with the type it was stored with", content_type = "*/*"), (status = 404, body = ErrorBody)))]
pub async fn file(
    State(s): State<AppState>,
    // Anyone with a file's id may read it, but a token that is sent must be valid, as on
    // every route.
    _caller: MaybeUser,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    // Streamed: a large file is never held in memory whole.
    let (f, size, stream) = files::open_file(&s.service, &id).await?;
    let disposition = match &f.name {
        Some(n) => format!("inline; filename=\"{}\"", n.replace(['"', '\\'], "_")),
        None => "inline".into(),
    };
    Ok((
        [
            (header::CONTENT_TYPE, f.media_type.clone()),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::CACHE_CONTROL,
                "private, max-age=31536000, immutable".into(),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".into()),
            (header::CONTENT_SECURITY_POLICY, super::FILE_CSP.into()),
            (header::CONTENT_LENGTH, size.to_string()),
        ],
        axum::body::Body::from_stream(stream),
    )
        .into_response())
}
