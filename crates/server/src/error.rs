//! The one error shape of the API, `{"error": {"code", "message", "details"}}`, and the one
//! table that maps each store error to its status.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use feather_store::StoreError;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

/// An error answered to a client.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Option<Value>,
}

/// The body of every error response.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorInfo,
}

/// What went wrong.
#[derive(Serialize, ToSchema)]
pub struct ErrorInfo {
    /// Stable, machine-readable: `not_found`, `invalid_manifest`, `unsafe_bundle`, ...
    pub code: String,
    /// A sentence a person can act on.
    pub message: String,
    /// Structured specifics, such as `{"problems": [{"path", "reason"}]}` for a manifest.
    #[schema(value_type = Option<Object>)]
    pub details: Option<Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: None,
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }

    /// Another request is answering the step this run waits for.
    pub fn step_in_progress(run: &str) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "step_in_progress",
            format!(
                "run {run}'s step is already being answered by another request; read the run to see its outcome"
            ),
        )
    }

    /// Internal details are logged, never shown.
    pub fn internal(detail: impl Into<String>) -> Self {
        tracing::error!(error = %detail.into(), "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "an internal error occurred; the server log has the details",
        )
    }

    /// Answers that do not fit the components they answer, each problem with its path.
    pub fn invalid_inputs(problems: Vec<feather_spec::Problem>) -> Self {
        let first = problems
            .first()
            .map(ToString::to_string)
            .unwrap_or_default();
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_inputs",
            format!("the inputs are invalid: {first}"),
        )
        .with_details(json!({"problems": problems}))
    }

    /// A version whose environment is not ready (yet).
    pub fn env_not_ready(message: &str, reason: Option<String>) -> Self {
        let e = Self::new(
            StatusCode::CONFLICT,
            "environment_not_ready",
            format!("this version cannot run yet: {message}"),
        );
        match reason {
            Some(r) => e.with_details(json!({"reason": r})),
            None => e,
        }
    }

    /// The model's code raised; the traceback is only for the model's owner.
    pub fn step_failed(message: impl Into<String>, traceback: Option<String>) -> Self {
        let e = Self::new(StatusCode::INTERNAL_SERVER_ERROR, "step_failed", message);
        match traceback {
            Some(t) => e.with_details(json!({"traceback": t})),
            None => e,
        }
    }

    pub fn step_timeout(message: impl Into<String>) -> Self {
        Self::new(StatusCode::GATEWAY_TIMEOUT, "step_timeout", message)
    }

    pub fn worker_crashed(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_GATEWAY, "worker_crashed", message)
    }

    /// Names the run an error happened in.
    pub fn with_run(mut self, id: &str) -> Self {
        let details = self.details.get_or_insert_with(|| json!({}));
        details["run"] = json!(id);
        self
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        use StatusCode as S;
        let message = e.to_string();
        match e {
            StoreError::NotFound(_) => Self::new(S::NOT_FOUND, "not_found", message),
            StoreError::Conflict(_) => Self::new(S::CONFLICT, "conflict", message),
            StoreError::InvalidManifest(p) => {
                Self::new(S::UNPROCESSABLE_ENTITY, "invalid_manifest", message)
                    .with_details(json!({"problems": p.0}))
            }
            StoreError::BadRequest(_) => Self::new(S::BAD_REQUEST, "bad_request", message),
            StoreError::UnsafeBundle { entry, .. } => {
                Self::new(S::UNPROCESSABLE_ENTITY, "unsafe_bundle", message)
                    .with_details(json!({"entry": entry}))
            }
            StoreError::TooLarge { limit, .. } => {
                Self::new(S::PAYLOAD_TOO_LARGE, "too_large", message)
                    .with_details(json!({"limit": limit}))
            }
            StoreError::UnsupportedFormat(_) => {
                Self::new(S::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", message)
            }
            StoreError::Unauthorized(_) => Self::new(S::UNAUTHORIZED, "unauthorized", message),
            StoreError::Forbidden(_) => Self::new(S::FORBIDDEN, "forbidden", message),
            StoreError::Db(_)
            | StoreError::Migrate(_)
            | StoreError::Blob(_)
            | StoreError::Io(_) => {
                tracing::error!(error = %message, "internal error");
                Self::new(
                    S::INTERNAL_SERVER_ERROR,
                    "internal",
                    "an internal error occurred; the server log has the details",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorInfo {
                code: self.code.to_owned(),
                message: self.message,
                details: self.details,
            },
        };
        let mut res = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        res
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
