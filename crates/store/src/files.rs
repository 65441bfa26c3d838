//! Files: uploads, step inputs and outputs. Their bytes are blobs; these rows say who keeps
//! them and for how long. A file of a run lives as long as its run; uploads and the files of
//! one-call predictions expire unless a run takes them first, and pending uploads count
//! against their uploader's quota. [`Store::collect_expired`] removes what expired and runs
//! past their retention, and then the blobs nothing names any more.

use async_trait::async_trait;
use std::time::Duration;

use serde::Serialize;
use utoipa::ToSchema;

use crate::Store;
use crate::accounts::{rfc3339, unix_now};
use crate::error::Result;

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
pub(crate) const BATCH: i64 = 500;

/// How long a write may take between claiming a blob and recording what names it: an older
/// claim is of a write that died, and no longer keeps the blob from a collector.
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

    /// Takes or renews the lease `name` for `holder` until `until` (Unix seconds), if it is
    /// free, lapsed or the holder's already: a compare-and-set in the database, so that of the
    /// replicas sharing it one at a time does the work the lease names (collecting). Whether
    /// `holder` has it.
    async fn take_lease(&self, name: &str, holder: &str, until: i64) -> Result<bool>;
}

/// This process, as a holder of leases.
static HOLDER: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| crate::new_id("p_"));

impl Store {
    /// Whether this process may collect for the next `period`: it holds the collector's lease.
    /// Replicas sharing a registry collect one at a time, so no two delete under each other.
    pub async fn may_collect(&self, period: Duration) -> Result<bool> {
        let until = unix_now() + period.as_secs().max(1) as i64;
        self.registry.take_lease("collector", &HOLDER, until).await
    }

    /// Removes files past their expiry and, with `retention`, runs last changed longer ago
    /// than that (their steps, state and files), then the blobs that nothing names any more.
    /// Claims on blobs older than `fresh` are of writes that died.
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
            if self.drop_blob(&d, fresh).await? {
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
