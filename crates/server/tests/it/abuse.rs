//! What a holder of an account could abuse: demoting the last admin, minting tokens without
//! end for more rate budget, a run-only token reaching its user's other tokens, and learning
//! from a publish whether someone else's private model holds the same bundle.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::context::{Server, app_bundle, assert_error, manifest};
use feather_server::rate::RateConfig;
use feather_store::Role;

impl Server {
    async fn send(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut r = self.http.request(method, self.api(path)).bearer_auth(token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        crate::context::read(r.send().await.unwrap()).await
    }
}

#[tokio::test]
async fn the_last_admin_cannot_stop_being_one() {
    let s = Server::start().await;
    let root = s.token_for("root", Role::Admin, "admin,publish,run").await;
    let demote = json!({"role": "developer"});
    let got = s
        .send(Method::PATCH, "/users/root", &root, Some(demote.clone()))
        .await;
    let e = assert_error(&got, StatusCode::CONFLICT, "conflict");
    assert!(e["message"].as_str().unwrap().contains("last admin"), "{e}");
    // With a second admin, either may step down.
    let promote = json!({"role": "admin"});
    let (status, _) = s
        .send(Method::PATCH, "/users/alice", &root, Some(promote))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = s
        .send(Method::PATCH, "/users/root", &root, Some(demote))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_user_s_tokens_are_capped_and_share_one_rate_budget() {
    let s = Server::start_with_state(|s| {
        s.with_rates(RateConfig {
            anonymous_per_minute: 100,
            token_per_minute: 3,
        })
    })
    .await;
    let mut made = Vec::new();
    let mut refused = None;
    for _ in 0..feather_store::accounts::MAX_ACTIVE_TOKENS + 1 {
        let got = s
            .send(
                Method::POST,
                "/tokens",
                &s.token,
                Some(json!({"scopes": ["run"]})),
            )
            .await;
        if got.0 == StatusCode::CREATED {
            made.push(got.1["token"].as_str().unwrap().to_owned());
        } else {
            refused = Some(got);
            break;
        }
    }
    // alice's own token counts too.
    assert_eq!(
        made.len() as i64,
        feather_store::accounts::MAX_ACTIVE_TOKENS - 1
    );
    let e = assert_error(&refused.unwrap(), StatusCode::CONFLICT, "conflict");
    assert!(
        e["message"].as_str().unwrap().contains("100 active tokens"),
        "{e}"
    );

    // Each new token buys no new budget: three runs by alice, whatever the token, then 429.
    let run = |t: String| {
        let s = &s;
        async move {
            let body = json!({"inputs": {"text": "x"}});
            s.send(
                Method::POST,
                "/models/alice/nothing/predict",
                &t,
                Some(body),
            )
            .await
            .0
        }
    };
    for t in made.iter().take(3) {
        assert_eq!(run(t.clone()).await, StatusCode::NOT_FOUND);
    }
    assert_eq!(run(made[3].clone()).await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(run(s.token.clone()).await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        run(s.other.clone()).await,
        StatusCode::NOT_FOUND,
        "bob has his own budget"
    );
}

#[tokio::test]
async fn a_run_only_token_may_revoke_itself_but_not_see_or_revoke_the_others() {
    let s = Server::start().await;
    let run_only = s.token_for("alice", Role::Developer, "run").await;
    let (_, me) = s.send(Method::GET, "/me", &run_only, None).await;
    let got = s.send(Method::GET, "/tokens", &run_only, None).await;
    assert_error(&got, StatusCode::FORBIDDEN, "forbidden");
    let (_, all) = s.send(Method::GET, "/tokens", &s.token, None).await;
    let own = me["token"].as_i64().unwrap_or_else(|| panic!("{me}"));
    let other = all["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .find(|id| *id != own)
        .unwrap();
    let got = s
        .send(Method::DELETE, &format!("/tokens/{other}"), &run_only, None)
        .await;
    assert_error(&got, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = s
        .send(Method::DELETE, &format!("/tokens/{own}"), &run_only, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        s.send(Method::GET, "/me", &run_only, None).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        s.send(Method::GET, "/me", &s.token, None).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_publish_says_deduplicated_only_of_the_publisher_s_own_bundles() {
    let s = Server::start().await;
    let mut secret = manifest("secret");
    secret["name"] = json!("secret");
    let (status, _) = s
        .publish_raw(
            Some(&s.token),
            Some(secret.to_string().into_bytes()),
            Some(app_bundle()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, bob) = s
        .publish_raw(
            Some(&s.other),
            Some(manifest("guess").to_string().into_bytes()),
            Some(app_bundle()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{bob}");
    assert_eq!(
        bob["deduplicated"], false,
        "bob learnt that alice has these bytes"
    );
    assert_eq!(s.files("blobs").len(), 1, "the bytes are still stored once");
    let (_, again) = s
        .publish_raw(
            Some(&s.other),
            Some(manifest("guess2").to_string().into_bytes()),
            Some(app_bundle()),
        )
        .await;
    assert_eq!(again["deduplicated"], true, "bob's own earlier version");
}
