//! The registry in one SQLite file: the laptop's and the single server's database.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::Registry;
use crate::changes::{Change, Heard};
use crate::error::Result;

#[path = "sql/accounts.rs"]
mod accounts;
#[path = "sql/audit.rs"]
mod audit;
#[path = "sql/claims.rs"]
mod claims;
#[path = "sql/files.rs"]
mod files;
#[path = "sql/models.rs"]
mod models;
#[path = "sql/runs.rs"]
mod runs;
#[path = "sql/sharing.rs"]
mod sharing;

type Db = sqlx::Sqlite;
type DbRow = sqlx::sqlite::SqliteRow;
type Engine = SqliteRegistry;
/// Nothing to add: SQLite has one writer at a time, and a transaction that read before another
/// wrote cannot write after it.
const FOR_UPDATE: &str = "";

/// The registry in one SQLite file (WAL, foreign keys on), migrated when opened.
#[derive(Clone, Debug)]
pub struct SqliteRegistry {
    pool: SqlitePool,
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
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Self { pool })
    }

    /// Nothing to announce: the data folder's lock keeps every other server off this file, and
    /// the one server forgets what it changes itself.
    async fn announce(&self, _: &mut sqlx::Transaction<'_, Db>, _: Change) -> Result<()> {
        Ok(())
    }
}

#[async_trait]
impl Registry for SqliteRegistry {
    async fn close(&self) {
        self.pool.close().await;
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn watch(&self) -> Result<Option<tokio::sync::mpsc::UnboundedReceiver<Heard>>> {
        Ok(None)
    }
}
