//! What a replica hears when the connection it listens on is lost: PostgreSQL's alone, since
//! no other engine is shared.

use std::time::Duration;

use feather_store::{Change, Heard, PostgresRegistry, Registry};
use sqlx::Connection;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::publish;

async fn next(heard: &mut UnboundedReceiver<Heard>) -> Heard {
    tokio::time::timeout(Duration::from_secs(10), heard.recv())
        .await
        .expect("heard something in time")
        .expect("the watch goes on")
}

/// Told that changes may have been missed, a replica forgets what it remembers and reads the
/// registry again; that is only safe if every change made after it was told is heard, so the
/// listening connection must be made again before it is told.
#[tokio::test]
async fn a_lost_listener_is_listening_again_when_it_says_so() {
    let url = feather_testkit::postgres_database("listening").await;
    let here = PostgresRegistry::open(&url).await.unwrap();
    let there = PostgresRegistry::open(&url).await.unwrap();
    let mut heard = here.watch().await.unwrap().expect("PostgreSQL is shared");
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    let listening = "SELECT pid FROM pg_stat_activity \
                     WHERE datname = current_database() AND query ILIKE 'LISTEN%'";
    for round in 1..=3 {
        let before: Vec<i32> = sqlx::query_scalar(listening)
            .fetch_all(&mut admin)
            .await
            .unwrap();
        assert_eq!(before.len(), 1, "one connection listens");
        sqlx::query("SELECT pg_terminate_backend($1)")
            .bind(before[0])
            .execute(&mut admin)
            .await
            .unwrap();
        assert_eq!(next(&mut heard).await, Heard::Lost);
        let after: Vec<i32> = sqlx::query_scalar(listening)
            .fetch_all(&mut admin)
            .await
            .unwrap();
        assert!(
            after.len() == 1 && after != before,
            "round {round}: listening again on a new connection, not {after:?} (was {before:?})"
        );
        // At once: a replica that reads the registry now must hear of what changes after.
        publish(&there, "ana", "iris", &format!("d{round}"), None).await;
        assert_eq!(
            next(&mut heard).await,
            Heard::Change(Change::Published {
                owner: "ana".into(),
                name: "iris".into(),
                version: round,
            }),
            "round {round}"
        );
    }
    admin.close().await.unwrap();
    here.close().await;
    there.close().await;
}

/// When the database refuses connections for longer than the pool waits for one (10 s), the
/// listener fails to listen again at least once: it must not say it listens until it does.
#[tokio::test]
async fn a_listener_refused_by_the_database_says_nothing_until_it_listens_again() {
    let url = feather_testkit::postgres_database("listening").await;
    let (server, database) = url.rsplit_once('/').unwrap();
    let here = PostgresRegistry::open(&url).await.unwrap();
    let there = PostgresRegistry::open(&url).await.unwrap();
    let mut heard = here.watch().await.unwrap().expect("PostgreSQL is shared");
    // From another database: none may refuse connections to the one it is connected to.
    let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres"))
        .await
        .unwrap();
    let allow = |yes: bool| format!("ALTER DATABASE {database} ALLOW_CONNECTIONS {yes}");
    sqlx::query(&allow(false))
        .execute(&mut admin)
        .await
        .unwrap();
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = $1",
    )
    .bind(database)
    .execute(&mut admin)
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_secs(14)).await;
    let early = heard.try_recv();
    sqlx::query(&allow(true)).execute(&mut admin).await.unwrap();
    assert!(
        early.is_err(),
        "told {early:?} while the database refused every connection"
    );
    assert_eq!(next(&mut heard).await, Heard::Lost);
    publish(&there, "ana", "iris", "d1", None).await;
    assert_eq!(
        next(&mut heard).await,
        Heard::Change(Change::Published {
            owner: "ana".into(),
            name: "iris".into(),
            version: 1,
        })
    );
    admin.close().await.unwrap();
    here.close().await;
    there.close().await;
}
