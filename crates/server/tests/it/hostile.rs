//! Models that try to reach what is not theirs, run in the sandbox: each attempt fails, and the
//! model still answers.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::context::{Server, assert_error};
use crate::runs::manifest;

const PROBE_APP: &str = r#"
import os
import socket

import feather as ftr

DATA = "__DATA__"
PORT = __PORT__


def attempt(f):
    try:
        return ["allowed", repr(f())[:200]]
    except Exception as e:
        return ["refused", type(e).__name__]


@ftr.step
def probe(text):
    tries = {
        "database": lambda: open(f"{DATA}/feather.db", "rb").read(16),
        "blobs": lambda: os.listdir(f"{DATA}/blobs"),
        "write_bundle": lambda: open("written.txt", "w").write("x"),
        "write_root": lambda: open("/evil.txt", "w").write("x"),
        "etc_passwd": lambda: open("/etc/passwd").read(),
        "network": lambda: socket.create_connection(("127.0.0.1", PORT), timeout=2).close(),
        "scratch": lambda: open(os.path.join(os.environ["TMPDIR"], "ok.txt"), "w").write("x"),
    }
    seen = {
        "bundles": os.listdir(f"{DATA}/runner/bundles"),
        "environment": sorted(os.environ),
        "pid": os.getpid(),
    }
    return ftr.Json.View({k: attempt(f) for k, f in tries.items()} | seen)


ftr.build("probe", init=[ftr.Text.In(id="text")], steps=[probe])
"#;

