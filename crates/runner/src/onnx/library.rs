//! The ONNX Runtime library: named by the operator, or installed from its wheel with uv (wheels
//! only, no dependencies: the C library is all the server loads), then loaded once.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use ort::environment::Environment;
use tokio::sync::Mutex as AsyncMutex;

use crate::env::EnvStatus;
use crate::env::install::{self, Budget, BuildLog};

/// The `onnxruntime` release installed when the operator names no library.
pub const ORT_VERSION: &str = "1.31.1";

/// The library of one server, loaded at most once: a process holds one ONNX Runtime.
#[derive(Debug)]
pub struct OnnxLibrary {
    configured: Option<PathBuf>,
    root: PathBuf,
    uv: PathBuf,
    index: String,
    cache: Option<PathBuf>,
    timeout: Duration,
    state: Mutex<EnvStatus>,
    turn: AsyncMutex<()>,
    env: OnceLock<Arc<Environment>>,
    /// The arena's cap in bytes.
    memory: usize,
}

impl OnnxLibrary {
    pub fn new(
        configured: Option<PathBuf>,
        memory: usize,
        root: &Path,
        build: &crate::env::BuildPolicy,
        uv: &Path,
    ) -> Self {
        Self {
            configured,
            root: root.join("onnxruntime").join(ORT_VERSION),
            // The install runs in a folder of its own, where a relative path would not resolve.
            uv: std::path::absolute(uv).unwrap_or_else(|_| uv.to_path_buf()),
            index: build.index.clone(),
            cache: build.cache.clone(),
            timeout: build.timeout,
            state: Mutex::new(EnvStatus::Pending),
            turn: AsyncMutex::new(()),
            env: OnceLock::new(),
            memory,
        }
    }

    /// Where ONNX models stand: ready once the library is loaded.
    /// A library on disk counts as ready before it is loaded: loading it takes a moment, so the
    /// first request after a start waits for that rather than being told to come back.
    pub fn status(&self) -> EnvStatus {
        if self.env.get().is_some() {
            return EnvStatus::Ready;
        }
        let state = self.state.lock().expect("not poisoned").clone();
        match state {
            EnvStatus::Pending
                if self.configured.is_some() || find_library(&self.root).is_some() =>
            {
                EnvStatus::Ready
            }
            other => other,
        }
    }

    /// The loaded runtime, installing and loading the library first if needed. A failed
    /// install is tried again by the next caller (a publish, or a version being prepared).
    pub async fn ensure(&self) -> Result<Arc<Environment>, String> {
        if let Some(env) = self.env.get() {
            return Ok(env.clone());
        }
        let _turn = self.turn.lock().await;
        if let Some(env) = self.env.get() {
            return Ok(env.clone());
        }
        *self.state.lock().expect("not poisoned") = EnvStatus::Building;
        let result = match &self.configured {
            Some(p) => Ok(p.clone()),
            None => self.install().await,
        };
        let result = match result {
            Ok(path) => {
                let memory = self.memory;
                tokio::task::spawn_blocking(move || load(&path, memory))
                    .await
                    .map_err(|e| e.to_string())
                    .and_then(|r| r)
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(env) => {
                let env = self.env.get_or_init(|| env).clone();
                *self.state.lock().expect("not poisoned") = EnvStatus::Ready;
                Ok(env)
            }
            Err(reason) => {
                tracing::error!(%reason, "ONNX Runtime is unavailable");
                *self.state.lock().expect("not poisoned") = EnvStatus::Failed {
                    reason: reason.clone(),
                };
                Err(reason)
            }
        }
    }

    /// Installs the pinned wheel into the runner's folder (once) and finds its library.
    async fn install(&self) -> Result<PathBuf, String> {
        if let Some(lib) = find_library(&self.root) {
            return Ok(lib);
        }
        let partial = self.root.with_extension("partial");
        let _ = std::fs::remove_dir_all(&partial);
        std::fs::create_dir_all(&partial).map_err(|e| e.to_string())?;
        let mut args: Vec<OsString> = ["pip", "install", "--no-deps", "--only-binary", ":all:"]
            .into_iter()
            .map(OsString::from)
            .collect();
        args.extend([
            "--index-url".into(),
            self.index.clone().into(),
            "--target".into(),
            partial.clone().into(),
            format!("onnxruntime=={ORT_VERSION}").into(),
        ]);
        let home = partial.join(".home");
        std::fs::create_dir_all(&home).map_err(|e| e.to_string())?;
        let mut env = install::clean_env(&home);
        if let Some(c) = &self.cache {
            env.push(("UV_CACHE_DIR".into(), c.into()));
        }
        let budget = Budget {
            deadline: Instant::now() + self.timeout,
            timeout: self.timeout,
            folder: partial.clone(),
            disk: 2 << 30,
        };
        let log = Arc::new(Mutex::new(BuildLog::default()));
        if let Err(stop) = install::run(&self.uv, &args, &env, &partial, &budget, &log).await {
            let text = std::mem::take(&mut *log.lock().expect("not poisoned")).finish();
            let last = text
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("");
            return Err(format!(
                "{}: {last}",
                stop.describe(&format!("installing onnxruntime {ORT_VERSION} with uv"))
            ));
        }
        let _ = std::fs::remove_dir_all(&home);
        std::fs::rename(&partial, &self.root).map_err(|e| e.to_string())?;
        find_library(&self.root).ok_or_else(|| {
            format!("the onnxruntime {ORT_VERSION} wheel holds no libonnxruntime.so")
        })
    }
}

/// `onnxruntime/capi/libonnxruntime.so.<version>` inside an installed wheel.
fn find_library(root: &Path) -> Option<PathBuf> {
    std::fs::read_dir(root.join("onnxruntime").join("capi"))
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("libonnxruntime.so"))
        })
}

fn load(path: &Path, memory: usize) -> Result<Arc<Environment>, String> {
    let builder = ort::init_from(path)
        .map_err(|e| format!("loading ONNX Runtime from {}: {e}", path.display()))?;
    let env = builder
        .with_name("feather")
        .build()
        .map_err(|e| format!("starting ONNX Runtime: {e}"))?;
    super::arena::register(&env, memory)
        .map_err(|e| format!("capping ONNX Runtime's memory: {e}"))?;
    tracing::info!(library = %path.display(), memory_mib = memory >> 20, "ONNX Runtime loaded");
    Ok(Arc::new(env))
}
