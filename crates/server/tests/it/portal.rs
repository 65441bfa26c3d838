//! The portal's pages and assets, the routes it relies on, and a model's own OpenAPI document.

use reqwest::StatusCode;
use serde_json::json;

use crate::context::{Server, app_bundle, assert_error, manifest};

#[tokio::test]
async fn pages_answer_the_app_with_security_headers_and_assets_are_cached_for_good() {
    let s = Server::start().await;
    let mut asset = None;
    for path in ["/", "/m/alice/echo", "/m/alice/echo@2", "/r/r_abc", "/me"] {
        let res = s.http.get(format!("{}{path}", s.url)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let h = res.headers().clone();
        assert_eq!(h["content-type"], "text/html; charset=utf-8");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.starts_with("default-src 'self'"), "{csp}");
        assert_eq!(h["x-frame-options"], "DENY");
        let html = res.text().await.unwrap();
        assert!(html.contains("<noscript>"), "{path}");
        asset = html
            .split('"')
            .find(|p| p.starts_with("/assets/") && p.ends_with(".js"))
            .map(str::to_owned);
    }
    let asset = asset.expect("the page loads a script from /assets/");
    let res = s
        .http
        .get(format!("{}{asset}", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let missing = s
        .http
        .get(format!("{}/assets/nope.js", s.url))
        .send()
        .await
        .unwrap();
    assert_error(
        &crate::context::read(missing).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let other = s
        .http
        .get(format!("{}/elsewhere", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(
        other.status(),
        StatusCode::NOT_FOUND,
        "only the app's own paths are pages"
    );
}

#[tokio::test]
async fn me_names_the_token_s_user() {
    let s = Server::start().await;
    assert_error(
        &s.get("/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    let res = s
        .http
        .get(s.api("/me"))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    let (status, body) = crate::context::read(res).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["user"], "alice");
    assert_eq!(body["role"], "developer");
    assert_eq!(body["scopes"], json!(["publish", "run"]));
}

#[tokio::test]
async fn a_model_s_openapi_document_describes_its_own_inputs() {
    let s = Server::start().await;
    let mut one = manifest("one");
    one["init"] = json!([
        {"id": "text", "type": "Text.In", "title": "Text", "max_chars": 20},
        {"id": "photo", "type": "Image.Upload", "required": false},
        {"id": "note", "type": "Markdown.View", "text": "hi"}
    ]);
    let mut two = manifest("two");
    two["steps"] = json!([{"name": "first"}, {"name": "second"}]);
    for m in [&one, &two] {
        let (status, body) = s.publish(m, app_bundle()).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    let (status, doc) = s.get("/models/alice/one/openapi.json").await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["version"], "1");
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.contains_key("/api/v1/models/alice/one/predict"));
    let inputs = &doc["components"]["schemas"]["InitInputs"]["properties"]["inputs"];
    assert_eq!(inputs["required"], json!(["text"]));
    assert_eq!(
        inputs["properties"]["text"],
        json!({"type": "string", "maxLength": 20, "title": "Text"})
    );
    assert_eq!(
        inputs["properties"]["photo"]["$ref"],
        "#/components/schemas/FileRef"
    );
    assert!(
        inputs["properties"].get("note").is_none(),
        "views take no value"
    );
    let form = &paths["/api/v1/models/alice/one/runs"]["post"]["requestBody"]["content"]["multipart/form-data"];
    assert_eq!(form["schema"]["properties"]["photo"]["format"], "binary");
    assert!(
        doc["components"]["schemas"]["FileRef"].is_object(),
        "every $ref resolves"
    );

    let (_, doc) = s.get("/models/alice/two@latest/openapi.json").await;
    let paths = doc["paths"].as_object().unwrap();
    assert!(
        !paths.contains_key("/api/v1/models/alice/two/predict"),
        "two steps: runs only"
    );
    assert!(paths.contains_key("/api/v1/runs/{id}/steps"));
    assert_error(
        &s.get("/models/alice/three/openapi.json").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}

#[tokio::test]
async fn bundle_files_and_uploads_are_served_in_a_sandbox() {
    let s = Server::start().await;
    let (status, body) = s.publish(&manifest("pets"), app_bundle()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let base = s.api("/models/alice/pets/versions/1/files");
    let res = s
        .http
        .get(format!("{base}/model/weights.bin"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.starts_with("sandbox"), "{csp}");
    assert_eq!(res.bytes().await.unwrap().to_vec(), vec![7u8; 100]);
    for bad in [
        "nope.png",
        "%2e%2e/%2e%2e/feather.db",
        "model",
        "model/../../../feather.db",
    ] {
        let res = s.http.get(format!("{base}/{bad}")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{bad}");
    }

    let page = reqwest::multipart::Part::bytes(b"<script>alert(1)</script>".to_vec())
        .file_name("x.html")
        .mime_str("text/html")
        .unwrap();
    let res = s
        .http
        .post(s.api("/files"))
        .multipart(reqwest::multipart::Form::new().part("file", page))
        .send()
        .await
        .unwrap();
    let (status, f) = crate::context::read(res).await;
    assert_eq!(status, StatusCode::CREATED, "{f}");
    let res = s
        .http
        .get(s.api(&format!("/files/{}", f["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    let csp = res.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.starts_with("sandbox"),
        "an uploaded page must not run as this site: {csp}"
    );
}
