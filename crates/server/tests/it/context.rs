//! A real server on a free port with its own data folder, and helpers to build bundles and
//! to prove that nothing was left behind.

use std::io::Write;
use std::path::{Path, PathBuf};

use std::sync::Arc;

use feather_runner::pool::PoolLimits;
use feather_runner::{Runner, RunnerConfig};
use feather_server::{AppState, ServerConfig};
use feather_store::{BundleLimits, Role};
use reqwest::multipart::{Form, Part};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;

async fn token_for(
    registry: &dyn feather_store::Registry,
    user: &str,
    role: Role,
    scopes: &str,
) -> String {
    if registry.user(user).await.is_err() {
        registry
            .create_user("local:test", user, role)
            .await
            .unwrap();
    }
    let new = feather_store::NewToken {
        user: user.into(),
        scopes: feather_store::Scope::parse_list(scopes).unwrap(),
        expires_at: None,
        label: None,
    };
    registry.create_token("local:test", &new).await.unwrap().0
}

/// The registry these tests run on: SQLite in the data folder, or with
/// `FEATHER_TEST_REGISTRY=postgres` a database of its own on the test run's PostgreSQL server
/// (`FEATHER_TEST_POSTGRES`, which `scripts/test` starts). The database's URL is kept in the data
/// folder, so a restarted server finds the same one.
async fn database_for(data: &Path) -> feather_store::Database {
    let kept = data.join("test-database");
    if let Ok(url) = std::fs::read_to_string(&kept) {
        return url.parse().unwrap();
    }
    match std::env::var("FEATHER_TEST_REGISTRY").as_deref() {
        Err(_) | Ok("sqlite") => feather_store::Database::Sqlite,
        Ok("postgres") => {
            let url = new_postgres_database().await;
            std::fs::write(&kept, &url).unwrap();
            url.parse().unwrap()
        }
        Ok(other) => panic!("FEATHER_TEST_REGISTRY={other}: sqlite or postgres"),
    }
}

/// A new, empty database on the test run's PostgreSQL server; its URL.
pub async fn new_postgres_database() -> String {
    feather_testkit::postgres_database("server").await
}

/// A background task that ends with its owner.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

pub struct Server {
    pub url: String,
    pub data: TempDir,
    pub http: reqwest::Client,
    /// alice's token.
    pub token: String,
    /// bob's token.
    pub other: String,
    /// The server's registry, to set up users and tokens.
    pub registry: std::sync::Arc<dyn feather_store::Registry>,
    /// The server's runner, to drive its housekeeping.
    pub runner: Arc<Runner>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    pub async fn start() -> Self {
        Self::start_with(BundleLimits::default()).await
    }

    pub async fn start_with(limits: BundleLimits) -> Self {
        Self::start_in(
            tempfile::tempdir().unwrap(),
            limits,
            PoolLimits::default(),
            |s| s,
        )
        .await
    }

    /// A server whose state is set up further (rate limits, CORS).
    pub async fn start_with_state(tweak: fn(AppState) -> AppState) -> Self {
        let data = tempfile::tempdir().unwrap();
        Self::start_in(data, BundleLimits::default(), PoolLimits::default(), tweak).await
    }

    /// A server whose version pools have these sizes.
    pub async fn start_with_pool(pool: PoolLimits) -> Self {
        Self::start_in(
            tempfile::tempdir().unwrap(),
            BundleLimits::default(),
            pool,
            |s| s,
        )
        .await
    }

    /// Stops this server (its workers go with it) and starts another on the same data folder.
    pub async fn restart(mut self) -> Self {
        self.task.abort();
        let _ = (&mut self.task).await;
        let data = std::mem::replace(&mut self.data, tempfile::tempdir().unwrap());
        let (token, other) = (self.token.clone(), self.other.clone());
        let mut s =
            Self::start_in(data, BundleLimits::default(), PoolLimits::default(), |s| s).await;
        (s.token, s.other) = (token, other);
        s
    }

