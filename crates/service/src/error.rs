//! The one error of the service layer, and its table of codes. Each front end renders it in
//! its own shape from the code alone: REST as `{"error": {"code", "message", "details"}}`
//! with the status its table gives, the Open Inference Protocol as `{"error": "..."}`.

use feather_spec::Problem;
use feather_store::StoreError;
use serde_json::{Value, json};

/// What kind of failure, as every front end tells it apart. The names are the stable
/// `code` strings of the REST API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// The request is malformed or asks for something impossible.
    BadRequest,
    /// No token, or one that is not valid.
    Unauthorized,
    /// A valid token that may not do this.
    Forbidden,
    /// It does not exist, or the caller may not see it.
    NotFound,
    /// It contradicts the present state (a name taken, a run that takes no more answers).
    Conflict,
    /// Another request is answering the step a run waits for.
    StepInProgress,
    /// The version's environment is being built, or failed to build.
    EnvironmentNotReady,
    /// A manifest with problems, each with its path.
    InvalidManifest,
    /// A bundle that would write outside its folder, or holds what it may not.
    UnsafeBundle,
    /// Answers that do not fit the components they answer.
    InvalidInputs,
    /// Over a size limit.
    TooLarge,
    /// Over the caller's quota of stored files.
    QuotaExceeded,
    /// A format the server does not read.
    UnsupportedMediaType,
    /// The model's code raised.
    StepFailed,
    /// A step ran past its time.
    StepTimeout,
    /// The worker died during the step.
    WorkerCrashed,
    /// No sandbox on this machine, so nothing runs.
    SandboxUnavailable,
    /// The runtime a model needs (ONNX Runtime) cannot be installed or loaded.
    RuntimeUnavailable,
    /// The server cannot take requests now: its database or blob store does not answer, or it
    /// has no sandbox.
    NotReady,
    /// A fault of the server; the details are in its log, never in the answer.
    Internal,
}

impl Code {
    pub const ALL: [Self; 20] = [
        Self::BadRequest,
        Self::Unauthorized,
        Self::Forbidden,
        Self::NotFound,
        Self::Conflict,
        Self::StepInProgress,
        Self::EnvironmentNotReady,
        Self::InvalidManifest,
        Self::UnsafeBundle,
        Self::InvalidInputs,
        Self::TooLarge,
        Self::QuotaExceeded,
        Self::UnsupportedMediaType,
        Self::StepFailed,
        Self::StepTimeout,
        Self::WorkerCrashed,
        Self::SandboxUnavailable,
        Self::RuntimeUnavailable,
        Self::NotReady,
        Self::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadRequest => "bad_request",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::StepInProgress => "step_in_progress",
            Self::EnvironmentNotReady => "environment_not_ready",
            Self::InvalidManifest => "invalid_manifest",
            Self::UnsafeBundle => "unsafe_bundle",
            Self::InvalidInputs => "invalid_inputs",
            Self::TooLarge => "too_large",
            Self::QuotaExceeded => "quota_exceeded",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::StepFailed => "step_failed",
            Self::StepTimeout => "step_timeout",
            Self::WorkerCrashed => "worker_crashed",
            Self::SandboxUnavailable => "sandbox_unavailable",
            Self::RuntimeUnavailable => "runtime_unavailable",
            Self::NotReady => "not_ready",
            Self::Internal => "internal",
        }
    }
}

/// A failure of a service call: its code, a sentence a person can act on, and structured
/// specifics (problems with their paths, the run it happened in, a traceback for the owner).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ServiceError {
    pub code: Code,
    pub message: String,
    pub details: Option<Value>,
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

impl ServiceError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
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
        Self::new(Code::BadRequest, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(Code::Forbidden, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Code::NotFound, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(Code::Conflict, message)
    }

    pub fn step_in_progress(run: &str) -> Self {
        Self::new(
            Code::StepInProgress,
            format!(
                "run {run}'s step is already being answered by another request; read the run to see its outcome"
            ),
        )
    }

    /// Internal details are logged, never shown.
    pub fn internal(detail: impl Into<String>) -> Self {
        tracing::error!(error = %detail.into(), "internal error");
        Self::new(
            Code::Internal,
            "an internal error occurred; the server log has the details",
        )
    }

    pub fn invalid_inputs(problems: Vec<Problem>) -> Self {
        let first = problems
            .first()
            .map(ToString::to_string)
            .unwrap_or_default();
        Self::new(
            Code::InvalidInputs,
            format!("the inputs are invalid: {first}"),
        )
        .with_details(json!({"problems": problems}))
    }

    pub fn env_not_ready(message: &str, reason: Option<String>) -> Self {
        let e = Self::new(
            Code::EnvironmentNotReady,
            format!("this version cannot run yet: {message}"),
        );
        match reason {
            Some(r) => e.with_details(json!({"reason": r})),
            None => e,
        }
    }

    /// The model's code raised; the traceback is only for the model's owner.
    pub fn step_failed(message: impl Into<String>, traceback: Option<String>) -> Self {
        let e = Self::new(Code::StepFailed, message);
        match traceback {
            Some(t) => e.with_details(json!({"traceback": t})),
            None => e,
        }
    }

    /// Names the run an error happened in.
    pub fn with_run(mut self, id: &str) -> Self {
        let details = self.details.get_or_insert_with(|| json!({}));
        details["run"] = json!(id);
        self
    }

    /// Whether the caller's request is at fault (it can be corrected and sent again), rather
    /// than the model, its worker or the server.
    pub fn is_callers(&self) -> bool {
        matches!(
            self.code,
            Code::BadRequest
                | Code::Unauthorized
                | Code::Forbidden
                | Code::NotFound
                | Code::Conflict
                | Code::StepInProgress
                | Code::EnvironmentNotReady
                | Code::InvalidManifest
                | Code::UnsafeBundle
                | Code::InvalidInputs
                | Code::TooLarge
                | Code::QuotaExceeded
                | Code::UnsupportedMediaType
        )
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        let message = e.to_string();
        match e {
            StoreError::NotFound(_) => Self::new(Code::NotFound, message),
            StoreError::Conflict(_) => Self::new(Code::Conflict, message),
            StoreError::InvalidManifest(p) => {
                Self::new(Code::InvalidManifest, message).with_details(json!({"problems": p.0}))
            }
            StoreError::BadRequest(_) => Self::new(Code::BadRequest, message),
            StoreError::UnsafeBundle { entry, .. } => {
                Self::new(Code::UnsafeBundle, message).with_details(json!({"entry": entry}))
            }
            StoreError::TooLarge { limit, .. } => {
                Self::new(Code::TooLarge, message).with_details(json!({"limit": limit}))
            }
            StoreError::UnsupportedFormat(_) => Self::new(Code::UnsupportedMediaType, message),
            StoreError::Unauthorized(_) => Self::new(Code::Unauthorized, message),
            StoreError::Forbidden(_) => Self::new(Code::Forbidden, message),
            StoreError::Unavailable(_)
            | StoreError::Db(_)
            | StoreError::Migrate(_)
            | StoreError::Blob(_)
            | StoreError::Io(_) => Self::internal(message),
        }
    }
}
