//! The registry on PostgreSQL: the database several replicas share.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};
use tokio::sync::mpsc;

use super::Registry;
use crate::changes::{Announced, Change, Heard};
use crate::error::Result;

/// The notification channel changes to models are announced on.
const CHANGES: &str = "feather_changes";

// The SQLite engine compiles the same files for its own types.
#[allow(clippy::duplicate_mod)]
#[path = "sql/accounts.rs"]
mod accounts;
#[allow(clippy::duplicate_mod)]
#[path = "sql/audit.rs"]
mod audit;
#[allow(clippy::duplicate_mod)]
#[path = "sql/claims.rs"]
mod claims;
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
/// Locks the rows a query reads until the transaction ends: under READ COMMITTED two
/// transactions may otherwise both act on what the other is about to change.
const FOR_UPDATE: &str = " FOR UPDATE";

/// The registry in a PostgreSQL database, migrated when opened. Replicas opening it at once
/// are safe: the migrations run under an advisory lock, one replica at a time.
#[derive(Clone, Debug)]
pub struct PostgresRegistry {
    pool: PgPool,
    /// Names this registry's announcements, so that it knows them when they come back.
    origin: Arc<str>,
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
        Ok(Self {
            pool,
            origin: crate::new_id("registry_").into(),
        })
    }

    /// Tells every listening replica of a change once its transaction commits (PostgreSQL
    /// delivers notifications at commit, in commit order, and drops them on rollback).
    async fn announce(&self, tx: &mut sqlx::Transaction<'_, Db>, change: Change) -> Result<()> {
        let from = self.origin.to_string();
        let payload = serde_json::to_string(&Announced { from, change }).expect("JSON");
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANGES)
            .bind(payload)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}

/// A connection listening for announced changes.
async fn listen(pool: &PgPool) -> std::result::Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANGES).await?;
    Ok(listener)
}

/// Hands what the listener hears to `out` until nobody reads it or the pool closes. A lost
/// connection is made again, and the reader told so (`Heard::Lost`) only once it listens
/// again: what the reader reads afresh when told must not miss a change made after it.
async fn relay(
    pool: PgPool,
    mut listener: PgListener,
    origin: Arc<str>,
    out: mpsc::UnboundedSender<Heard>,
) {
    loop {
        let heard = match listener.try_recv().await {
            Ok(Some(n)) => match serde_json::from_str::<Announced>(n.payload()) {
                Ok(a) if *a.from == *origin => Heard::Own(a.change),
                Ok(a) => Heard::Change(a.change),
                Err(e) => {
                    tracing::warn!(payload = n.payload(), error = %e, "an announced change feather does not know");
                    Heard::Lost
                }
            },
            // sqlx has listened again on a new connection before it says this.
            Ok(None) => Heard::Lost,
            Err(sqlx::Error::PoolClosed) => return,
            Err(e) => {
                tracing::warn!(error = %e, "listening for other replicas' changes failed; trying again");
                loop {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    if out.is_closed() {
                        return;
                    }
                    match listen(&pool).await {
                        Ok(l) => break listener = l,
                        Err(sqlx::Error::PoolClosed) => return,
                        Err(e) => {
                            tracing::warn!(error = %e, "still not listening for other replicas' changes")
                        }
                    }
                }
                Heard::Lost
            }
        };
        if out.send(heard).is_err() {
            return;
        }
    }
}

#[async_trait]
impl Registry for PostgresRegistry {
    async fn close(&self) {
        self.pool.close().await;
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn watch(&self) -> Result<Option<mpsc::UnboundedReceiver<Heard>>> {
        let listener = listen(&self.pool).await?;
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(relay(self.pool.clone(), listener, self.origin.clone(), tx));
        Ok(Some(rx))
    }
}