    async fn start_in(
        data: TempDir,
        limits: BundleLimits,
        pool: PoolLimits,
        tweak: fn(AppState) -> AppState,
    ) -> Self {
        Self::start_full(data, limits, pool, tweak, |c| c).await
    }

    /// A server whose runner is set up further (the sandbox, say).
    pub async fn start_with_runner(runner: impl FnOnce(RunnerConfig) -> RunnerConfig) -> Self {
        Self::start_on(tempfile::tempdir().unwrap(), runner).await
    }

    /// A server on a data folder prepared beforehand, its runner set up further.
    pub async fn start_on(
        data: TempDir,
        runner: impl FnOnce(RunnerConfig) -> RunnerConfig,
    ) -> Self {
        Self::start_full(
            data,
            BundleLimits::default(),
            PoolLimits::default(),
            |s| s,
            runner,
        )
        .await
    }

    /// A server whose state and runner are both set up further.
    pub async fn start_with_state_and_runner(
        tweak: fn(AppState) -> AppState,
        runner: impl FnOnce(RunnerConfig) -> RunnerConfig,
    ) -> Self {
        let data = tempfile::tempdir().unwrap();
        let (limits, pool) = (BundleLimits::default(), PoolLimits::default());
        Self::start_full(data, limits, pool, tweak, runner).await
    }

    async fn start_full(
        data: TempDir,
        limits: BundleLimits,
        pool: PoolLimits,
        tweak: fn(AppState) -> AppState,
        runner: impl FnOnce(RunnerConfig) -> RunnerConfig,
    ) -> Self {
        Self::start_http(data, limits, pool, tweak, runner, Default::default()).await
    }

    /// A server whose blobs are at `blobs` (an object store), its state set up further.
    pub async fn start_with_blobs(
        blobs: feather_store::BlobPlace,
        tweak: fn(AppState) -> AppState,
    ) -> Self {
        let data = tempfile::tempdir().unwrap();
        let (limits, pool) = (BundleLimits::default(), PoolLimits::default());
        Self::start_placed(data, limits, pool, tweak, |c| c, Default::default(), blobs).await
    }

    /// Two servers sharing one registry on PostgreSQL and one bucket on S3, each with a data
    /// folder of its own, as replicas behind a load balancer are.
    pub async fn start_replicas(blobs: feather_store::BlobPlace) -> (Self, Self) {
        let url = new_postgres_database().await;
        let mut pair = Vec::new();
        for _ in 0..2 {
            let data = tempfile::tempdir().unwrap();
            std::fs::write(data.path().join("test-database"), &url).unwrap();
            let (limits, pool) = (BundleLimits::default(), PoolLimits::default());
            let s = Self::start_placed(
                data,
                limits,
                pool,
                |s| s,
                |c| c,
                Default::default(),
                blobs.clone(),
            );
            pair.push(s.await);
        }
        let b = pair.pop().unwrap();
        (pair.pop().unwrap(), b)
    }

    /// A server whose connections are held to these limits.
    pub async fn start_with_http(http: feather_server::listen::HttpLimits) -> Self {
        let data = tempfile::tempdir().unwrap();
        let (limits, pool) = (BundleLimits::default(), PoolLimits::default());
        Self::start_http(data, limits, pool, |s| s, |c| c, http).await
    }

    async fn start_http(
        data: TempDir,
        limits: BundleLimits,
        pool: PoolLimits,
        tweak: fn(AppState) -> AppState,
        runner: impl FnOnce(RunnerConfig) -> RunnerConfig,
        http: feather_server::listen::HttpLimits,
    ) -> Self {
        let blobs = Default::default();
        Self::start_placed(data, limits, pool, tweak, runner, http, blobs).await
    }

