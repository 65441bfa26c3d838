//! Who may see a model, and the names pointing at its versions: visibility, grants and aliases.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;
use utoipa::ToSchema;

use crate::audit::{Action, Record};
use crate::error::{Result, StoreError};
use crate::registry::{AccountRegistry, SqliteRegistry};

/// Public models are listed and run by anyone; private ones only by their owner, the users
/// granted them, and admins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    #[default]
    Public,
    Private,
}

impl Visibility {
    pub(crate) fn from_flag(private: i64) -> Self {
        if private != 0 {
            Visibility::Private
        } else {
            Visibility::Public
        }
    }

    pub(crate) fn flag(self) -> i64 {
        i64::from(self == Visibility::Private)
    }
}

/// Who is looking, for searches and reads: anonymous, a user, or an admin acting as one.
#[derive(Debug, Clone, Default)]
pub struct Viewer {
    pub user: Option<String>,
    pub admin: bool,
}

/// A user who may see and run a private model.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Grant {
    pub user: String,
    pub granted_by: String,
    pub created_at: String,
}

/// The alias publishing moves; nobody else may.
pub const LATEST: &str = "latest";

fn check_alias(alias: &str) -> Result<()> {
    if alias == LATEST {
        return Err(StoreError::Conflict(
            "`latest` always names the newest version; publish to move it".into(),
        ));
    }
    let starts_with_letter = alias.starts_with(|c: char| c.is_ascii_lowercase());
    if feather_spec::manifest::is_slug(alias, 64) && starts_with_letter {
        Ok(())
    } else {
        Err(StoreError::BadRequest(format!(
            "alias {alias:?} must be 1 to 64 of a-z 0-9 - _ . starting with a letter and ending with a letter or digit"
        )))
    }
}

/// Who may see a model, and where its aliases point.
#[async_trait]
pub trait SharingRegistry: Send + Sync {
    /// The model's visibility when the viewer may see it. A private model they may not see is
    /// "not found", as if it did not exist: its name is not theirs to learn.
    async fn visible(&self, owner: &str, name: &str, viewer: &Viewer) -> Result<Visibility>;

    async fn set_visibility(
        &self,
        actor: &str,
        owner: &str,
        name: &str,
        visibility: Visibility,
    ) -> Result<()>;

    async fn grants(&self, owner: &str, name: &str) -> Result<Vec<Grant>>;

    /// Lets `user` see and run the model. Granting twice changes nothing.
    async fn grant(&self, actor: &str, owner: &str, name: &str, user: &str) -> Result<()>;

    async fn ungrant(&self, actor: &str, owner: &str, name: &str, user: &str) -> Result<()>;

    /// Points `alias` at a version; returns the version it pointed at before, if any.
    async fn set_alias(
        &self,
        actor: &str,
        owner: &str,
        name: &str,
        alias: &str,
        version: i64,
    ) -> Result<Option<i64>>;

    async fn delete_alias(&self, actor: &str, owner: &str, name: &str, alias: &str) -> Result<()>;
}

#[async_trait]
impl SharingRegistry for SqliteRegistry {
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
        let visibility = Visibility::from_flag(row.try_get("private")?);
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
            .bind(visibility.flag())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed > 0 {
            Record {
                actor,
                action: Action::Visibility,
                owner: Some(owner),
                target: &format!("{owner}/{name}"),
                details: json!({ "visibility": visibility }),
            }
            .write(&mut tx)
            .await?;
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
            Record {
                actor,
                action: Action::Grant,
                owner: Some(owner),
                target: &format!("{owner}/{name}"),
                details: json!({ "user": user }),
            }
            .write(&mut tx)
            .await?;
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
        Record {
            actor,
            action: Action::Ungrant,
            owner: Some(owner),
            target: &format!("{owner}/{name}"),
            details: json!({ "user": user }),
        }
        .write(&mut tx)
        .await?;
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
            Record {
                actor,
                action: Action::SetAlias,
                owner: Some(owner),
                target: &format!("{owner}/{name}@{alias}"),
                details: json!({ "version": version, "was": before }),
            }
            .write(&mut tx)
            .await?;
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
        Record {
            actor,
            action: Action::DeleteAlias,
            owner: Some(owner),
            target: &format!("{owner}/{name}@{alias}"),
            details: json!({ "was": before }),
        }
        .write(&mut tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