#[tokio::test]
async fn a_model_sees_neither_the_data_folder_nor_the_network_nor_the_server_s_environment() {
    let s = Server::start().await;
    let (_, health) = s.get_root("/healthz").await;
    assert_eq!(health["sandbox"], "bubblewrap", "{health}");
    assert_eq!(
        s.get_root("/readyz").await,
        (StatusCode::OK, json!({"status": "ready"}))
    );

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let data = s.data.path().to_str().unwrap().to_owned();
    let app = PROBE_APP
        .replace("__DATA__", &data)
        .replace("__PORT__", &port.to_string());
    let m = manifest(
        "probe",
        json!([{"id": "text", "type": "Text.In"}]),
        &["probe"],
    );
    s.publish_app(&m, &app).await;
    let (status, out) = s
        .post(
            "/models/alice/probe/predict",
            json!({"inputs": {"text": "x"}}),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let seen = &out["outputs"][0]["data"];
    for what in [
        "database",
        "blobs",
        "write_bundle",
        "write_root",
        "etc_passwd",
        "network",
    ] {
        assert_eq!(seen[what][0], "refused", "{what}: {}", seen[what]);
    }
    assert_eq!(
        seen["scratch"][0], "allowed",
        "its scratch folder is writable: {seen}"
    );
    assert_eq!(
        seen["bundles"].as_array().unwrap().len(),
        1,
        "only its own bundle is there: {seen}"
    );
    let env: BTreeSet<&str> = seen["environment"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let allowed: BTreeSet<&str> = [
        "PATH",
        "LANG",
        "HOME",
        "TMPDIR",
        "FEATHER_WORKER",
        "FEATHER_SCRATCH",
        "FEATHER_MAX_FRAME",
        "FEATHER_MAX_OUTPUT",
        "LC_CTYPE",
        "PWD",
    ]
    .into();
    assert!(env.is_subset(&allowed), "the worker's environment: {env:?}");
    assert!(
        seen["pid"].as_i64().unwrap() < 10,
        "a pid namespace of its own: {seen}"
    );
    assert!(
        matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "nothing reached the server's loopback"
    );
    assert!(
        !s.data
            .path()
            .join("runner/bundles")
            .join("written.txt")
            .exists()
    );
}

impl Server {
    /// A GET outside the API's prefix.
    pub async fn get_root(&self, path: &str) -> (StatusCode, Value) {
        crate::context::read(
            self.http
                .get(format!("{}{path}", self.url))
                .send()
                .await
                .unwrap(),
        )
        .await
    }
}

const GREEDY_APP: &str = r#"
import os
import time

import feather as ftr


@ftr.step
def greedy(what):
    if what == "memory":
        block = bytearray(10 * 1024**3)
        return ftr.Text.View(id="out", text=str(len(block)))
    if what == "file":
        with open(os.path.join(os.environ["TMPDIR"], "big.bin"), "wb") as f:
            for _ in range(8):
                f.write(b"x" * (1 << 20))
        return ftr.Text.View(id="out", text="wrote")
    if what == "fork":
        children = []
        try:
            while len(children) < 2000:
                pid = os.fork()
                if pid == 0:
                    time.sleep(60)
                    os._exit(0)
                children.append(pid)
        finally:
            for pid in children:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
    if what == "output":
        data = b"x" * (2 << 20)
        return ftr.File.Download(id="out", files=[ftr.file_ref(data=data, name="two.bin")])
    if what in ("scratch", "shm"):
        # Files under the size limit each, until the folder is full.
        folder = os.environ["TMPDIR"] if what == "scratch" else "/dev/shm"
        for i in range(8):
            with open(os.path.join(folder, f"part-{i}.bin"), "wb") as f:
                f.write(b"x" * (3 << 20))
        return ftr.Text.View(id="out", text="filled")
    if what == "files":
        held = [open(os.devnull) for _ in range(200)]
        return ftr.Text.View(id="out", text=str(len(held)))
    return ftr.Text.View(id="out", text=what)


ftr.build("greedy", init=[ftr.Text.In(id="what")], steps=[greedy])
"#;

#[tokio::test]
async fn a_worker_over_its_limits_fails_its_own_request_with_the_limit_named() {
    let s = Server::start().await;
    let mut m = manifest(
        "greedy",
        json!([{"id": "what", "type": "Text.In"}]),
        &["greedy"],
    );
    m["limits"] = json!({"memory_mb": 512, "file_size_mb": 4, "open_files": 64, "processes": 32, "scratch_mb": 8, "output_mb": 1});
    s.publish_app(&m, GREEDY_APP).await;
    let call = |what: &'static str| {
        s.post(
            "/models/alice/greedy/predict",
            json!({"inputs": {"what": what}}),
            None,
        )
    };

    // 10 GB asked for, with healthy requests beside it: they answer at once.
    let started = std::time::Instant::now();
    let (memory, healthy) = tokio::join!(call("memory"), async {
        futures::future::join_all((0..4).map(|_| call("ok"))).await
    });
    let e = crate::context::assert_error(&memory, StatusCode::INTERNAL_SERVER_ERROR, "step_failed");
    let message = e["message"].as_str().unwrap();
    assert!(
        message.contains("MemoryError") && message.contains("512 MiB"),
        "{e}"
    );
    for h in healthy {
        assert_eq!(h.0, StatusCode::OK, "{}", h.1);
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(10));

    // Python ignores SIGXFSZ, so the write fails instead of the process.
    let file = call("file").await;
    let e = crate::context::assert_error(&file, StatusCode::INTERNAL_SERVER_ERROR, "step_failed");
    let message = e["message"].as_str().unwrap();
    assert!(message.contains("file size limit is 4 MiB"), "{e}");

    // Each file is under the size limit; together they are over the scratch folder's.
    let output = call("output").await;
    let e = crate::context::assert_error(&output, StatusCode::INTERNAL_SERVER_ERROR, "step_failed");
    let message = e["message"].as_str().unwrap();
    assert!(
        message.contains("output limit is 1 MiB: limits.output_mb"),
        "{e}"
    );

    for what in ["scratch", "shm"] {
        let full = call(what).await;
        let e =
            crate::context::assert_error(&full, StatusCode::INTERNAL_SERVER_ERROR, "step_failed");
        let message = e["message"].as_str().unwrap();
        assert!(
            message.contains("scratch folder holds at most 8 MiB"),
            "{what}: {e}"
        );
    }

    let files = call("files").await;
    let e = crate::context::assert_error(&files, StatusCode::INTERNAL_SERVER_ERROR, "step_failed");
    let message = e["message"].as_str().unwrap();
    assert!(message.contains("open files limit is 64"), "{e}");

    // The process limit holds only where each worker has a user of its own: a root server.
    if feather_runner::sandbox::runs_as_root() {
        let (fork, healthy) = tokio::join!(call("fork"), async {
            futures::future::join_all((0..4).map(|_| call("ok"))).await
        });
        let e =
            crate::context::assert_error(&fork, StatusCode::INTERNAL_SERVER_ERROR, "step_failed");
        let message = e["message"].as_str().unwrap();
        assert!(message.contains("processes limit is 32"), "{e}");
        for h in healthy {
            assert_eq!(h.0, StatusCode::OK, "{}", h.1);
        }
    }

    let ok = call("still here").await;
    assert_eq!(
        ok.1["outputs"][0]["text"], "still here",
        "a fresh worker answers: {}",
        ok.1
    );
}

const ROGUE_APP: &str = r#"
import os
import stat
import struct
import sys
import time

import feather as ftr


def server_socket():
    for name in os.listdir("/proc/self/fd"):
        try:
            if stat.S_ISSOCK(os.fstat(int(name)).st_mode):
                return int(name)
        except OSError:
            pass
    raise RuntimeError("no socket")


@ftr.step
def rogue(what):
    if what == "flood":
        # 1 GiB on one line, then a stream of short lines.
        chunk = "x" * (64 << 20)
        for _ in range(16):
            sys.stdout.write(chunk)
        sys.stdout.write("\n")
        for i in range(20_000):
            sys.stdout.write(f"spam {i}\n")
        sys.stdout.flush()
    if what == "big":
        # 100 MiB of output, over the 64 MiB frame limit.
        data = b"x" * (100 << 20)
        return ftr.File.Download(id="out", files=[ftr.file_ref(data=data, name="big.bin")])
    if what == "forge":
        # A frame that claims a 1 GiB body.
        os.write(server_socket(), struct.pack(">II", 2, 1 << 30) + b"{}")
        time.sleep(30)
    if what == "garbage":
        os.write(server_socket(), struct.pack(">II", 16, 0) + b"this is not json")
        time.sleep(30)
    if what == "half":
        os.write(server_socket(), struct.pack(">II", 100, 10) + b'{"type": "res')
        os._exit(0)
    if what == "spin":
        while True:
            pass
    return ftr.Text.View(id="out", text=what)


ftr.build("rogue", init=[ftr.Text.In(id="what")], steps=[rogue])
"#;

const HEALTHY_APP: &str = r#"
import feather as ftr


@ftr.step
def echo(text):
    return ftr.Text.View(id="out", text=text)


ftr.build("healthy", init=[ftr.Text.In(id="text")], steps=[echo])
"#;

/// The peak resident memory of this process (each test runs in a process of its own).
fn peak_rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<u64>()
        .unwrap()
        / 1024
}