    async fn start_placed(
        data: TempDir,
        limits: BundleLimits,
        pool: PoolLimits,
        tweak: fn(AppState) -> AppState,
        runner: impl FnOnce(RunnerConfig) -> RunnerConfig,
        http: feather_server::listen::HttpLimits,
        blobs: feather_store::BlobPlace,
    ) -> Self {
        let config = ServerConfig {
            data: data.path().to_path_buf(),
            places: feather_store::Places {
                database: database_for(data.path()).await,
                blobs,
            },
            addr: "127.0.0.1:0".parse().unwrap(),
            limits,
            public_url: None,
            runner: runner(RunnerConfig {
                pool,
                ..runner_config(data.path())
            }),
            rate: Default::default(),
            cors_origins: Vec::new(),
            http,
            files: Default::default(),
        };
        let (store, lock) = feather_server::open(&config).await.unwrap();
        let registry = store.registry.clone();
        let token = token_for(registry.as_ref(), "alice", Role::Developer, "publish,run").await;
        let other = token_for(registry.as_ref(), "bob", Role::Developer, "publish,run").await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let service = feather_server::service(store, &config);
        feather_service::follow::follow(&service).await.unwrap();
        let runner = service.runner.clone();
        let state = tweak(AppState::new(service, None));
        let collector = feather_server::collect(state.service.store.clone(), state.service.files);
        let app = feather_server::router(state);
        let http = config.http;
        let task = tokio::spawn(async move {
            let _lock = lock;
            let _collector = AbortOnDrop(tokio::spawn(collector));
            feather_server::listen::serve(listener, app, http, std::future::pending())
                .await
                .unwrap();
        });
        Self {
            url,
            data,
            http: reqwest::Client::new(),
            token,
            other,
            registry,
            runner,
            task,
        }
    }

    /// Every row of the registry as text when it is on PostgreSQL; empty on SQLite, whose
    /// file is in the data folder.
    pub async fn registry_text(&self) -> String {
        use sqlx::Connection;
        let Ok(url) = std::fs::read_to_string(self.data.path().join("test-database")) else {
            return String::new();
        };
        let mut db = sqlx::PgConnection::connect(&url).await.unwrap();
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
        )
        .fetch_all(&mut db)
        .await
        .unwrap();
        let mut text = String::new();
        for t in tables {
            let rows: Vec<String> = sqlx::query_scalar(&format!("SELECT r::text FROM \"{t}\" r"))
                .fetch_all(&mut db)
                .await
                .unwrap();
            text.extend(rows.into_iter().map(|r| r + "\n"));
        }
        text
    }

    /// A token for `user` (created with `role` if new) with these scopes.
    pub async fn token_for(&self, user: &str, role: Role, scopes: &str) -> String {
        token_for(self.registry.as_ref(), user, role, scopes).await
    }

    pub fn api(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.url)
    }

    /// Any call under `/api/v1`, with an optional token and JSON body.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut r = self.http.request(method, self.api(path));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        if let Some(b) = body {
            r = r.json(&b);
        }
        read(r.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        read(self.http.get(self.api(path)).send().await.unwrap()).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        let mut r = self.http.delete(self.api(path));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        read(r.send().await.unwrap()).await
    }

    /// Publishes as alice.
    pub async fn publish(&self, manifest: &Value, bundle: Vec<u8>) -> (StatusCode, Value) {
        self.publish_raw(
            Some(&self.token),
            Some(manifest.to_string().into_bytes()),
            Some(bundle),
        )
        .await
    }

    pub async fn publish_raw(
        &self,
        token: Option<&str>,
        manifest: Option<Vec<u8>>,
        bundle: Option<Vec<u8>>,
    ) -> (StatusCode, Value) {
        let mut form = Form::new();
        if let Some(m) = manifest {
            form = form.part("manifest", Part::bytes(m).file_name("manifest.json"));
        }
        if let Some(b) = bundle {
            form = form.part("bundle", Part::bytes(b).file_name("bundle.tar.gz"));
        }
        let mut r = self.http.post(self.api("/models")).multipart(form);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        read(r.send().await.unwrap()).await
    }

    /// Every file below a folder of the data folder.
    pub fn files(&self, sub: &str) -> Vec<PathBuf> {
        files_below(&self.data.path().join(sub))
    }

    /// Nothing in the registry, the blob folder or the upload folder.
    pub async fn assert_empty(&self, case: &str) {
        let (status, page) = self.get("/models").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(page["total"], 0, "{case}: the registry holds {page}");
        assert_eq!(
            self.files("blobs"),
            Vec::<PathBuf>::new(),
            "{case}: blobs were left"
        );
        assert_eq!(
            self.files("tmp"),
            Vec::<PathBuf>::new(),
            "{case}: uploads were left"
        );
    }
}

