//! Runs and files: the records of each use of a model, kept server-side.

use async_trait::async_trait;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::{Result, StoreError};

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// A step waits for the person's answers.
    AwaitingInput,
    /// A request is answering its step.
    Running,
    Completed,
    Failed,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AwaitingInput => "awaiting_input",
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "awaiting_input" => Self::AwaitingInput,
            "running" => Self::Running,
            "completed" => Self::Completed,
            "failed" => Self::Failed,
            other => {
                return Err(StoreError::Db(sqlx::Error::Decode(
                    format!("unknown run status {other:?}").into(),
                )));
            }
        })
    }
}

/// One step of a run as stored.
#[derive(Debug, Clone)]
pub struct StepRecord {
    pub index: i64,
    pub step: String,
    pub inputs: Value,
    pub outputs: Option<Value>,
    pub error: Option<Value>,
    pub state_digest: Option<String>,
    pub created_at: String,
}

/// A run as stored.
#[derive(Debug, Clone)]
pub struct RunRecord {
    pub id: String,
    pub owner: String,
    pub name: String,
    pub version: i64,
    pub status: RunStatus,
    pub next_step: i64,
    pub awaiting: Option<Value>,
    pub created_by: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub steps: Vec<StepRecord>,
}

/// A random id for a run or a file.
pub fn new_id(prefix: &str) -> String {
    use rand::RngCore;
    let mut b = [0u8; 12];
    rand::rng().fill_bytes(&mut b);
    format!("{prefix}{}", hex::encode(b))
}

/// Runs and their steps, and the claims that let one caller run a step.
#[async_trait]
pub trait RunRegistry: Send + Sync {
    /// Creates a run with its first step, or records a later step, in one transaction. A
    /// later step records only under the claim it ran with: a holder whose claim lapsed and
    /// was taken over gets a conflict, and the run keeps its new holder's outcome.
    async fn save_step(
        &self,
        run: &RunRecord,
        step: &StepRecord,
        claim: Option<&str>,
    ) -> Result<()>;

    /// Claims the step a run waits for, so that exactly one caller runs it: a compare-and-set
    /// from awaiting that step to `running`, in the database, so it holds across replicas. A
    /// claim past its expiry (its holder died) may be taken over. Returns the claim's token,
    /// which recording the outcome or giving the claim back needs; none: someone else holds
    /// it, or the run no longer waits for that step.
    async fn claim_step(&self, id: &str, step: i64, expires_at: i64) -> Result<Option<String>>;

    /// Gives a claim back: the answers were refused before the step ran.
    async fn release_step(&self, id: &str, token: &str) -> Result<()>;

    async fn run(&self, id: &str) -> Result<RunRecord>;
}
