//! The runner: unpacked bundles, environments and worker pools, keyed by version.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use feather_spec::{Manifest, Runtime};

use crate::env::{BuildPolicy, EnvBuilder, EnvError, EnvSpec, EnvStatus};
use crate::pool::{PoolLimits, StepBatch, WorkerPool};
use crate::sandbox::{Limits, Sandbox};
use crate::worker::WorkerSpec;

/// How the runner runs things.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// Its own folder (under the data folder): `envs/`, `bundles/`, `run/`.
    pub root: PathBuf,
    /// The uv executable.
    pub uv: PathBuf,
    pub pool: PoolLimits,
    /// Wall-clock limit of one step, for models that do not set their own.
    pub step_timeout: Duration,
    /// The longest step timeout a model may ask for.
    pub max_step_timeout: Duration,
    /// How long a worker may take to load its model.
    pub start_timeout: Duration,
    /// The largest frame a worker may send.
    pub max_frame: u32,
    /// Run workers without the sandbox (the operator's explicit choice).
    pub insecure_no_sandbox: bool,
    /// The bubblewrap to use; none: `bwrap` on `PATH`.
    pub bwrap: Option<PathBuf>,
    /// Each worker's resource limits: the values models get, and the most they may ask for.
    pub limits: Limits,
    /// How environments are built.
    pub build: BuildPolicy,
    /// Bytes the unpacked bundles and environments may hold; none: no cap.
    pub cache_cap: Option<u64>,
    /// How models in the ONNX format run.
    pub onnx: crate::onnx::OnnxConfig,
}

impl RunnerConfig {
    pub fn new(root: &Path, uv: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
            uv: uv.to_path_buf(),
            pool: PoolLimits::default(),
            step_timeout: Duration::from_secs(60),
            max_step_timeout: Duration::from_secs(900),
            start_timeout: Duration::from_secs(120),
            max_frame: 64 << 20,
            insecure_no_sandbox: false,
            bwrap: None,
            limits: Limits::default(),
            build: BuildPolicy::default(),
            cache_cap: None,
            onnx: crate::onnx::OnnxConfig::default(),
        }
    }
}

/// Runs versions' steps in worker pools.
#[derive(Debug)]
pub struct Runner {
    pub config: RunnerConfig,
    pub envs: EnvBuilder,
    /// How workers are contained, or why they cannot be: then no model runs.
    pub sandbox: Result<Sandbox, String>,
    pub(crate) pools: Mutex<HashMap<String, Arc<WorkerPool>>>,
    /// ONNX Runtime, loaded when a model first needs it.
    pub onnx: crate::onnx::OnnxLibrary,
    onnx_engines: Mutex<HashMap<String, Arc<crate::onnx::OnnxEngine>>>,
    /// Sizes of cached folders, measured once.
    pub(crate) sizes: Mutex<HashMap<PathBuf, u64>>,
}

/// What a version needs before it can run.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error(transparent)]
    Env(#[from] EnvError),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error(
        "models cannot run: the sandbox is unavailable ({0}); fix it, or start the server with --insecure-no-sandbox"
    )]
    NoSandbox(String),
    /// ONNX Runtime could not be installed or loaded.
    #[error("ONNX Runtime is unavailable: {0}")]
    OnnxRuntime(String),
    /// The version's model could not be made ready to run.
    #[error("{0}")]
    Model(String),
}

