//! A publish killed midway leaves no half version, and the next start is clean.

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::{Served, build_dir, files_below, gz_bundle, token};

#[test]
fn a_server_killed_during_an_upload_leaves_nothing_and_restarts_clean() {
    let data = tempfile::tempdir().unwrap();
    let server = Served::start(data.path());
    let token = token(data.path(), "alice");
    let addr = server.url.trim_start_matches("http://").to_owned();

    // Announce a 64 MiB bundle, send the manifest and the first MiB, then kill the server.
    let boundary = "feather-test-boundary";
    let manifest =
        std::fs::read(build_dir(data.path().parent().unwrap(), "half", b"").join("manifest.json"))
            .unwrap();
    let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"manifest\"; filename=\"manifest.json\"\r\n\r\n").into_bytes();
    body.extend_from_slice(&manifest);
    body.extend_from_slice(format!("\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"bundle\"; filename=\"bundle.tar.gz\"\r\n\r\n").as_bytes());
    let mut stream = TcpStream::connect(&addr).unwrap();
    write!(
        stream,
        "POST /api/v1/models HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n",
        body.len() + (64 << 20)
    )
    .unwrap();
    stream.write_all(&body).unwrap();
    let mut chunk = gz_bundle(&[("app.py", b"")]);
    chunk.resize(1 << 20, 7);
    stream.write_all(&chunk).unwrap();
    stream.flush().unwrap();

    // Wait until the upload is being written, so that the kill really lands midway.
    let tmp = data.path().join("tmp");
    let deadline = Instant::now() + Duration::from_secs(20);
    while files_below(&tmp).is_empty()
        || std::fs::metadata(&files_below(&tmp)[0]).unwrap().len() == 0
    {
        assert!(
            Instant::now() < deadline,
            "the upload never reached the server's disk"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    server.kill();
    assert_eq!(
        files_below(&tmp).len(),
        1,
        "the killed upload left its partial file"
    );

    let server = Served::start(data.path());
    assert_eq!(
        files_below(&tmp),
        Vec::<std::path::PathBuf>::new(),
        "the restart clears partial uploads"
    );
    let (status, page) = server.get("/api/v1/models");
    assert_eq!(status, 200);
    assert_eq!(page["total"], 0, "no half version: {page}");
    assert_eq!(
        files_below(&data.path().join("blobs")),
        Vec::<std::path::PathBuf>::new()
    );
}

#[test]
fn blobs_left_between_writes_are_collected_at_the_next_start() {
    let data = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let server = Served::start(data.path());
    let token = token(data.path(), "alice");
    let dir = build_dir(root.path(), "kept", b"print('kept')\n");
    crate::publish(&dir, &server.url, &token);
    let kept = files_below(&data.path().join("blobs"));
    assert_eq!(kept.len(), 1);
    server.kill();

    // What a kill between the blob write and the registry commit leaves: a stored blob that no
    // version names, an interrupted blob write (`#N` staging file), and a partial upload.
    let shelf = data.path().join("blobs/sha256/ab");
    std::fs::create_dir_all(&shelf).unwrap();
    let orphan = shelf.join(format!("ab{}", "0".repeat(62)));
    std::fs::write(&orphan, b"orphan").unwrap();
    std::fs::write(shelf.join(format!("ab{}#1", "1".repeat(62))), b"half").unwrap();
    std::fs::write(data.path().join("tmp/.tmpUpload"), b"partial").unwrap();

    let server = Served::start(data.path());
    assert_eq!(
        files_below(&data.path().join("blobs")),
        kept,
        "only the published bundle remains"
    );
    assert!(files_below(&data.path().join("tmp")).is_empty());
    let (status, v) = server.get("/api/v1/models/alice/kept/versions/latest");
    assert_eq!(status, 200);
    assert_eq!(v["version"], 1);
}

#[test]
fn a_second_server_on_the_same_data_folder_is_refused() {
    let data = tempfile::tempdir().unwrap();
    let first = Served::start(data.path());
    let out = crate::command()
        .args(["serve", "--addr", "127.0.0.1:0", "--data"])
        .arg(data.path())
        // However the operator's shell is set up, the refusal is one clear line.
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("another feather server"), "{err}");
    assert!(err.contains(data.path().to_str().unwrap()), "{err}");
    assert!(err.contains(&format!("pid {}", first.child.id())), "{err}");
    assert!(err.contains(&first.url), "{err}");
}

#[test]
fn a_server_given_relative_paths_builds_environments_and_runs_models() {
    let work = tempfile::tempdir().unwrap();
    let uv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/uv");
    std::fs::create_dir_all(work.path().join("tools")).unwrap();
    std::os::unix::fs::symlink(
        std::fs::canonicalize(uv).unwrap(),
        work.path().join("tools/uv"),
    )
    .unwrap();
    // Relative to the folder the server starts in; builds and workers run in folders of their own.
    let args = ["--data", "data", "--uv", "tools/uv"].map(std::ffi::OsStr::new);
    let server = crate::Served::start_in(work.path(), &args);
    let token = crate::token(&work.path().join("data"), "alice");
    let app = b"import feather as ftr\n\n@ftr.step\ndef run():\n    return ftr.Text.View(text='ran')\n\nftr.build('rel', init=[], steps=[run])\n";
    let dir = crate::build_dir(work.path(), "rel", app);
    crate::publish(&dir, &server.url, &token);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let (_, env) = server.get("/api/v1/models/alice/rel/versions/1/environment");
        match env["status"].as_str() {
            Some("ready") => break,
            Some("failed") => panic!("{env}"),
            _ => assert!(std::time::Instant::now() < deadline, "{env}"),
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}
