//! What is said twice: a part given twice, a key given twice, and requests of endless parts
//! are refused, so that what the server checked is what runs.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::json;

use crate::context::{Server, app_bundle, assert_error, manifest, read};
use crate::runs::FILES_APP;

#[tokio::test]
async fn a_publish_with_a_part_twice_or_a_key_twice_is_refused() {
    let s = Server::start().await;
    let m = manifest("twice").to_string().into_bytes();
    for (case, form) in [
        (
            "manifest",
            Form::new()
                .part("manifest", Part::bytes(m.clone()))
                .part("manifest", Part::bytes(m.clone()))
                .part("bundle", Part::bytes(app_bundle())),
        ),
        (
            "bundle",
            Form::new()
                .part("manifest", Part::bytes(m.clone()))
                .part("bundle", Part::bytes(app_bundle()))
                .part("bundle", Part::bytes(app_bundle())),
        ),
    ] {
        let r = s
            .http
            .post(s.api("/models"))
            .bearer_auth(&s.token)
            .multipart(form);
        let got = read(r.send().await.unwrap()).await;
        let e = assert_error(&got, StatusCode::BAD_REQUEST, "bad_request");
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .contains(&format!("`{case}` is given twice")),
            "{e}"
        );
        s.assert_empty(case).await;
    }
    // A manifest naming a key twice: which name did the author mean?
    let text = manifest("twice").to_string().replacen(
        "\"name\":\"twice\"",
        "\"name\":\"twice\",\"name\":\"other\"",
        1,
    );
    assert!(text.contains("\"other\""), "{text}");
    let got = s
        .publish_raw(Some(&s.token), Some(text.into_bytes()), Some(app_bundle()))
        .await;
    let e = assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "invalid_manifest");
    assert_eq!(e["details"]["problems"][0]["path"], "/name", "{e}");
    s.assert_empty("a key twice").await;
}

#[tokio::test]
async fn inputs_with_a_key_twice_an_inputs_part_twice_or_endless_parts_are_refused() {
    let s = Server::start().await;
    let m = crate::runs::manifest(
        "files",
        json!([{"id": "files", "type": "File.Upload", "types": [".csv", "text/plain"], "max_files": 2, "max_size": 100}]),
        &["count"],
    );
    s.publish_app(&m, FILES_APP).await;
    let url = s.api("/models/alice/files/predict");
    let body = r#"{"inputs": {"files": [], "files": [{"data": "data:text/csv;base64,YQo=", "name": "a.csv"}]}}"#;
    let r = s
        .http
        .post(&url)
        .header("content-type", "application/json")
        .body(body);
    let got = read(r.send().await.unwrap()).await;
    let e = assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "invalid_inputs");
    assert_eq!(e["details"]["problems"][0]["path"], "/inputs/files", "{e}");

    let inputs = || Part::text(r#"{"files": []}"#);
    let form = Form::new()
        .part("inputs", inputs())
        .part("inputs", inputs());
    let got = read(s.http.post(&url).multipart(form).send().await.unwrap()).await;
    let e = assert_error(&got, StatusCode::BAD_REQUEST, "bad_request");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("`inputs` is given twice"),
        "{e}"
    );

    let part = r#"{"files": [], "files": []}"#;
    let form = Form::new().part("inputs", Part::text(part));
    let got = read(s.http.post(&url).multipart(form).send().await.unwrap()).await;
    let e = assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "invalid_inputs");
    assert_eq!(e["details"]["problems"][0]["path"], "/inputs/files", "{e}");

    let mut form = Form::new();
    for _ in 0..5000 {
        form = form.part("files", Part::bytes(b"a\n".to_vec()).file_name("a.csv"));
    }
    let got = read(s.http.post(&url).multipart(form).send().await.unwrap()).await;
    let e = assert_error(&got, StatusCode::BAD_REQUEST, "bad_request");
    assert!(
        e["message"].as_str().unwrap().contains("at most 256 parts"),
        "{e}"
    );
}
