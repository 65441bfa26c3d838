//! The registry on PostgreSQL: the database several replicas share.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use super::Registry;
use crate::error::Result;

// The SQLite engine compiles the same files for its own types.
#[allow(clippy::duplicate_mod)]
#[path = "sql/accounts.rs"]
mod accounts;
#[allow(clippy::duplicate_mod)]
#[path = "sql/audit.rs"]
mod audit;
#[allow(clippy::duplicate_mod)]
#[path = "sql/files.rs"]
mod files;
#[allow(clippy::duplicate_mod)]
#[path = "sql/models.rs"]
mod models;
#[allow(clippy::duplicate_mod)]
#[path = "sql/runs.rs"]
mod runs;
#[allow(clippy::duplicate_mod)]
#[path = "sql/sharing.rs"]
mod sharing;

type Db = sqlx::Postgres;
type DbRow = sqlx::postgres::PgRow;
type Engine = PostgresRegistry;

/// The registry in a PostgreSQL database, migrated when opened. Replicas opening it at once
/// are safe: the migrations run under an advisory lock, one replica at a time.
#[derive(Clone, Debug)]
pub struct PostgresRegistry {
    pool: PgPool,
}

impl PostgresRegistry {
    /// `url`: `postgres://user:password@host:port/database`, with libpq's parameters (such as
    /// `sslmode` or `host=/run/postgresql` for a socket) and its `PG*` variables for what the URL
    /// leaves out.
    pub async fn open(url: &str) -> Result<Self> {
        let options = PgConnectOptions::from_str(url)?.application_name("feather");
        // One connection first: the pool retries until its timeout and then reports only that,
        // where the operator needs the reason (refused, no such database, bad password).
        use sqlx::{ConnectOptions, Connection};
        options.connect().await?.close().await?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Self { pool })
    }
}

#[async_trait]
impl Registry for PostgresRegistry {
    async fn close(&self) {
        self.pool.close().await;
    }
}
