//! `GET /metrics`: each step called is counted once by outcome and timed, for admins only, and
//! a deleted version's series go with it. (`tests/api/test_metrics.py` reads the same with
//! Prometheus's own parser.)

use reqwest::StatusCode;
use serde_json::json;

use crate::context::{Server, assert_error};
use crate::runs::{APP, start_steps, steps_manifest};
use feather_store::Role;

async fn scrape(s: &Server, token: Option<&str>) -> (StatusCode, String) {
    let mut r = s.http.get(format!("{}/metrics", s.url));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    let res = r.send().await.unwrap();
    let status = res.status();
    if status == StatusCode::OK {
        let kind = res.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    }
    (status, res.text().await.unwrap())
}

/// The value of the sample whose line starts with `series`, if there is one.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.parse().unwrap())
}

#[tokio::test]
async fn steps_are_counted_by_outcome_and_timed_until_their_version_goes() {
    let s = Server::start().await;
    let root = s.token_for("root", Role::Admin, "admin,publish,run").await;
    s.publish_app(&steps_manifest(), APP).await;
    let (status, run) = start_steps(&s, "1,2,3", "ok").await;
    assert_eq!(status, StatusCode::CREATED, "{run}");
    let id = run["id"].as_str().unwrap();
    let answer = format!("/runs/{id}/steps");
    let pick = |p: &str| json!({"inputs": {"pick": p}});
    assert_eq!(
        s.post(&answer, pick("9"), None).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(s.post(&answer, pick("2"), None).await.0, StatusCode::OK);
    let (status, failed) = start_steps(&s, "1", "raise").await;
    assert_ne!(status, StatusCode::CREATED, "{failed}");

    let (status, text) = scrape(&s, Some(&root)).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let calls = |step: &str, outcome: &str| {
        value(
            &text,
            &format!(
                r#"feather_step_calls_total{{model="alice/steps",version="1",step="{step}",outcome="{outcome}"}}"#
            ),
        )
    };
    assert_eq!(calls("guess", "ok"), Some(1.0), "{text}");
    assert_eq!(calls("guess", "step_failed"), Some(1.0), "{text}");
    assert_eq!(calls("total", "invalid_inputs"), Some(1.0), "{text}");
    assert_eq!(calls("total", "ok"), Some(1.0), "{text}");
    let timed = |step: &str| {
        value(
            &text,
            &format!(
                r#"feather_step_duration_seconds_count{{model="alice/steps",version="1",step="{step}"}}"#
            ),
        )
    };
    assert_eq!(timed("guess"), Some(2.0), "{text}");
    assert_eq!(timed("total"), Some(2.0), "{text}");
    assert!(
        value(&text, "feather_process_resident_memory_bytes").unwrap() > 1e6,
        "{text}"
    );
    assert!(text.ends_with("# EOF\n"), "{text}");

    // The series name private models: an admin's to read.
    assert_error(
        &crate::context::read(
            s.http
                .get(format!("{}/metrics", s.url))
                .send()
                .await
                .unwrap(),
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    assert_eq!(scrape(&s, Some(&s.token)).await.0, StatusCode::FORBIDDEN);

    assert_eq!(
        s.delete("/models/alice/steps/versions/1", Some(&s.token))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    let (_, text) = scrape(&s, Some(&root)).await;
    assert!(
        !text.contains("alice/steps"),
        "a deleted version's series stay: {text}"
    );
}
