//! The audit log in SQL.

use async_trait::async_trait;
use serde_json::Value;
use sqlx::{Row, Transaction};

use super::{Db, Engine};
use crate::audit::*;
use crate::error::{Result, StoreError};

/// Writes a change's audit row inside the transaction that makes the change.
pub(super) async fn write(tx: &mut Transaction<'_, Db>, r: Record<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit (at, actor, action, owner, target, details) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(crate::now())
    .bind(r.actor)
    .bind(r.action.as_str())
    .bind(r.owner)
    .bind(r.target)
    .bind(r.details.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[async_trait]
impl AuditLog for Engine {
    async fn audit(&self, q: &AuditQuery) -> Result<AuditPage> {
        if !(1..=500).contains(&q.limit) {
            return Err(StoreError::BadRequest("limit is between 1 and 500".into()));
        }
        let rows = sqlx::query(
            "SELECT * FROM audit
             WHERE ($1 IS NULL OR actor = $1) AND ($2 IS NULL OR owner = $2)
               AND ($3 IS NULL OR action = $3) AND ($4 IS NULL OR actor = $4 OR owner = $4)
               AND ($5 IS NULL OR id < $5)
             ORDER BY id DESC LIMIT $6",
        )
        .bind(&q.actor)
        .bind(&q.owner)
        .bind(q.action.map(Action::as_str))
        .bind(&q.concerning)
        .bind(q.before)
        .bind(i64::from(q.limit))
        .fetch_all(&self.pool)
        .await?;
        let entries = rows
            .iter()
            .map(|r| {
                let details: String = r.try_get("details")?;
                Ok(AuditEntry {
                    id: r.try_get("id")?,
                    at: r.try_get("at")?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    owner: r.try_get("owner")?,
                    target: r.try_get("target")?,
                    details: serde_json::from_str(&details).unwrap_or(Value::Null),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let next_before = (entries.len() == q.limit as usize)
            .then(|| entries.last().map(|e| e.id))
            .flatten();
        Ok(AuditPage {
            entries,
            next_before,
        })
    }
}
