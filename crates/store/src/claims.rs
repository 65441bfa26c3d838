//! Claims on blobs: how a write that stores bytes, or finds them stored already and relies on
//! them, keeps a collector from removing them before the registry names them.
//!
//! A write claims the digest, stores (or reuses) the blob, records what names it, and lets
//! the claim go. A collector decides and removes holding the blob's claim row, and only when
//! nothing names the blob and no write claims it: a write claiming meanwhile waits for the
//! collector, then finds the blob gone and stores it again. A write that died leaves its claim
//! behind, which counts until it is older than a write may take.

use std::time::Duration;

use async_trait::async_trait;
use futures::future::BoxFuture;

use crate::Store;
use crate::accounts::{rfc3339, unix_now};
use crate::error::{Result, StoreError};

/// The claims on blobs.
#[async_trait]
pub trait BlobRegistry: Send + Sync {
    /// Counts a write of the blob until [`BlobRegistry::release_blob`]; waits while a
    /// collector is deciding on it.
    async fn claim_blob(&self, digest: &str, now: &str) -> Result<()>;

    /// A write has recorded what names the blob, or given up.
    async fn release_blob(&self, digest: &str) -> Result<()>;

    /// Runs `remove` (which removes the blob) if nothing names the blob and no write claimed
    /// it since `counted_since` (RFC 3339) without letting go, holding the blob's row from the
    /// decision to the end of the removal. Whether it ran.
    async fn drop_blob(
        &self,
        digest: &str,
        counted_since: &str,
        remove: BoxFuture<'_, Result<()>>,
    ) -> Result<bool>;
}

impl Store {
    /// Runs `write`, which stores the blob `digest` (or relies on it being stored) and records
    /// what names it, with the blob claimed throughout.
    pub async fn claimed<T, E: From<StoreError>>(
        &self,
        digest: &str,
        write: impl Future<Output = std::result::Result<T, E>>,
    ) -> std::result::Result<T, E> {
        self.registry.claim_blob(digest, &crate::now()).await?;
        let out = write.await;
        // A claim not let go (the database unreachable now) only delays collecting the blob.
        if let Err(e) = self.registry.release_blob(digest).await {
            tracing::warn!(digest, error = %e, "letting go of a claim on a blob failed");
        }
        out
    }

    /// Removes the blob if nothing names it and no write claims it; claims older than `lapse`
    /// are of writes that died. Whether it went.
    pub(crate) async fn drop_blob(&self, digest: &str, lapse: Duration) -> Result<bool> {
        let counted_since = rfc3339(unix_now() - lapse.as_secs() as i64);
        self.registry
            .drop_blob(digest, &counted_since, Box::pin(self.blobs.delete(digest)))
            .await
    }
}
