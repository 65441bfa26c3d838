//! Accounts: each role and scope may do exactly its part, private models are seen and run only
//! by their owner, grantees and admins, tokens expire and are revoked, the audit log records
//! every change, and no token is stored in clear.

use std::time::Duration;

use feather_store::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::context::{Server, assert_error, read};
use crate::runs::manifest;

const ECHO: &str = r#"
import feather as ftr


@ftr.step
def echo(text):
    return ftr.Text.View(id="out", text=text.upper())


ftr.build("echo", init=[ftr.Text.In(id="text")], steps=[echo])
"#;

impl Server {
    async fn predict_echo(&self, model: &str, token: Option<&str>) -> (StatusCode, Value) {
        let body = json!({"inputs": {"text": "hi"}});
        self.call(
            Method::POST,
            &format!("/models/alice/{model}/predict"),
            token,
            Some(body),
        )
        .await
    }

    async fn listed(&self, token: Option<&str>) -> Vec<String> {
        let (status, page) = self.call(Method::GET, "/models", token, None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        page["models"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                format!(
                    "{}/{}",
                    m["owner"].as_str().unwrap(),
                    m["name"].as_str().unwrap()
                )
            })
            .collect()
    }
}

fn echo_manifest() -> Value {
    manifest(
        "echo",
        json!([{"id": "text", "type": "Text.In"}]),
        &["echo"],
    )
}