impl Runner {
    pub fn new(config: RunnerConfig) -> Self {
        let sandbox = if config.insecure_no_sandbox {
            tracing::warn!(
                "INSECURE: workers run without a sandbox (--insecure-no-sandbox): a model can read \
                 the data folder, other models and the network"
            );
            Ok(Sandbox::Off)
        } else {
            Sandbox::probe(config.bwrap.as_deref()).inspect_err(|reason| {
                tracing::error!(
                    "the sandbox is unavailable, so no model will run: {reason}; fix it, or start \
                     with --insecure-no-sandbox"
                )
            })
        };
        // One server per data folder: nothing is being built or removed at start, so what a
        // stopped server left half made or half removed goes.
        for sub in ["envs", "bundles"] {
            for e in std::fs::read_dir(config.root.join(sub))
                .into_iter()
                .flatten()
                .flatten()
            {
                let name = e.file_name();
                let name = name.to_string_lossy();
                if name.starts_with(".partial-") || name.starts_with(".evicted-") {
                    let _ = make_writable_and_remove(&e.path());
                }
            }
        }
        sweep_run_dir(&config.root.join("run"));
        let envs = EnvBuilder::new(
            &config.root.join("envs"),
            &config.uv,
            config.build.clone(),
            sandbox.clone().ok(),
        );
        let onnx = crate::onnx::OnnxLibrary::new(
            config.onnx.library.clone(),
            config.onnx.memory,
            &config.root,
            &config.build,
            &config.uv,
        );
        Self {
            config,
            envs,
            sandbox,
            pools: Mutex::new(HashMap::new()),
            onnx,
            onnx_engines: Mutex::new(HashMap::new()),
            sizes: Mutex::new(HashMap::new()),
        }
    }

    /// The Python environment a version needs; none for a model that runs without Python.
    pub fn env_spec(&self, manifest: &Manifest) -> Option<EnvSpec> {
        match &manifest.runtime {
            Runtime::Python {
                python,
                requirements,
                ..
            } => {
                Some(EnvSpec::new(python, requirements).constrained(&self.config.build.constraints))
            }
            Runtime::Onnx(_) => None,
        }
    }

    /// What a version needs before it runs, and where that stands: its Python environment, or
    /// for an ONNX model the ONNX Runtime library. Its key names it (`onnxruntime-1.31.1`).
    pub fn readiness(&self, manifest: &Manifest) -> (String, EnvStatus) {
        match self.env_spec(manifest) {
            Some(spec) => (spec.key(), self.envs.status(&spec)),
            None => (
                format!("onnxruntime-{}", crate::onnx::ORT_VERSION),
                self.onnx.status(),
            ),
        }
    }

    /// Builds what a version needs before it runs (its environment, or ONNX Runtime) and
    /// nothing else: no worker starts. Installing wheels runs none of their code, so this needs
    /// no sandbox (source builds, which would, are only made inside one).
    pub async fn build_environment(&self, manifest: &Manifest) -> Result<(), RunnerError> {
        match self.env_spec(manifest) {
            Some(spec) => self.envs.ensure(&spec).await.map(drop).map_err(Into::into),
            None => self
                .onnx
                .ensure()
                .await
                .map(drop)
                .map_err(RunnerError::OnnxRuntime),
        }
    }

    /// The packages a version's ready environment holds, as pins; none for a model that runs
    /// without Python, or while its environment is not built.
    pub async fn packages(&self, manifest: &Manifest) -> Result<Option<Vec<String>>, String> {
        match self.env_spec(manifest) {
            Some(spec) => self.envs.packages(&spec).await,
            None => Ok(None),
        }
    }

    /// The build log of what a version needs, if there is one.
    pub fn readiness_log(&self, manifest: &Manifest) -> Option<String> {
        self.env_spec(manifest)
            .and_then(|spec| self.envs.log(&spec))
    }

    /// How long a step of this model may run: its own limit within the operator's cap, else
    /// the default.
    pub fn step_timeout(&self, manifest: &Manifest) -> Duration {
        match manifest.limits.step_timeout {
            Some(s) => Duration::from_secs(s.into()).min(self.config.max_step_timeout),
            None => self.config.step_timeout,
        }
    }

    /// A model's worker limits: what it asks for in its manifest, within the operator's.
    pub fn limits(&self, manifest: &Manifest) -> Limits {
        let cap = self.config.limits;
        let mib = |v: Option<u32>, cap: u64| v.map_or(cap, |v| (u64::from(v) << 20).min(cap));
        Limits {
            memory: mib(manifest.limits.memory_mb, cap.memory),
            open_files: manifest
                .limits
                .open_files
                .map_or(cap.open_files, |v| u64::from(v).min(cap.open_files)),
            file_size: mib(manifest.limits.file_size_mb, cap.file_size),
            processes: manifest
                .limits
                .processes
                .map_or(cap.processes, |v| u64::from(v).min(cap.processes)),
            scratch: mib(manifest.limits.scratch_mb, cap.scratch),
            cpu: manifest
                .limits
                .cpu_seconds
                .map_or(cap.cpu, |v| u64::from(v).min(cap.cpu)),
            output: mib(manifest.limits.output_mb, cap.output),
        }
    }

