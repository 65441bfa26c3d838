//! Two `feather serve` processes on one PostgreSQL registry and one S3 bucket, behind nginx
//! (Debian's, round robin), as replicas behind a load balancer run: what one is told the other
//! knows, and killing one under load loses only the requests it was answering.
//!
//! Needs `FEATHER_TEST_POSTGRES`, `FEATHER_TEST_S3` with the `AWS_*` variables pointing at it,
//! and nginx (`scripts/test` starts the first two and `scripts/test-tools.sh` installs nginx).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{Served, token_with, uv};

const APP: &str = r#"
import feather as ftr


@ftr.step
def ask(text):
    return [ftr.Text.In(id="more"), {"first": text}]


@ftr.step
def answer(more, state):
    return ftr.Text.View(id="both", text=state["first"] + " " + more)


ftr.build("pair", init=[ftr.Text.In(id="text")], steps=[ask, answer])
"#;

/// nginx in front of `upstreams`, round robin; stopped when dropped.
struct Nginx {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Nginx {
    /// SIGTERM, not SIGKILL: nginx's master stops its workers only when it is asked to.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn nginx(upstreams: &[&str]) -> Nginx {
    use std::os::unix::fs::PermissionsExt;
    let bin = std::env::var("FEATHER_TEST_NGINX").unwrap_or_else(|_| "/usr/sbin/nginx".into());
    let dir = tempfile::tempdir().unwrap();
    // Run by root, nginx's workers are `nobody`: they write request bodies here.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let port = free_port();
    let servers: String = upstreams
        .iter()
        .map(|u| {
            let addr = u.trim_start_matches("http://");
            format!("server {addr} max_fails=1 fail_timeout=60s;\n")
        })
        .collect();
    let d = dir.path().display();
    // No keep-alive to the replicas: a request is sent on a new connection, so one to a dead
    // replica is refused before anything was sent, and nginx passes it to the other.
    let conf = format!(
        "worker_processes 1;\npid {d}/nginx.pid;\nevents {{ worker_connections 512; }}\n\
         http {{\n access_log off;\n client_body_temp_path {d}/body;\n proxy_temp_path {d}/proxy;\n\
         fastcgi_temp_path {d}/fcgi;\n uwsgi_temp_path {d}/uwsgi;\n scgi_temp_path {d}/scgi;\n\
         client_max_body_size 64m;\n upstream feather {{\n{servers} }}\n\
         server {{\n  listen 127.0.0.1:{port};\n  location / {{\n   proxy_pass http://feather;\n\
         proxy_next_upstream error timeout;\n   proxy_connect_timeout 2s;\n  }}\n }}\n}}\n"
    );
    std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
    let child = Command::new(&bin)
        .args(["-e", "stderr", "-g", "daemon off;", "-p"])
        .arg(dir.path())
        .arg("-c")
        .arg(dir.path().join("nginx.conf"))
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{bin}: {e}; scripts/test-tools.sh installs nginx"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nginx did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    Nginx {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _dir: dir,
    }
}

fn replica(data: &Path, database: &str, blobs: &str) -> Served {
    let uv = uv();
    let args: Vec<&std::ffi::OsStr> = vec![
        "--data".as_ref(),
        data.as_os_str(),
        "--uv".as_ref(),
        uv.as_os_str(),
        "--database".as_ref(),
        database.as_ref(),
        "--blobs".as_ref(),
        blobs.as_ref(),
        "--rate-token".as_ref(),
        "0".as_ref(),
    ];
    Served::start_in(Path::new("."), &args)
}

