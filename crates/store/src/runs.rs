//! Runs and files: the records of each use of a model, kept server-side.

use async_trait::async_trait;
use serde::Serialize;
use serde_json::Value;
use sqlx::Row;
use utoipa::ToSchema;

use crate::accounts::unix_now;
use crate::error::{Result, StoreError};
use crate::registry::SqliteRegistry;

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

    fn parse(s: &str) -> Result<Self> {
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

fn json(s: Option<String>) -> Option<Value> {
    s.and_then(|s| serde_json::from_str(&s).ok())
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

#[async_trait]
impl RunRegistry for SqliteRegistry {
    async fn save_step(
        &self,
        run: &RunRecord,
        step: &StepRecord,
        claim: Option<&str>,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let saved = match claim {
            Some(token) => sqlx::query(
                "UPDATE runs SET status = $2, next_step = $3, awaiting = $4, updated_at = $5,
                    claim_expires = NULL, claim_token = NULL
                 WHERE id = $1 AND claim_token = $6",
            )
            .bind(&run.id)
            .bind(run.status.as_str())
            .bind(run.next_step)
            .bind(run.awaiting.as_ref().map(Value::to_string))
            .bind(&run.updated_at)
            .bind(token)
            .execute(&mut *tx)
            .await?
            .rows_affected(),
            None => sqlx::query(
                "INSERT INTO runs (id, owner, name, version, status, next_step, awaiting, created_by, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(&run.id)
            .bind(&run.owner)
            .bind(&run.name)
            .bind(run.version)
            .bind(run.status.as_str())
            .bind(run.next_step)
            .bind(run.awaiting.as_ref().map(Value::to_string))
            .bind(&run.created_by)
            .bind(&run.created_at)
            .bind(&run.updated_at)
            .execute(&mut *tx)
            .await?
            .rows_affected(),
        };
        if saved != 1 {
            return Err(StoreError::Conflict(format!(
                "the claim on run {}'s step lapsed and another answer took it; this outcome was not kept",
                run.id
            )));
        }
        sqlx::query(
            "INSERT INTO run_steps (run_id, idx, step, inputs, outputs, error, state_digest, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&run.id)
        .bind(step.index)
        .bind(&step.step)
        .bind(step.inputs.to_string())
        .bind(step.outputs.as_ref().map(Value::to_string))
        .bind(step.error.as_ref().map(Value::to_string))
        .bind(&step.state_digest)
        .bind(&step.created_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn claim_step(&self, id: &str, step: i64, expires_at: i64) -> Result<Option<String>> {
        let token = new_id("c_");
        let done = sqlx::query(
            "UPDATE runs SET status = 'running', claim_expires = $3, claim_token = $5, updated_at = $6
             WHERE id = $1 AND next_step = $2
               AND (status = 'awaiting_input' OR (status = 'running' AND claim_expires < $4))",
        )
        .bind(id)
        .bind(step)
        .bind(expires_at)
        .bind(unix_now())
        .bind(&token)
        .bind(crate::now())
        .execute(&self.pool)
        .await?;
        Ok((done.rows_affected() == 1).then_some(token))
    }

    async fn release_step(&self, id: &str, token: &str) -> Result<()> {
        sqlx::query(
            "UPDATE runs SET status = 'awaiting_input', claim_expires = NULL, claim_token = NULL
             WHERE id = $1 AND claim_token = $2 AND status = 'running'",
        )
        .bind(id)
        .bind(token)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn run(&self, id: &str) -> Result<RunRecord> {
        let row = sqlx::query("SELECT * FROM runs WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("run {id}")))?;
        let steps = sqlx::query("SELECT * FROM run_steps WHERE run_id = $1 ORDER BY idx")
            .bind(id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(StepRecord {
                    index: r.try_get("idx")?,
                    step: r.try_get("step")?,
                    inputs: json(r.try_get("inputs")?).unwrap_or(Value::Null),
                    outputs: json(r.try_get("outputs")?),
                    error: json(r.try_get("error")?),
                    state_digest: r.try_get("state_digest")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(RunRecord {
            id: row.try_get("id")?,
            owner: row.try_get("owner")?,
            name: row.try_get("name")?,
            version: row.try_get("version")?,
            status: match RunStatus::parse(row.try_get("status")?)? {
                // Its holder died: the step waits for an answer again.
                RunStatus::Running
                    if row
                        .try_get::<Option<i64>, _>("claim_expires")?
                        .is_some_and(|t| t < unix_now()) =>
                {
                    RunStatus::AwaitingInput
                }
                other => other,
            },
            next_step: row.try_get("next_step")?,
            awaiting: json(row.try_get("awaiting")?),
            created_by: row.try_get("created_by")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            steps,
        })
    }
}