#[tokio::test]
async fn a_model_that_floods_forges_frames_or_spins_fails_alone() {
    let s = Server::start().await;
    let mut m = manifest(
        "rogue",
        json!([{"id": "what", "type": "Text.In"}]),
        &["rogue"],
    );
    // A long wall clock, so that a 1 GiB flood on a busy machine finishes; the CPU limit is what
    // stops the spinning step (a step that sleeps forever meets the wall clock in runs.rs).
    m["limits"] = json!({"step_timeout": 60, "cpu_seconds": 3, "memory_mb": 2048});
    s.publish_app(&m, ROGUE_APP).await;
    let healthy = manifest(
        "healthy",
        json!([{"id": "text", "type": "Text.In"}]),
        &["echo"],
    );
    s.publish_app(&healthy, HEALTHY_APP).await;
    let s = &s;
    let call = move |model: &'static str, input: &'static str, value: &'static str| async move {
        let path = format!("/models/alice/{model}/predict");
        s.post(&path, json!({"inputs": {input: value}}), None).await
    };
    // A healthy model beside each attack: every answer comes, each in well under a second
    // (the attacks have 3 s of CPU).
    let beside = move || async move {
        let mut slowest = std::time::Duration::ZERO;
        for _ in 0..10 {
            let started = std::time::Instant::now();
            let (status, out) = call("healthy", "text", "fine").await;
            assert_eq!(status, StatusCode::OK, "{out}");
            slowest = slowest.max(started.elapsed());
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        slowest
    };

    let before = peak_rss_mib();
    let ((status, out), slowest) = tokio::join!(call("rogue", "what", "flood"), beside());
    assert_eq!(status, StatusCode::OK, "{out}");
    assert!(slowest < std::time::Duration::from_secs(1), "{slowest:?}");
    // The server read 1 GiB without a line end and kept none of it.
    let grown = peak_rss_mib() - before;
    assert!(
        grown < 128,
        "the server grew by {grown} MiB reading a flood"
    );

    let cases = [
        (
            "big",
            StatusCode::INTERNAL_SERVER_ERROR,
            "step_failed",
            "over the limit of 67108864 (its output limit is 64 MiB: limits.output_mb)",
        ),
        (
            "forge",
            StatusCode::BAD_GATEWAY,
            "worker_crashed",
            "frame too large",
        ),
        (
            "garbage",
            StatusCode::BAD_GATEWAY,
            "worker_crashed",
            "broke the protocol",
        ),
        ("half", StatusCode::BAD_GATEWAY, "worker_crashed", "exited"),
        (
            "spin",
            StatusCode::GATEWAY_TIMEOUT,
            "step_timeout",
            "more than its 3 s of CPU time (limits.cpu_seconds)",
        ),
    ];
    for (what, status, code, says) in cases {
        let started = std::time::Instant::now();
        let (got, slowest) = tokio::join!(call("rogue", "what", what), beside());
        let e = crate::context::assert_error(&got, status, code);
        let message = e["message"].as_str().unwrap();
        assert!(message.contains(says), "{what}: {e}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "{what} took {:?}",
            started.elapsed()
        );
        assert!(
            slowest < std::time::Duration::from_secs(1),
            "{what}: healthy took {slowest:?}"
        );
    }
    let (status, out) = call("rogue", "what", "still here").await;
    assert_eq!(status, StatusCode::OK, "a fresh worker answers: {out}");
}