    /// The unpacked bundle of a digest, if it is there.
    pub fn bundle_dir(&self, digest: &str) -> PathBuf {
        self.config
            .root
            .join("bundles")
            .join(digest.trim_start_matches("sha256:"))
    }

    /// Unpacks a bundle archive (already checked at publish) once; the result is read-only.
    pub fn unpack(&self, digest: &str, archive: &Path) -> std::io::Result<PathBuf> {
        let dest = self.bundle_dir(digest);
        if dest.is_dir() {
            return Ok(dest);
        }
        let parent = dest.parent().expect("bundles/ has a parent");
        std::fs::create_dir_all(parent)?;
        let partial = crate::sdk::tempfile_in(parent)?;
        let mut head = [0u8; 2];
        let n = std::fs::File::open(archive)?.read(&mut head)?;
        let file = std::fs::File::open(archive)?;
        let reader: Box<dyn Read> = if n == 2 && head == [0x1f, 0x8b] {
            Box::new(flate2::read::GzDecoder::new(file))
        } else {
            Box::new(zstd::stream::read::Decoder::new(file)?)
        };
        let mut tar = tar::Archive::new(reader);
        tar.set_preserve_permissions(false);
        tar.unpack(&partial)?;
        read_only(&partial)?;
        match std::fs::rename(&partial, &dest) {
            Ok(()) => Ok(dest),
            Err(_) if dest.is_dir() => {
                make_writable_and_remove(&partial)?;
                Ok(dest)
            }
            Err(e) => Err(e),
        }
    }

    /// The pool of a version, creating it when the environment is ready and the bundle is
    /// unpacked.
    pub async fn pool(
        &self,
        key: &str,
        manifest: &Manifest,
        bundle: &Path,
    ) -> Result<Arc<WorkerPool>, RunnerError> {
        if let Some(p) = self.pools.lock().expect("not poisoned").get(key) {
            return Ok(p.clone());
        }
        let sandbox = self.sandbox.clone().map_err(RunnerError::NoSandbox)?;
        let Runtime::Python { entry, .. } = &manifest.runtime else {
            return Err(RunnerError::Model("not a Python model".into()));
        };
        let spec = self
            .env_spec(manifest)
            .expect("a Python model has an environment");
        let python = self.envs.ensure(&spec).await?;
        for dir in [python.parent().and_then(Path::parent), Some(bundle)]
            .into_iter()
            .flatten()
        {
            crate::cache::touch(dir);
        }
        let spec = WorkerSpec {
            python,
            bundle: bundle.to_path_buf(),
            entry: entry.clone(),
            run_dir: self.config.root.join("run"),
            label: key.to_owned(),
            max_frame: self.config.max_frame,
            start_timeout: self.config.start_timeout,
            sandbox,
            limits: self.limits(manifest),
        };
        let steps = manifest
            .steps
            .iter()
            .map(|s| match &s.batch {
                Some(b) => StepBatch {
                    max: b.max_size as usize,
                    together: true,
                },
                None => StepBatch {
                    max: self.config.pool.batch,
                    together: false,
                },
            })
            .collect();
        let pool = Arc::new(WorkerPool::new(spec, self.config.pool, steps));
        Ok(self
            .pools
            .lock()
            .expect("not poisoned")
            .entry(key.to_owned())
            .or_insert(pool)
            .clone())
    }

    /// The engine that runs a version's steps, made when its environment is ready and its
    /// bundle unpacked.
    pub async fn engine(
        &self,
        key: &str,
        manifest: &Manifest,
        bundle: &Path,
    ) -> Result<Arc<dyn crate::engine::Engine>, RunnerError> {
        match &manifest.runtime {
            Runtime::Python { .. } => {
                let pool = self.pool(key, manifest, bundle).await?;
                Ok(Arc::new(crate::engine::PythonEngine { pool }))
            }
            Runtime::Onnx(rt) => Ok(self.onnx_engine(key, manifest, rt, bundle).await?),
        }
    }

