//! Deleting, searching and describing.

use reqwest::StatusCode;
use serde_json::json;

use crate::context::{Server, Tar, app_bundle, assert_error, manifest};

#[tokio::test]
async fn only_the_owner_deletes_and_latest_moves_back() {
    let s = Server::start().await;
    s.publish(&manifest("m"), app_bundle()).await;
    s.publish(&manifest("m"), Tar::new().file("app.py", b"v2").gz())
        .await;
    assert_eq!(s.files("blobs").len(), 2);
    assert_error(
        &s.delete("/models/alice/m/versions/2", None).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    assert_error(
        &s.delete("/models/alice/m/versions/2", Some(&s.other)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &s.delete("/models/alice/m", Some(&s.other)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_eq!(
        s.get("/models/alice/m").await.1["versions"],
        2,
        "a refused delete changes nothing"
    );

    assert_eq!(
        s.delete("/models/alice/m/versions/2", Some(&s.token))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    let (_, model) = s.get("/models/alice/m").await;
    assert_eq!(model["latest_version"], 1);
    assert_eq!(s.files("blobs").len(), 1, "the unused bundle is gone");
    // Numbers are never reused.
    assert_eq!(
        s.publish(&manifest("m"), app_bundle()).await.1["version"],
        3
    );
    assert_error(
        &s.delete("/models/alice/m/versions/2", Some(&s.token)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    assert_eq!(
        s.delete("/models/alice/m", Some(&s.token)).await.0,
        StatusCode::NO_CONTENT
    );
    assert_error(
        &s.get("/models/alice/m").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    s.assert_empty("deleted model").await;
}

#[tokio::test]
async fn a_bundle_another_model_uses_survives_a_delete() {
    let s = Server::start().await;
    s.publish(&manifest("a"), app_bundle()).await;
    s.publish(&manifest("b"), app_bundle()).await;
    assert_eq!(
        s.delete("/models/alice/a", Some(&s.token)).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(s.files("blobs").len(), 1);
    let res = s
        .http
        .get(s.api("/models/alice/b/versions/1/bundle"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn search_by_words_tag_owner_and_page() {
    let s = Server::start().await;
    for (name, tag, description) in [
        ("digits", "vision", "Handwritten digits"),
        ("iris", "tabular", "Flowers"),
        ("review", "vision", "Check labels"),
    ] {
        let mut m = manifest(name);
        m["tags"] = json!([tag]);
        m["description"] = json!(description);
        s.publish(&m, app_bundle()).await;
    }
    let names = |v: &serde_json::Value| -> Vec<String> {
        let mut n: Vec<String> = v["models"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["name"].as_str().unwrap().to_owned())
            .collect();
        n.sort();
        n
    };
    assert_eq!(names(&s.get("/models?q=handwritten").await.1), ["digits"]);
    assert_eq!(
        names(&s.get("/models?tag=vision").await.1),
        ["digits", "review"]
    );
    assert_eq!(
        names(&s.get("/models?owner=bob").await.1),
        Vec::<String>::new()
    );
    let (_, page) = s.get("/models?per_page=2&page=2").await;
    assert_eq!(page["total"], 3);
    assert_eq!(page["models"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_openapi_document_describes_every_route_and_the_manifest() {
    let s = Server::start().await;
    let doc: serde_json::Value = s
        .http
        .get(format!("{}/api/openapi.json", s.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/api/v1/models",
        "/api/v1/models/{owner}/{name}",
        "/api/v1/models/{owner}/{name}/versions",
        "/api/v1/models/{owner}/{name}/versions/{version}",
        "/api/v1/models/{owner}/{name}/versions/{version}/bundle",
        "/healthz",
        "/readyz",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is missing");
    }
    assert!(
        doc["paths"]["/api/v1/models"]["post"]["requestBody"]["content"]["multipart/form-data"]
            .is_object()
    );
    for schema in [
        "Manifest",
        "Component",
        "Props",
        "FileRef",
        "ErrorBody",
        "Model",
        "VersionDetail",
        "PublishResponse",
    ] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "{schema} is missing"
        );
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["token"]["scheme"],
        "bearer"
    );
}
