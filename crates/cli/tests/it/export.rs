//! `feather export` and the entry point it writes: one version served alone, without a
//! container, with the same routes, number, aliases and page, and the packages it ran with.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

use crate::{BIN, Served, feather, gz_bundle, token, uv};

const APP: &str = r#"
import feather as ftr
import pinme


@ftr.step
def which(text):
    return ftr.Text.View(id="out", text=f"{text} {pinme.VERSION}")


ftr.build("pinned", init=[ftr.Text.In(id="text")], steps=[which])
"#;

/// A package index (PEP 503, as a folder served by Python's http.server) of wheels of one
/// package, `pinme`, whose module says its version; stopped when dropped.
struct Index {
    dir: tempfile::TempDir,
    child: Child,
    url: String,
}

impl Index {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("pinme")).unwrap();
        let mut child = Command::new("python3")
            .args(["-u", "-m", "http.server", "0", "--bind", "127.0.0.1"])
            .arg("--directory")
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let line = crate::first_line(&mut child);
        // "Serving HTTP on 127.0.0.1 port 40123 (http://127.0.0.1:40123/) ..."
        let port = line
            .split(" port ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .unwrap_or_else(|| panic!("unexpected: {line:?}"));
        let url = format!("http://127.0.0.1:{port}/");
        Self { dir, child, url }
    }

    /// Adds `pinme` at `version`: a pure-Python wheel with its RECORD, as installers check.
    fn add(&self, version: &str) {
        use base64::Engine;
        use sha2::Digest;
        let info = format!("pinme-{version}.dist-info");
        let mut files = vec![
            ("pinme.py".to_owned(), format!("VERSION = {version:?}\n")),
            (
                format!("{info}/METADATA"),
                format!("Metadata-Version: 2.1\nName: pinme\nVersion: {version}\n"),
            ),
            (
                format!("{info}/WHEEL"),
                "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
                    .to_owned(),
            ),
        ];
        let mut record = String::new();
        for (path, text) in &files {
            let digest = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(sha2::Sha256::digest(text.as_bytes()));
            record.push_str(&format!("{path},sha256={digest},{}\n", text.len()));
        }
        record.push_str(&format!("{info}/RECORD,,\n"));
        files.push((format!("{info}/RECORD"), record));
        let path = self
            .dir
            .path()
            .join(format!("pinme/pinme-{version}-py3-none-any.whl"));
        let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
        for (path, text) in files {
            zip.start_file(path, zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.write_all(text.as_bytes()).unwrap();
        }
        zip.finish().unwrap();
    }
}

