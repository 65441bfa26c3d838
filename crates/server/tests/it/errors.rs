//! Every bad input gets its status, the one error shape, a message a person can act on, and
//! leaves nothing behind.

use feather_store::BundleLimits;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tar::EntryType;

use crate::context::{Server, Tar, app_bundle, assert_error, manifest};

fn paths(e: &Value) -> Vec<&str> {
    e["details"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn an_invalid_manifest_is_refused_with_every_problem_path() {
    let s = Server::start().await;
    let mut m = manifest("Bad Name");
    m["init"] = json!([{"id": "f", "type": "File.Upload", "min_files": 3, "max_files": 1}]);
    m["steps"] = json!([]);
    let e = assert_error(
        &s.publish(&m, app_bundle()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_manifest",
    );
    assert_eq!(paths(&e), ["/name", "/init/0/max_files", "/steps"]);
    s.assert_empty("invalid manifest").await;
}

#[tokio::test]
async fn an_unknown_component_type_is_named() {
    let s = Server::start().await;
    let mut m = manifest("m");
    m["init"] = json!([{"id": "clip", "type": "Video.In"}]);
    let e = assert_error(
        &s.publish(&m, app_bundle()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_manifest",
    );
    assert_eq!(paths(&e), ["/init/0/type"]);
    assert!(
        e["details"]["problems"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("Video.In")
    );
    s.assert_empty("unknown component").await;
}

#[tokio::test]
async fn a_deployed_model_s_file_must_be_in_the_bundle() {
    let s = Server::start().await;
    let mut m = manifest("m");
    m["model"] = json!({
        "flavor": "sklearn",
        "framework": {"name": "scikit-learn", "version": "1.9.1"},
        "file": "model.skops",
        "format": "skops",
        "task": "regression",
        "signature": {"inputs": [{"name": "x", "type": "float64"}], "outputs": []},
        "served": {"reason": "asked to run with the framework"},
    });
    let e = assert_error(
        &s.publish(&m, app_bundle()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_manifest",
    );
    assert_eq!(paths(&e), ["/model/file"]);
    s.assert_empty("a missing model file").await;
}

#[tokio::test]
async fn the_entry_file_must_be_in_the_bundle() {
    let s = Server::start().await;
    let bundle = Tar::new().file("other.py", b"").gz();
    let e = assert_error(
        &s.publish(&manifest("m"), bundle).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_manifest",
    );
    assert_eq!(paths(&e), ["/runtime/entry"]);
    s.assert_empty("missing entry").await;
}

#[tokio::test]
async fn tokens_are_required_and_checked() {
    let s = Server::start().await;
    let m = Some(manifest("m").to_string().into_bytes());
    let no_token = s.publish_raw(None, m.clone(), Some(app_bundle())).await;
    assert_error(&no_token, StatusCode::UNAUTHORIZED, "unauthorized");
    let bad = s
        .publish_raw(Some("ftr_not_a_real_token"), m, Some(app_bundle()))
        .await;
    assert_error(&bad, StatusCode::UNAUTHORIZED, "unauthorized");
    s.assert_empty("bad token").await;
}

#[tokio::test]
async fn malformed_requests_get_400_or_415() {
    let s = Server::start().await;
    let m = Some(manifest("m").to_string().into_bytes());
    let t = Some(s.token.as_str());
    assert_error(
        &s.publish_raw(t, None, Some(app_bundle())).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_error(
        &s.publish_raw(t, m.clone(), None).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    let not_json = s
        .publish_raw(t, Some(b"{not json".to_vec()), Some(app_bundle()))
        .await;
    assert_error(&not_json, StatusCode::BAD_REQUEST, "bad_request");
    let not_archive = s
        .publish_raw(t, m.clone(), Some(b"PK\x03\x04 a zip file".to_vec()))
        .await;
    let e = assert_error(
        &not_archive,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    assert!(e["message"].as_str().unwrap().contains(".tar.gz"));
    let plain_tar = s
        .publish_raw(t, m.clone(), Some(Tar::new().file("app.py", b"").tar()))
        .await;
    assert_error(
        &plain_tar,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    // An empty part is no archive either.
    assert_error(
        &s.publish_raw(t, m.clone(), Some(Vec::new())).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    let json_body = s
        .http
        .post(s.api("/models"))
        .bearer_auth(&s.token)
        .json(&manifest("m"))
        .send()
        .await
        .unwrap();
    let got = crate::context::read(json_body).await;
    assert_error(
        &got,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    s.assert_empty("malformed").await;
}

#[tokio::test]
async fn unsafe_bundles_are_refused_naming_the_entry() {
    let s = Server::start().await;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "absolute path",
            Tar::new()
                .file("app.py", b"")
                .file("/etc/cron.d/x", b"")
                .gz(),
            "/etc/cron.d/x",
        ),
        (
            "parent folder",
            Tar::new().file("app.py", b"").file("a/../../x", b"").gz(),
            "a/../../x",
        ),
        (
            "symlink out",
            Tar::new()
                .file("app.py", b"")
                .entry("data/link", EntryType::Symlink, Some("../../etc/passwd"))
                .gz(),
            "data/link",
        ),
        (
            "absolute symlink",
            Tar::new()
                .file("app.py", b"")
                .entry("link", EntryType::Symlink, Some("/etc/passwd"))
                .gz(),
            "link",
        ),
        (
            "hard link out",
            Tar::new()
                .file("app.py", b"")
                .entry("h", EntryType::Link, Some("../x"))
                .gz(),
            "h",
        ),
        (
            "device",
            Tar::new()
                .file("app.py", b"")
                .entry("dev/sda", EntryType::Block, None)
                .gz(),
            "dev/sda",
        ),
        (
            "character device",
            Tar::new()
                .file("app.py", b"")
                .entry("null", EntryType::Char, None)
                .gz(),
            "null",
        ),
        (
            "fifo",
            Tar::new()
                .file("app.py", b"")
                .entry("pipe", EntryType::Fifo, None)
                .gz(),
            "pipe",
        ),
        (
            "two entries for one path",
            Tar::new()
                .file("app.py", b"print('checked')\n")
                .file("./app.py", b"print('run')\n")
                .gz(),
            "./app.py",
        ),
    ];
    for (case, bundle, entry) in cases {
        let e = assert_error(
            &s.publish(&manifest("m"), bundle).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unsafe_bundle",
        );
        assert_eq!(e["details"]["entry"], entry, "{case}");
        assert!(
            e["message"].as_str().unwrap().contains(entry),
            "{case}: {e}"
        );
        s.assert_empty(case).await;
    }
    // A link that stays inside is fine.
    let inside = Tar::new()
        .file("app.py", b"")
        .file("data/a", b"1")
        .entry("data/b", EntryType::Symlink, Some("a"))
        .gz();
    assert_eq!(
        s.publish(&manifest("m"), inside).await.0,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn oversized_bundles_and_bombs_are_stopped() {
    let limits = BundleLimits {
        max_upload: 64 << 10,
        max_unpacked: 1 << 20,
        max_files: 5,
    };
    let s = Server::start_with(limits).await;
    // Random bytes do not compress: 100 KiB over a 64 KiB upload limit.
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let noise: Vec<u8> = (0..100_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let big = Tar::new().file("app.py", b"").file("noise", &noise).gz();
    assert!(big.len() > 64 << 10);
    let e = assert_error(
        &s.publish(&manifest("m"), big).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
    );
    assert_eq!(e["details"]["limit"], 64 << 10);
    s.assert_empty("oversized upload").await;
    // 64 MiB of zeros packs into about 64 KiB; it must be stopped at the 1 MiB unpacked limit.
    let zeros = vec![0u8; 64 << 20];
    let bomb = Tar::new().file("app.py", b"").file("zeros", &zeros).gz();
    assert!(bomb.len() < 64 << 10, "the bomb is {} bytes", bomb.len());
    let e = assert_error(
        &s.publish(&manifest("m"), bomb).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
    );
    assert!(e["message"].as_str().unwrap().contains("unpacked"));
    s.assert_empty("bomb").await;
    let mut many = Tar::new().file("app.py", b"");
    for i in 0..10 {
        many = many.file(&format!("f{i}"), b"x");
    }
    assert_error(
        &s.publish(&manifest("m"), many.gz()).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
    );
    s.assert_empty("too many files").await;
}

#[tokio::test]
async fn unknown_things_are_404_in_the_error_shape() {
    let s = Server::start().await;
    assert_error(
        &s.get("/models/alice/nothing").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &s.get("/models/alice/nothing/versions").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    s.publish(&manifest("m"), app_bundle()).await;
    assert_error(
        &s.get("/models/alice/m/versions/9").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &s.get("/models/alice/m/versions/prod").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &s.get("/models/alice/m/versions/9/bundle").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &s.get("/no/such/route").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let res = s.http.put(s.api("/models")).send().await.unwrap();
    assert_error(
        &crate::context::read(res).await,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    );
    assert_error(
        &s.get("/models?page=0").await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_error(
        &s.get("/models?per_page=many").await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
}

#[tokio::test]
async fn a_bad_manifest_is_refused_before_its_bundle_is_received() {
    let s = Server::start_with(BundleLimits {
        max_upload: 1 << 10,
        ..BundleLimits::default()
    })
    .await;
    let mut m = manifest("m");
    m["steps"] = json!([]);
    // The bundle is over the upload limit: had it been read first, the answer would be 413.
    let got = s.publish(&m, vec![0x1f; 4 << 10]).await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "invalid_manifest");
    s.assert_empty("bad manifest first").await;
}

/// What the OpenAPI document allows is read: JSON Schema counts `2.0` as a whole number, and
/// out-of-range numbers in queries are refused like 0 is, not wrapped.
#[tokio::test]
async fn bodies_and_queries_are_read_as_the_document_describes_them() {
    let s = Server::start().await;
    let bundle = app_bundle();
    for _ in 0..2 {
        assert_eq!(
            s.publish(&manifest("m"), bundle.clone()).await.0,
            StatusCode::CREATED
        );
    }
    let prod = "/models/alice/m/aliases/prod";
    let t = Some(s.token.as_str());
    let (status, body) = s
        .call(Method::PUT, prod, t, Some(json!({"version": 2.0})))
        .await;
    assert_eq!(
        (status, body["version"].clone()),
        (StatusCode::OK, json!(2)),
        "{body}"
    );
    for bad in [json!(1.5), json!(-1e300), json!("2")] {
        let got = s
            .call(Method::PUT, prod, t, Some(json!({"version": bad})))
            .await;
        assert_error(&got, StatusCode::BAD_REQUEST, "bad_request");
    }
    for query in ["page=-1", "page=0", "per_page=101", "per_page=4294967297"] {
        let got = s.get(&format!("/models?{query}")).await;
        assert_error(&got, StatusCode::BAD_REQUEST, "bad_request");
    }
    // A token that is sent must be valid, on the file route as on every other.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(&b"hello"[..]).file_name("a.txt"),
    );
    let up = s
        .http
        .post(s.api("/files"))
        .bearer_auth(&s.token)
        .multipart(form);
    let up = crate::context::read(up.send().await.unwrap()).await;
    assert_eq!(up.0, StatusCode::CREATED, "{}", up.1);
    let id = up.1["id"].as_str().unwrap().to_owned();
    let got = s
        .http
        .get(s.api(&format!("/files/{id}")))
        .bearer_auth("ftr_not_a_token")
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), StatusCode::UNAUTHORIZED);
}
