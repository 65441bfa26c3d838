//! Runs, their steps and claims in SQL.

use async_trait::async_trait;
use serde_json::Value;
use sqlx::Row;

use super::Engine;
use crate::accounts::rfc3339;
use crate::error::{Result, StoreError};
use crate::runs::*;

fn json(s: Option<String>) -> Option<Value> {
    s.and_then(|s| serde_json::from_str(&s).ok())
}

#[async_trait]
impl RunRegistry for Engine {
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
        .bind(rfc3339(expires_at))
        .bind(crate::now())
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
                        .try_get::<Option<String>, _>("claim_expires")?
                        .is_some_and(|t| t < crate::now()) =>
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
