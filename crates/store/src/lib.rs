//! Persistence for feather: the registry (models, versions, aliases, users, tokens) in SQL, and
//! the blob store (bundles) in any `object_store` backend.
//!
//! It owns the invariants that span both: a publish is atomic (the registry shows the whole new
//! version or nothing), bundles are stored once by SHA-256 and shared across versions and models,
//! and blobs that no version uses are collected. It does not know HTTP; the server maps
//! [`StoreError`] to statuses.
//!
//! - [`registry`]: the traits every record is kept behind, one per concern, and their SQLite
//!   implementation; [`models`]: models and versions; [`runs`]: runs and their steps;
//!   [`files`]: files and how long each is kept.
//! - [`accounts`]: users, roles and scoped tokens; [`sharing`]: visibility, grants, aliases;
//!   [`audit`]: the log of changes, written in the transaction of each change.
//! - [`changes`]: what servers sharing a registry tell each other.
//! - [`blobs`]: content-addressed blobs.
//! - [`bundle`]: checks an uploaded bundle before anything is kept.
//! - [`publish`]: the publish, delete and garbage-collection flows.

pub mod accounts;
pub mod audit;
pub mod blobs;
pub mod bundle;
pub mod changes;
pub mod claims;
pub mod error;
pub mod files;
pub mod models;
pub mod publish;
pub mod registry;
pub mod runs;
pub mod sharing;

use std::path::Path;
use std::sync::Arc;

pub use accounts::{NewToken, Principal, Role, Scope, TokenInfo, UserInfo};
pub use audit::{Action, AuditEntry, AuditPage, AuditQuery};
pub use blobs::{BlobPlace, Blobs};
pub use bundle::BundleLimits;
pub use changes::{Change, Heard};
pub use error::{Result, StoreError};
pub use files::{Expired, Keep, StoredFile};
pub use models::{Model, ModelPage, ModelQuery, Version, VersionDetail};
pub use publish::{Published, Upload};
pub use registry::{Database, PostgresRegistry, Registry, SqliteRegistry};
pub use runs::{RunRecord, RunStatus, StepRecord, new_id};
pub use sharing::{Grant, Viewer, Visibility};

/// Where a store keeps its records and its bytes; by default both in the data folder.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Places {
    pub database: Database,
    pub blobs: BlobPlace,
}

impl Places {
    /// Where they are, for logs: never a password.
    pub fn describe(&self) -> String {
        format!(
            "registry: {}; blobs: {}",
            self.database.describe(),
            self.blobs.describe()
        )
    }
}

/// The registry and the blobs of one data folder.
#[derive(Clone, Debug)]
pub struct Store {
    pub registry: Arc<dyn Registry>,
    pub blobs: Blobs,
    pub limits: BundleLimits,
    // Shared: a store is cloned with every request's state.
    data: Arc<Path>,
    tmp: Arc<Path>,
}

/// The current time as the registry records every time: RFC 3339 in UTC with six decimals,
/// always as long, so that times compare as text in SQL on every engine.
pub fn now() -> String {
    format_time(time::OffsetDateTime::now_utc())
}

/// A time as the registry records it (see [`now`]).
pub fn format_time(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

/// Unix seconds of a time the registry recorded.
pub fn unix_of(text: &str) -> Option<i64> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

impl Store {
    /// Opens (creating if needed) the store of a data folder (`tmp/`, and by default `blobs/`
    /// and `feather.db`), its registry and its blobs where `places` says.
    pub async fn open(data: &Path, places: &Places, limits: BundleLimits) -> Result<Self> {
        std::fs::create_dir_all(data)?;
        let tmp = data.join("tmp");
        std::fs::create_dir_all(&tmp)?;
        Ok(Self {
            registry: places.database.open(data).await?,
            blobs: {
                let blobs = Blobs::open(&places.blobs, data)?;
                blobs.check().await.map_err(|e| {
                    StoreError::Unavailable(format!(
                        "the blobs at {}: {e}",
                        places.blobs.describe()
                    ))
                })?;
                blobs
            },
            limits,
            data: Arc::from(data),
            tmp: Arc::from(tmp),
        })
    }

    /// The data folder.
    pub fn data(&self) -> &Path {
        &self.data
    }

    /// Empties the folder of uploads in progress: at start no upload can be in progress.
    pub fn clear_tmp(&self) -> Result<usize> {
        let mut n = 0;
        for e in std::fs::read_dir(&self.tmp)?.flatten() {
            let p = e.path();
            if p.is_dir() {
                std::fs::remove_dir_all(&p)?
            } else {
                std::fs::remove_file(&p)?
            }
            n += 1;
        }
        Ok(n)
    }

    /// Copies a blob into a temporary file (removed when dropped).
    pub async fn download(&self, digest: &str) -> Result<tempfile::NamedTempFile> {
        use futures::StreamExt;
        use tokio::io::AsyncWriteExt;
        let file = tempfile::NamedTempFile::new_in(&self.tmp)?;
        let mut out = tokio::fs::File::from_std(file.reopen()?);
        let (_, mut stream) = self.blobs.get(digest).await?;
        while let Some(chunk) = stream.next().await {
            out.write_all(&chunk?).await?;
        }
        out.flush().await?;
        Ok(file)
    }

    /// Closes the database connections.
    pub async fn close(&self) {
        self.registry.close().await;
    }
}
