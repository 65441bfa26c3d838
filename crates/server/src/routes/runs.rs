//! Runs, one-call predictions, and files.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use utoipa::ToSchema;

use crate::auth::MaybeUser;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::exec::{
    self,
    views::{Environment, Prediction, RunView},
};
use crate::extract::Path;
use crate::state::AppState;

/// Answers to a step: component id to value; files as `{"data": "data:..."}` or `{"id": ...}`.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct StepInputs {
    #[schema(value_type = Object)]
    inputs: Value,
}

type Body = Result<Json<Value>, axum::extract::rejection::JsonRejection>;

/// The `inputs` of a body shaped `{"inputs": {...}}` (absent: no inputs).
fn inputs(b: Body) -> ApiResult<Value> {
    let shape =
        "the body must be JSON of the form {\"inputs\": {\"<component id>\": <value>, ...}}";
    let Json(v) = b.map_err(|e| ApiError::bad_request(format!("{shape}: {}", e.body_text())))?;
    let Value::Object(mut o) = v else {
        return Err(ApiError::bad_request(shape));
    };
    if let Some(k) = o.keys().find(|k| *k != "inputs") {
        return Err(ApiError::bad_request(format!(
            "{shape}; {k:?} is not expected"
        )));
    }
    Ok(o.remove("inputs")
        .unwrap_or_else(|| Value::Object(Default::default())))
}

/// Starts a run: runs step 1 with the init inputs. `name` may end in `@version` or `@alias`.
#[utoipa::path(post, path = "/api/v1/models/{owner}/{name}/runs", tag = "runs", request_body = StepInputs,
    responses((status = 201, body = RunView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "the environment is not ready"),
              (status = 422, body = ErrorBody, description = "invalid inputs, each problem with its path"),
              (status = 500, body = ErrorBody, description = "the step raised"), (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
pub async fn start(
    State(s): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path((owner, name)): Path<(String, String)>,
    b: Body,
) -> ApiResult<(StatusCode, Json<RunView>)> {
    let inputs = inputs(b)?;
    Ok((
        StatusCode::CREATED,
        Json(exec::start_run(&s, &owner, &name, &inputs, user.as_ref()).await?),
    ))
}

/// Answers the step the run waits for, and runs it.
#[utoipa::path(post, path = "/api/v1/runs/{id}/steps", tag = "runs", request_body = StepInputs,
    responses((status = 200, body = RunView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "the run takes no more answers"),
              (status = 422, body = ErrorBody), (status = 500, body = ErrorBody), (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
pub async fn answer(
    State(s): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
    b: Body,
) -> ApiResult<Json<RunView>> {
    let inputs = inputs(b)?;
    Ok(Json(
        exec::answer_run(&s, &id, &inputs, user.as_ref()).await?,
    ))
}

/// A run's whole history and what it waits for.
#[utoipa::path(get, path = "/api/v1/runs/{id}", tag = "runs", responses((status = 200, body = RunView), (status = 404, body = ErrorBody)))]
pub async fn show(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<RunView>> {
    Ok(Json(exec::get_run(&s, &id).await?))
}

/// One call to a one-step model: inputs in, outputs out.
#[utoipa::path(post, path = "/api/v1/models/{owner}/{name}/predict", tag = "runs", request_body = StepInputs,
    responses((status = 200, body = Prediction), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 500, body = ErrorBody), (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
pub async fn predict(
    State(s): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path((owner, name)): Path<(String, String)>,
    b: Body,
) -> ApiResult<Json<Prediction>> {
    let inputs = inputs(b)?;
    Ok(Json(
        exec::predict(&s, &owner, &name, &inputs, user.as_ref()).await?,
    ))
}

/// A version's Python environment: status (`pending`, `building`, `ready`, `failed` with the
/// reason) and the build log.
#[utoipa::path(get, path = "/api/v1/models/{owner}/{name}/versions/{version}/environment", tag = "runs",
    responses((status = 200, body = Environment), (status = 404, body = ErrorBody)))]
pub async fn environment(
    State(s): State<AppState>,
    Path((owner, name, version)): Path<(String, String, String)>,
) -> ApiResult<Json<Environment>> {
    Ok(Json(exec::environment(&s, &owner, &name, &version).await?))
}

/// A stored file (an upload or a step's output), with its type.
#[utoipa::path(get, path = "/api/v1/files/{id}", tag = "runs",
    responses((status = 200, description = "the file's bytes", content_type = "application/octet-stream"), (status = 404, body = ErrorBody)))]
pub async fn file(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let f = s.store.registry.file(&id).await?;
    let bytes = s.store.blobs.get_bytes(&f.digest).await?;
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
        ],
        axum::body::Body::from(bytes),
    )
        .into_response())
}
