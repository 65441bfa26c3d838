//! MLflow's scoring protocol, as `mlflow models serve` answers it at `/invocations`: a JSON
//! body of rows in, `{"predictions": [...]}` out, over the same service as the REST API.
//! Errors take MLflow's shape, `{"error_code": "BAD_REQUEST", "message": "..."}`, with the
//! REST API's statuses: [`errors`] rewrites every error answer of the route once.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use feather_service::exec::scoring;
use serde_json::{Value, json};

use crate::auth::MaybeUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::Path;
use crate::state::AppState;

/// `POST /api/v1/models/{owner}/{name}[@ref]/invocations`.
#[utoipa::path(post, path = "/api/v1/models/{owner}/{name}/invocations", tag = "runs",
    request_body(content(
        (Value = "application/json"),
        (String = "text/csv")),
        description = "MLflow's scoring request: a JSON object of one of `dataframe_split` (`{\"columns\", \"data\"}`), `dataframe_records`, `instances` or `inputs`; or CSV with a header row of column names"),
    responses((status = 200, body = Value, description = "`{\"predictions\": [...]}`, one a row"),
              (status = 400, body = Value), (status = 404, body = Value), (status = 415, body = Value),
              (status = 422, body = Value)))]
pub async fn invocations(
    State(s): State<AppState>,
    caller: MaybeUser,
    Path((owner, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    let caller = caller.runner()?;
    let json: Value;
    let body = if kind.starts_with("text/csv") {
        scoring::Body::Csv(&body)
    } else if kind.starts_with("application/json") {
        json = serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request(format!("the body is not JSON: {e}")))?;
        scoring::Body::Json(&json)
    } else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("send the rows as application/json or text/csv, not {kind}"),
        ));
    };
    Ok(Json(
        scoring::invocations(&s.service, &owner, &name, body, caller.as_ref()).await?,
    ))
}

/// MLflow's name for an error of ours.
fn mlflow_code(code: &str) -> String {
    match code {
        "bad_request" | "invalid_inputs" | "unsupported_media_type" => "BAD_REQUEST".into(),
        "not_found" => "RESOURCE_DOES_NOT_EXIST".into(),
        "unauthorized" | "forbidden" => "PERMISSION_DENIED".into(),
        other => other.to_ascii_uppercase(),
    }
}

/// Rewrites every error answer of the route, the REST shape `{"error": {"code", "message",
/// ...}}`, into MLflow's `{"error_code", "message"}`.
pub async fn errors(res: Response) -> Response {
    super::reshape_error(
        res,
        |code, message| json!({"error_code": mlflow_code(code), "message": message}),
    )
    .await
}
