//! A SQLite registry made before times were one representation (expiries in Unix seconds) is
//! converted when this build opens it: its tokens, claims and files keep their meaning.

use std::path::Path;

use feather_store::accounts::{rfc3339, unix_now};
use feather_store::registry::{AccountRegistry, FileRegistry};
use feather_store::{Registry, SqliteRegistry, StoreError};
use sqlx::migrate::Migrator;
use sqlx::{Connection, SqliteConnection};

#[tokio::test]
async fn expiries_in_unix_seconds_become_the_registry_s_times() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("feather.db");
    let url = format!("sqlite://{}?mode=rwc", file.display());
    let mut db = SqliteConnection::connect(&url).await.unwrap();
    // The migrations as they were before this one.
    let mut old = Migrator::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite"))
        .await
        .unwrap();
    old.migrations = old
        .migrations
        .iter()
        .filter(|m| m.version < 7)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    old.run(&mut db).await.unwrap();
    let (past, future) = (unix_now() - 60, unix_now() + 3600);
    sqlx::query(
        "INSERT INTO users (id, name, created_at, role) VALUES (1, 'ana', '2026-01-01T00:00:00Z', 'admin');
         INSERT INTO tokens (user_id, hash, prefix, created_at, scopes, expires_at) VALUES
             (1, 'h1', 'ftr_aaaaaa', '2026-01-01T00:00:00Z', 'run', $1),
             (1, 'h2', 'ftr_bbbbbb', '2026-01-01T00:00:00Z', 'run', $2);
         INSERT INTO files (id, digest, media_type, size, created_at, expires_at) VALUES
             ('f_old', 'sha256:old', 'text/plain', 1, '2026-01-01T00:00:00Z', $1),
             ('f_new', 'sha256:new', 'text/plain', 1, '2026-01-01T00:00:00Z', $2);",
    )
    .bind(past)
    .bind(future)
    .execute(&mut db)
    .await
    .unwrap();
    db.close().await.unwrap();

    let r = SqliteRegistry::open(&file).await.unwrap();
    let tokens = r.tokens(Some("ana")).await.unwrap();
    let expiries: Vec<_> = tokens.iter().map(|t| t.expires_at.clone()).collect();
    assert_eq!(expiries, vec![Some(rfc3339(future)), Some(rfc3339(past))]);
    assert!(matches!(
        r.file("f_old").await,
        Err(StoreError::NotFound(_))
    ));
    let kept = r.file("f_new").await.unwrap();
    assert_eq!(kept.expires_at, Some(rfc3339(future)));
    assert_eq!(r.delete_expired_files().await.unwrap(), vec!["sha256:old"]);
    r.close().await;
}
