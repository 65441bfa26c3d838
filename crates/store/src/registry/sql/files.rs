//! Files and their lifetimes in SQL.

use async_trait::async_trait;
use sqlx::Row;

use super::Engine;
use crate::accounts::rfc3339;
use crate::error::{Result, StoreError};
use crate::files::*;

#[async_trait]
impl FileRegistry for Engine {
    async fn insert_file(
        &self,
        f: &StoredFile,
        keep: Keep<'_>,
        uploader: Option<&str>,
        now: &str,
    ) -> Result<()> {
        let (run, expires) = match keep {
            Keep::Run(r) => (Some(r), None),
            Keep::Until(t) => (None, Some(rfc3339(t))),
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
        .bind(crate::now())
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("file {id}")))?;
        Ok(StoredFile {
            id: row.try_get("id")?,
            digest: row.try_get("digest")?,
            name: row.try_get("name")?,
            media_type: row.try_get("media_type")?,
            size: row.try_get("size")?,
            expires_at: row.try_get("expires_at")?,
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
        sqlx::query("UPDATE files SET expires_at = $2 WHERE id = $1")
            .bind(id)
            .bind(rfc3339(0))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn stored_bytes(&self, uploader: &str) -> Result<u64> {
        let n: Option<i64> = sqlx::query_scalar(
            "SELECT CAST(SUM(size) AS BIGINT) FROM files WHERE uploader = $1 AND (expires_at IS NULL OR expires_at > $2)",
        )
        .bind(uploader)
        .bind(crate::now())
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
        .bind(crate::now())
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

    async fn take_lease(&self, name: &str, holder: &str, until: i64) -> Result<bool> {
        let taken = sqlx::query(
            "INSERT INTO leases (name, holder, until) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until
             WHERE leases.holder = excluded.holder OR leases.until < $4",
        )
        .bind(name)
        .bind(holder)
        .bind(rfc3339(until))
        .bind(crate::now())
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(taken == 1)
    }
}
