//! Blobs on a real S3-compatible server (SeaweedFS, `scripts/seaweedfs.sh`, named by
//! `FEATHER_TEST_S3` with the `AWS_*` variables pointing at it, as `scripts/test` sets them):
//! the whole cycle of publish, run, upload, expiry, delete and collection keeps the data folder
//! free of blobs and leaves the bucket empty.

use std::time::{Duration, Instant};

use feather_service::exec::files::FilePolicy;
use feather_store::{BlobPlace, Blobs};
use reqwest::StatusCode;
use reqwest::multipart::Part;
use serde_json::{Value, json};

use crate::context::Server;
use crate::runs::{FILES_APP, manifest};

/// A prefix of its own in the test run's bucket (`feather`, which `scripts/seaweedfs.sh`
/// makes: each bucket costs SeaweedFS volumes of its own).
pub(crate) fn bucket() -> BlobPlace {
    std::env::var("FEATHER_TEST_S3")
        .expect("FEATHER_TEST_S3 names the S3 server for these tests: run scripts/test");
    format!("s3://feather/{}/blobs", feather_store::new_id("t-"))
        .parse()
        .unwrap()
}

/// The digests in the bucket, read through a store of its own.
async fn stored(place: &BlobPlace) -> Vec<String> {
    let scratch = tempfile::tempdir().unwrap();
    let blobs = Blobs::open(place, scratch.path()).unwrap();
    let mut digests: Vec<String> = blobs
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|(d, _)| d)
        .collect();
    digests.sort();
    digests
}

#[tokio::test]
async fn publish_run_upload_delete_and_collect_on_s3() {
    let place = bucket();
    let s = Server::start_with_blobs(place.clone(), |s| {
        s.with_files(FilePolicy {
            ttl: Duration::from_secs(2),
            collect_every: Duration::from_millis(300),
            fresh: Duration::ZERO,
            ..FilePolicy::default()
        })
    })
    .await;
    let model = manifest(
        "files",
        json!([{"id": "files", "type": "File.Upload", "types": [".csv", "text/plain"], "max_files": 2, "max_size": 100}]),
        &["count"],
    );
    // The worker's bundle comes from the bucket: nothing is in the data folder to read.
    s.publish_app(&model, FILES_APP).await;
    let (_, version) = s.get("/models/alice/files/versions/1").await;
    assert_eq!(
        stored(&place).await,
        vec![version["digest"].as_str().unwrap().to_owned()]
    );
    assert!(s.files("blobs").is_empty(), "{:?}", s.files("blobs"));

    // An upload goes in, a step reads it and writes a file; both come back whole.
    let csv = Part::bytes(b"x,y\n1,2\n".to_vec())
        .file_name("u.csv")
        .mime_str("text/csv")
        .unwrap();
    let (status, upload) = s.upload(csv, None).await;
    assert_eq!(status, StatusCode::CREATED, "{upload}");
    let (status, out) = s
        .post(
            "/models/alice/files/predict",
            json!({"inputs": {"files": [{"id": upload["id"]}]}}),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let report = out["outputs"][0]["files"][0]["id"].as_str().unwrap();
    let got = s
        .http
        .get(s.api(&format!("/files/{report}")))
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(got.text().await.unwrap(), "u.csv,text/csv,8");
    let bundle = s
        .http
        .get(s.api("/models/alice/files/versions/1/bundle"))
        .send()
        .await
        .unwrap();
    assert_eq!(bundle.status(), StatusCode::OK);
    // Past the part size, an upload goes up in parts and comes back whole.
    let big: Vec<u8> = (0..20u32 << 20).map(|i| (i % 251) as u8).collect();
    let (status, large) = s
        .upload(Part::bytes(big.clone()).file_name("big.bin"), None)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{large}");
    let back = s
        .http
        .get(s.api(&format!("/files/{}", large["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(back == big, "the large file came back changed");
    assert!(
        stored(&place).await.len() >= 4,
        "bundle, uploads and report"
    );
    assert!(s.files("blobs").is_empty(), "{:?}", s.files("blobs"));

    // The model goes, and with the files' time past, the collector empties the bucket.
    assert_eq!(
        s.delete("/models/alice/files", Some(&s.token)).await.0,
        StatusCode::NO_CONTENT
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left: Vec<String> = stored(&place).await;
        if left.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "left in the bucket: {left:?}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let gone: (StatusCode, Value) = s.get(&format!("/files/{report}")).await;
    assert_eq!(gone.0, StatusCode::NOT_FOUND, "{:?}", gone.1);
}

#[tokio::test]
async fn a_server_starting_on_shared_blobs_leaves_what_another_may_be_publishing() {
    let place = bucket();
    // Bytes another replica stored a moment ago, its version not recorded yet.
    let scratch = tempfile::tempdir().unwrap();
    let other = Blobs::open(&place, scratch.path()).unwrap();
    let bytes = bytes::Bytes::from_static(b"a bundle on its way");
    let digest = feather_store::blobs::digest_bytes(&bytes);
    other.put_bytes(&digest, bytes).await.unwrap();
    let _s = Server::start_with_blobs(place.clone(), |s| s).await;
    assert_eq!(stored(&place).await, vec![digest]);
}
