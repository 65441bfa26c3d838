//! Uploads: streamed to disk whatever their size, capped, rate-limited, held to a quota per
//! user or address, and collected when no run uses them; runs past their retention go too.

use std::time::Duration;

use feather_server::rate::RateConfig;
use feather_service::exec::files::FilePolicy;
use feather_store::Role;
use futures::StreamExt;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::context::{Server, assert_error};
use crate::runs::{FILES_APP, manifest};

const MIB: u64 = 1 << 20;

/// The process's peak resident memory so far, in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kb * 1024
}

/// A part of `len` bytes made as it is sent, never held whole.
fn streamed(len: u64) -> Part {
    let chunk = bytes::Bytes::from(vec![7u8; 64 << 10]);
    let n = len / chunk.len() as u64;
    let stream = futures::stream::iter((0..n).map(move |_| Ok::<_, std::io::Error>(chunk.clone())));
    Part::stream_with_length(reqwest::Body::wrap_stream(stream), n * (64 << 10))
        .file_name("big.bin")
}

impl Server {
    pub(crate) async fn upload(&self, part: Part, token: Option<&str>) -> (StatusCode, Value) {
        let mut r = self
            .http
            .post(self.api("/files"))
            .multipart(Form::new().part("file", part));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        crate::context::read(r.send().await.unwrap()).await
    }
}

fn mib(n: u64) -> Part {
    Part::bytes(vec![1u8; (n * MIB) as usize]).file_name("m.bin")
}

