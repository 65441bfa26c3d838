//! Files: uploads, step inputs and outputs. Their bytes are blobs; these rows say who keeps
//! them and for how long. A file of a run lives as long as its run; uploads and the files of
//! one-call predictions expire unless a run takes them first, and pending uploads count
//! against their uploader's quota. [`Store::collect_expired`] removes what expired and runs
//! past their retention, and then the blobs nothing names any more.

use async_trait::async_trait;
use std::time::Duration;

use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use crate::Store;
use crate::accounts::{rfc3339, unix_now};
use crate::error::{Result, StoreError};
use crate::registry::SqliteRegistry;

/// A stored file: an upload or a step's output.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StoredFile {
    pub id: String,
    #[serde(skip)]
    pub digest: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub media_type: String,
    pub size: i64,
    /// When it is deleted (RFC 3339) unless a run uses it first; none: it lives as long as
    /// its run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

/// Who keeps a file, and for how long.
#[derive(Debug, Clone, Copy)]
pub enum Keep<'a> {
    /// Part of this run: kept as long as the run.
    Run(&'a str),
    /// Until this Unix time, unless a run takes it first.
    Until(i64),
}

/// What a collection removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Expired {
    pub files: usize,
    pub runs: usize,
    pub blobs: usize,
}

/// How many rows one pass of the collector deletes at most, so it never holds the database
/// for long.
const BATCH: i64 = 500;

/// Blobs younger than this are left by a collection by default: a request may be storing the
/// same bytes.
pub const FRESH: Duration = Duration::from_secs(600);

/// Files and how long each is kept.
#[async_trait]
pub trait FileRegistry: Send + Sync {
    /// Records a stored file; `uploader` is counted against its quota while the file waits for
    /// a run.
    async fn insert_file(
        &self,
        f: &StoredFile,
        keep: Keep<'_>,
        uploader: Option<&str>,
        now: &str,
    ) -> Result<()>;

    /// A file by id; one past its expiry is gone, collected or not.
    async fn file(&self, id: &str) -> Result<StoredFile>;

    /// A file a run uses becomes the run's: it no longer expires on its own, and counts
    /// against its uploader's quota until the run goes. Files another run already took stay
    /// that run's.
    async fn attach_file(&self, id: &str, run: &str) -> Result<()>;

    /// Forgets a file at once (an upload refused after it was stored); its blob goes with the
    /// next collection.
    async fn forget_file(&self, id: &str) -> Result<()>;

    /// Bytes of the files an uploader stored that are still kept: uploads, and the files sent
    /// with runs and predictions.
    async fn stored_bytes(&self, uploader: &str) -> Result<u64>;

    /// Deletes a batch of expired files; their digests.
    async fn delete_expired_files(&self) -> Result<Vec<String>>;

    /// Deletes a batch of runs last changed before `cutoff` (RFC 3339), with their steps and
    /// files, in one transaction; how many runs, and the digests they named.
    async fn delete_old_runs(&self, cutoff: &str) -> Result<(usize, Vec<String>)>;
}

#[async_trait]
impl FileRegistry for SqliteRegistry {
    async fn insert_file(
        &self,
        f: &StoredFile,
        keep: Keep<'_>,
        uploader: Option<&str>,
        now: &str,
    ) -> Result<()> {
        let (run, expires) = match keep {
            Keep::Run(r) => (Some(r), None),
            Keep::Until(t) => (None, Some(t)),
        };
        sqlx::query(
            "INSERT INTO files (id, digest, name, media_type, size, created_at, run_id, uploader, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&f.id)
        .bind(&f.digest)
        .bind(&f.name)
        .bind(&f.media_type)
        .bind(f.size)
        .bind(now)
        .bind(run)
        .bind(uploader)
        .bind(expires)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn file(&self, id: &str) -> Result<StoredFile> {
        let row = sqlx::query(
            "SELECT * FROM files WHERE id = $1 AND (expires_at IS NULL OR expires_at > $2)",
        )
        .bind(id)
        .bind(unix_now())
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("file {id}")))?;
        Ok(StoredFile {
            id: row.try_get("id")?,
            digest: row.try_get("digest")?,
            name: row.try_get("name")?,
            media_type: row.try_get("media_type")?,
            size: row.try_get("size")?,
            expires_at: row.try_get::<Option<i64>, _>("expires_at")?.map(rfc3339),
        })
    }

