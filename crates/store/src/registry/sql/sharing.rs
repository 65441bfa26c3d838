//! Visibility, grants and aliases in SQL.

use async_trait::async_trait;
use serde_json::json;
use sqlx::Row;

use super::{Engine, audit};
use crate::accounts::AccountRegistry;
use crate::audit::{Action, Record};
use crate::changes::Change;
use crate::error::{Result, StoreError};
use crate::sharing::*;

#[async_trait]
impl SharingRegistry for Engine {
    async fn visible(&self, owner: &str, name: &str, viewer: &Viewer) -> Result<Visibility> {
        let row = sqlx::query(
            "SELECT m.private, (m.owner = $3 OR EXISTS (
                 SELECT 1 FROM grants g JOIN users u ON u.id = g.user_id
                 WHERE g.model_id = m.id AND u.name = $3)) AS allowed
             FROM models m WHERE m.owner = $1 AND m.name = $2",
        )
        .bind(owner)
        .bind(name)
        .bind(&viewer.user)
        .fetch_optional(&self.pool)
        .await?;
        let not_found = || StoreError::NotFound(format!("model {owner}/{name}"));
        let row = row.ok_or_else(not_found)?;
        let visibility = Visibility::from_private(row.try_get("private")?);
        let allowed: Option<bool> = row.try_get("allowed")?;
        if visibility == Visibility::Public || viewer.admin || allowed == Some(true) {
            Ok(visibility)
        } else {
            Err(not_found())
        }
    }

    async fn set_visibility(
        &self,
        actor: &str,
        owner: &str,
        name: &str,
        visibility: Visibility,
    ) -> Result<()> {
        let id = self.model_id(owner, name).await?;
        let mut tx = self.pool.begin().await?;
        let changed = sqlx::query("UPDATE models SET private = $2 WHERE id = $1 AND private <> $2")
            .bind(id)
            .bind(visibility.is_private())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed > 0 {
            audit::write(
                &mut tx,
                Record {
                    actor,
                    action: Action::Visibility,
                    owner: Some(owner),
                    target: &format!("{owner}/{name}"),
                    details: json!({ "visibility": visibility }),
                },
            )
            .await?;
            self.announce(&mut tx, Change::changed(owner, name)).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn grants(&self, owner: &str, name: &str) -> Result<Vec<Grant>> {
        let id = self.model_id(owner, name).await?;
        let rows = sqlx::query(
            "SELECT u.name, g.granted_by, g.created_at FROM grants g JOIN users u ON u.id = g.user_id
             WHERE g.model_id = $1 ORDER BY u.name",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Grant {
                    user: r.try_get("name")?,
                    granted_by: r.try_get("granted_by")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    async fn grant(&self, actor: &str, owner: &str, name: &str, user: &str) -> Result<()> {
        // The owner sees their model already: a grant would change nothing.
        if user == owner {
            return Err(StoreError::Conflict(format!(
                "{owner} owns {owner}/{name} already"
            )));
        }
        let id = self.model_id(owner, name).await?;
        self.user(user).await?;
        let mut tx = self.pool.begin().await?;
        let added = sqlx::query(
            "INSERT INTO grants (model_id, user_id, granted_by, created_at)
             SELECT $1, id, $3, $4 FROM users WHERE name = $2
             ON CONFLICT (model_id, user_id) DO NOTHING",
        )
        .bind(id)
        .bind(user)
        .bind(actor)
        .bind(crate::now())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if added > 0 {
            audit::write(
                &mut tx,
                Record {
                    actor,
                    action: Action::Grant,
                    owner: Some(owner),
                    target: &format!("{owner}/{name}"),
                    details: json!({ "user": user }),
                },
            )
            .await?;
            self.announce(&mut tx, Change::changed(owner, name)).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn ungrant(&self, actor: &str, owner: &str, name: &str, user: &str) -> Result<()> {
        let id = self.model_id(owner, name).await?;
        let mut tx = self.pool.begin().await?;
        let removed = sqlx::query(
            "DELETE FROM grants WHERE model_id = $1 AND user_id = (SELECT id FROM users WHERE name = $2)",
        )
        .bind(id)
        .bind(user)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if removed == 0 {
            return Err(StoreError::NotFound(format!(
                "a grant of {owner}/{name} to {user}"
            )));
        }
        audit::write(
            &mut tx,
            Record {
                actor,
                action: Action::Ungrant,
                owner: Some(owner),
                target: &format!("{owner}/{name}"),
                details: json!({ "user": user }),
            },
        )
        .await?;
        self.announce(&mut tx, Change::changed(owner, name)).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_alias(
        &self,
        actor: &str,
        owner: &str,
        name: &str,
        alias: &str,
        version: i64,
    ) -> Result<Option<i64>> {
        check_alias(alias)?;
        let id = self.model_id(owner, name).await?;
        let mut tx = self.pool.begin().await?;
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT number FROM versions WHERE model_id = $1 AND number = $2")
                .bind(id)
                .bind(version)
                .fetch_optional(&mut *tx)
                .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound(format!(
                "version {owner}/{name}@{version}"
            )));
        }
        let before: Option<i64> =
            sqlx::query_scalar("SELECT version FROM aliases WHERE model_id = $1 AND name = $2")
                .bind(id)
                .bind(alias)
                .fetch_optional(&mut *tx)
                .await?;
        sqlx::query(
            "INSERT INTO aliases (model_id, name, version) VALUES ($1, $2, $3)
             ON CONFLICT (model_id, name) DO UPDATE SET version = excluded.version",
        )
        .bind(id)
        .bind(alias)
        .bind(version)
        .execute(&mut *tx)
        .await?;
        if before != Some(version) {
            audit::write(
                &mut tx,
                Record {
                    actor,
                    action: Action::SetAlias,
                    owner: Some(owner),
                    target: &format!("{owner}/{name}@{alias}"),
                    details: json!({ "version": version, "was": before }),
                },
            )
            .await?;
            self.announce(&mut tx, Change::changed(owner, name)).await?;
        }
        tx.commit().await?;
        Ok(before)
    }

    async fn delete_alias(&self, actor: &str, owner: &str, name: &str, alias: &str) -> Result<()> {
        check_alias(alias)?;
        let id = self.model_id(owner, name).await?;
        let mut tx = self.pool.begin().await?;
        let before: i64 = sqlx::query_scalar(
            "DELETE FROM aliases WHERE model_id = $1 AND name = $2 RETURNING version",
        )
        .bind(id)
        .bind(alias)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("alias {owner}/{name}@{alias}")))?;
        audit::write(
            &mut tx,
            Record {
                actor,
                action: Action::DeleteAlias,
                owner: Some(owner),
                target: &format!("{owner}/{name}@{alias}"),
                details: json!({ "was": before }),
            },
        )
        .await?;
        self.announce(&mut tx, Change::changed(owner, name)).await?;
        tx.commit().await?;
        Ok(())
    }
}