#[tokio::test]
async fn a_200_mib_upload_streams_to_disk_and_back_without_the_memory() {
    let s = Server::start_with_state(|s| {
        s.with_files(FilePolicy {
            max_file: 256 * MIB,
            quota: 512 * MIB,
            ..FilePolicy::default()
        })
    })
    .await;
    let before = peak_rss();
    let (status, f) = s.upload(streamed(200 * MIB), None).await;
    assert_eq!(status, StatusCode::CREATED, "{f}");
    assert_eq!(f["size"], 200 * MIB);
    assert!(f["expires_at"].is_string(), "{f}");
    let res = s
        .http
        .get(s.api(&format!("/files/{}", f["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let mut got = 0u64;
    let mut body = res.bytes_stream();
    while let Some(chunk) = body.next().await {
        got += chunk.unwrap().len() as u64;
    }
    assert_eq!(got, 200 * MIB);
    let grew = peak_rss().saturating_sub(before);
    assert!(
        grew < 24 * MIB,
        "a 200 MiB upload and download grew the peak memory by {} MiB",
        grew / MIB
    );
}

#[tokio::test]
async fn uploads_have_a_size_cap_and_a_quota_per_user_or_address() {
    let s = Server::start_with_state(|s| {
        s.with_files(FilePolicy {
            max_file: 2 * MIB,
            quota: 3 * MIB,
            ..FilePolicy::default()
        })
    })
    .await;
    let big = s
        .upload(
            Part::bytes(vec![0u8; (2 * MIB + 1) as usize]).file_name("b"),
            None,
        )
        .await;
    assert_error(&big, StatusCode::PAYLOAD_TOO_LARGE, "too_large");
    for _ in 0..3 {
        let (status, f) = s.upload(mib(1), None).await;
        assert_eq!(status, StatusCode::CREATED, "{f}");
    }
    let over = s.upload(mib(1), None).await;
    let e = assert_error(&over, StatusCode::PAYLOAD_TOO_LARGE, "quota_exceeded");
    assert!(e["message"].as_str().unwrap().contains("3 MiB"), "{e}");
    // A user has a quota of their own, shared by all their tokens.
    let second = s.token_for("alice", Role::Developer, "run").await;
    for _ in 0..3 {
        let (status, f) = s.upload(mib(1), Some(&s.token)).await;
        assert_eq!(status, StatusCode::CREATED, "{f}");
    }
    let over = s.upload(mib(1), Some(&second)).await;
    assert_error(&over, StatusCode::PAYLOAD_TOO_LARGE, "quota_exceeded");
    let (status, _) = s.upload(mib(1), Some(&s.other)).await;
    assert_eq!(status, StatusCode::CREATED, "bob has a quota of his own");
    // Nothing of the refused uploads is left in the upload folder.
    assert_eq!(s.files("tmp"), Vec::<std::path::PathBuf>::new());

    // Parallel uploads cannot each find the same room: carol has 3 MiB, and asks 8 times.
    let carol = s.token_for("carol", Role::Developer, "run").await;
    let tries = (0..8).map(|_| s.upload(mib(1), Some(&carol)));
    let got = futures::future::join_all(tries).await;
    let stored = got.iter().filter(|g| g.0 == StatusCode::CREATED).count();
    assert_eq!(stored, 3, "{got:?}");
}

#[tokio::test]
async fn files_sent_with_runs_count_against_the_same_quota() {
    let s = Server::start_with_state(|s| {
        s.with_files(FilePolicy {
            quota: 150,
            ..FilePolicy::default()
        })
    })
    .await;
    s.publish_app(&files_model(), FILES_APP).await;
    let csv = format!("data:text/csv;base64,{}", "YWFh".repeat(26));
    let body = json!({"inputs": {"files": [{"data": csv, "name": "a.csv"}]}});
    let (status, out) = s
        .post("/models/alice/files/predict", body.clone(), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let over = s
        .post("/models/alice/files/predict", body.clone(), None)
        .await;
    assert_error(&over, StatusCode::PAYLOAD_TOO_LARGE, "quota_exceeded");
    let runs = s.post("/models/alice/files/runs", body, None).await;
    assert_error(&runs, StatusCode::PAYLOAD_TOO_LARGE, "quota_exceeded");
}

#[tokio::test]
async fn uploads_count_against_the_rate_limits_of_runs() {
    let s = Server::start_with_state(|s| {
        s.with_rates(RateConfig {
            anonymous_per_minute: 3,
            token_per_minute: 3,
        })
    })
    .await;
    for _ in 0..3 {
        assert_eq!(s.upload(mib(0), None).await.0, StatusCode::CREATED);
    }
    let got = s.upload(mib(0), None).await;
    assert_error(&got, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
}

fn files_model() -> Value {
    manifest(
        "files",
        json!([{"id": "files", "type": "File.Upload", "types": [".csv", "text/plain"], "max_files": 2, "max_size": 100}]),
        &["count"],
    )
}

#[tokio::test]
async fn unused_uploads_expire_and_runs_past_their_retention_go_with_their_files() {
    let s = Server::start_with_state(|s| {
        s.with_files(FilePolicy {
            ttl: Duration::from_secs(2),
            run_retention: Some(Duration::from_secs(5)),
            collect_every: Duration::from_millis(300),
            fresh: Duration::ZERO,
            ..FilePolicy::default()
        })
    })
    .await;
    s.publish_app(&files_model(), FILES_APP).await;
    let blobs_at_start = s.files("blobs").len();
    let csv = || {
        Part::bytes(b"x,y\n".to_vec())
            .file_name("u.csv")
            .mime_str("text/csv")
            .unwrap()
    };
    let (_, unused) = s.upload(csv(), None).await;
    let (_, used) = s.upload(csv(), None).await;
    let (status, run) = s
        .post(
            "/models/alice/files/runs",
            json!({"inputs": {"files": [{"id": used["id"]}]}}),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{run}");
    let report = run["steps"][0]["outputs"][0]["files"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, prediction) = s
        .post(
            "/models/alice/files/predict",
            json!({"inputs": {"files": [{"data": "data:text/csv;base64,YSxiCg==", "name": "p.csv"}]}}),
            None,
        )
        .await;
    let predicted = prediction["outputs"][0]["files"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Times are whole seconds: past 2 s, however the seconds fall.
    tokio::time::sleep(Duration::from_millis(3200)).await;
    let file = |id: String| {
        let s = &s;
        async move { s.get(&format!("/files/{id}")).await.0 }
    };
    assert_eq!(
        file(unused["id"].as_str().unwrap().into()).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        file(predicted).await,
        StatusCode::NOT_FOUND,
        "a prediction's files follow the upload TTL"
    );
    assert_eq!(
        file(used["id"].as_str().unwrap().into()).await,
        StatusCode::OK,
        "a run's upload stays with it"
    );
    assert_eq!(file(report.clone()).await, StatusCode::OK);

    tokio::time::sleep(Duration::from_millis(3500)).await;
    let id = run["id"].as_str().unwrap();
    assert_eq!(s.get(&format!("/runs/{id}")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        file(used["id"].as_str().unwrap().into()).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(file(report).await, StatusCode::NOT_FOUND);
    assert_eq!(
        s.files("blobs").len(),
        blobs_at_start,
        "only the bundle is left: {:?}",
        s.files("blobs")
    );
}

/// An upload is one part named `file`: another name, or a part more, is refused, and what was
/// stored of it counts against nobody's quota.
#[tokio::test]
async fn an_upload_is_one_part_named_file() {
    let s = Server::start_with_state(|s| {
        s.with_files(FilePolicy {
            quota: 10,
            ..FilePolicy::default()
        })
    })
    .await;
    let send = |form: Form| {
        let r = s
            .http
            .post(s.api("/files"))
            .bearer_auth(&s.token)
            .multipart(form);
        async move { crate::context::read(r.send().await.unwrap()).await }
    };
    let misnamed = Form::new().part("upload", Part::bytes(&b"hello"[..]).file_name("a.txt"));
    assert_error(
        &send(misnamed).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    let two = Form::new()
        .part("file", Part::bytes(&b"hello"[..]).file_name("a.txt"))
        .part("extra", Part::text("x"));
    assert_error(&send(two).await, StatusCode::BAD_REQUEST, "bad_request");
    // The refused upload left the quota whole: ten bytes still fit.
    let ten = Form::new().part("file", Part::bytes(&b"0123456789"[..]).file_name("b.txt"));
    let (status, body) = send(ten).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// `len` bytes of a pattern that differs from chunk to chunk, made as they are sent, and the
/// SHA-256 of them all.
fn patterned(len: u64) -> (Part, String) {
    use sha2::{Digest, Sha256};
    const CHUNK: u64 = 64 << 10;
    let chunk = |i: u64| bytes::Bytes::from(vec![(i % 251) as u8; CHUNK as usize]);
    let mut h = Sha256::new();
    (0..len / CHUNK).for_each(|i| h.update(chunk(i)));
    let stream =
        futures::stream::iter((0..len / CHUNK).map(move |i| Ok::<_, std::io::Error>(chunk(i))));
    let part = Part::stream_with_length(reqwest::Body::wrap_stream(stream), len / CHUNK * CHUNK)
        .file_name("big.bin");
    (part, hex::encode(h.finalize()))
}

/// Hashes the input as the step reads it, and sends a copy back.
const COPY_APP: &str = r#"
import hashlib
import os
import shutil

import feather as ftr


@ftr.step
def copy(files):
    h = hashlib.sha256()
    with open(files[0].path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    out = os.path.join(os.path.dirname(files[0].path), "copy.bin")
    shutil.copyfile(files[0].path, out)
    return ftr.Text.View(h.hexdigest(), id="sha256"), ftr.File.Download(id="copy", files=[out])


ftr.build("copy", init=[ftr.File.Upload(id="files", max_size=1 << 30)], steps=[copy])
"#;

#[tokio::test]
async fn a_1_gib_file_goes_through_a_model_and_back_without_the_memory() {
    const GIB: u64 = 1 << 30;
    let s = Server::start_with_state_and_runner(
        |s| {
            s.with_files(FilePolicy {
                max_file: GIB,
                quota: 4 * GIB,
                ..FilePolicy::default()
            })
        },
        |mut c| {
            // The input and its copy sit in the worker's scratch folder, a tmpfs.
            c.limits.scratch = 2 * GIB + 64 * MIB;
            c.limits.output = GIB + MIB;
            c.limits.file_size = 2 * GIB;
            c.step_timeout = Duration::from_secs(120);
            c
        },
    )
    .await;
    let mut m = manifest(
        "copy",
        json!([{"id": "files", "type": "File.Upload", "max_size": GIB}]),
        &["copy"],
    );
    m["limits"] = json!({"scratch_mb": 2112, "output_mb": 1025, "file_size_mb": 2048});
    s.publish_app(&m, COPY_APP).await;
    let before = peak_rss();
    let (part, sha) = patterned(GIB);
    let (status, f) = s.upload(part, Some(&s.token)).await;
    assert_eq!(status, StatusCode::CREATED, "{f}");
    let (status, out) = s
        .post(
            "/models/alice/copy/predict",
            json!({"inputs": {"files": [{"id": f["id"]}]}}),
            Some(&s.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(
        out["outputs"][0]["text"], sha,
        "the input reached the step changed"
    );
    let copy = &out["outputs"][1]["files"][0];
    assert_eq!(copy["size"], GIB, "{out}");
    let res = s
        .http
        .get(s.api(&format!("/files/{}", copy["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let mut h = <sha2::Sha256 as sha2::Digest>::new();
    let mut body = res.bytes_stream();
    while let Some(chunk) = body.next().await {
        sha2::Digest::update(&mut h, chunk.unwrap());
    }
    assert_eq!(
        hex::encode(sha2::Digest::finalize(h)),
        sha,
        "the output is not the copy"
    );
    let grew = peak_rss().saturating_sub(before);
    assert!(
        grew < 16 * MIB,
        "1 GiB in, through a model and out grew the server's peak memory by {} MiB",
        grew / MIB
    );
    // Nothing is left of the files in flight.
    let spools: Vec<_> = s
        .files("runner/run")
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("spool-"))
        .collect();
    assert!(spools.is_empty(), "{spools:?}");
}
