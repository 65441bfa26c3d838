//! Models and versions in SQL.

use std::collections::BTreeMap;

use async_trait::async_trait;
use sqlx::{Row, Transaction};

use super::{Db, DbRow, Engine, audit};
use crate::audit::{Action, Record};
use crate::changes::Change;
use crate::error::{Result, StoreError};
use crate::models::{
    Model, ModelPage, ModelQuery, ModelRegistry, NewVersion, Version, VersionDetail,
};
use crate::sharing::Visibility;

/// A model's row with its counts, for [`Engine::models_from`].
const MODEL_COLUMNS: &str = "m.*,
    (SELECT COUNT(*) FROM versions v WHERE v.model_id = m.id) AS version_count,
    (SELECT COUNT(*) FROM runs r WHERE r.owner = m.owner AND r.name = m.name) AS run_count";

fn version_from(row: &DbRow) -> Result<Version> {
    Ok(Version {
        version: row.try_get("number")?,
        digest: row.try_get("digest")?,
        bundle_size: row.try_get("bundle_size")?,
        bundle_files: row.try_get("bundle_files")?,
        published_by: row.try_get("published_by")?,
        created_at: row.try_get("created_at")?,
    })
}

impl Engine {
    /// Inserts the next version of `owner/name` (creating the model) and points `latest` at it.
    /// Returns the new version number. Runs inside the caller's transaction.
    async fn insert_version(tx: &mut Transaction<'_, Db>, v: &NewVersion<'_>) -> Result<i64> {
        let row = sqlx::query(
            "INSERT INTO models (owner, name, title, description, next_version, created_at, updated_at)
             VALUES ($1, $2, $3, $4, COALESCE(CAST($6 AS BIGINT), 1) + 1, $5, $5)
             ON CONFLICT (owner, name) DO UPDATE SET
                title = excluded.title, description = excluded.description,
                updated_at = excluded.updated_at,
                next_version = COALESCE(CAST($6 AS BIGINT), models.next_version) + 1
             RETURNING id, next_version - 1 AS number",
        )
        .bind(v.owner)
        .bind(v.name)
        .bind(v.title)
        .bind(v.description)
        .bind(v.now)
        .bind(v.number)
        .fetch_one(&mut **tx)
        .await?;
        let (model_id, number): (i64, i64) = (row.try_get("id")?, row.try_get("number")?);
        sqlx::query("DELETE FROM model_tags WHERE model_id = $1")
            .bind(model_id)
            .execute(&mut **tx)
            .await?;
        for tag in v.tags {
            sqlx::query("INSERT INTO model_tags (model_id, tag) VALUES ($1, $2)")
                .bind(model_id)
                .bind(tag)
                .execute(&mut **tx)
                .await?;
        }
        sqlx::query(
            "INSERT INTO versions (model_id, number, manifest, digest, bundle_size, bundle_files, published_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(model_id)
        .bind(number)
        .bind(v.manifest)
        .bind(v.digest)
        .bind(v.bundle_size)
        .bind(v.bundle_files)
        .bind(v.owner)
        .bind(v.now)
        .execute(&mut **tx)
        .await
        .map_err(|e| match e {
            // Only a number asked for can be taken already: the next one never was.
            sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(format!(
                "{}/{} already has version {number}",
                v.owner, v.name
            )),
            e => StoreError::Db(e),
        })?;
        sqlx::query(
            "INSERT INTO aliases (model_id, name, version) VALUES ($1, 'latest', $2)
             ON CONFLICT (model_id, name) DO UPDATE SET version = excluded.version",
        )
        .bind(model_id)
        .bind(number)
        .execute(&mut **tx)
        .await?;
        Ok(number)
    }

    pub(crate) async fn model_id(&self, owner: &str, name: &str) -> Result<i64> {
        sqlx::query_scalar("SELECT id FROM models WHERE owner = $1 AND name = $2")
            .bind(owner)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("model {owner}/{name}")))
    }

    /// Models from rows selected with [`MODEL_COLUMNS`]: their tags and aliases are read for
    /// all of them at once, so a page costs the same few queries however long it is.
    async fn models_from(&self, rows: &[DbRow]) -> Result<Vec<Model>> {
        let ids: Vec<i64> = rows
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<std::result::Result<_, _>>()?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = (1..=ids.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut tags: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        let sql =
            format!("SELECT model_id, tag FROM model_tags WHERE model_id IN ({list}) ORDER BY tag");
        let mut q = sqlx::query_as::<_, (i64, String)>(&sql);
        for id in &ids {
            q = q.bind(id);
        }
        for (id, tag) in q.fetch_all(&self.pool).await? {
            tags.entry(id).or_default().push(tag);
        }
        let mut aliases: BTreeMap<i64, BTreeMap<String, i64>> = BTreeMap::new();
        let sql = format!("SELECT model_id, name, version FROM aliases WHERE model_id IN ({list})");
        let mut q = sqlx::query_as::<_, (i64, String, i64)>(&sql);
        for id in &ids {
            q = q.bind(id);
        }
        for (id, alias, version) in q.fetch_all(&self.pool).await? {
            aliases.entry(id).or_default().insert(alias, version);
        }
        rows.iter()
            .zip(ids)
            .map(|(row, id)| {
                let aliases = aliases.remove(&id).unwrap_or_default();
                Ok(Model {
                    owner: row.try_get("owner")?,
                    name: row.try_get("name")?,
                    title: row.try_get("title")?,
                    description: row.try_get("description")?,
                    tags: tags.remove(&id).unwrap_or_default(),
                    visibility: Visibility::from_private(row.try_get("private")?),
                    latest_version: aliases.get("latest").copied(),
                    aliases,
                    versions: row.try_get("version_count")?,
                    runs: row.try_get("run_count")?,
                    created_at: row.try_get("created_at")?,
                    updated_at: row.try_get("updated_at")?,
                })
            })
            .collect()
    }
}

