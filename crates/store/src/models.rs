//! Models and their versions: the records, the [`ModelRegistry`] they are kept behind, and its
//! SQL. Queries are plain SQL with numbered parameters.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::Serialize;
use serde_json::Value;
use sqlx::{Row, Sqlite, Transaction};
use utoipa::ToSchema;

use crate::audit::{Action, Record};
use crate::error::{Result, StoreError};
use crate::registry::SqliteRegistry;
use crate::sharing::{Viewer, Visibility};

/// A model: `owner/name` and what its newest version says of itself.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Model {
    pub owner: String,
    pub name: String,
    pub title: String,
    /// Markdown, from the newest version's manifest.
    pub description: String,
    pub tags: Vec<String>,
    pub visibility: Visibility,
    /// The version `latest` points at; none once every version is deleted.
    pub latest_version: Option<i64>,
    /// Alias name to version number.
    pub aliases: BTreeMap<String, i64>,
    pub versions: i64,
    /// Runs started, by the API or the portal (one-call predictions are not runs).
    pub runs: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// A model's row with its counts, for [`Registry::models_from`].
const MODEL_COLUMNS: &str = "m.*,
    (SELECT COUNT(*) FROM versions v WHERE v.model_id = m.id) AS version_count,
    (SELECT COUNT(*) FROM runs r WHERE r.owner = m.owner AND r.name = m.name) AS run_count";

/// One immutable version.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Version {
    pub version: i64,
    /// `sha256:<hex>` of the bundle archive.
    pub digest: String,
    /// Compressed bundle size in bytes.
    pub bundle_size: i64,
    pub bundle_files: i64,
    pub published_by: String,
    pub created_at: String,
}

/// A version with its whole manifest (provenance included).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VersionDetail {
    pub owner: String,
    pub name: String,
    #[serde(flatten)]
    pub version: Version,
    #[schema(value_type = feather_spec::Manifest)]
    pub manifest: Value,
}

/// A page of search results.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ModelPage {
    pub models: Vec<Model>,
    pub page: u32,
    pub per_page: u32,
    pub total: i64,
}

/// What a search asks for.
#[derive(Debug, Clone, Default)]
pub struct ModelQuery {
    /// Words matched against owner, name, title and description.
    pub q: Option<String>,
    pub tag: Option<String>,
    pub owner: Option<String>,
    /// From 1.
    pub page: u32,
    pub per_page: u32,
    /// Private models are listed only to those who may see them.
    pub viewer: Viewer,
}

/// The columns a new version row needs.
pub struct NewVersion<'a> {
    pub owner: &'a str,
    pub name: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    pub tags: &'a [String],
    pub manifest: &'a str,
    pub digest: &'a str,
    pub bundle_size: i64,
    pub bundle_files: i64,
    pub now: &'a str,
}

fn version_from(row: &sqlx::sqlite::SqliteRow) -> Result<Version> {
    Ok(Version {
        version: row.try_get("number")?,
        digest: row.try_get("digest")?,
        bundle_size: row.try_get("bundle_size")?,
        bundle_files: row.try_get("bundle_files")?,
        published_by: row.try_get("published_by")?,
        created_at: row.try_get("created_at")?,
    })
}

impl SqliteRegistry {
    /// Inserts the next version of `owner/name` (creating the model) and points `latest` at it.
    /// Returns the new version number. Runs inside the caller's transaction.
    async fn insert_version(tx: &mut Transaction<'_, Sqlite>, v: &NewVersion<'_>) -> Result<i64> {
        let row = sqlx::query(
            "INSERT INTO models (owner, name, title, description, next_version, created_at, updated_at)
             VALUES ($1, $2, $3, $4, 2, $5, $5)
             ON CONFLICT (owner, name) DO UPDATE SET
                title = excluded.title, description = excluded.description,
                updated_at = excluded.updated_at, next_version = models.next_version + 1
             RETURNING id, next_version - 1 AS number",
        )
        .bind(v.owner)
        .bind(v.name)
        .bind(v.title)
        .bind(v.description)
        .bind(v.now)
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
        .await?;
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
    async fn models_from(&self, rows: &[sqlx::sqlite::SqliteRow]) -> Result<Vec<Model>> {
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
                    visibility: Visibility::from_flag(row.try_get("private")?),
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

/// Models and their versions.
#[async_trait]
pub trait ModelRegistry: Send + Sync {
    /// Records the next version of `owner/name` (creating the model, public unless
    /// `visibility` says otherwise; an existing one keeps its own unless it is given), points
    /// `latest` at it and writes the audit row, all or nothing. Returns the new number.
    async fn add_version(&self, v: &NewVersion<'_>, visibility: Option<Visibility>) -> Result<i64>;

    async fn model(&self, owner: &str, name: &str) -> Result<Model>;

    /// Models matching a query, newest first.
    async fn search(&self, q: &ModelQuery) -> Result<ModelPage>;

    async fn versions(&self, owner: &str, name: &str) -> Result<Vec<Version>>;

    /// A version by number, or by alias when `reference` is not a number.
    async fn version(&self, owner: &str, name: &str, reference: &str) -> Result<VersionDetail>;

    /// Deletes one version; `latest` moves to the newest remaining one. Returns its digest.
    async fn delete_version(
        &self,
        actor: &str,
        owner: &str,
        name: &str,
        number: i64,
    ) -> Result<String>;

    /// Deletes a model and all its versions. Returns the digests its versions used.
    async fn delete_model(&self, actor: &str, owner: &str, name: &str) -> Result<Vec<String>>;

    /// Whether one of `owner`'s versions has this bundle.
    async fn owner_has_digest(&self, owner: &str, digest: &str) -> Result<bool>;

    /// Whether any version, file or run state still uses the blob.
    async fn digest_in_use(&self, digest: &str) -> Result<bool>;
}

#[async_trait]
impl ModelRegistry for SqliteRegistry {
    async fn add_version(&self, v: &NewVersion<'_>, visibility: Option<Visibility>) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        let number = Self::insert_version(&mut tx, v).await?;
        if let Some(vis) = visibility {
            sqlx::query("UPDATE models SET private = $3 WHERE owner = $1 AND name = $2")
                .bind(v.owner)
                .bind(v.name)
                .bind(vis.flag())
                .execute(&mut *tx)
                .await?;
        }
        Record {
            actor: v.owner,
            action: Action::Publish,
            owner: Some(v.owner),
            target: &format!("{}/{}@{number}", v.owner, v.name),
            details: serde_json::json!({ "digest": v.digest, "visibility": visibility }),
        }
        .write(&mut tx)
        .await?;
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
             AND ($4 = 1 OR m.private = 0 OR m.owner = $5 OR m.id IN (
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
        Record {
            actor,
            action: Action::DeleteVersion,
            owner: Some(owner),
            target: &format!("{owner}/{name}@{number}"),
            details: serde_json::json!({ "digest": digest }),
        }
        .write(&mut tx)
        .await?;
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
        Record {
            actor,
            action: Action::DeleteModel,
            owner: Some(owner),
            target: &format!("{owner}/{name}"),
            details: serde_json::json!({ "versions": digests.len() }),
        }
        .write(&mut tx)
        .await?;
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
        let n: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM versions WHERE digest = $1)
                  + (SELECT COUNT(*) FROM files WHERE digest = $1)
                  + (SELECT COUNT(*) FROM run_steps WHERE state_digest = $1)",
        )
        .bind(digest)
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }
}
