//! Two replicas on one PostgreSQL registry and one S3 bucket, each with a data folder of its
//! own: what one changes, the other sees within a second, and a run goes on through either.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::context::{Server, assert_error};
use crate::objects::bucket;
use crate::runs::{APP, start_steps, steps_manifest};

/// Calls `probe` until it says yes; how long that took, failing past `within`.
async fn until(within: Duration, what: &str, mut probe: impl AsyncFnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !probe().await {
        assert!(start.elapsed() < within, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    start.elapsed()
}

async fn start_as(s: &Server, reference: &str) -> (StatusCode, Value) {
    let inputs = json!({"inputs": {"numbers": "1,2,3", "mode": "ok"}});
    let path = format!("/models/alice/{reference}/runs");
    s.post(&path, inputs, Some(&s.token)).await
}

#[tokio::test]
async fn what_one_replica_changes_the_other_sees_within_a_second() {
    let (a, b) = Server::start_replicas(bucket()).await;
    let second = Duration::from_secs(1);
    a.publish_app(&steps_manifest(), APP).await;
    // B heard of the version and prepares it as A did, before anyone asks it.
    b.wait_ready("steps", 1).await;

    // A run started through A goes on through B; the claim on its step holds across both.
    let (status, run) = start_steps(&a, "1,2,3", "ok").await;
    assert_eq!(status, StatusCode::CREATED, "{run}");
    let id = run["id"].as_str().unwrap();
    let answer = json!({"inputs": {"pick": "2"}});
    let (status, done) = b
        .post(&format!("/runs/{id}/steps"), answer.clone(), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["steps"][1]["outputs"][0]["text"], "2 of 6");
    let again = a.post(&format!("/runs/{id}/steps"), answer, None).await;
    assert_error(&again, StatusCode::CONFLICT, "conflict");
    let (_, seen) = a.get(&format!("/runs/{id}")).await;
    assert_eq!(seen["status"], "completed", "{seen}");

    // B now holds version 1 and what `latest` names. A second version published through A
    // (the same requirements, so its environment is ready) is B's `latest` within a second.
    let (status, first) = start_as(&b, "steps").await;
    assert_eq!(
        (status, first["version"].as_i64()),
        (StatusCode::CREATED, Some(1))
    );
    let v2 = APP.replace("Pick a number", "Pick a number again");
    a.publish_app(&steps_manifest(), &v2).await;
    let took = until(second, "B runs the new latest", async || {
        let (status, run) = start_as(&b, "steps").await;
        status == StatusCode::CREATED && run["version"] == 2
    })
    .await;
    eprintln!("the new latest on B after {took:?}");
    let (_, run) = start_as(&b, "steps").await;
    assert_eq!(run["steps"][0]["outputs"][0]["text"], "Pick a number again");
    assert!(b.runner.running().contains(&"alice/steps@2".to_owned()));

    // Made private through A: B refuses anonymous callers within a second.
    assert_eq!(b.get("/models/alice/steps").await.0, StatusCode::OK);
    let private = Some(json!({"visibility": "private"}));
    let (status, body) = a
        .call(
            Method::PATCH,
            "/models/alice/steps",
            Some(&a.token),
            private,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    until(second, "B hides the private model", async || {
        start_steps(&b, "1,2,3", "ok").await.0 == StatusCode::NOT_FOUND
    })
    .await;
    assert_eq!(start_as(&b, "steps").await.0, StatusCode::CREATED);

    // A version deleted through A is no longer run by B, and its workers there stop.
    let (status, body) = a
        .delete("/models/alice/steps/versions/2", Some(&a.token))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    until(second, "B forgets the deleted version", async || {
        start_as(&b, "steps@2").await.0 == StatusCode::NOT_FOUND
            && !b.runner.running().contains(&"alice/steps@2".to_owned())
    })
    .await;
    let (status, run) = start_as(&b, "steps").await;
    assert_eq!(
        (status, run["version"].as_i64()),
        (StatusCode::CREATED, Some(1))
    );

    // The whole model deleted through A: nothing of it runs on B.
    let (status, _) = a.delete("/models/alice/steps", Some(&a.token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    until(second, "B forgets the deleted model", async || {
        start_as(&b, "steps@1").await.0 == StatusCode::NOT_FOUND && b.runner.running().is_empty()
    })
    .await;
}

#[tokio::test]
async fn a_replica_whose_registry_is_gone_is_not_ready_and_says_why() {
    let (a, b) = Server::start_replicas(bucket()).await;
    for s in [&a, &b] {
        assert_eq!(
            s.get_root("/readyz").await,
            (StatusCode::OK, json!({"status": "ready"}))
        );
    }
    let url = std::fs::read_to_string(a.data.path().join("test-database")).unwrap();
    let (server, name) = url.rsplit_once('/').unwrap();
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres"))
        .await
        .unwrap();
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .unwrap();
    for s in [&a, &b] {
        let got = s.get_root("/readyz").await;
        let e = assert_error(&got, StatusCode::SERVICE_UNAVAILABLE, "not_ready");
        assert!(e["message"].as_str().unwrap().contains("registry"), "{e}");
        // Alive all the same: restarting it would not bring the database back.
        assert_eq!(s.get_root("/healthz").await.0, StatusCode::OK);
    }
}