#[tokio::test]
async fn private_models_are_seen_and_run_only_by_owner_grantees_and_admins() {
    let s = Server::start().await;
    s.publish_app(&echo_manifest(), ECHO).await;
    let alice = s.token.as_str();
    let bob = s.other.as_str();
    let carol = s.token_for("carol", Role::Developer, "run").await;
    let root = s.token_for("root", Role::Admin, "publish,run,admin").await;
    // An admin whose token lacks the admin scope acts as a developer.
    let root_plain = s.token_for("root", Role::Admin, "run").await;
    let alice_publish_only = s.token_for("alice", Role::Developer, "publish").await;
    let alice_run_only = s.token_for("alice", Role::Developer, "run").await;

    // Public: anyone runs it, anonymous callers too.
    assert_eq!(s.predict_echo("echo", None).await.0, StatusCode::OK);
    let (status, out) = s.predict_echo("echo", Some(bob)).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["outputs"][0]["text"], "HI");
    // A token narrows what its holder may do: without `run` it may not run even a public model.
    let e = assert_error(
        &s.predict_echo("echo", Some(&alice_publish_only)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert!(
        e["message"].as_str().unwrap().contains("`run` scope"),
        "{e}"
    );

    // Only the owner with a publish token (or an admin) changes it.
    let private = Some(json!({"visibility": "private"}));
    let path = "/models/alice/echo";
    assert_error(
        &s.call(Method::PATCH, path, None, private.clone()).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    assert_error(
        &s.call(Method::PATCH, path, Some(bob), private.clone())
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &s.call(Method::PATCH, path, Some(&alice_run_only), private.clone())
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &s.call(
            Method::PATCH,
            path,
            Some(alice),
            Some(json!({"visibility": "hidden"})),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    let (status, model) = s.call(Method::PATCH, path, Some(alice), private).await;
    assert_eq!(status, StatusCode::OK, "{model}");
    assert_eq!(model["visibility"], "private");

    // Private: to everyone else it does not exist, in every route that names it.
    for token in [
        None,
        Some(bob),
        Some(carol.as_str()),
        Some(root_plain.as_str()),
    ] {
        assert_error(
            &s.predict_echo("echo", token).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
        for route in [
            "/models/alice/echo",
            "/models/alice/echo/versions",
            "/models/alice/echo/versions/1",
            "/models/alice/echo/versions/1/bundle",
            "/models/alice/echo/versions/1/files/app.py",
            "/models/alice/echo/versions/1/environment",
            "/models/alice/echo/openapi.json",
        ] {
            let got = s.call(Method::GET, route, token, None).await;
            assert_error(&got, StatusCode::NOT_FOUND, "not_found");
        }
        assert!(!s.listed(token).await.contains(&"alice/echo".to_owned()));
        // Nor can they change it: not found, rather than forbidden, so the name stays secret.
        let got = s
            .call(Method::DELETE, "/models/alice/echo", token, None)
            .await;
        assert!(
            matches!(got.0, StatusCode::NOT_FOUND | StatusCode::UNAUTHORIZED),
            "{got:?}"
        );
    }
    assert!(
        s.listed(Some(alice))
            .await
            .contains(&"alice/echo".to_owned())
    );
    assert!(
        s.listed(Some(&root))
            .await
            .contains(&"alice/echo".to_owned())
    );
    assert_eq!(s.predict_echo("echo", Some(alice)).await.0, StatusCode::OK);
    assert_eq!(s.predict_echo("echo", Some(&root)).await.0, StatusCode::OK);
    let e = assert_error(
        &s.predict_echo("echo", Some(&alice_publish_only)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert!(
        e["message"].as_str().unwrap().contains("`run` scope"),
        "{e}"
    );

    // A run of a private model is read and answered only by those who may see the model.
    let (status, run) = s
        .call(
            Method::POST,
            "/models/alice/echo/runs",
            Some(alice),
            Some(json!({"inputs": {"text": "x"}})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{run}");
    let run_path = format!("/runs/{}", run["id"].as_str().unwrap());
    assert_eq!(
        s.call(Method::GET, &run_path, Some(alice), None).await.0,
        StatusCode::OK
    );
    assert_error(
        &s.call(Method::GET, &run_path, None, None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &s.call(Method::GET, &run_path, Some(bob), None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    // A grant lets carol see and run it, not change it.
    let grant = "/models/alice/echo/grants/carol";
    assert_error(
        &s.call(Method::PUT, grant, Some(bob), None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &s.call(
            Method::PUT,
            "/models/alice/echo/grants/nobody",
            Some(alice),
            None,
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_eq!(
        s.call(Method::PUT, grant, Some(alice), None).await.0,
        StatusCode::NO_CONTENT
    );
    let (status, out) = s.predict_echo("echo", Some(&carol)).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert!(
        s.listed(Some(&carol))
            .await
            .contains(&"alice/echo".to_owned())
    );
    assert_eq!(
        s.call(Method::GET, &run_path, Some(&carol), None).await.0,
        StatusCode::OK
    );
    assert_error(
        &s.call(Method::GET, "/models/alice/echo/grants", Some(&carol), None)
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &s.call(
            Method::DELETE,
            "/models/alice/echo/versions/1",
            Some(&carol),
            None,
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let (status, grants) = s
        .call(Method::GET, "/models/alice/echo/grants", Some(alice), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(grants["grants"][0]["user"], "carol");
    assert_eq!(
        s.call(Method::DELETE, grant, Some(alice), None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_error(
        &s.predict_echo("echo", Some(&carol)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &s.call(Method::DELETE, grant, Some(alice), None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    // Aliases: the owner and admins move them; `latest` follows publishing only.
    let prod = "/models/alice/echo/aliases/prod";
    let (status, alias) = s
        .call(Method::PUT, prod, Some(alice), Some(json!({"version": 1})))
        .await;
    assert_eq!(status, StatusCode::OK, "{alias}");
    assert_eq!(
        s.predict_echo("echo@prod", Some(alice)).await.0,
        StatusCode::OK
    );
    assert_error(
        &s.call(
            Method::PUT,
            "/models/alice/echo/aliases/latest",
            Some(alice),
            Some(json!({"version": 1})),
        )
        .await,
        StatusCode::CONFLICT,
        "conflict",
    );
    assert_error(
        &s.call(
            Method::PUT,
            "/models/alice/echo/aliases/7up",
            Some(alice),
            Some(json!({"version": 1})),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_error(
        &s.call(Method::PUT, prod, Some(alice), Some(json!({"version": 9})))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &s.call(
            Method::PUT,
            prod,
            Some(alice),
            Some(json!({"version": "one"})),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_error(
        &s.call(Method::PUT, prod, Some(bob), Some(json!({"version": 1})))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let (_, model) = s
        .call(Method::GET, "/models/alice/echo", Some(alice), None)
        .await;
    assert_eq!(model["aliases"], json!({"latest": 1, "prod": 1}));
    assert_eq!(
        s.call(Method::DELETE, prod, Some(&root), None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_error(
        &s.predict_echo("echo@prod", Some(alice)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    // Public again: anonymous callers run it at once.
    let public = Some(json!({"visibility": "public"}));
    assert_eq!(
        s.call(Method::PATCH, path, Some(&root), public).await.0,
        StatusCode::OK
    );
    assert_eq!(s.predict_echo("echo", None).await.0, StatusCode::OK);

    // Deleting: the owner's publish token or an admin.
    assert_error(
        &s.call(Method::DELETE, "/models/alice/echo", Some(bob), None)
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &s.call(
            Method::DELETE,
            "/models/alice/echo",
            Some(&alice_run_only),
            None,
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_eq!(
        s.call(Method::DELETE, "/models/alice/echo", Some(&root), None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn publishing_needs_the_publish_scope_and_may_start_private() {
    let s = Server::start().await;
    let run_only = s.token_for("alice", Role::Developer, "run").await;
    let body = echo_manifest().to_string().into_bytes();
    let bundle = crate::context::Tar::new()
        .file("app.py", ECHO.as_bytes())
        .gz();
    let got = s
        .publish_raw(Some(&run_only), Some(body.clone()), Some(bundle.clone()))
        .await;
    assert_error(&got, StatusCode::FORBIDDEN, "forbidden");
    s.assert_empty("a run-only token published").await;

    let form = reqwest::multipart::Form::new()
        .text("visibility", "private")
        .part(
            "manifest",
            reqwest::multipart::Part::bytes(body).file_name("manifest.json"),
        )
        .part(
            "bundle",
            reqwest::multipart::Part::bytes(bundle).file_name("bundle.tar.gz"),
        );
    let res = s
        .http
        .post(s.api("/models"))
        .bearer_auth(&s.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let (status, published) = read(res).await;
    assert_eq!(status, StatusCode::CREATED, "{published}");
    assert_error(
        &s.get("/models/alice/echo").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let (_, model) = s
        .call(Method::GET, "/models/alice/echo", Some(&s.token), None)
        .await;
    assert_eq!(model["visibility"], "private");
}

#[tokio::test]
async fn tokens_are_scoped_expire_and_are_revoked_at_once() {
    let s = Server::start().await;
    let alice = s.token.as_str();
    let (status, me) = s.call(Method::GET, "/me", Some(alice), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["role"], "developer");
    assert_eq!(me["scopes"], json!(["publish", "run"]));

    // A token makes tokens that may do no more than itself.
    let run_only = s.token_for("alice", Role::Developer, "run").await;
    let got = s
        .call(
            Method::POST,
            "/tokens",
            Some(&run_only),
            Some(json!({"scopes": ["publish"]})),
        )
        .await;
    assert_error(&got, StatusCode::FORBIDDEN, "forbidden");
    let got = s
        .call(
            Method::POST,
            "/tokens",
            Some(alice),
            Some(json!({"scopes": ["admin"]})),
        )
        .await;
    assert_error(&got, StatusCode::FORBIDDEN, "forbidden");
    for bad in [
        json!({"scopes": []}),
        json!({"scopes": ["sudo"]}),
        json!({"scopes": ["run"], "expires_in_days": 0}),
        json!({"scopes": ["run"], "label": ""}),
        json!({"scopes": ["run"], "colour": "red"}),
    ] {
        let got = s
            .call(Method::POST, "/tokens", Some(alice), Some(bad.clone()))
            .await;
        assert_error(&got, StatusCode::BAD_REQUEST, "bad_request");
    }
    // Someone else's tokens are not theirs to make, list or revoke.
    let got = s
        .call(
            Method::POST,
            "/tokens",
            Some(alice),
            Some(json!({"user": "bob", "scopes": ["run"]})),
        )
        .await;
    assert_error(&got, StatusCode::FORBIDDEN, "forbidden");
    assert_error(
        &s.call(Method::GET, "/tokens?user=bob", Some(alice), None)
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );

    let (status, made) = s
        .call(
            Method::POST,
            "/tokens",
            Some(alice),
            Some(json!({"scopes": ["run"], "expires_in_days": 1, "label": "laptop"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let short = made["token"].as_str().unwrap().to_owned();
    assert!(
        short.starts_with("ftr_") && made["expires_at"].is_string(),
        "{made}"
    );
    // A token that expires cannot make one that outlives it; by default its tokens expire with it.
    let got = s
        .call(
            Method::POST,
            "/tokens",
            Some(&short),
            Some(json!({"scopes": ["run"], "expires_in_days": 2})),
        )
        .await;
    assert_error(&got, StatusCode::FORBIDDEN, "forbidden");
    let (status, child) = s
        .call(
            Method::POST,
            "/tokens",
            Some(&short),
            Some(json!({"scopes": ["run"]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{child}");
    assert_eq!(child["expires_at"], made["expires_at"]);
    let (status, list) = s.call(Method::GET, "/tokens", Some(alice), None).await;
    assert_eq!(status, StatusCode::OK);
    let listed = list["tokens"].as_array().unwrap();
    assert_eq!(listed.len(), 4, "{list}");
    assert!(
        listed
            .iter()
            .all(|t| t["user"] == "alice" && t.get("token").is_none() && t.get("hash").is_none())
    );
    assert_eq!(listed[1]["label"], "laptop");

    // bob cannot learn that alice's token exists, nor revoke it.
    let id = made["id"].as_i64().unwrap();
    let other = s.other.as_str();
    assert_error(
        &s.call(Method::DELETE, &format!("/tokens/{id}"), Some(other), None)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_eq!(
        s.call(Method::GET, "/me", Some(&short), None).await.0,
        StatusCode::OK
    );
    let (status, revoked) = s
        .call(Method::DELETE, &format!("/tokens/{id}"), Some(alice), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(revoked["revoked_at"].is_string(), "{revoked}");
    let e = assert_error(
        &s.call(Method::GET, "/me", Some(&short), None).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    assert!(e["message"].as_str().unwrap().contains("revoked"), "{e}");
    // Running with a revoked token is refused too, not taken as anonymous.
    assert_error(
        &s.predict_echo("none", Some(&short)).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );

    // Expiry: a token made to expire two seconds from now stops working. Expiry is in whole
    // seconds: one second ahead may already be past when the first check runs.
    let new = feather_store::NewToken {
        user: "alice".into(),
        scopes: feather_store::Scope::parse_list("run").unwrap(),
        expires_at: Some(feather_store::accounts::unix_now() + 2),
        label: None,
    };
    let (soon, _) = s.registry.create_token("local:test", &new).await.unwrap();
    assert_eq!(
        s.call(Method::GET, "/me", Some(&soon), None).await.0,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let e = assert_error(
        &s.call(Method::GET, "/me", Some(&soon), None).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    assert!(e["message"].as_str().unwrap().contains("expired"), "{e}");
}

#[tokio::test]
async fn only_admins_manage_users_and_a_demoted_admin_loses_the_scope() {
    let s = Server::start().await;
    let alice = s.token.as_str();
    let root = s.token_for("root", Role::Admin, "publish,run,admin").await;
    let root_plain = s.token_for("root", Role::Admin, "publish,run").await;
    for token in [alice, root_plain.as_str()] {
        assert_error(
            &s.call(Method::GET, "/users", Some(token), None).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
        let got = s
            .call(
                Method::POST,
                "/users",
                Some(token),
                Some(json!({"name": "mallory", "role": "admin"})),
            )
            .await;
        assert_error(&got, StatusCode::FORBIDDEN, "forbidden");
    }
    assert_error(
        &s.call(Method::GET, "/users", None, None).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );

    let (status, dave) = s
        .call(
            Method::POST,
            "/users",
            Some(&root),
            Some(json!({"name": "dave"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{dave}");
    assert_eq!(dave["role"], "developer");
    assert_error(
        &s.call(
            Method::POST,
            "/users",
            Some(&root),
            Some(json!({"name": "dave"})),
        )
        .await,
        StatusCode::CONFLICT,
        "conflict",
    );
    assert_error(
        &s.call(
            Method::POST,
            "/users",
            Some(&root),
            Some(json!({"name": "Dave!"})),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    // An admin makes tokens for others, within their role.
    let got = s
        .call(
            Method::POST,
            "/tokens",
            Some(&root),
            Some(json!({"user": "dave", "scopes": ["admin"]})),
        )
        .await;
    assert_error(&got, StatusCode::FORBIDDEN, "forbidden");
    let (status, made) = s
        .call(
            Method::POST,
            "/tokens",
            Some(&root),
            Some(json!({"user": "dave", "scopes": ["publish", "run"]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let (_, me) = s
        .call(Method::GET, "/me", made["token"].as_str(), None)
        .await;
    assert_eq!(me["user"], "dave");

    // Promote dave, give him an admin token, then demote him: the token loses the scope at once.
    let got = s
        .call(
            Method::PATCH,
            "/users/dave",
            Some(&root),
            Some(json!({"role": "admin"})),
        )
        .await;
    assert_eq!(got.0, StatusCode::OK, "{}", got.1);
    let (_, made) = s
        .call(
            Method::POST,
            "/tokens",
            Some(&root),
            Some(json!({"user": "dave", "scopes": ["admin"]})),
        )
        .await;
    let dave_admin = made["token"].as_str().unwrap().to_owned();
    assert_eq!(
        s.call(Method::GET, "/users", Some(&dave_admin), None)
            .await
            .0,
        StatusCode::OK
    );
    let got = s
        .call(
            Method::PATCH,
            "/users/dave",
            Some(&root),
            Some(json!({"role": "developer"})),
        )
        .await;
    assert_eq!(got.0, StatusCode::OK);
    assert_error(
        &s.call(Method::GET, "/users", Some(&dave_admin), None).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let (_, me) = s.call(Method::GET, "/me", Some(&dave_admin), None).await;
    assert_eq!(me["scopes"], json!([]));
    assert_error(
        &s.call(
            Method::PATCH,
            "/users/nobody",
            Some(&root),
            Some(json!({"role": "admin"})),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    // An admin lists and revokes anyone's tokens.
    let (status, list) = s
        .call(Method::GET, "/tokens?user=alice", Some(&root), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let id = list["tokens"][0]["id"].as_i64().unwrap();
    assert_eq!(
        s.call(Method::DELETE, &format!("/tokens/{id}"), Some(&root), None)
            .await
            .0,
        StatusCode::OK
    );
    assert_error(
        &s.call(Method::GET, "/me", Some(alice), None).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
}

#[tokio::test]
async fn the_audit_log_records_each_change_and_shows_people_their_own() {
    let s = Server::start().await;
    let alice = s.token.as_str();
    let bob = s.other.as_str();
    let root = s.token_for("root", Role::Admin, "publish,run,admin").await;
    let bundle = || {
        crate::context::Tar::new()
            .file("app.py", ECHO.as_bytes())
            .gz()
    };
    assert_eq!(
        s.publish(&echo_manifest(), bundle()).await.0,
        StatusCode::CREATED
    );
    assert_eq!(
        s.publish(&echo_manifest(), bundle()).await.0,
        StatusCode::CREATED
    );
    let steps: [(Method, &str, &str, Option<Value>); 6] = [
        (
            Method::PUT,
            "/models/alice/echo/aliases/prod",
            alice,
            Some(json!({"version": 1})),
        ),
        (
            Method::PATCH,
            "/models/alice/echo",
            alice,
            Some(json!({"visibility": "private"})),
        ),
        (Method::PUT, "/models/alice/echo/grants/bob", alice, None),
        (Method::DELETE, "/models/alice/echo/grants/bob", alice, None),
        (Method::DELETE, "/models/alice/echo/versions/2", &root, None),
        (
            Method::POST,
            "/tokens",
            bob,
            Some(json!({"scopes": ["run"]})),
        ),
    ];
    for (method, path, token, body) in steps {
        let got = s.call(method, path, Some(token), body).await;
        assert!(got.0.is_success(), "{path}: {got:?}");
    }
    // Refused changes leave no entry.
    let _ = s
        .call(Method::DELETE, "/models/alice/echo", Some(bob), None)
        .await;
    let _ = s
        .call(
            Method::PUT,
            "/models/alice/echo/aliases/latest",
            Some(alice),
            Some(json!({"version": 1})),
        )
        .await;

    let (status, log) = s.call(Method::GET, "/audit", Some(&root), None).await;
    assert_eq!(status, StatusCode::OK, "{log}");
    let seen: Vec<(String, String, String)> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .map(|e| {
            (
                e["actor"].as_str().unwrap().to_owned(),
                e["action"].as_str().unwrap().to_owned(),
                e["target"].as_str().unwrap().to_owned(),
            )
        })
        .filter(|(actor, ..)| actor != "local:test")
        .collect();
    let want = [
        ("alice", "model.publish", "alice/echo@1"),
        ("alice", "model.publish", "alice/echo@2"),
        ("alice", "alias.set", "alice/echo@prod"),
        ("alice", "model.visibility", "alice/echo"),
        ("alice", "grant.add", "alice/echo"),
        ("alice", "grant.remove", "alice/echo"),
        ("root", "version.delete", "alice/echo@2"),
        ("bob", "token.create", ""),
    ];
    assert_eq!(seen.len(), want.len(), "{seen:?}");
    for (got, want) in seen.iter().zip(want) {
        assert_eq!(
            (got.0.as_str(), got.1.as_str()),
            (want.0, want.1),
            "{seen:?}"
        );
        if !want.2.is_empty() {
            assert_eq!(got.2, want.2);
        }
    }

    // Others read what they did and what concerned them, nothing else.
    let (status, mine) = s.call(Method::GET, "/audit", Some(bob), None).await;
    assert_eq!(status, StatusCode::OK);
    let mine = mine["entries"].as_array().unwrap();
    assert!(!mine.is_empty());
    assert!(
        mine.iter()
            .all(|e| e["actor"] == "bob" || e["owner"] == "bob"),
        "{mine:?}"
    );
    let (_, only) = s
        .call(Method::GET, "/audit?action=grant.add", Some(&root), None)
        .await;
    assert_eq!(only["entries"].as_array().unwrap().len(), 1, "{only}");
    assert_eq!(only["entries"][0]["details"]["user"], "bob");
    let (_, page) = s
        .call(Method::GET, "/audit?limit=2", Some(&root), None)
        .await;
    let before = page["next_before"].as_i64().unwrap();
    let (_, next) = s
        .call(
            Method::GET,
            &format!("/audit?limit=2&before={before}"),
            Some(&root),
            None,
        )
        .await;
    assert!(next["entries"][0]["id"].as_i64().unwrap() < before);
    assert_error(
        &s.call(Method::GET, "/audit?action=model.steal", Some(&root), None)
            .await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_error(
        &s.call(Method::GET, "/audit?limit=0", Some(&root), None)
            .await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_error(
        &s.call(Method::GET, "/audit", None, None).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
}

#[tokio::test]
async fn no_token_is_stored_in_clear() {
    let s = Server::start().await;
    let (_, made) = s
        .call(
            Method::POST,
            "/tokens",
            Some(&s.token),
            Some(json!({"scopes": ["run"], "label": "ci"})),
        )
        .await;
    let tokens = [
        s.token.clone(),
        s.other.clone(),
        made["token"].as_str().unwrap().to_owned(),
    ];
    // Every byte the data folder holds (the SQLite database, its write-ahead log, blobs), and
    // every row of the registry when it is on PostgreSQL.
    let mut bytes = s.registry_text().await.into_bytes();
    for f in crate::context::files_below(s.data.path()) {
        bytes.extend(std::fs::read(&f).unwrap_or_default());
    }
    let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    // What is stored of a token, its prefix, is in what was read: the registry was read.
    assert!(
        tokens.iter().all(|t| has(&t.as_bytes()[..10])),
        "the registry's rows are not in what was read"
    );
    let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    for t in &tokens {
        assert!(!has(t.as_bytes()), "a token is stored in clear");
        // Its secret part, hex, in case a prefix were stored apart.
        assert!(
            !has(&t.as_bytes()[10..]),
            "a token's secret is stored in clear"
        );
    }
    use sha2::Digest;
    let digest = format!("{:x}", sha2::Sha256::digest(tokens[2].as_bytes()));
    assert!(
        has(digest.as_bytes()),
        "the token's hash was not found: is the test reading the database?"
    );
}
