//! Persistence for feather: the registry (models, versions, aliases, users, tokens) in SQL, and
//! the blob store (bundles) in any `object_store` backend.
//!
//! It owns the invariants that span both: a publish is atomic (the registry shows the whole new
//! version or nothing), bundles are stored once by SHA-256 and shared across versions and models,
//! and blobs that no version uses are collected. It does not know HTTP; the server maps
//! [`StoreError`] to statuses.
//!
//! - [`registry`]: records and their SQL; [`runs`]: runs and their steps; [`files`]: files
//!   and how long each is kept.
//! - [`accounts`]: users, roles and scoped tokens; [`sharing`]: visibility, grants, aliases;
//!   [`audit`]: the log of changes, written in the transaction of each change.
//! - [`blobs`]: content-addressed blobs.
//! - [`bundle`]: checks an uploaded bundle before anything is kept.
//! - [`publish`]: the publish, delete and garbage-collection flows.

pub mod accounts;
pub mod audit;
pub mod blobs;
pub mod bundle;
pub mod error;
pub mod files;
pub mod publish;
pub mod registry;
pub mod runs;
pub mod sharing;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

pub use accounts::{NewToken, Principal, Role, Scope, TokenInfo, UserInfo};
pub use audit::{Action, AuditEntry, AuditPage, AuditQuery};
pub use blobs::Blobs;
pub use bundle::BundleLimits;
pub use error::{Result, StoreError};
pub use files::{Expired, Keep, StoredFile};
pub use publish::{Published, Upload};
pub use registry::{Model, ModelPage, ModelQuery, Registry, Version, VersionDetail};
pub use runs::{RunRecord, StepRecord, new_id};
pub use sharing::{Grant, Viewer, Visibility};

/// The registry and the blobs of one data folder.
#[derive(Clone, Debug)]
pub struct Store {
    pub registry: Registry,
    pub blobs: Blobs,
    pub limits: BundleLimits,
    data: PathBuf,
    tmp: PathBuf,
}

/// The current time as RFC 3339, as the registry records it.
pub fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .expect("UTC time formats")
}

impl Store {
    /// Opens (creating if needed) the store of a data folder: `feather.db`, `blobs/`, `tmp/`.
    pub async fn open(data: &Path, limits: BundleLimits) -> Result<Self> {
        std::fs::create_dir_all(data)?;
        let tmp = data.join("tmp");
        std::fs::create_dir_all(&tmp)?;
        let url = format!("sqlite://{}", data.join("feather.db").display());
        let options = SqliteConnectOptions::from_str(&url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Self {
            registry: Registry { pool },
            blobs: Blobs::local(&data.join("blobs"))?,
            limits,
            data: data.to_path_buf(),
            tmp,
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
        self.registry.pool.close().await;
    }
}
