use reqwest::StatusCode;
use serde_json::json;

use crate::context::{Server, Tar, app_bundle, manifest};

#[tokio::test]
async fn publishing_twice_gives_versions_1_and_2_and_stores_the_bundle_once() {
    let s = Server::start().await;
    let (status, first) = s.publish(&manifest("echo"), app_bundle()).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["model"], "alice/echo");
    assert_eq!(first["version"], 1);
    assert_eq!(first["deduplicated"], false);
    assert!(
        first["url"]
            .as_str()
            .unwrap()
            .ends_with("/api/v1/models/alice/echo")
    );
    let (_, second) = s.publish(&manifest("echo"), app_bundle()).await;
    assert_eq!(second["version"], 2);
    assert_eq!(second["digest"], first["digest"]);
    assert_eq!(second["deduplicated"], true);
    assert_eq!(s.files("blobs").len(), 1, "the bundle is stored once");

    let (_, list) = s.get("/models/alice/echo/versions").await;
    let numbers: Vec<i64> = list["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [2, 1]);
    let (_, model) = s.get("/models/alice/echo").await;
    assert_eq!(model["latest_version"], 2);
    assert_eq!(model["aliases"], json!({"latest": 2}));
    assert_eq!(model["versions"], 2);
    assert_eq!(model["title"], "The echo model");
}

#[tokio::test]
async fn the_same_bundle_is_shared_across_models_and_a_new_one_is_added() {
    let s = Server::start().await;
    s.publish(&manifest("one"), app_bundle()).await;
    let (_, two) = s.publish(&manifest("two"), app_bundle()).await;
    assert_eq!(two["deduplicated"], true);
    assert_eq!(s.files("blobs").len(), 1);
    let other = Tar::new().file("app.py", b"print('changed')\n").gz();
    let (_, three) = s.publish(&manifest("one"), other).await;
    assert_eq!(three["version"], 2);
    assert_eq!(three["deduplicated"], false);
    assert_eq!(s.files("blobs").len(), 2);
}

#[tokio::test]
async fn a_version_returns_its_canonical_manifest_and_its_bundle() {
    let s = Server::start().await;
    let mut m = manifest("digits");
    m["provenance"]["git"] = json!({"commit": "abc123", "branch": "main", "dirty": true});
    let bundle = app_bundle();
    s.publish(&m, bundle.clone()).await;
    for reference in ["1", "latest"] {
        let (status, v) = s
            .get(&format!("/models/alice/digits/versions/{reference}"))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(v["version"], 1);
        assert_eq!(v["bundle_files"], 2);
        assert_eq!(v["manifest"]["provenance"]["git"]["dirty"], true);
        // Defaults are filled in: what the server stores is canonical.
        assert_eq!(v["manifest"]["init"][0]["max_chars"], 10000);
        assert_eq!(v["manifest"]["steps"][0]["title"], "run");
    }
    let res = s
        .http
        .get(s.api("/models/alice/digits/versions/1/bundle"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "application/gzip");
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("digits-1.tar.gz")
    );
    assert_eq!(res.bytes().await.unwrap().to_vec(), bundle);
}

#[tokio::test]
async fn a_zstd_bundle_is_accepted() {
    let s = Server::start().await;
    let tar = Tar::new().file("app.py", b"x = 1\n").tar();
    let zst = zstd::encode_all(&tar[..], 3).unwrap();
    let (status, body) = s.publish(&manifest("z"), zst).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let res = s
        .http
        .get(s.api("/models/alice/z/versions/1/bundle"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "application/zstd");
}

/// Bytes already stored are not stored again: a publish of them relies on the blob that holds
/// them. Deleting the only version that holds them at the same moment must not remove the
/// blob under the new version.
#[tokio::test]
async fn a_publish_reusing_a_bundle_keeps_it_while_its_last_holder_is_deleted() {
    let s = Server::start().await;
    let m = manifest("race");
    let bundle = app_bundle();
    let (status, first) = s.publish(&m, bundle.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let mut held = first["version"].as_i64().unwrap();
    for round in 0..60u64 {
        let delete = async {
            // The publish's upload and checks come first; the delete lands across them.
            tokio::time::sleep(std::time::Duration::from_micros(round % 20 * 250)).await;
            s.delete(
                &format!("/models/alice/race/versions/{held}"),
                Some(&s.token),
            )
            .await
        };
        let (published, deleted) = tokio::join!(s.publish(&m, bundle.clone()), delete);
        assert_eq!(published.0, StatusCode::CREATED, "{}", published.1);
        assert_eq!(deleted.0, StatusCode::NO_CONTENT, "{}", deleted.1);
        held = published.1["version"].as_i64().unwrap();
        let got = s
            .http
            .get(s.api(&format!("/models/alice/race/versions/{held}/bundle")))
            .send()
            .await
            .unwrap();
        assert_eq!(
            got.status(),
            StatusCode::OK,
            "round {round}: version {held}'s bundle went with the version deleted beside it"
        );
        assert_eq!(s.files("blobs").len(), 1, "round {round}");
    }
}
