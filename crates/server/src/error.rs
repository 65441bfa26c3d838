//! The one error shape of the REST API, `{"error": {"code", "message", "details"}}`, and the
//! one table that gives each service error code its status.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use feather_service::{Code, ServiceError};
use feather_store::StoreError;
use serde::Serialize;
use serde_json::Value;
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
    #[schema(value_type = Option<ErrorDetails>)]
    pub details: Option<Value>,
}

/// What an error's details may hold, each where it applies.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ErrorDetails {
    /// Every problem of a manifest or of a step's inputs, each with its JSON Pointer.
    problems: Option<Vec<feather_spec::Problem>>,
    /// The run the error happened in.
    run: Option<String>,
    /// The model's traceback: only for its owner.
    traceback: Option<String>,
    /// Why an environment failed to build.
    reason: Option<String>,
    /// The bundle entry that was refused.
    entry: Option<String>,
    /// The limit, in bytes, that was passed.
    limit: Option<u64>,
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

    /// Internal details are logged, never shown.
    pub fn internal(detail: impl Into<String>) -> Self {
        ServiceError::internal(detail).into()
    }
}

/// The REST status of each service error code: the one table.
pub fn status(code: Code) -> StatusCode {
    use StatusCode as S;
    match code {
        Code::BadRequest => S::BAD_REQUEST,
        Code::Unauthorized => S::UNAUTHORIZED,
        Code::Forbidden => S::FORBIDDEN,
        Code::NotFound => S::NOT_FOUND,
        Code::Conflict | Code::StepInProgress | Code::EnvironmentNotReady => S::CONFLICT,
        Code::InvalidManifest | Code::UnsafeBundle | Code::InvalidInputs => S::UNPROCESSABLE_ENTITY,
        Code::TooLarge | Code::QuotaExceeded => S::PAYLOAD_TOO_LARGE,
        Code::UnsupportedMediaType => S::UNSUPPORTED_MEDIA_TYPE,
        Code::StepFailed | Code::Internal => S::INTERNAL_SERVER_ERROR,
        Code::StepTimeout => S::GATEWAY_TIMEOUT,
        Code::WorkerCrashed => S::BAD_GATEWAY,
        Code::SandboxUnavailable | Code::RuntimeUnavailable | Code::NotReady => {
            S::SERVICE_UNAVAILABLE
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        Self {
            status: status(e.code),
            code: e.code.as_str(),
            message: e.message,
            details: e.details,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ServiceError::from(e).into()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A step whose request was at fault changes nothing in its run; the service decides that
    /// from the code, and clients read it from the status: the two must agree.
    #[test]
    fn the_callers_faults_are_the_client_errors() {
        for code in Code::ALL {
            let e = ServiceError::new(code, "x");
            assert_eq!(e.is_callers(), status(code).is_client_error(), "{code:?}");
        }
    }
}