#[tokio::test]
async fn without_a_working_sandbox_no_model_runs_unless_the_operator_says_so() {
    let healthy = manifest(
        "healthy",
        json!([{"id": "text", "type": "Text.In"}]),
        &["echo"],
    );
    // A bubblewrap that cannot work: the probe fails, and the server says so everywhere.
    let s = Server::start_with_runner(|c| feather_runner::RunnerConfig {
        bwrap: Some("/bin/false".into()),
        ..c
    })
    .await;
    let (status, health) = s.get_root("/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(health["sandbox"], "unavailable", "{health}");
    assert!(
        health["warning"]
            .as_str()
            .unwrap()
            .contains("no model can run"),
        "{health}"
    );
    // Alive, but not ready: an orchestrator sends it nothing, and says why.
    let ready = s.get_root("/readyz").await;
    let e = assert_error(&ready, StatusCode::SERVICE_UNAVAILABLE, "not_ready");
    assert!(
        e["message"].as_str().unwrap().contains("no model can run"),
        "{e}"
    );
    let bundle = crate::context::Tar::new()
        .file("app.py", HEALTHY_APP.as_bytes())
        .gz();
    assert_eq!(s.publish(&healthy, bundle).await.0, StatusCode::CREATED);
    let got = s
        .post(
            "/models/alice/healthy/predict",
            json!({"inputs": {"text": "x"}}),
            None,
        )
        .await;
    let e =
        crate::context::assert_error(&got, StatusCode::SERVICE_UNAVAILABLE, "sandbox_unavailable");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("--insecure-no-sandbox"),
        "{e}"
    );
    // Its environment says so too, rather than "pending" for ever: no build runs without it.
    let env = s
        .get("/models/alice/healthy/versions/latest/environment")
        .await;
    crate::context::assert_error(&env, StatusCode::SERVICE_UNAVAILABLE, "sandbox_unavailable");

    // The operator's explicit choice: models run bare, and /healthz says it is insecure.
    let s = Server::start_with_runner(|c| feather_runner::RunnerConfig {
        insecure_no_sandbox: true,
        ..c
    })
    .await;
    let (_, health) = s.get_root("/healthz").await;
    assert_eq!(health["sandbox"], "off", "{health}");
    assert!(
        health["warning"].as_str().unwrap().contains("INSECURE"),
        "{health}"
    );
    s.publish_app(&healthy, HEALTHY_APP).await;
    let (status, out) = s
        .post(
            "/models/alice/healthy/predict",
            json!({"inputs": {"text": "bare"}}),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["outputs"][0]["text"], "bare");
}