#[async_trait]
impl ModelRegistry for Engine {
    async fn add_version(&self, v: &NewVersion<'_>, visibility: Option<Visibility>) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        let number = Self::insert_version(&mut tx, v).await?;
        if let Some(vis) = visibility {
            sqlx::query("UPDATE models SET private = $3 WHERE owner = $1 AND name = $2")
                .bind(v.owner)
                .bind(v.name)
                .bind(vis.is_private())
                .execute(&mut *tx)
                .await?;
        }
        audit::write(
            &mut tx,
            Record {
                actor: v.owner,
                action: Action::Publish,
                owner: Some(v.owner),
                target: &format!("{}/{}@{number}", v.owner, v.name),
                details: serde_json::json!({ "digest": v.digest, "visibility": visibility }),
            },
        )
        .await?;
        let change = Change::Published {
            owner: v.owner.into(),
            name: v.name.into(),
            version: number,
        };
        self.announce(&mut tx, change).await?;
        tx.commit().await?;
        Ok(number)
    }

    async fn model(&self, owner: &str, name: &str) -> Result<Model> {
        let row = sqlx::query(&format!(
            "SELECT {MODEL_COLUMNS} FROM models m WHERE owner = $1 AND name = $2"
        ))
        .bind(owner)
        .bind(name)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("model {owner}/{name}")))?;
        Ok(self.models_from(&[row]).await?.remove(0))
    }

    async fn search(&self, q: &ModelQuery) -> Result<ModelPage> {
        let like =
            q.q.as_deref()
                .map(|s| format!("%{}%", s.to_lowercase().replace(['%', '_'], "")));
        let filter = "($1 IS NULL OR lower(m.owner || '/' || m.name || ' ' || m.title || ' ' || m.description) LIKE $1)
             AND ($2 IS NULL OR m.id IN (SELECT model_id FROM model_tags WHERE tag = $2))
             AND ($3 IS NULL OR m.owner = $3)
             AND ($4 OR NOT m.private OR m.owner = $5 OR m.id IN (
                 SELECT g.model_id FROM grants g JOIN users u ON u.id = g.user_id WHERE u.name = $5))";
        let total: i64 =
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM models m WHERE {filter}"))
                .bind(&like)
                .bind(&q.tag)
                .bind(&q.owner)
                .bind(q.viewer.admin)
                .bind(&q.viewer.user)
                .fetch_one(&self.pool)
                .await?;
        let rows = sqlx::query(&format!(
            "SELECT {MODEL_COLUMNS} FROM models m WHERE {filter} ORDER BY m.updated_at DESC, m.id DESC LIMIT $6 OFFSET $7"
        ))
        .bind(&like)
        .bind(&q.tag)
        .bind(&q.owner)
        .bind(q.viewer.admin)
        .bind(&q.viewer.user)
        .bind(i64::from(q.per_page))
        .bind(i64::from(q.page.saturating_sub(1)) * i64::from(q.per_page))
        .fetch_all(&self.pool)
        .await?;
        Ok(ModelPage {
            models: self.models_from(&rows).await?,
            page: q.page,
            per_page: q.per_page,
            total,
        })
    }

    async fn versions(&self, owner: &str, name: &str) -> Result<Vec<Version>> {
        let id = self.model_id(owner, name).await?;
        let rows = sqlx::query("SELECT * FROM versions WHERE model_id = $1 ORDER BY number DESC")
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(version_from).collect()
    }

    async fn version(&self, owner: &str, name: &str, reference: &str) -> Result<VersionDetail> {
        let id = self.model_id(owner, name).await?;
        let number: i64 =
            match reference.parse() {
                Ok(n) => n,
                Err(_) => sqlx::query_scalar(
                    "SELECT version FROM aliases WHERE model_id = $1 AND name = $2",
                )
                .bind(id)
                .bind(reference)
                .fetch_optional(&self.pool)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("alias {owner}/{name}@{reference}")))?,
            };
        let row = sqlx::query("SELECT * FROM versions WHERE model_id = $1 AND number = $2")
            .bind(id)
            .bind(number)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("version {owner}/{name}@{number}")))?;
        let manifest: String = row.try_get("manifest")?;
        Ok(VersionDetail {
            owner: owner.to_owned(),
            name: name.to_owned(),
            version: version_from(&row)?,
            manifest: serde_json::from_str(&manifest)
                .map_err(|e| StoreError::BadRequest(e.to_string()))?,
        })
    }

    async fn delete_version(
        &self,
        actor: &str,
        owner: &str,
        name: &str,
        number: i64,
    ) -> Result<String> {
        let id = self.model_id(owner, name).await?;
        let mut tx = self.pool.begin().await?;
        let digest: String = sqlx::query_scalar(
            "DELETE FROM versions WHERE model_id = $1 AND number = $2 RETURNING digest",
        )
        .bind(id)
        .bind(number)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("version {owner}/{name}@{number}")))?;
        sqlx::query("DELETE FROM aliases WHERE model_id = $1 AND version = $2")
            .bind(id)
            .bind(number)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO aliases (model_id, name, version)
             SELECT model_id, 'latest', MAX(number) FROM versions WHERE model_id = $1 GROUP BY model_id
             ON CONFLICT (model_id, name) DO UPDATE SET version = excluded.version",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        audit::write(
            &mut tx,
            Record {
                actor,
                action: Action::DeleteVersion,
                owner: Some(owner),
                target: &format!("{owner}/{name}@{number}"),
                details: serde_json::json!({ "digest": digest }),
            },
        )
        .await?;
        let change = Change::VersionDeleted {
            owner: owner.into(),
            name: name.into(),
            version: number,
        };
        self.announce(&mut tx, change).await?;
        tx.commit().await?;
        Ok(digest)
    }

    async fn delete_model(&self, actor: &str, owner: &str, name: &str) -> Result<Vec<String>> {
        let id = self.model_id(owner, name).await?;
        let mut tx = self.pool.begin().await?;
        let digests =
            sqlx::query_scalar("SELECT DISTINCT digest FROM versions WHERE model_id = $1")
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
        sqlx::query("DELETE FROM models WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        audit::write(
            &mut tx,
            Record {
                actor,
                action: Action::DeleteModel,
                owner: Some(owner),
                target: &format!("{owner}/{name}"),
                details: serde_json::json!({ "versions": digests.len() }),
            },
        )
        .await?;
        let change = Change::ModelDeleted {
            owner: owner.into(),
            name: name.into(),
        };
        self.announce(&mut tx, change).await?;
        tx.commit().await?;
        Ok(digests)
    }

    async fn owner_has_digest(&self, owner: &str, digest: &str) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM versions v JOIN models m ON m.id = v.model_id
             WHERE m.owner = $1 AND v.digest = $2",
        )
        .bind(owner)
        .bind(digest)
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }

    async fn digest_in_use(&self, digest: &str) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(DIGEST_USES)
            .bind(digest)
            .fetch_one(&self.pool)
            .await?;
        Ok(n > 0)
    }
}

/// How many records name a blob: versions, files and run state.
pub(super) const DIGEST_USES: &str = "SELECT (SELECT COUNT(*) FROM versions WHERE digest = $1)
      + (SELECT COUNT(*) FROM files WHERE digest = $1)
      + (SELECT COUNT(*) FROM run_steps WHERE state_digest = $1)";
