//! The registry: every record feather keeps, behind one trait per concern, so that another
//! database only has to implement them (and pass the conformance suite, `tests/registry.rs`).
//!
//! - [`ModelRegistry`]: models and their versions.
//! - [`SharingRegistry`]: visibility, grants and aliases.
//! - [`RunRegistry`]: runs, their steps and the claims on them.
//! - [`FileRegistry`]: files and how long each is kept.
//! - [`BlobRegistry`]: the claims writes hold on blobs, so that no collector removes them.
//! - [`AccountRegistry`]: users, roles and tokens.
//! - [`AuditLog`]: the log of changes.
//!
//! Each change and its audit row are written in one transaction of the implementation.
//!
//! The SQL is written once, in `sql/`, in the dialect SQLite and PostgreSQL share (numbered
//! parameters, `ON CONFLICT`, `RETURNING`, booleans bound as such, integers as 64 bits), and
//! compiled once per engine: each engine's module names its database, row and registry types,
//! and includes the same files.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;

pub use crate::accounts::AccountRegistry;
pub use crate::audit::AuditLog;
pub use crate::claims::BlobRegistry;
pub use crate::files::FileRegistry;
pub use crate::models::{ModelRegistry, NewVersion};
pub use crate::runs::RunRegistry;
pub use crate::sharing::SharingRegistry;

use crate::changes::Heard;
use crate::error::{Result, StoreError};

/// All of the registry's concerns, as one store holds them.
#[async_trait]
pub trait Registry:
    ModelRegistry
    + SharingRegistry
    + RunRegistry
    + FileRegistry
    + BlobRegistry
    + AccountRegistry
    + AuditLog
    + std::fmt::Debug
{
    /// Closes its connections; the last call on it.
    async fn close(&self);

    /// Whether the database answers a query now.
    async fn ping(&self) -> Result<()>;

    /// Starts hearing every change to models that any server sharing this registry commits
    /// (this one's too), until the receiver is dropped. `None` when no other server can share
    /// it (SQLite: one server per data folder). Once this returns, no change is missed.
    async fn watch(&self) -> Result<Option<tokio::sync::mpsc::UnboundedReceiver<Heard>>>;
}

mod sqlite;

pub use sqlite::SqliteRegistry;
mod postgres;

pub use postgres::PostgresRegistry;

/// Which database holds the registry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Database {
    /// SQLite, `feather.db` in the data folder: one server.
    #[default]
    Sqlite,
    /// PostgreSQL, by URL: what several replicas share.
    Postgres(String),
}

impl FromStr for Database {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        if s == "sqlite" {
            Ok(Database::Sqlite)
        } else if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            sqlx::postgres::PgConnectOptions::from_str(s)
                .map_err(|e| format!("not a PostgreSQL URL: {e}"))?;
            Ok(Database::Postgres(s.to_owned()))
        } else {
            Err(format!(
                "{s:?} is not a database feather knows: `sqlite` (feather.db in the data folder) \
                 or postgres://user:password@host:port/database"
            ))
        }
    }
}

impl Database {
    /// Opens the registry (migrating it), with `data` the data folder.
    pub async fn open(&self, data: &Path) -> Result<Arc<dyn Registry>> {
        Ok(match self {
            Database::Sqlite => Arc::new(SqliteRegistry::open(&data.join("feather.db")).await?),
            Database::Postgres(url) => {
                Arc::new(PostgresRegistry::open(url).await.map_err(|e| match e {
                    StoreError::Db(e) => StoreError::Unavailable(format!(
                        "the PostgreSQL database {}: {e}",
                        self.describe()
                    )),
                    e => e,
                })?)
            }
        })
    }

    /// Where it is, for logs: never a password.
    pub fn describe(&self) -> String {
        match self {
            Database::Sqlite => "SQLite (feather.db in the data folder)".into(),
            Database::Postgres(url) => match sqlx::postgres::PgConnectOptions::from_str(url) {
                Ok(o) => format!(
                    "postgres://{}:{}/{}",
                    o.get_host(),
                    o.get_port(),
                    o.get_database().unwrap_or_default()
                ),
                Err(_) => "postgres".into(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Database;

    #[test]
    fn a_database_is_sqlite_or_a_postgres_url_and_its_password_stays_out_of_logs() {
        assert_eq!("sqlite".parse::<Database>(), Ok(Database::Sqlite));
        let url = "postgres://feather:s3cret@db.internal:6543/registry";
        let db: Database = url.parse().unwrap();
        assert_eq!(db, Database::Postgres(url.into()));
        assert_eq!(db.describe(), "postgres://db.internal:6543/registry");
        assert!(!db.describe().contains("s3cret"));
        let bad = "mysql://x@y/z".parse::<Database>().unwrap_err();
        assert!(
            bad.contains("sqlite") && bad.contains("postgres://"),
            "{bad}"
        );
        assert!("postgres://x@y:notaport/z".parse::<Database>().is_err());
    }
}
