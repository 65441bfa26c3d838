//! Liveness, and how models' code is contained.

use axum::Json;
use axum::extract::State;
use feather_runner::sandbox::Sandbox;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiResult;
use crate::state::AppState;

/// The server answers and its store is open.
#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
    pub version: &'static str,
    /// `bubblewrap`; `off` when started with `--insecure-no-sandbox` (models can read this
    /// server's files and the network); `unavailable` when models cannot run at all.
    pub sandbox: &'static str,
    /// Why the sandbox is off or unavailable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// Whether the server is up, and whether models run contained.
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, body = Health)))]
pub async fn healthz(State(s): State<AppState>) -> Json<Health> {
    let (sandbox, warning) = match &s.service.runner.sandbox {
        Ok(Sandbox::Bubblewrap(_)) => ("bubblewrap", None),
        Ok(Sandbox::Off) => (
            "off",
            Some(
                "INSECURE: started with --insecure-no-sandbox; models' code is not contained"
                    .into(),
            ),
        ),
        Err(reason) => (
            "unavailable",
            Some(format!(
                "no model can run until the sandbox works: {reason}"
            )),
        ),
    };
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        sandbox,
        warning,
    })
}

/// The server takes requests.
#[derive(Serialize, ToSchema)]
pub struct Ready {
    pub status: &'static str,
}

/// Whether the server can take requests now: its registry and blob store answer and models can
/// run. 503 (`not_ready`) says which does not; a load balancer sends it nothing until then.
#[utoipa::path(get, path = "/readyz", tag = "ops",
    responses((status = 200, body = Ready), (status = 503, body = crate::error::ErrorBody)))]
pub async fn readyz(State(s): State<AppState>) -> ApiResult<Json<Ready>> {
    feather_service::health::ready(&s.service).await?;
    Ok(Json(Ready { status: "ready" }))
}

/// Every metric, in the OpenMetrics text format that Prometheus scrapes: steps called per model,
/// version and step by outcome (`ok` or the error's code) and latency, and the process's
/// figures. For admins: the series name private models.
#[utoipa::path(get, path = "/metrics", tag = "ops", security(("token" = [])),
    responses(
        (status = 200, description = "The metrics", content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8", body = String),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody)))]
pub async fn metrics(
    State(s): State<AppState>,
    caller: crate::auth::User,
) -> ApiResult<impl axum::response::IntoResponse> {
    let text = feather_service::read_metrics(&s.service, &caller.actor())?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    ))
}
