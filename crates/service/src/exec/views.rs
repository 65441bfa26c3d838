//! What clients see of a run: its steps' inputs and outputs, and what comes next. State never
//! appears here.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// A run: one use of a model, step after step.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunView {
    pub id: String,
    /// `owner/name`.
    pub model: String,
    pub version: i64,
    /// `running` while another request is answering its step.
    pub status: feather_store::RunStatus,
    pub steps: Vec<StepView>,
    /// The step waiting for answers, when the status is `awaiting_input`.
    pub next: Option<NextStep>,
    pub created_at: String,
    pub updated_at: String,
}

/// One step that ran.
#[derive(Debug, Serialize, ToSchema)]
pub struct StepView {
    pub index: i64,
    pub name: String,
    pub title: String,
    /// The answers it was given, files as stored ids (none for a step that failed).
    #[schema(value_type = Option<std::collections::BTreeMap<String, feather_spec::schema::ComponentValue>>)]
    pub inputs: Value,
    /// The components it returned.
    #[schema(value_type = Vec<feather_spec::Component>)]
    pub outputs: Vec<Value>,
    /// Why it failed, if it did: its `code` and `message`.
    #[schema(value_type = Option<StepError>)]
    pub error: Option<Value>,
    pub created_at: String,
}

/// Why a step failed, as its run keeps it.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct StepError {
    /// The error's code, as the answer to the request that ran it had it.
    code: String,
    message: String,
}

/// The step that waits for the person's answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct NextStep {
    pub index: i64,
    pub name: String,
    pub title: String,
    pub description: String,
    /// The components to answer (send their values by id to `POST /api/v1/runs/{id}/steps`).
    #[schema(value_type = Vec<feather_spec::Component>)]
    pub components: Vec<Value>,
}

/// The outputs of a one-call prediction.
#[derive(Debug, Serialize, ToSchema)]
pub struct Prediction {
    pub model: String,
    pub version: i64,
    #[schema(value_type = Vec<feather_spec::Component>)]
    pub outputs: Vec<Value>,
}

/// A version's Python environment.
#[derive(Debug, Serialize, ToSchema)]
pub struct Environment {
    /// The environment's hash: versions with the same Python and requirements share it.
    pub key: String,
    /// `{"status": "pending" | "building" | "ready"}` or `{"status": "failed", "reason": ...}`.
    #[serde(flatten)]
    pub state: feather_runner::env::EnvStatus,
    /// The build's output, once there is one: only for the model's owner and admins, with
    /// paths relative to the data folder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    /// Once ready, what it holds as pins (`name==version`), the SDK left out: what `feather
    /// export` locks the model's requirements to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packages: Option<Vec<String>>,
}
