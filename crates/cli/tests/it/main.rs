//! The `feather` binary end to end: real server processes, killed and restarted.

mod commands;
mod crash;
mod export;
mod replicas;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_feather");

/// The `feather` binary with none of the caller's `FEATHER_*` settings: a shell that followed
/// the README (`export FEATHER_TOKEN=...`) must not point the tests at its server or token.
pub fn command() -> Command {
    let mut c = Command::new(BIN);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("FEATHER_") {
            c.env_remove(key);
        }
    }
    c.env("FEATHER_LOG", "warn");
    c
}

/// The first line a child writes to its stdout (piped).
pub fn first_line(child: &mut Child) -> String {
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    line
}

/// Where the feather server a child runs listens: its first line says `listening on URL`.
pub fn listening(child: &mut Child) -> String {
    let line = first_line(child);
    line.trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected: {line:?}"))
        .to_owned()
}

/// A `feather serve` process on a free port.
pub struct Served {
    pub child: Child,
    pub url: String,
}

impl Served {
    /// With the uv that `scripts/test` installs into the repository's `.venv`: `feather
    /// publish` waits for the environments it builds.
    pub fn start(data: &Path) -> Self {
        let uv = uv();
        Self::start_in(
            Path::new("."),
            &[
                "--data".as_ref(),
                data.as_os_str(),
                "--uv".as_ref(),
                uv.as_os_str(),
            ],
        )
    }

    /// `feather serve` started in `cwd` with these further arguments.
    pub fn start_in(cwd: &Path, args: &[&std::ffi::OsStr]) -> Self {
        let mut child = command()
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(args)
            .current_dir(cwd)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let url = listening(&mut child);
        Self { child, url }
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// A plain HTTP/1.1 GET, so that the tests need no HTTP client beyond the standard library.
    pub fn get(&self, path: &str) -> (u16, serde_json::Value) {
        use std::io::Read;
        let addr = self.url.trim_start_matches("http://");
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let code = head.split(' ').nth(1).unwrap().parse().unwrap();
        (
            code,
            serde_json::from_str(body).unwrap_or(serde_json::Value::Null),
        )
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The repository's uv, unless FEATHER_UV names one.
pub fn uv() -> PathBuf {
    std::env::var_os("FEATHER_UV").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/uv"),
        PathBuf::from,
    )
}

pub fn feather(args: &[&str]) -> Output {
    command().args(args).output().unwrap()
}

/// `feather publish DIR` to a server, which must succeed.
pub fn publish(dir: &Path, url: &str, token: &str) {
    let out = feather(&[
        "publish",
        dir.to_str().unwrap(),
        "--server",
        url,
        "--token",
        token,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn token(data: &Path, user: &str) -> String {
    token_with(data, user, &[])
}

/// A token made on the data folder with further arguments (`--database URL`, say).
pub fn token_with(data: &Path, user: &str, args: &[&str]) -> String {
    let out = command()
        .args(["token", "create", "--user", user, "--data"])
        .arg(data)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A folder as `ftr.build` writes it: manifest.json and bundle.tar.gz.
pub fn build_dir(root: &Path, name: &str, app: &[u8]) -> PathBuf {
    let dir = root.join(format!("build-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    let manifest = serde_json::json!({
        "schema": "feather.manifest/v1", "name": name, "tags": ["cli"],
        "runtime": {"kind": "python", "python": "3.11", "entry": "app.py", "requirements": []},
        "steps": [{"name": "run"}],
        "provenance": {"sdk": "0.1.0", "python": "3.11.7", "platform": "linux-x86_64", "packages": {}}
    });
    std::fs::write(dir.join("manifest.json"), manifest.to_string()).unwrap();
    std::fs::write(dir.join("bundle.tar.gz"), gz_bundle(&[("app.py", app)])).unwrap();
    dir
}

pub fn gz_bundle(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (path, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        tar.append_data(&mut h, path, *data).unwrap();
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar.into_inner().unwrap()).unwrap();
    gz.finish().unwrap()
}

pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path())
            } else {
                out.push(e.path())
            }
        }
    }
    out.sort();
    out
}