/// The two-step model's build folder: manifest.json and bundle.tar.gz.
fn pair_dir(root: &Path) -> std::path::PathBuf {
    let dir = root.join("build-pair");
    std::fs::create_dir_all(&dir).unwrap();
    let manifest = json!({
        "schema": "feather.manifest/v1", "name": "pair",
        "runtime": {"kind": "python", "python": "3.11", "entry": "app.py", "requirements": []},
        "init": [{"id": "text", "type": "Text.In"}],
        "steps": [{"name": "ask"}, {"name": "answer"}],
        "provenance": {"sdk": "0.1.0", "python": "3.11.7", "platform": "linux-x86_64", "packages": {}}
    });
    std::fs::write(dir.join("manifest.json"), manifest.to_string()).unwrap();
    let bundle = crate::gz_bundle(&[("app.py", APP.as_bytes())]);
    std::fs::write(dir.join("bundle.tar.gz"), bundle).unwrap();
    dir
}

struct Client {
    http: reqwest::Client,
    token: String,
}

impl Client {
    async fn call(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<Value>,
    ) -> reqwest::Result<(StatusCode, Value)> {
        let mut r = self.http.request(method, url).bearer_auth(&self.token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let res = r.send().await?;
        let status = res.status();
        Ok((status, res.json().await.unwrap_or(Value::Null)))
    }
}

/// What the load's clients were told.
#[derive(Default)]
struct Tally {
    /// Runs whose start was answered, with the step answer's text when that was answered too.
    runs: Vec<(String, Option<String>)>,
    /// When each failed request failed, and how.
    failures: Vec<(Instant, String)>,
    answered_after_kill: usize,
}

#[test]
fn two_replicas_behind_nginx_share_everything_and_one_killed_loses_only_its_requests() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let database = rt.block_on(feather_testkit::postgres_database("replicas"));
    std::env::var("FEATHER_TEST_S3").expect("FEATHER_TEST_S3: run scripts/test");
    let blobs = format!("s3://feather/replicas-{}/blobs", std::process::id());
    let (data_a, data_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = replica(data_a.path(), &database, &blobs);
    let b = replica(data_b.path(), &database, &blobs);
    let token = token_with(data_a.path(), "alice", &["--database", &database]);
    let lb = nginx(&[&a.url, &b.url]);
    let c = Arc::new(Client {
        http: reqwest::Client::new(),
        token: token.clone(),
    });
    let api = |s: &str, path: &str| format!("{s}/api/v1{path}");
    use reqwest::Method;

    // Published through A; B heard of it and makes it ready without being asked.
    let root = tempfile::tempdir().unwrap();
    crate::publish(&pair_dir(root.path()), &a.url, &token);
    rt.block_on(async {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let url = api(&b.url, "/models/alice/pair/versions/1/environment");
            let (_, env) = c.call(Method::GET, &url, None).await.unwrap();
            if env["status"] == "ready" {
                break;
            }
            assert!(Instant::now() < deadline, "B never made it ready: {env}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        // A run started on A has its next step answered on B.
        let start = json!({"inputs": {"text": "hello"}});
        let (status, run) = c
            .call(
                Method::POST,
                &api(&a.url, "/models/alice/pair/runs"),
                Some(start),
            )
            .await
            .unwrap();
        assert_eq!(status, StatusCode::CREATED, "{run}");
        let step = api(
            &b.url,
            &format!("/runs/{}/steps", run["id"].as_str().unwrap()),
        );
        let (status, done) = c
            .call(
                Method::POST,
                &step,
                Some(json!({"inputs": {"more": "world"}})),
            )
            .await
            .unwrap();
        assert_eq!(status, StatusCode::OK, "{done}");
        assert_eq!(done["steps"][1]["outputs"][0]["text"], "hello world");

        // Made private through A: B refuses anonymous callers within a second.
        let private = Some(json!({"visibility": "private"}));
        let (status, body) = c
            .call(Method::PATCH, &api(&a.url, "/models/alice/pair"), private)
            .await
            .unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        let made = Instant::now();
        loop {
            let anonymous = reqwest::get(api(&b.url, "/models/alice/pair"))
                .await
                .unwrap();
            if anonymous.status() == StatusCode::NOT_FOUND {
                break;
            }
            assert!(
                made.elapsed() < Duration::from_secs(1),
                "B still shows the private model"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });

    // Load through nginx: clients start runs and answer their steps; A is killed midway.
    let tally = Arc::new(Mutex::new(Tally::default()));
    let killed: Arc<Mutex<Option<Instant>>> = Arc::default();
    let clients = 6;
    let stop = Instant::now() + Duration::from_secs(4);
    let tasks: Vec<_> = (0..clients)
        .map(|i| {
            let (c, tally, killed, lb) = (c.clone(), tally.clone(), killed.clone(), lb.url.clone());
            rt.spawn(async move {
                let mut n = 0;
                while Instant::now() < stop {
                    n += 1;
                    let text = format!("c{i}-{n}");
                    let fail =
                        |how: String| tally.lock().unwrap().failures.push((Instant::now(), how));
                    let start = json!({"inputs": {"text": text}});
                    let url = format!("{lb}/api/v1/models/alice/pair/runs");
                    let id = match c.call(Method::POST, &url, Some(start)).await {
                        Ok((StatusCode::CREATED, run)) => run["id"].as_str().unwrap().to_owned(),
                        Ok((status, body)) => {
                            fail(format!("start: {status} {body}"));
                            continue;
                        }
                        Err(e) => {
                            fail(format!("start: {e}"));
                            continue;
                        }
                    };
                    tally.lock().unwrap().runs.push((id.clone(), None));
                    let url = format!("{lb}/api/v1/runs/{id}/steps");
                    match c
                        .call(Method::POST, &url, Some(json!({"inputs": {"more": "x"}})))
                        .await
                    {
                        Ok((StatusCode::OK, done)) => {
                            let said = done["steps"][1]["outputs"][0]["text"]
                                .as_str()
                                .unwrap()
                                .to_owned();
                            assert_eq!(said, format!("{text} x"));
                            let mut t = tally.lock().unwrap();
                            let last = t.runs.iter_mut().rfind(|r| r.0 == id).unwrap();
                            last.1 = Some(said);
                            if killed.lock().unwrap().is_some() {
                                t.answered_after_kill += 1;
                            }
                        }
                        Ok((status, body)) => fail(format!("step: {status} {body}")),
                        Err(e) => fail(format!("step: {e}")),
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    *killed.lock().unwrap() = Some(Instant::now());
    a.kill();
    for t in tasks {
        rt.block_on(t).unwrap();
    }

    let t = tally.lock().unwrap();
    let at = killed.lock().unwrap().unwrap();
    let answered = t.runs.iter().filter(|r| r.1.is_some()).count();
    eprintln!(
        "{} runs started, {answered} answered ({} after the kill), {} failed: {:?}",
        t.runs.len(),
        t.answered_after_kill,
        t.failures.len(),
        t.failures.iter().map(|f| &f.1).collect::<Vec<_>>()
    );
    // Only what A was answering when it died fails: at most one request per client, at the kill.
    assert!(
        t.failures.len() <= clients,
        "{:?}",
        t.failures.iter().map(|f| &f.1).collect::<Vec<_>>()
    );
    for (when, how) in &t.failures {
        assert!(
            *when >= at && when.duration_since(at) < Duration::from_secs(1),
            "a request failed away from the kill: {how}"
        );
    }
    assert!(t.answered_after_kill > 0, "B served nothing after A died");
    // Every answer a client was given is in the registry, read through the survivor.
    rt.block_on(async {
        for (id, said) in &t.runs {
            let (status, run) = c
                .call(Method::GET, &format!("{}/api/v1/runs/{id}", lb.url), None)
                .await
                .unwrap();
            assert_eq!(status, StatusCode::OK, "{run}");
            if let Some(said) = said {
                assert_eq!(run["status"], "completed", "{run}");
                assert_eq!(run["steps"][1]["outputs"][0]["text"], said.as_str());
            }
        }
    });
    drop(b);
}