impl Drop for Index {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The model's build folder: manifest.json and bundle.tar.gz, needing `pinme`.
fn model(root: &Path) -> PathBuf {
    let dir = root.join("pinned");
    std::fs::create_dir_all(&dir).unwrap();
    let manifest = json!({
        "schema": "feather.manifest/v1", "name": "pinned", "title": "Pinned",
        "runtime": {"kind": "python", "python": "3.11", "entry": "app.py", "requirements": ["pinme"]},
        "init": [{"id": "text", "type": "Text.In"}],
        "steps": [{"name": "which"}],
        "provenance": {"sdk": "0.1.0", "python": "3.11.7", "platform": "linux-x86_64", "packages": {}}
    });
    std::fs::write(dir.join("manifest.json"), manifest.to_string()).unwrap();
    std::fs::write(
        dir.join("bundle.tar.gz"),
        gz_bundle(&[("app.py", APP.as_bytes())]),
    )
    .unwrap();
    dir
}

fn ok(out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

async fn call(method: reqwest::Method, url: &str, body: Option<Value>) -> (u16, Value) {
    let mut r = reqwest::Client::new().request(method, url);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let res = r.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[test]
fn an_export_serves_its_one_version_alone_with_the_packages_it_ran_with() {
    let work = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let index = Index::start();
    index.add("1.0");
    let uv = uv();
    let server = Served::start_in(
        Path::new("."),
        &[
            "--data".as_ref(),
            data.path().as_os_str(),
            "--uv".as_ref(),
            uv.as_os_str(),
            "--package-index".as_ref(),
            index.url.as_ref(),
        ],
    );
    let token = token(data.path(), "alice");
    let dir = model(work.path());
    let on = ["--server", server.url.as_str(), "--token", &token];
    // Version 2, with an alias: the export keeps both.
    for _ in 0..2 {
        ok(feather(
            &[&["publish", dir.to_str().unwrap()][..], &on].concat(),
        ));
    }
    ok(feather(
        &[&["models", "alias", "alice/pinned", "prod", "2"][..], &on].concat(),
    ));
    ok(feather(
        &[&["models", "alias", "alice/pinned", "old", "1"][..], &on].concat(),
    ));

    let out = work.path().join("export");
    let said = ok(feather(
        &[
            &[
                "export",
                "alice/pinned@prod",
                "--out",
                out.to_str().unwrap(),
            ][..],
            &on,
        ]
        .concat(),
    ));
    assert!(
        said.contains("\nexported alice/pinned version 2 to ") && said.contains("1 locked"),
        "{said}"
    );
    let lock = std::fs::read_to_string(out.join("requirements.lock")).unwrap();
    assert_eq!(
        lock.lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>(),
        ["pinme==1.0"],
        "{lock}"
    );
    let origin: Value =
        serde_json::from_slice(&std::fs::read(out.join("version.json")).unwrap()).unwrap();
    assert_eq!(
        (&origin["model"], &origin["version"], &origin["aliases"]),
        (&json!("alice/pinned"), &json!(2), &json!(["prod"]))
    );
    let dockerfile = std::fs::read_to_string(out.join("Dockerfile")).unwrap();
    assert!(
        dockerfile.contains("RUN /srv/model/serve --prepare")
            && dockerfile.contains("docker build -t pinned:2 ."),
        "{dockerfile}"
    );
    for file in ["manifest.json", "bundle.tar.gz", ".dockerignore"] {
        assert!(out.join(file).is_file(), "{file} is missing");
    }

    // What the server would install today is 2.0; the export keeps what the version ran with.
    // The server it came from is gone: the folder is all the entry point needs.
    index.add("2.0");
    server.kill();
    // What the Dockerfile runs: the environment is built, and nothing is served.
    let prepared = Command::new(out.join("serve"))
        .arg("--prepare")
        .arg("--uv")
        .arg(&uv)
        .args(["--package-index", &index.url])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("HOME", std::env::var_os("HOME").unwrap_or_default())
        .env("FEATHER_BIN", BIN)
        .env("FEATHER_LOG", "warn")
        .output()
        .unwrap();
    let said = ok(prepared.clone()) + &String::from_utf8_lossy(&prepared.stderr);
    assert!(said.contains("alice/pinned@2 is ready to serve"), "{said}");
    let mut standalone = Standalone::start(&out, &uv, &index.url);

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let base = standalone.url.clone();
        let env_url = format!("{base}/api/v1/models/alice/pinned/versions/2/environment");
        // Prepared: ready from the start.
        let (_, env) = call(reqwest::Method::GET, &env_url, None).await;
        assert_eq!(env["status"], "ready", "{env}");
        assert_eq!(env["packages"], json!(["pinme==1.0"]), "{env}");

        // The same routes, number and alias, for anyone: the version is public here.
        for reference in ["pinned", "pinned@2", "pinned@prod"] {
            let (status, body) = call(
                reqwest::Method::POST,
                &format!("{base}/api/v1/models/alice/{reference}/predict"),
                Some(json!({"inputs": {"text": "runs"}})),
            )
            .await;
            assert_eq!(status, 200, "{reference}: {body}");
            assert_eq!(body["outputs"][0]["text"], "runs 1.0", "{reference}");
        }
        let (status, _) = call(
            reqwest::Method::POST,
            &format!("{base}/api/v1/models/alice/pinned@old/predict"),
            Some(json!({"inputs": {"text": "x"}})),
        )
        .await;
        assert_eq!(
            status, 404,
            "only the exported version and its aliases are there"
        );
        let (_, listed) = call(reqwest::Method::GET, &format!("{base}/api/v1/models"), None).await;
        assert_eq!(listed["total"], 1, "{listed}");
        let (status, doc) = call(
            reqwest::Method::GET,
            &format!("{base}/api/v1/models/alice/pinned/openapi.json"),
            None,
        )
        .await;
        assert_eq!(status, 200);
        assert!(
            doc["paths"].as_object().is_some_and(|p| !p.is_empty()),
            "{doc}"
        );
        let page = reqwest::get(format!("{base}/m/alice/pinned"))
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        assert!(page.text().await.unwrap().contains("<html"));
        // Nobody may publish there: it has no users.
        let (status, _) = call(
            reqwest::Method::POST,
            &format!("{base}/api/v1/models"),
            None,
        )
        .await;
        assert_eq!(status, 401);
    });

    // Started again on its data folder, it serves the same version without publishing anew.
    standalone.stop();
    let again = Standalone::start(&out, &uv, &index.url);
    let (_, versions) = rt.block_on(call(
        reqwest::Method::GET,
        &format!("{}/api/v1/models/alice/pinned/versions", again.url),
        None,
    ));
    assert_eq!(
        versions["versions"].as_array().map(Vec::len),
        Some(1),
        "{versions}"
    );
}

#[test]
fn an_exported_onnx_model_is_served_natively_with_its_protocols() {
    let work = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let model = work.path().join("double.onnx");
    feather_testkit::onnx_model(feather_testkit::DOUBLE_ONNX, &model, &[]);
    let lib = feather_testkit::onnxruntime_library();
    let server = Served::start_in(
        Path::new("."),
        &[
            "--data".as_ref(),
            data.path().as_os_str(),
            "--onnxruntime".as_ref(),
            lib.as_os_str(),
        ],
    );
    let token = token(data.path(), "alice");
    let on = ["--server", server.url.as_str(), "--token", &token];
    ok(feather(
        &[&["publish", model.to_str().unwrap()][..], &on].concat(),
    ));
    let out = work.path().join("export");
    let said = ok(feather(
        &[
            &["export", "alice/double", "--out", out.to_str().unwrap()][..],
            &on,
        ]
        .concat(),
    ));
    assert!(said.contains("(0 locked packages)"), "{said}");
    server.kill();

    let prepared = Command::new(out.join("serve"))
        .arg("--prepare")
        .arg("--onnxruntime")
        .arg(&lib)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("FEATHER_BIN", BIN)
        .env("FEATHER_LOG", "warn")
        .output()
        .unwrap();
    let said = ok(prepared.clone()) + &String::from_utf8_lossy(&prepared.stderr);
    assert!(said.contains("alice/double@1 is ready to serve"), "{said}");
    let standalone = Standalone::start_with(&out, &["--onnxruntime".as_ref(), lib.as_os_str()]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let base = &standalone.url;
        // The Open Inference Protocol as on the server it came from.
        let (status, body) = call(
            reqwest::Method::POST,
            &format!("{base}/v2/models/alice/double/infer"),
            Some(json!({"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP32", "data": [1, 2, 3]}]})),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["outputs"][0]["data"], json!([2.0, 4.0, 6.0]), "{body}");
        let (status, body) = call(
            reqwest::Method::GET,
            &format!("{base}/v2/models/alice/double/ready"),
            None,
        )
        .await;
        assert_eq!(status, 200, "{body}");
    });
}

/// The export's entry point, run as a person would: `./serve --addr ...`, with the feather
/// binary named by FEATHER_BIN.
struct Standalone {
    child: Child,
    url: String,
}

impl Standalone {
    fn start(dir: &Path, uv: &Path, index: &str) -> Self {
        Self::start_with(
            dir,
            &[
                "--uv".as_ref(),
                uv.as_os_str(),
                "--package-index".as_ref(),
                index.as_ref(),
            ],
        )
    }

    /// `./serve --addr 127.0.0.1:0` with these further arguments.
    fn start_with(dir: &Path, args: &[&std::ffi::OsStr]) -> Self {
        let mut child = Command::new(dir.join("serve"))
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap())
            .env("HOME", std::env::var_os("HOME").unwrap_or_default())
            .env("FEATHER_BIN", BIN)
            .env("FEATHER_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let url = crate::listening(&mut child);
        Self { child, url }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Standalone {
    fn drop(&mut self) {
        self.stop();
    }
}
