//! Rate limits on running models, and which origins' pages may call the API.

use feather_server::rate::RateConfig;
use reqwest::StatusCode;
use serde_json::json;

use crate::context::{Server, assert_error};

async fn predict(s: &Server, token: Option<&str>) -> reqwest::Response {
    let mut r = s
        .http
        .post(s.api("/models/alice/nothing/predict"))
        .json(&json!({"inputs": {}}));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    r.send().await.unwrap()
}

#[tokio::test]
async fn runs_past_the_rate_get_429_with_retry_after_per_token_and_per_address() {
    let s = Server::start_with_state(|st| {
        st.with_rates(RateConfig {
            anonymous_per_minute: 2,
            token_per_minute: 3,
        })
    })
    .await;
    for _ in 0..2 {
        assert_eq!(predict(&s, None).await.status(), StatusCode::NOT_FOUND);
    }
    let res = predict(&s, None).await;
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let e = assert_error(
        &crate::context::read(res).await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    );
    assert!(
        e["message"].as_str().unwrap().contains("without a token"),
        "{e}"
    );

    // A token has its own budget, and another token another.
    for _ in 0..3 {
        assert_eq!(
            predict(&s, Some(&s.token)).await.status(),
            StatusCode::NOT_FOUND
        );
    }
    assert_eq!(
        predict(&s, Some(&s.token)).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        predict(&s, Some(&s.other)).await.status(),
        StatusCode::NOT_FOUND
    );
    // Reading is not limited.
    assert_eq!(s.get("/models").await.0, StatusCode::OK);
}

#[tokio::test]
async fn only_the_configured_origins_may_call_the_api_from_a_browser() {
    let s =
        Server::start_with_state(|st| st.with_cors(&["https://example.org".into()]).unwrap()).await;
    let preflight = |origin: &'static str| {
        s.http
            .request(reqwest::Method::OPTIONS, s.api("/models/alice/x/predict"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
    };
    let ok = preflight("https://example.org").await.unwrap();
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://example.org"
    );
    let other = preflight("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());

    let plain = Server::start().await;
    let res = plain
        .http
        .get(plain.api("/models"))
        .header("origin", "https://example.org")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
}

/// Calls through the Open Inference Protocol count against the same limit, and the refusal
/// comes in that protocol's shape.
#[tokio::test]
async fn inference_protocol_calls_share_the_rate_limit() {
    let s = Server::start_with_state(|st| {
        st.with_rates(RateConfig {
            anonymous_per_minute: 2,
            token_per_minute: 3,
        })
    })
    .await;
    let url = format!("{}/v2/models/alice/nothing/infer", s.url);
    let call = json!({"inputs": []});
    assert_eq!(predict(&s, None).await.status(), StatusCode::NOT_FOUND);
    let first = s.http.post(&url).json(&call).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::NOT_FOUND);
    let limited = s.http.post(&url).json(&call).send().await.unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().contains_key("retry-after"));
    let body: serde_json::Value = limited.json().await.unwrap();
    assert!(body["error"].is_string(), "{body}");
}
