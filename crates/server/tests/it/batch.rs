//! Requests that queue while a worker is busy go to it together; each still gets its own
//! answer, and a failure stays with the request that caused it.

use std::time::{Duration, Instant};

use feather_runner::pool::PoolLimits;
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::context::{Server, assert_error};

const DOUBLE_APP: &str = r#"
import time

import feather as ftr


@ftr.step(batch=True, max_batch_size=8)
def double(x):
    time.sleep(0.3)
    return [ftr.Text.View(id="out", text=f"{v * 2} of {len(x)}") for v in x]


ftr.build("double", init=[ftr.Number.In(id="x", integer=True)], steps=[double])
"#;

const ECHO_APP: &str = r#"
import os
import signal
import time

import feather as ftr


@ftr.step
def echo(text):
    if text == "crash":
        os.kill(os.getpid(), signal.SIGSEGV)
    if text == "slow":
        time.sleep(0.5)
    if text == "too slow":
        time.sleep(4)
    if text == "spoilt":
        label = ftr.Label({"a": 0.5})
        label.props["confidences"] = {"a": 2}
        return label
    return ftr.Text.View(id="out", text=text)


ftr.build("echo", init=[ftr.Text.In(id="text")], steps=[echo])
"#;

fn manifest(name: &str, init: Value, step: Value, limits: Value) -> Value {
    json!({
        "schema": "feather.manifest/v1", "name": name,
        "runtime": {"kind": "python", "python": "3.11", "entry": "app.py", "requirements": []},
        "init": init, "steps": [step], "limits": limits,
        "provenance": {"sdk": "0.1.0", "python": "3.11.7", "platform": "linux-x86_64", "packages": {}}
    })
}

/// One worker, so that requests queue behind the one it is running.
async fn one_worker() -> Server {
    Server::start_with_pool(PoolLimits {
        max: 1,
        ..PoolLimits::default()
    })
    .await
}

async fn predict(s: &Server, model: &str, inputs: Value) -> (StatusCode, Value) {
    s.post(
        &format!("/models/alice/{model}/predict"),
        json!({ "inputs": inputs }),
        None,
    )
    .await
}

fn text(out: &(StatusCode, Value)) -> &str {
    assert_eq!(out.0, StatusCode::OK, "{}", out.1);
    out.1["outputs"][0]["text"].as_str().unwrap()
}

#[tokio::test]
async fn queued_requests_are_answered_by_one_call_each_with_its_own_result() {
    let s = one_worker().await;
    let m = manifest(
        "double",
        json!([{"id": "x", "type": "Number.In", "integer": true}]),
        json!({"name": "double", "batch": {"max_size": 8}}),
        json!({}),
    );
    s.publish_app(&m, DOUBLE_APP).await;
    assert_eq!(
        text(&predict(&s, "double", json!({"x": 0})).await),
        "0 of 1"
    );
    // While the first call sleeps, five more queue; they go to the worker together.
    let first = predict(&s, "double", json!({"x": 100}));
    let rest = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        join_all((1..=5).map(|x| predict(&s, "double", json!({ "x": x })))).await
    };
    let (first, rest) = tokio::join!(first, rest);
    assert_eq!(text(&first), "200 of 1");
    for (x, out) in (1..=5).zip(&rest) {
        let (value, size) = text(out).split_once(" of ").unwrap();
        assert_eq!(
            value,
            (x * 2).to_string(),
            "each request gets its own result"
        );
        assert_eq!(size, "5", "the five queued requests went as one call");
    }
}

#[tokio::test]
async fn a_crash_in_a_batch_fails_its_own_request_and_the_rest_are_answered() {
    let s = one_worker().await;
    let m = manifest(
        "echo",
        json!([{"id": "text", "type": "Text.In"}]),
        json!({"name": "echo"}),
        json!({"step_timeout": 1}),
    );
    s.publish_app(&m, ECHO_APP).await;
    let slow = predict(&s, "echo", json!({"text": "slow"}));
    let rest = async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        join_all(["a", "crash", "b", "c"].map(|t| predict(&s, "echo", json!({ "text": t })))).await
    };
    let (slow, rest) = tokio::join!(slow, rest);
    assert_eq!(
        text(&slow),
        "slow",
        "half a second is within the model's 1 s"
    );
    assert_eq!(text(&rest[0]), "a");
    assert_error(&rest[1], StatusCode::BAD_GATEWAY, "worker_crashed");
    assert_eq!(text(&rest[2]), "b");
    assert_eq!(text(&rest[3]), "c");
}

#[tokio::test]
async fn a_model_sets_its_own_step_timeout_and_its_outputs_are_checked() {
    let s = Server::start().await;
    let m = manifest(
        "echo",
        json!([{"id": "text", "type": "Text.In"}]),
        json!({"name": "echo"}),
        json!({"step_timeout": 1}),
    );
    s.publish_app(&m, ECHO_APP).await;
    let started = Instant::now();
    let out = predict(&s, "echo", json!({"text": "too slow"})).await;
    let e = assert_error(&out, StatusCode::GATEWAY_TIMEOUT, "step_timeout");
    assert!(e["message"].as_str().unwrap().contains("1s"), "{e}");
    // The server's own limit in tests is 5 s, and the step sleeps 4 s.
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(
        text(&predict(&s, "echo", json!({"text": "ok"})).await),
        "ok"
    );
    // Outputs are checked by the server, whatever the worker sends.
    let spoilt = predict(&s, "echo", json!({"text": "spoilt"})).await;
    let e = assert_error(&spoilt, StatusCode::INTERNAL_SERVER_ERROR, "step_failed");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("returned an invalid component #0: /confidences/a"),
        "{e}"
    );
}