    async fn onnx_engine(
        &self,
        key: &str,
        manifest: &Manifest,
        rt: &feather_spec::onnx::OnnxRuntime,
        bundle: &Path,
    ) -> Result<Arc<crate::onnx::OnnxEngine>, RunnerError> {
        if let Some(e) = self.onnx_engines.lock().expect("not poisoned").get(key) {
            return Ok(e.clone());
        }
        let env = self.onnx.ensure().await.map_err(RunnerError::OnnxRuntime)?;
        crate::cache::touch(bundle);
        let model = tokio::fs::read(bundle.join(&rt.file)).await?;
        let sig = rt
            .signature
            .clone()
            .ok_or_else(|| RunnerError::Model("the manifest has no signature".into()))?;
        let init: Vec<serde_json::Value> = manifest
            .init
            .iter()
            .map(|c| serde_json::to_value(c).expect("components serialise"))
            .collect();
        let plan = crate::onnx::Plan::new(&sig, rt, None, &init).map_err(RunnerError::Model)?;
        // Items are stacked only where every input's first dimension is of any size.
        let batchable = sig.inputs.iter().all(|i| {
            i.shape
                .as_ref()
                .and_then(|s| s.first())
                .is_some_and(|d| *d < 0)
        });
        let (config, timeout) = (self.config.onnx.clone(), self.step_timeout(manifest));
        let engine = tokio::task::spawn_blocking(move || {
            crate::onnx::OnnxEngine::start(&env, &model, plan, &config, timeout, batchable)
        })
        .await
        .map_err(|e| RunnerError::Model(e.to_string()))?
        .map_err(RunnerError::Model)?;
        Ok(self
            .onnx_engines
            .lock()
            .expect("not poisoned")
            .entry(key.to_owned())
            .or_insert(Arc::new(engine))
            .clone())
    }

    /// Reads an ONNX model at publish: its signature, and the init components derived from it
    /// when the manifest gives none; the reason when the runtime cannot load it or feather
    /// cannot serve its shape.
    pub async fn inspect_onnx(
        &self,
        model: Vec<u8>,
        rt: &feather_spec::onnx::OnnxRuntime,
        init: Vec<serde_json::Value>,
    ) -> Result<(feather_spec::onnx::Signature, Vec<serde_json::Value>), RunnerError> {
        let env = self.onnx.ensure().await.map_err(RunnerError::OnnxRuntime)?;
        let rt = rt.clone();
        tokio::task::spawn_blocking(move || {
            let session = crate::onnx::engine::session(&env, &model, 1).map_err(|e| {
                RunnerError::Model(format!("ONNX Runtime cannot load the model: {e}"))
            })?;
            let sig = crate::onnx::plan::signature(&session).map_err(RunnerError::Model)?;
            let names = crate::onnx::plan::feature_names(&session);
            let plan = crate::onnx::Plan::new(&sig, &rt, names.clone(), &init)
                .map_err(RunnerError::Model)?;
            let init = if init.is_empty() {
                plan.init(names.as_deref())
            } else {
                init
            };
            Ok((sig, init))
        })
        .await
        .map_err(|e| RunnerError::Model(e.to_string()))?
    }

    /// Stops idle workers past their idle time, brings every pool back to its minimum, and
    /// holds the cache to its cap.
    pub async fn trim(&self) {
        self.keep_within_cap().await;
        let pools: Vec<Arc<WorkerPool>> = self
            .pools
            .lock()
            .expect("not poisoned")
            .values()
            .cloned()
            .collect();
        for p in pools {
            p.trim().await;
            if let Err(e) = p.top_up().await {
                tracing::warn!(error = %e, "could not start a worker to keep the pool's minimum");
            }
        }
    }

    /// The versions (`owner/name@N`) that have a pool or a native engine here, sorted.
    pub fn running(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .pools
            .lock()
            .expect("not poisoned")
            .keys()
            .chain(self.onnx_engines.lock().expect("not poisoned").keys())
            .cloned()
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }

    /// Stops the pools whose key starts with `prefix` (`owner/name@` for a model, `owner/name@3`
    /// for a version): they were deleted. Idle workers stop now; busy ones when their step ends
    /// and the pool is dropped.
    pub async fn stop(&self, prefix: &str, exact: bool) {
        let pools: Vec<Arc<WorkerPool>> = {
            let mut all = self.pools.lock().expect("not poisoned");
            let keys: Vec<String> = all
                .keys()
                .filter(|k| {
                    if exact {
                        *k == prefix
                    } else {
                        k.starts_with(prefix)
                    }
                })
                .cloned()
                .collect();
            keys.iter().filter_map(|k| all.remove(k)).collect()
        };
        for p in pools {
            p.close().await;
        }
        self.onnx_engines
            .lock()
            .expect("not poisoned")
            .retain(|k, e| {
                let gone = if exact {
                    k == prefix
                } else {
                    k.starts_with(prefix)
                };
                if gone {
                    e.close();
                }
                !gone
            });
    }

    /// Stops every idle worker (at shutdown).
    pub async fn close(&self) {
        let pools: Vec<Arc<WorkerPool>> = self
            .pools
            .lock()
            .expect("not poisoned")
            .drain()
            .map(|(_, p)| p)
            .collect();
        for p in pools {
            p.close().await;
        }
        for (_, e) in self.onnx_engines.lock().expect("not poisoned").drain() {
            e.close();
        }
    }
}

fn walk(dir: &Path, f: &mut dyn FnMut(&Path, bool) -> std::io::Result<()>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let is_dir = e.file_type()?.is_dir();
        if is_dir {
            walk(&e.path(), f)?;
        }
        f(&e.path(), is_dir)?;
    }
    Ok(())
}

/// Makes a folder and everything below it read-only: workers must not change the bundle.
fn read_only(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    walk(dir, &mut |p, is_dir| {
        std::fs::set_permissions(
            p,
            std::fs::Permissions::from_mode(if is_dir { 0o555 } else { 0o444 }),
        )
    })?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555))
}

/// Removes what stopped servers left in the folder of sockets, scratch folders and spools:
/// files being received from workers (a spool lives for one answer; one unchanged for an
/// hour is no one's), and the sockets and scratch folders of processes that are gone.
fn sweep_run_dir(dir: &Path) {
    let stale = |e: &std::fs::DirEntry| {
        e.metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t.elapsed().is_ok_and(|d| d.as_secs() > 3600))
    };
    // `w-<pid>-<n>.sock`, `scratch-<pid>-<n>`.
    let gone = |rest: &str| {
        let pid = rest.split('-').next().unwrap_or_default();
        !pid.is_empty() && !Path::new("/proc").join(pid).exists()
    };
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        let spool = name.starts_with("spool-") && stale(&e);
        if spool || name.strip_prefix("w-").is_some_and(gone) {
            let _ = std::fs::remove_file(e.path());
        } else if name.strip_prefix("scratch-").is_some_and(gone) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

pub(crate) fn make_writable_and_remove(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))?;
    walk(dir, &mut |p, is_dir| {
        if is_dir {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755))
        } else {
            Ok(())
        }
    })?;
    std::fs::remove_dir_all(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_run_folder_loses_what_stopped_servers_left_and_keeps_what_is_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let me = std::process::id();
        // No process has a pid this high (the kernel's limit is 2^22).
        let gone = 1 << 30;
        let old = std::fs::File::create(d.join("spool-old")).unwrap();
        old.set_modified(std::time::SystemTime::now() - Duration::from_secs(7200))
            .unwrap();
        for f in [
            "spool-new".to_owned(),
            format!("w-{me}-1.sock"),
            format!("w-{gone}-1.sock"),
        ] {
            std::fs::File::create(d.join(f)).unwrap();
        }
        for s in [format!("scratch-{me}-1"), format!("scratch-{gone}-1")] {
            std::fs::create_dir(d.join(s)).unwrap();
        }
        sweep_run_dir(d);
        let mut left: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "scratch-".to_owned() + &me.to_string() + "-1",
                "spool-new".into(),
                format!("w-{me}-1.sock"),
            ]
        );
    }
}
