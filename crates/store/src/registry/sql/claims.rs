//! Claims on blobs in SQL.

use async_trait::async_trait;
use futures::future::BoxFuture;

use super::Engine;
use super::models::DIGEST_USES;
use crate::claims::BlobRegistry;
use crate::error::Result;

#[async_trait]
impl BlobRegistry for Engine {
    async fn claim_blob(&self, digest: &str, now: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO blob_claims (digest, writers, claimed_at) VALUES ($1, 1, $2)
             ON CONFLICT (digest) DO UPDATE
             SET writers = blob_claims.writers + 1, claimed_at = excluded.claimed_at",
        )
        .bind(digest)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn release_blob(&self, digest: &str) -> Result<()> {
        sqlx::query(
            "UPDATE blob_claims SET writers = writers - 1 WHERE digest = $1 AND writers > 0",
        )
        .bind(digest)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn drop_blob(
        &self,
        digest: &str,
        counted_since: &str,
        remove: BoxFuture<'_, Result<()>>,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        // A write first, so that the row (made if the blob has none yet) is this
        // transaction's until it ends: PostgreSQL locks it, SQLite takes its one writer's turn.
        let (writers, claimed_at): (i64, String) = sqlx::query_as(
            "INSERT INTO blob_claims (digest, writers, claimed_at) VALUES ($1, 0, '')
             ON CONFLICT (digest) DO UPDATE SET writers = blob_claims.writers
             RETURNING writers, claimed_at",
        )
        .bind(digest)
        .fetch_one(&mut *tx)
        .await?;
        if writers > 0 && claimed_at.as_str() >= counted_since {
            return Ok(false);
        }
        let uses: i64 = sqlx::query_scalar(DIGEST_USES)
            .bind(digest)
            .fetch_one(&mut *tx)
            .await?;
        if uses > 0 {
            return Ok(false);
        }
        remove.await?;
        sqlx::query("DELETE FROM blob_claims WHERE digest = $1")
            .bind(digest)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }
}
