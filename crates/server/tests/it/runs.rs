//! Runs with real Python workers: environments built with uv, the SDK from the binary.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::context::{Server, Tar, assert_error};

pub(crate) const APP: &str = r#"
import os
import signal
import time

import feather as ftr


@ftr.step(title="Guess")
def guess(numbers, mode):
    if mode == "raise":
        raise ValueError("no numbers today")
    if mode == "crash":
        os.kill(os.getpid(), signal.SIGSEGV)
    if mode == "sleep":
        time.sleep(60)
    if mode == "nap":
        time.sleep(1)
    values = [int(x) for x in numbers.split(",")]
    pick = ftr.List.SelectOne(id="pick", title="Pick one", items=[str(v) for v in values])
    return [ftr.Markdown.View(id="intro", text="Pick a number"), pick, {"values": values, "secret": "s3cret"}]


@ftr.step(title="Sum")
def total(pick, state):
    return ftr.Text.View(id="result", text=f"{pick} of {sum(state['values'])}")


ftr.build(
    "steps",
    init=[ftr.Text.In(id="numbers"), ftr.List.SelectOne(id="mode", items=["ok", "raise", "crash", "sleep", "nap"])],
    steps=[guess, total],
)
"#;

pub(crate) const FILES_APP: &str = r#"
import feather as ftr


@ftr.step
def count(files):
    lines = [f"{f.name},{f.type},{len(f.read())}" for f in files]
    return ftr.File.Download(id="report", files=[ftr.file_ref(data="\n".join(lines).encode(), name="report.csv")])


ftr.build("files", init=[ftr.File.Upload(id="files", types=[".csv", "text/plain"], max_files=2, max_size=100)], steps=[count])
"#;

pub(crate) fn manifest(name: &str, init: Value, steps: &[&str]) -> Value {
    json!({
        "schema": "feather.manifest/v1", "name": name,
        "runtime": {"kind": "python", "python": "3.11", "entry": "app.py", "requirements": []},
        "init": init,
        "steps": steps.iter().map(|s| json!({"name": s})).collect::<Vec<_>>(),
        "provenance": {"sdk": "0.1.0", "python": "3.11.7", "platform": "linux-x86_64", "packages": {}}
    })
}

pub(crate) fn steps_manifest() -> Value {
    manifest(
        "steps",
        json!([{"id": "numbers", "type": "Text.In"}, {"id": "mode", "type": "List.SelectOne", "items": ["ok", "raise", "crash", "sleep", "nap"]}]),
        &["guess", "total"],
    )
}

impl Server {
    /// Publishes an app and waits until its environment is ready.
    pub async fn publish_app(&self, manifest: &Value, app: &str) {
        self.publish_files(manifest, Tar::new().file("app.py", app.as_bytes()))
            .await;
    }

    /// Publishes a bundle of files and waits until its environment is ready.
    pub async fn publish_files(&self, manifest: &Value, files: Tar) {
        let (status, body) = self.publish(manifest, files.gz()).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let name = manifest["name"].as_str().unwrap();
        self.wait_ready(name, body["version"].as_i64().unwrap())
            .await;
    }

