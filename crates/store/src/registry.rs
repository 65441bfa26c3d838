//! The registry: every record feather keeps, behind one trait per concern, so that another
//! database only has to implement them (and pass the conformance suite, `tests/registry.rs`).
//!
//! - [`ModelRegistry`]: models and their versions.
//! - [`SharingRegistry`]: visibility, grants and aliases.
//! - [`RunRegistry`]: runs, their steps and the claims on them.
//! - [`FileRegistry`]: files and how long each is kept.
//! - [`AccountRegistry`]: users, roles and tokens.
//! - [`AuditLog`]: the log of changes.
//!
//! Each change and its audit row are written in one transaction of the implementation.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use crate::accounts::AccountRegistry;
pub use crate::audit::AuditLog;
pub use crate::files::FileRegistry;
pub use crate::models::{ModelRegistry, NewVersion};
pub use crate::runs::RunRegistry;
pub use crate::sharing::SharingRegistry;

use crate::error::Result;

/// All of the registry's concerns, as one store holds them.
#[async_trait]
pub trait Registry:
    ModelRegistry
    + SharingRegistry
    + RunRegistry
    + FileRegistry
    + AccountRegistry
    + AuditLog
    + std::fmt::Debug
{
    /// Closes its connections; the last call on it.
    async fn close(&self);
}

/// The registry in one SQLite file (WAL, foreign keys on), migrated when opened.
#[derive(Clone, Debug)]
pub struct SqliteRegistry {
    pub(crate) pool: SqlitePool,
}

impl SqliteRegistry {
    pub async fn open(file: &Path) -> Result<Self> {
        let url = format!("sqlite://{}", file.display());
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
        Ok(Self { pool })
    }
}

#[async_trait]
impl Registry for SqliteRegistry {
    async fn close(&self) {
        self.pool.close().await;
    }
}
