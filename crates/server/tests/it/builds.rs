//! Environment builds: what a model's author sends never runs on the host. Requirements are
//! names from the operator's index, wheels only by default; source builds, when the operator
//! allows them, run in the sandbox; every build has its time and disk limits.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::context::{Server, Tar, assert_error};
use crate::runs::manifest;

/// A listener that must never be reached; `hits` says whether anything connected.
struct Trap(std::net::TcpListener);

impl Trap {
    fn new() -> Self {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        Self(l)
    }

    fn port(&self) -> u16 {
        self.0.local_addr().unwrap().port()
    }

    fn hit(&self) -> bool {
        self.0.accept().is_ok()
    }
}

/// A package index (PEP 503's simple API) on a free port, serving source distributions only,
/// and the paths it was asked for.
struct Index {
    url: String,
    asked: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Index {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Index {
    async fn serving(packages: Vec<(&'static str, Vec<u8>)>) -> Self {
        use axum::extract::Path;
        use axum::response::Html;
        let files: Arc<Vec<(String, String, Vec<u8>)>> = Arc::new(
            packages
                .into_iter()
                .map(|(name, sdist)| {
                    let file = format!("{name}-1.0.tar.gz");
                    let hash = hex(&Sha256::digest(&sdist));
                    (name.to_owned(), format!("{file}#sha256={hash}"), sdist)
                })
                .collect(),
        );
        let asked = Arc::new(Mutex::new(Vec::new()));
        let (f1, f2, a) = (files.clone(), files, asked.clone());
        let app = axum::Router::new()
            .route(
                "/simple/{name}/",
                axum::routing::get(move |Path(name): Path<String>| async move {
                    let links: String = f1
                        .iter()
                        .filter(|(n, ..)| *n == name)
                        .map(|(_, href, _)| {
                            let file = href.split('#').next().unwrap();
                            format!("<a href=\"/files/{href}\">{file}</a>\n")
                        })
                        .collect();
                    Html(format!(
                        "<!DOCTYPE html><html><body>\n{links}</body></html>"
                    ))
                }),
            )
            .route(
                "/files/{file}",
                axum::routing::get(move |Path(file): Path<String>| async move {
                    f2.iter()
                        .find(|(_, href, _)| href.starts_with(&file))
                        .map(|(.., bytes)| bytes.clone())
                        .unwrap_or_default()
                }),
            )
            .layer(axum::middleware::from_fn(
                move |req: axum::extract::Request, next: axum::middleware::Next| {
                    a.lock().unwrap().push(req.uri().path().to_owned());
                    next.run(req)
                },
            ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/simple", listener.local_addr().unwrap());
        let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, asked, task }
    }

    fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// An in-tree PEP 517 build backend: the code a source distribution's author runs at build
/// time. It tries what an attacker would, then builds a wheel whose module `<name>_seen`
/// records what it saw, so a model can show it.
const BACKEND: &str = r#"
import base64, hashlib, json, os, time, zipfile

NAME = "__NAME__"
DATA = "__DATA__"
MODE = "__MODE__"


def _attempts():
    out = {}

    def t(k, f):
        try:
            out[k] = ["allowed", repr(f())[:100]]
        except Exception as e:
            out[k] = ["refused", type(e).__name__]

    t("database", lambda: open(DATA + "/feather.db", "rb").read(16))
    t("list_data", lambda: os.listdir(DATA))
    t("write_data", lambda: open(DATA + "/pwned-by-build", "w").write("x"))
    t("write_tmp", lambda: open("/tmp/feather-pwned-by-build", "w").write("x"))
    t("write_root", lambda: open("/pwned-by-build", "w").write("x"))
    out["uid"] = os.getuid()
    return out


def get_requires_for_build_wheel(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    # Written first, so a wheels-only build proves it never got here.
    try:
        open(DATA + "/pwned-by-build", "w").write("x")
    except Exception:
        pass
    if MODE == "slow":
        time.sleep(120)
    if MODE == "greedy":
        hoard = bytearray(2 << 30)
    if MODE == "big":
        for i in range(200):
            with open(os.path.join(os.environ.get("TMPDIR", "."), f"fill-{i}"), "wb") as f:
                f.write(b"\0" * (1 << 20))
        time.sleep(30)
    seen = _attempts()
    info = f"{NAME}-1.0.dist-info"
    files = {
        f"{NAME}_seen.py": "SEEN = " + json.dumps(seen) + "\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {NAME}\nVersion: 1.0\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = ""
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record += f"{path},sha256={digest},{len(text.encode())}\n"
    files[f"{info}/RECORD"] = record + f"{info}/RECORD,,\n"
    name = f"{NAME}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as z:
        for path, text in files.items():
            z.writestr(path, text)
    return name
"#;

/// A source distribution whose build backend is [`BACKEND`].
fn sdist(name: &str, data: &str, mode: &str) -> Vec<u8> {
    let root = format!("{name}-1.0");
    let pyproject = format!(
        "[build-system]\nrequires = []\nbuild-backend = \"backend\"\nbackend-path = [\".\"]\n\n[project]\nname = \"{name}\"\nversion = \"1.0\"\n"
    );
    let backend = BACKEND
        .replace("__NAME__", name)
        .replace("__DATA__", data)
        .replace("__MODE__", mode);
    let info = format!("Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n");
    // A ustar archive, as sdist tools write and installers expect.
    let mut tar = tar::Builder::new(Vec::new());
    for (path, text) in [
        ("pyproject.toml", pyproject),
        ("backend.py", backend),
        ("PKG-INFO", info),
    ] {
        let mut h = tar::Header::new_ustar();
        h.set_size(text.len() as u64);
        h.set_mode(0o644);
        tar.append_data(&mut h, format!("{root}/{path}"), text.as_bytes())
            .unwrap();
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &tar.into_inner().unwrap()).unwrap();
    gz.finish().unwrap()
}

/// A model needing `requirement`, whose step shows what the package's build saw.
fn model(name: &str, requirement: &str) -> (Value, String) {
    let mut m = manifest(name, json!([{"id": "text", "type": "Text.In"}]), &["show"]);
    m["runtime"]["requirements"] = json!([requirement]);
    let module = format!("{}_seen", requirement.replace('-', "_"));
    let app = format!(
        "import feather as ftr\n\n\n@ftr.step\ndef show(text):\n    import {module}\n    return ftr.Json.View({module}.SEEN)\n\n\nftr.build(\"{name}\", init=[ftr.Text.In(id=\"text\")], steps=[show])\n"
    );
    (m, app)
}

impl Server {
    /// Publishes an app without waiting, and returns its environment once the build ended.
    async fn publish_and_build(&self, m: &Value, app: &str) -> Value {
        let (status, body) = self
            .publish(m, Tar::new().file("app.py", app.as_bytes()).gz())
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let path = format!(
            "/models/alice/{}/versions/1/environment",
            m["name"].as_str().unwrap()
        );
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            let env = self.get_as(&path, Some(&self.token)).await.1;
            if matches!(env["status"].as_str(), Some("ready" | "failed")) {
                return env;
            }
            assert!(Instant::now() < deadline, "the build never ended: {env}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn get_as(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        let mut r = self.http.get(self.api(path));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        crate::context::read(r.send().await.unwrap()).await
    }
}

#[tokio::test]
async fn a_path_a_url_or_an_option_as_a_requirement_is_refused_at_publish_and_reaches_nothing() {
    let s = Server::start().await;
    let trap = Trap::new();
    let bundles = s.data.path().join("runner/bundles/0123abcd");
    let mut m = manifest("evil", json!([{"id": "text", "type": "Text.In"}]), &["run"]);
    m["runtime"]["requirements"] = json!([
        format!(
            "evil @ http://127.0.0.1:{}/evil-1.0-py3-none-any.whl",
            trap.port()
        ),
        bundles.to_str().unwrap(),
        "numpy",
        format!("--index-url=http://127.0.0.1:{}/simple", trap.port()),
        format!("evil@file://{}", bundles.display()),
    ]);
    let got = s.publish(&m, crate::context::app_bundle()).await;
    let e = assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "invalid_manifest");
    let paths: Vec<&str> = e["details"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "/runtime/requirements/0",
            "/runtime/requirements/1",
            "/runtime/requirements/3",
            "/runtime/requirements/4"
        ],
        "{e}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!trap.hit(), "a refused requirement reached the network");
    s.assert_empty("a refused publish").await;
}

#[tokio::test]
async fn environments_install_wheels_only_from_the_operator_s_index_and_read_no_configuration() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap().to_owned();
    let trap = Trap::new();
    // uv finds `uv.toml` in the folders above the one it runs in; the data folder is one. An
    // extra index and links would be asked before the operator's index, were they read.
    let trap_url = format!("http://127.0.0.1:{}", trap.port());
    let config =
        format!("extra-index-url = [\"{trap_url}/simple\"]\nfind-links = [\"{trap_url}/links\"]\n");
    std::fs::write(data.path().join("uv.toml"), &config).unwrap();
    std::fs::create_dir_all(data.path().join("runner/envs")).unwrap();
    std::fs::write(data.path().join("runner/envs/uv.toml"), &config).unwrap();
    let index = Index::serving(vec![("evilpkg", sdist("evilpkg", &d, "seen"))]).await;
    let url = index.url.clone();
    let s = Server::start_on(data, move |mut c| {
        c.build.index = url;
        c
    })
    .await;
    let (m, app) = model("evil", "evilpkg");
    let env = s.publish_and_build(&m, &app).await;
    assert_eq!(env["status"], "failed", "{env}");
    let reason = env["reason"].as_str().unwrap();
    assert!(reason.contains("--allow-source-builds"), "{reason}");
    assert!(
        index.asked().iter().any(|p| p == "/simple/evilpkg/"),
        "the operator's index was not asked: {:?}",
        index.asked()
    );
    assert!(
        !index.asked().iter().any(|p| p.starts_with("/files/")),
        "a source distribution was downloaded: {:?}",
        index.asked()
    );
    assert!(
        !s.data.path().join("pwned-by-build").exists(),
        "a build backend ran on the host"
    );
    assert!(!trap.hit(), "uv read a configuration file");

    // Everyone sees the status; the log, which names this machine's folders, only the owner
    // (and admins), with paths relative to the data folder.
    let path = "/models/alice/evil/versions/1/environment";
    let admin = s
        .token_for("root", feather_store::Role::Admin, "admin,run")
        .await;
    for (who, token) in [("anonymous", None), ("bob", Some(s.other.as_str()))] {
        let (status, env) = s.get_as(path, token).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(env["status"], "failed", "{who}: {env}");
        assert!(env.get("log").is_none(), "{who} sees the build log: {env}");
        assert_no_host_paths(&env.to_string(), &d);
    }
    for token in [&s.token, &admin] {
        let log = s.get_as(path, Some(token)).await.1["log"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(log.contains("runner/envs/py3.11-"), "{log}");
        assert_no_host_paths(&log, &d);
    }
    let got = s
        .post(
            "/models/alice/evil/predict",
            json!({"inputs": {"text": "x"}}),
            None,
        )
        .await;
    let e = assert_error(&got, StatusCode::CONFLICT, "environment_not_ready");
    assert_no_host_paths(&e.to_string(), &d);
}

#[track_caller]
fn assert_no_host_paths(text: &str, data: &str) {
    assert!(!text.contains(data), "the data folder is shown: {text}");
    if let Some(home) = std::env::var_os("HOME").filter(|h| h.len() > 1) {
        let home = format!("{}/", home.to_string_lossy());
        assert!(!text.contains(&home), "the home folder is shown: {text}");
    }
}

#[tokio::test]
async fn with_source_builds_allowed_a_build_backend_runs_in_the_sandbox() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap().to_owned();
    let index = Index::serving(vec![("evilpkg", sdist("evilpkg", &d, "seen"))]).await;
    let url = index.url.clone();
    let s = Server::start_on(data, move |mut c| {
        c.build.index = url;
        c.build.allow_source_builds = true;
        c
    })
    .await;
    let (m, app) = model("evil", "evilpkg");
    let env = s.publish_and_build(&m, &app).await;
    assert_eq!(env["status"], "ready", "{env}");
    assert!(
        env["log"]
            .as_str()
            .unwrap()
            .contains("in the build sandbox"),
        "{env}"
    );
    let (status, out) = s
        .post(
            "/models/alice/evil/predict",
            json!({"inputs": {"text": "x"}}),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let seen = &out["outputs"][0]["data"];
    for what in ["database", "write_data", "write_tmp", "write_root"] {
        assert_eq!(seen[what][0], "refused", "{what}: {seen}");
    }
    // The data folder is there only as the path to the build's own folder.
    assert_eq!(
        seen["list_data"],
        json!(["allowed", "['runner']"]),
        "{seen}"
    );
    if feather_runner::sandbox::runs_as_root() {
        assert_ne!(seen["uid"], 0, "the build ran as root: {seen}");
    }
    assert!(!s.data.path().join("pwned-by-build").exists());
    assert!(!std::path::Path::new("/tmp/feather-pwned-by-build").exists());
}

#[tokio::test]
async fn a_build_past_its_time_disk_or_memory_limit_is_stopped() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap().to_owned();
    let index = Index::serving(vec![
        ("slowpkg", sdist("slowpkg", &d, "slow")),
        ("bigpkg", sdist("bigpkg", &d, "big")),
        ("greedypkg", sdist("greedypkg", &d, "greedy")),
    ])
    .await;
    let url = index.url.clone();
    let s = Server::start_on(data, move |mut c| {
        c.build.index = url;
        c.build.allow_source_builds = true;
        c.build.timeout = Duration::from_secs(20);
        c.build.disk = 64 << 20;
        c.build.memory = 1 << 30;
        c
    })
    .await;
    let started = Instant::now();
    let (m, app) = model("slow", "slowpkg");
    let env = s.publish_and_build(&m, &app).await;
    assert_eq!(env["status"], "failed", "{env}");
    assert!(
        env["reason"]
            .as_str()
            .unwrap()
            .contains("time limit of 20 s (--build-timeout)"),
        "{env}"
    );
    assert!(
        env["log"].as_str().unwrap().contains("--build-timeout"),
        "{env}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );

    let (m, app) = model("big", "bigpkg");
    let env = s.publish_and_build(&m, &app).await;
    assert_eq!(env["status"], "failed", "{env}");
    assert!(
        env["reason"]
            .as_str()
            .unwrap()
            .contains("disk limit of 64 MiB (--build-disk-mb)"),
        "{env}"
    );
    // A backend that asks for more memory than a build may have fails at it.
    let (m, app) = model("greedy", "greedypkg");
    let env = s.publish_and_build(&m, &app).await;
    assert_eq!(env["status"], "failed", "{env}");
    assert!(
        env["log"].as_str().unwrap().contains("MemoryError"),
        "{env}"
    );
    // Nothing of any build is left.
    let left: Vec<_> = std::fs::read_dir(s.data.path().join("runner/envs"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".partial"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test]
async fn an_environment_is_built_with_its_bytecode_so_workers_in_a_read_only_sandbox_start_fast() {
    // A worker cannot write `__pycache__` into its read-only environment: without the bytecode
    // built ahead, every worker start compiles every module it imports again (seconds for
    // scikit-learn on this project's machines).
    let s = Server::start().await;
    let m = manifest(
        "plain",
        json!([{"id": "text", "type": "Text.In"}]),
        &["show"],
    );
    let app = "import feather as ftr\n\n\n@ftr.step\ndef show(text):\n    return ftr.Text.View(text)\n\n\nftr.build(\"plain\", init=[ftr.Text.In(id=\"text\")], steps=[show])\n";
    let env = s.publish_and_build(&m, app).await;
    assert_eq!(env["status"], "ready", "{env}");
    let compiled: Vec<_> = s
        .files("runner/envs")
        .into_iter()
        .filter(|p| {
            p.extension().is_some_and(|e| e == "pyc")
                && p.components().any(|c| c.as_os_str() == "feather")
        })
        .collect();
    // `feather/worker/__pycache__/main.cpython-3N.pyc`: what every worker start imports.
    let worker = compiled.iter().any(|p| {
        p.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("main.")
            && p.parent()
                .and_then(|d| d.parent())
                .unwrap()
                .ends_with("worker")
    });
    assert!(worker, "the SDK's modules have no bytecode: {compiled:?}");
}