    async fn attach_file(&self, id: &str, run: &str) -> Result<()> {
        sqlx::query(
            "UPDATE files SET run_id = $2, expires_at = NULL WHERE id = $1 AND run_id IS NULL AND expires_at IS NOT NULL",
        )
        .bind(id)
        .bind(run)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn forget_file(&self, id: &str) -> Result<()> {
        sqlx::query("UPDATE files SET expires_at = 0 WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn stored_bytes(&self, uploader: &str) -> Result<u64> {
        let n: Option<i64> = sqlx::query_scalar(
            "SELECT SUM(size) FROM files WHERE uploader = $1 AND (expires_at IS NULL OR expires_at > $2)",
        )
        .bind(uploader)
        .bind(unix_now())
        .fetch_one(&self.pool)
        .await?;
        Ok(n.unwrap_or(0).max(0) as u64)
    }

    async fn delete_expired_files(&self) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "DELETE FROM files WHERE id IN (
                 SELECT id FROM files WHERE expires_at IS NOT NULL AND expires_at <= $1 LIMIT $2)
             RETURNING digest",
        )
        .bind(unix_now())
        .bind(BATCH)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn delete_old_runs(&self, cutoff: &str) -> Result<(usize, Vec<String>)> {
        let mut tx = self.pool.begin().await?;
        let ids: Vec<String> =
            // A run whose step is running is in use, however old its last change.
            sqlx::query_scalar(
                "SELECT id FROM runs WHERE updated_at < $1 AND status <> 'running' LIMIT $2",
            )
                .bind(cutoff)
                .bind(BATCH)
                .fetch_all(&mut *tx)
                .await?;
        let mut digests = Vec::new();
        for id in &ids {
            let states: Vec<Option<String>> =
                sqlx::query_scalar("SELECT state_digest FROM run_steps WHERE run_id = $1")
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await?;
            digests.extend(states.into_iter().flatten());
            let files: Vec<String> =
                sqlx::query_scalar("DELETE FROM files WHERE run_id = $1 RETURNING digest")
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await?;
            digests.extend(files);
            sqlx::query("DELETE FROM runs WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok((ids.len(), digests))
    }
}

impl Store {
    /// Removes files past their expiry and, with `retention`, runs last changed longer ago
    /// than that (their steps, state and files), then the blobs that nothing names any more.
    /// Blobs younger than `fresh` are left for [`Store::collect_orphans`].
    pub async fn collect_expired(
        &self,
        retention: Option<Duration>,
        fresh: Duration,
    ) -> Result<Expired> {
        let mut out = Expired::default();
        let mut digests = Vec::new();
        loop {
            let batch = self.registry.delete_expired_files().await?;
            out.files += batch.len();
            let done = (batch.len() as i64) < BATCH;
            digests.extend(batch);
            if done {
                break;
            }
        }
        if let Some(keep) = retention {
            let cutoff = rfc3339(unix_now() - keep.as_secs() as i64);
            loop {
                let (runs, batch) = self.registry.delete_old_runs(&cutoff).await?;
                out.runs += runs;
                digests.extend(batch);
                if (runs as i64) < BATCH {
                    break;
                }
            }
        }
        digests.sort();
        digests.dedup();
        for d in digests {
            // A blob written or reused lately may belong to a request storing it right now:
            // left for the hourly sweep of orphans, which only takes old ones.
            let fresh = self
                .blobs
                .age(&d)
                .await?
                .is_some_and(|age| age < fresh.as_secs());
            if !fresh && !self.registry.digest_in_use(&d).await? {
                self.blobs.delete(&d).await?;
                out.blobs += 1;
            }
        }
        if out != Expired::default() {
            tracing::info!(
                files = out.files,
                runs = out.runs,
                blobs = out.blobs,
                "collected expired files and runs"
            );
        }
        Ok(out)
    }
}