    /// Waits until alice's version's environment is ready on this server.
    pub async fn wait_ready(&self, name: &str, version: i64) {
        let deadline = Instant::now() + Duration::from_secs(120);
        let path = format!("/models/alice/{name}/versions/{version}/environment");
        loop {
            let (_, env) = self
                .call(reqwest::Method::GET, &path, Some(&self.token), None)
                .await;
            match env["status"].as_str() {
                Some("ready") => break,
                Some("failed") => panic!("the environment failed: {env}"),
                _ => assert!(
                    Instant::now() < deadline,
                    "the environment is not ready: {env}"
                ),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn post(&self, path: &str, body: Value, token: Option<&str>) -> (StatusCode, Value) {
        let mut r = self.http.post(self.api(path)).json(&body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        crate::context::read(r.send().await.unwrap()).await
    }
}

/// Starts a run of the steps app, anonymously.
pub(crate) async fn start_steps(s: &Server, numbers: &str, mode: &str) -> (StatusCode, Value) {
    let inputs = json!({"inputs": {"numbers": numbers, "mode": mode}});
    s.post("/models/alice/steps/runs", inputs, None).await
}

#[tokio::test]
async fn a_two_step_run_keeps_its_state_on_the_server() {
    let s = Server::start().await;
    s.publish_app(&steps_manifest(), APP).await;
    let (status, run) = start_steps(&s, "1,2,3", "ok").await;
    assert_eq!(status, StatusCode::CREATED, "{run}");
    assert_eq!(run["status"], "awaiting_input");
    assert_eq!(run["steps"][0]["outputs"][0]["type"], "Markdown.View");
    assert_eq!(run["next"]["name"], "total");
    assert_eq!(run["next"]["components"][0]["id"], "pick");
    assert!(
        !run.to_string().contains("s3cret"),
        "state must never reach a client: {run}"
    );
    let id = run["id"].as_str().unwrap();
    let (_, model) = s.get("/models/alice/steps").await;
    assert_eq!(model["runs"], 1, "the model counts its runs: {model}");

    let bad = s
        .post(
            &format!("/runs/{id}/steps"),
            json!({"inputs": {"pick": "9"}}),
            None,
        )
        .await;
    let e = assert_error(&bad, StatusCode::UNPROCESSABLE_ENTITY, "invalid_inputs");
    assert_eq!(e["details"]["problems"][0]["path"], "/inputs/pick");
    assert_eq!(
        s.get(&format!("/runs/{id}")).await.1["status"],
        "awaiting_input",
        "a refused answer changes nothing"
    );

    let (status, done) = s
        .post(
            &format!("/runs/{id}/steps"),
            json!({"inputs": {"pick": "2"}}),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["status"], "completed");
    assert_eq!(done["steps"][1]["outputs"][0]["text"], "2 of 6");
    assert!(done["next"].is_null());
    let again = s
        .post(
            &format!("/runs/{id}/steps"),
            json!({"inputs": {"pick": "2"}}),
            None,
        )
        .await;
    assert_error(&again, StatusCode::CONFLICT, "conflict");
    let (_, history) = s.get(&format!("/runs/{id}")).await;
    assert_eq!(history["steps"].as_array().unwrap().len(), 2);
    assert_eq!(
        history["steps"][0]["inputs"],
        json!({"numbers": "1,2,3", "mode": "ok"})
    );
    assert!(!history.to_string().contains("s3cret"));
}

#[tokio::test]
async fn bad_inputs_are_refused_before_any_worker_and_nothing_is_kept() {
    let s = Server::start().await;
    s.publish_app(&steps_manifest(), APP).await;
    let cases = [
        (
            json!({"inputs": {"numbers": 5, "mode": "ok"}}),
            "/inputs/numbers",
        ),
        (json!({"inputs": {"mode": "ok"}}), "/inputs/numbers"),
        (
            json!({"inputs": {"numbers": "1", "mode": "fly"}}),
            "/inputs/mode",
        ),
        (
            json!({"inputs": {"numbers": "1", "mode": "ok", "extra": 1}}),
            "/inputs/extra",
        ),
    ];
    for (body, path) in cases {
        let e = assert_error(
            &s.post("/models/alice/steps/runs", body.clone(), None).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_inputs",
        );
        assert_eq!(e["details"]["problems"][0]["path"], path, "{body}");
    }
    assert_error(
        &s.post("/models/alice/steps/runs", json!([1]), None).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_error(
        &s.get("/runs/r_nothing").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &s.post("/runs/r_nothing/steps", json!({"inputs": {}}), None)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &s.post("/models/alice/none/runs", json!({"inputs": {}}), None)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let multi = s
        .post(
            "/models/alice/steps/predict",
            json!({"inputs": {"numbers": "1", "mode": "ok"}}),
            None,
        )
        .await;
    assert_error(&multi, StatusCode::CONFLICT, "conflict");
    let runs = crate::context::files_below(&s.data.path().join("blobs")).len();
    assert_eq!(runs, 1, "only the bundle is stored");
}

#[tokio::test]
async fn a_raising_step_fails_its_request_only_with_the_traceback_for_the_owner() {
    let s = Server::start().await;
    s.publish_app(&steps_manifest(), APP).await;
    let body = json!({"inputs": {"numbers": "1", "mode": "raise"}});
    let anon = s.post("/models/alice/steps/runs", body.clone(), None).await;
    let e = assert_error(&anon, StatusCode::INTERNAL_SERVER_ERROR, "step_failed");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("ValueError: no numbers today"),
        "{e}"
    );
    assert!(
        e["details"]["traceback"].is_null(),
        "no traceback for strangers: {e}"
    );
    let run = e["details"]["run"].as_str().unwrap().to_owned();
    assert_eq!(s.get(&format!("/runs/{run}")).await.1["status"], "failed");
    let owner = s
        .post("/models/alice/steps/runs", body, Some(&s.token))
        .await;
    let e = assert_error(&owner, StatusCode::INTERNAL_SERVER_ERROR, "step_failed");
    assert!(
        e["details"]["traceback"]
            .as_str()
            .unwrap()
            .contains("Traceback"),
        "{e}"
    );
    let ok = start_steps(&s, "4", "ok").await;
    assert_eq!(
        ok.0,
        StatusCode::CREATED,
        "the worker keeps serving: {}",
        ok.1
    );
}

#[tokio::test]
async fn a_crash_or_a_timeout_fails_only_its_own_request() {
    let s = Server::start().await;
    s.publish_app(&steps_manifest(), APP).await;
    let crash = start_steps(&s, "1", "crash").await;
    let e = assert_error(&crash, StatusCode::BAD_GATEWAY, "worker_crashed");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("segmentation fault"),
        "{e}"
    );
    let started = Instant::now();
    let slow = start_steps(&s, "1", "sleep").await;
    let e = assert_error(&slow, StatusCode::GATEWAY_TIMEOUT, "step_timeout");
    assert!(e["message"].as_str().unwrap().contains("limit"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(30));
    let ok = start_steps(&s, "4", "ok").await;
    assert_eq!(
        ok.0,
        StatusCode::CREATED,
        "a fresh worker answers: {}",
        ok.1
    );
}

#[tokio::test]
async fn files_go_in_as_data_urls_and_come_out_as_stored_files() {
    let s = Server::start().await;
    let m = manifest(
        "files",
        json!([{"id": "files", "type": "File.Upload", "types": [".csv", "text/plain"], "max_files": 2, "max_size": 100}]),
        &["count"],
    );
    s.publish_app(&m, FILES_APP).await;
    let csv = json!({"data": "data:text/csv;base64,YSxiCjEsMgo=", "name": "a.csv"});
    let (status, out) = s
        .post(
            "/models/alice/files/predict",
            json!({"inputs": {"files": [csv]}}),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let file = &out["outputs"][0]["files"][0];
    assert_eq!(file["name"], "report.csv");
    let res = s
        .http
        .get(s.api(&format!("/files/{}", file["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "text/csv");
    assert_eq!(res.text().await.unwrap(), "a.csv,text/csv,8");

    // A file uploaded once, then named by its id; outputs inline on request.
    let part = reqwest::multipart::Part::bytes(b"x,y\n".to_vec())
        .file_name("u.csv")
        .mime_str("text/csv")
        .unwrap();
    let res = s
        .http
        .post(s.api("/files"))
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    let (status, uploaded) = crate::context::read(res).await;
    assert_eq!(status, StatusCode::CREATED, "{uploaded}");
    assert_eq!(
        (
            uploaded["name"].as_str(),
            uploaded["type"].as_str(),
            uploaded["size"].as_i64()
        ),
        (Some("u.csv"), Some("text/csv"), Some(4))
    );
    let by_id = json!({"inputs": {"files": [{"id": uploaded["id"]}]}});
    let (status, out) = s
        .post("/models/alice/files/predict?inline=true", by_id, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let inline = out["outputs"][0]["files"][0]["data"].as_str().unwrap();
    assert_eq!(
        inline, "data:text/csv;base64,dS5jc3YsdGV4dC9jc3YsNA==",
        "u.csv,text/csv,4"
    );
    let no_part = s
        .http
        .post(s.api("/files"))
        .multipart(reqwest::multipart::Form::new().text("other", "x"))
        .send()
        .await
        .unwrap();
    assert_error(
        &crate::context::read(no_part).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );

    let blobs = crate::context::files_below(&s.data.path().join("blobs")).len();
    let too_big =
        json!({"data": format!("data:text/csv;base64,{}", "QUFB".repeat(40)), "name": "big.csv"});
    let wrong = json!({"data": "data:image/png;base64,iVBORw0KGgo=", "name": "x.png"});
    for (bad, path) in [(too_big, "/inputs/files/0"), (wrong, "/inputs/files/1")] {
        let body = json!({"inputs": {"files": [json!({"data": "data:text/plain;base64,eA==", "name": "ok.txt"}), bad]}});
        let body = if path.ends_with('0') {
            json!({"inputs": {"files": [body["inputs"]["files"][1].clone()]}})
        } else {
            body
        };
        let e = assert_error(
            &s.post("/models/alice/files/predict", body, None).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_inputs",
        );
        assert_eq!(e["details"]["problems"][0]["path"], path, "{e}");
    }
    assert_eq!(
        crate::context::files_below(&s.data.path().join("blobs")).len(),
        blobs,
        "a refused request stores no file"
    );
}

/// The worker processes started for this server's data folder.
fn workers(data: &std::path::Path) -> Vec<i32> {
    let needle = data.to_string_lossy().into_owned();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let pid = e.file_name().to_string_lossy().parse::<i32>().ok()?;
            let cmd = String::from_utf8_lossy(&std::fs::read(e.path().join("cmdline")).ok()?)
                .into_owned();
            (cmd.contains("feather.worker") && cmd.contains(&needle)).then_some(pid)
        })
        .collect()
}

#[tokio::test]
async fn a_client_that_gives_up_does_not_cost_the_worker() {
    let s = Server::start().await;
    s.publish_app(&steps_manifest(), APP).await;
    let ok = json!({"inputs": {"numbers": "1", "mode": "ok"}});
    assert_eq!(
        s.post("/models/alice/steps/runs", ok.clone(), None).await.0,
        StatusCode::CREATED
    );
    let before = workers(s.data.path());
    assert!(!before.is_empty(), "a warm worker");
    let impatient = s
        .http
        .post(s.api("/models/alice/steps/runs"))
        .json(&json!({"inputs": {"numbers": "1", "mode": "nap"}}))
        .timeout(Duration::from_millis(200))
        .send()
        .await;
    assert!(impatient.is_err(), "the client gave up");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        workers(s.data.path()),
        before,
        "the same workers are still alive"
    );
    assert_eq!(
        s.post("/models/alice/steps/runs", ok, None).await.0,
        StatusCode::CREATED
    );
    assert_eq!(
        workers(s.data.path()),
        before,
        "and it answers the next request"
    );
}

/// Kills every worker process started for this server's data folder and waits until each is
/// dead for good: gone, or a zombie its parent can reap. (A dying process loses its command line
/// before it becomes a zombie, so the command line alone says too early.)
async fn kill_workers(data: &std::path::Path) -> usize {
    let pids = workers(data);
    for &pid in &pids {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    let dead = |pid: i32| match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.trim_start().chars().next())
                == Some('Z')
        }
        Err(_) => true,
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while !pids.iter().all(|&p| dead(p)) {
        assert!(Instant::now() < deadline, "the killed workers did not die");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    pids.len()
}

#[tokio::test]
async fn a_run_goes_on_after_its_worker_dies_and_after_a_restart() {
    let s = Server::start().await;
    s.publish_app(&steps_manifest(), APP).await;
    let (_, run) = start_steps(&s, "5,6", "ok").await;
    let id = run["id"].as_str().unwrap().to_owned();
    assert!(
        kill_workers(s.data.path()).await >= 1,
        "no worker was found to kill"
    );
    let (status, done) = s
        .post(
            &format!("/runs/{id}/steps"),
            json!({"inputs": {"pick": "6"}}),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["steps"][1]["outputs"][0]["text"], "6 of 11");

    let (_, run) = start_steps(&s, "7,8", "ok").await;
    let id = run["id"].as_str().unwrap().to_owned();
    let s = s.restart().await;
    let (status, done) = s
        .post(
            &format!("/runs/{id}/steps"),
            json!({"inputs": {"pick": "8"}}),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["steps"][1]["outputs"][0]["text"], "8 of 15");
}

#[tokio::test]
async fn deleting_a_version_or_a_model_stops_its_workers() {
    let s = Server::start().await;
    s.publish_app(&steps_manifest(), APP).await;
    let (status, _) = start_steps(&s, "1,2", "ok").await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(!workers(s.data.path()).is_empty(), "no worker ran");
    let (status, _) = s
        .delete("/models/alice/steps/versions/1", Some(&s.token))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !workers(s.data.path()).is_empty() {
        assert!(
            Instant::now() < deadline,
            "the deleted version's workers still run"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A model: every version's workers.
    s.publish_app(&steps_manifest(), APP).await;
    let (status, _) = start_steps(&s, "3", "ok").await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(!workers(s.data.path()).is_empty(), "no worker ran");
    let (status, _) = s.delete("/models/alice/steps", Some(&s.token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !workers(s.data.path()).is_empty() {
        assert!(
            Instant::now() < deadline,
            "the deleted model's workers still run"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

const RACE_APP: &str = r#"
import time

import feather as ftr

COUNT = "__COUNT__"


@ftr.step
def ask(text):
    return ftr.Text.In(id="answer", title="Your answer")


@ftr.step
def slow(answer, state):
    with open(COUNT, "a") as f:
        f.write(answer + "\n")
    time.sleep(1.5)
    return ftr.Text.View(id="done", text=answer)


ftr.build("race", init=[ftr.Text.In(id="text")], steps=[ask, slow])
"#;

/// A server running the race app without the sandbox, so that its slow step can count its
/// calls in a file of the test's.
struct Race {
    server: Server,
    count: std::path::PathBuf,
    _folder: tempfile::TempDir,
}

impl Race {
    async fn start() -> Self {
        let server = Server::start_with_runner(|c| feather_runner::RunnerConfig {
            insecure_no_sandbox: true,
            ..c
        })
        .await;
        // Writable by the worker, which a root server runs as a user of its own.
        let folder = tempfile::tempdir().unwrap();
        let count = folder.path().join("calls.txt");
        std::fs::write(&count, "").unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            let all = |m| std::fs::Permissions::from_mode(m);
            std::fs::set_permissions(folder.path(), all(0o755)).unwrap();
            std::fs::set_permissions(&count, all(0o666)).unwrap();
        }
        let app = RACE_APP.replace("__COUNT__", count.to_str().unwrap());
        let m = manifest(
            "race",
            json!([{"id": "text", "type": "Text.In"}]),
            &["ask", "slow"],
        );
        server.publish_app(&m, &app).await;
        Self {
            server,
            count,
            _folder: folder,
        }
    }

    /// A new run, waiting for its second step; its id.
    async fn run(&self) -> String {
        let (status, run) = self
            .server
            .post(
                "/models/alice/race/runs",
                json!({"inputs": {"text": "go"}}),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{run}");
        run["id"].as_str().unwrap().to_owned()
    }
}

#[tokio::test]
async fn racing_answers_to_one_step_run_it_once_and_the_others_are_told_it_is_being_answered() {
    let race = Race::start().await;
    let (s, count, id) = (&race.server, &race.count, race.run().await);

    let answers: Vec<_> = (0..10)
        .map(|i| {
            let (http, url) = (s.http.clone(), s.api(&format!("/runs/{id}/steps")));
            tokio::spawn(async move {
                let r = http
                    .post(url)
                    .json(&json!({"inputs": {"answer": format!("a{i}")}}))
                    .send()
                    .await
                    .unwrap();
                crate::context::read(r).await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(700)).await;
    let (_, during) = s.get(&format!("/runs/{id}")).await;
    assert_eq!(during["status"], "running", "{during}");
    let mut ok = 0;
    for a in answers {
        let got = a.await.unwrap();
        if got.0 == StatusCode::OK {
            ok += 1;
        } else {
            assert_error(&got, StatusCode::CONFLICT, "step_in_progress");
        }
    }
    assert_eq!(ok, 1, "exactly one answer runs the step");
    let calls = std::fs::read_to_string(count).unwrap();
    assert_eq!(calls.lines().count(), 1, "the step ran {calls:?}");
    let (_, after) = s.get(&format!("/runs/{id}")).await;
    assert_eq!(after["status"], "completed", "{after}");
    assert_eq!(after["steps"].as_array().unwrap().len(), 2, "{after}");

    // Bad answers claim nothing: the run still takes a good one afterwards.
    let (_, run) = s
        .post(
            "/models/alice/race/runs",
            json!({"inputs": {"text": "go"}}),
            None,
        )
        .await;
    let id = run["id"].as_str().unwrap();
    let bad = s
        .post(
            &format!("/runs/{id}/steps"),
            json!({"inputs": {"nope": 1}}),
            None,
        )
        .await;
    assert_error(&bad, StatusCode::UNPROCESSABLE_ENTITY, "invalid_inputs");
    let (status, done) = s
        .post(
            &format!("/runs/{id}/steps"),
            json!({"inputs": {"answer": "b"}}),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
}

#[tokio::test]
async fn a_caller_that_leaves_mid_step_does_not_abandon_it_the_step_is_recorded() {
    let race = Race::start().await;
    let (s, count, id) = (&race.server, &race.count, race.run().await);
    let gone = s
        .http
        .post(s.api(&format!("/runs/{id}/steps")))
        .json(&json!({"inputs": {"answer": "left"}}))
        .timeout(Duration::from_millis(400))
        .send()
        .await;
    assert!(gone.is_err(), "the client was meant to give up");
    let (_, during) = s.get(&format!("/runs/{id}")).await;
    assert_eq!(during["status"], "running", "{during}");
    let again = s
        .post(
            &format!("/runs/{id}/steps"),
            json!({"inputs": {"answer": "again"}}),
            None,
        )
        .await;
    assert_error(&again, StatusCode::CONFLICT, "step_in_progress");
    let deadline = Instant::now() + Duration::from_secs(20);
    let done = loop {
        let (_, r) = s.get(&format!("/runs/{id}")).await;
        if r["status"] != "running" {
            break r;
        }
        assert!(Instant::now() < deadline, "the step never ended: {r}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["steps"][1]["outputs"][0]["text"], "left", "{done}");
    assert_eq!(std::fs::read_to_string(count).unwrap().lines().count(), 1);
}
