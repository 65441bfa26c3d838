//! The runner's disk: unpacked bundles of deleted versions go with them, and the cache of
//! bundles and environments is held to its cap, least recently used first, never what a live
//! worker uses.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use feather_runner::pool::PoolLimits;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::context::Server;
use crate::runs::manifest;

const APP: &str = r#"
import feather as ftr


@ftr.step
def run(text):
    return ftr.Text.View(text=text)


ftr.build("NAME", init=[ftr.Text.In(id="text")], steps=[run])
"#;

/// A `.tar.zst` of a few kilobytes that unpacks to `mib` MiB: the app and a file of zeros.
fn swelling_bundle(name: &str, mib: usize) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    let app = APP.replace("NAME", name);
    for (path, data) in [
        ("app.py", app.into_bytes()),
        ("weights.bin", vec![0u8; mib << 20]),
    ] {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        tar.append_data(&mut h, path, data.as_slice()).unwrap();
    }
    let mut z = zstd::stream::write::Encoder::new(Vec::new(), 19).unwrap();
    z.write_all(&tar.into_inner().unwrap()).unwrap();
    z.finish().unwrap()
}

fn model(name: &str, requirement: Option<&str>) -> Value {
    let mut m = manifest(name, json!([{"id": "text", "type": "Text.In"}]), &["run"]);
    m["runtime"]["requirements"] = json!(requirement.into_iter().collect::<Vec<_>>());
    m
}

impl Server {
    /// Publishes and predicts until the answer comes (the environment may be building).
    async fn publish_and_run(&self, m: &Value, bundle: Vec<u8>) -> String {
        let (status, body) = self.publish(m, bundle).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        self.run_until_ok(m["name"].as_str().unwrap()).await;
        body["digest"]
            .as_str()
            .unwrap()
            .trim_start_matches("sha256:")
            .to_owned()
    }

    async fn run_until_ok(&self, name: &str) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let (status, out) = self
                .post(
                    &format!("/models/alice/{name}/predict"),
                    json!({"inputs": {"text": "hi"}}),
                    None,
                )
                .await;
            if status == StatusCode::OK {
                return;
            }
            assert_eq!(status, StatusCode::CONFLICT, "{out}");
            assert!(Instant::now() < deadline, "{name} never ran: {out}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    fn unpacked(&self, hex: &str) -> PathBuf {
        self.data.path().join("runner/bundles").join(hex)
    }
}

#[tokio::test]
async fn a_deleted_version_s_unpacked_bundle_is_removed_with_it() {
    let s = Server::start().await;
    let bundle = swelling_bundle("swell", 64);
    assert!(bundle.len() < 64 << 10, "{} bytes", bundle.len());
    let hex = s.publish_and_run(&model("swell", None), bundle).await;
    assert!(s.unpacked(&hex).join("weights.bin").is_file());
    let (status, _) = s.delete("/models/alice/swell", Some(&s.token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(
        !s.unpacked(&hex).exists(),
        "the unpacked bundle outlived its model"
    );

    // A bundle another version still uses stays unpacked.
    let bundle = swelling_bundle("twice", 1);
    let hex = s
        .publish_and_run(&model("twice", None), bundle.clone())
        .await;
    s.publish_and_run(&model("twice", None), bundle).await;
    let (status, _) = s
        .delete("/models/alice/twice/versions/1", Some(&s.token))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(s.unpacked(&hex).is_dir(), "version 2 still uses it");
}

#[tokio::test]
async fn the_runner_cache_keeps_to_its_cap_evicting_what_no_live_worker_uses() {
    let s = Server::start_with_runner(|c| feather_runner::RunnerConfig {
        cache_cap: Some(48 << 20),
        pool: PoolLimits {
            idle: Duration::ZERO,
            ..PoolLimits::default()
        },
        ..c
    })
    .await;
    let a = s
        .publish_and_run(&model("first", None), swelling_bundle("first", 30))
        .await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    // Another environment too, so that both kinds of entry are in the cache.
    let b = s
        .publish_and_run(&model("second", Some("six")), swelling_bundle("second", 30))
        .await;
    // Both have a live worker: nothing may go, however far over the cap.
    s.runner.keep_within_cap().await;
    assert!(s.unpacked(&a).is_dir() && s.unpacked(&b).is_dir());
    assert!(s.runner.cache_size().await > 48 << 20);
    // Once the idle workers have stopped, the least recently used goes, until it fits.
    s.runner.trim().await;
    s.runner.trim().await;
    assert!(!s.unpacked(&a).exists(), "the older bundle stayed");
    assert!(s.unpacked(&b).is_dir(), "the newer bundle went");
    assert!(
        s.runner.cache_size().await <= 48 << 20,
        "{}",
        s.runner.cache_size().await
    );
    // What was evicted is made again when it is needed.
    s.run_until_ok("first").await;
    assert!(s.unpacked(&a).is_dir());
}