/// The uv that `scripts/test` installs into the repository's `.venv`, unless FEATHER_UV names one.
pub fn uv() -> PathBuf {
    std::env::var_os("FEATHER_UV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/uv"))
}

pub fn runner_config(data: &Path) -> RunnerConfig {
    RunnerConfig {
        step_timeout: std::time::Duration::from_secs(5),
        ..RunnerConfig::new(&data.join("runner"), &uv())
    }
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

pub async fn read(res: Response) -> (StatusCode, Value) {
    let status = res.status();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Asserts the one error shape with this status and code; returns the error object.
#[track_caller]
pub fn assert_error(got: &(StatusCode, Value), status: StatusCode, code: &str) -> Value {
    assert_eq!(got.0, status, "{}", got.1);
    let e = &got.1["error"];
    assert_eq!(e["code"], code, "{}", got.1);
    assert!(
        e["message"].as_str().is_some_and(|m| m.len() > 10),
        "no useful message: {}",
        got.1
    );
    e.clone()
}

/// A small valid manifest whose entry is `app.py`.
pub fn manifest(name: &str) -> Value {
    json!({
        "schema": "feather.manifest/v1",
        "name": name,
        "title": format!("The {name} model"),
        "tags": ["test"],
        "runtime": {"kind": "python", "python": "3.11", "entry": "app.py", "requirements": []},
        "init": [{"id": "text", "type": "Text.In"}],
        "steps": [{"name": "run"}],
        "provenance": {"sdk": "0.1.0", "python": "3.11.7", "platform": "linux-x86_64", "packages": {}}
    })
}

/// Builds tar archives, including entries no well-behaved tool would write.
pub struct Tar(tar::Builder<Vec<u8>>);

impl Tar {
    pub fn new() -> Self {
        Self(tar::Builder::new(Vec::new()))
    }

    /// A regular file; the path is written as given, unchecked.
    pub fn file(mut self, path: &str, data: &[u8]) -> Self {
        self.raw(path, tar::EntryType::Regular, None, data);
        self
    }

    pub fn entry(mut self, path: &str, kind: tar::EntryType, link: Option<&str>) -> Self {
        self.raw(path, kind, link, b"");
        self
    }

    fn raw(&mut self, path: &str, kind: tar::EntryType, link: Option<&str>, data: &[u8]) {
        let mut h = tar::Header::new_old();
        let old = h.as_old_mut();
        old.name[..path.len()].copy_from_slice(path.as_bytes());
        if let Some(l) = link {
            old.linkname[..l.len()].copy_from_slice(l.as_bytes());
        }
        h.set_entry_type(kind);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        self.0.append(&h, data).unwrap();
    }

    pub fn tar(self) -> Vec<u8> {
        self.0.into_inner().unwrap()
    }

    pub fn gz(self) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&self.tar()).unwrap();
        e.finish().unwrap()
    }
}

/// The usual good bundle.
pub fn app_bundle() -> Vec<u8> {
    Tar::new()
        .file("app.py", b"import feather as ftr\n")
        .file("model/weights.bin", &[7u8; 100])
        .gz()
}
