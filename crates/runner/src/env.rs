//! Python environments: one venv per (python version, requirements, SDK) hash, built with uv,
//! shared by every version and model that needs the same one.
//!
//! A build writes into a scratch folder and is renamed into place only when it succeeded, so a
//! folder under `envs/` is always a whole environment. A failed build leaves `<key>.failed.log`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::process::Command;

use crate::sdk;

/// Where an environment is in its life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "status")]
pub enum EnvStatus {
    Pending,
    Building,
    Ready,
    /// The build failed; `reason` is the last lines of its log.
    Failed {
        reason: String,
    },
}

/// What an environment is built from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EnvSpec {
    /// `3.N`.
    pub python: String,
    /// Requirement lines, normalised: trimmed, sorted, deduplicated.
    pub requirements: Vec<String>,
}

impl EnvSpec {
    pub fn new(python: &str, requirements: &[String]) -> Self {
        let mut r: Vec<String> = requirements
            .iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
        r.sort();
        r.dedup();
        Self {
            python: python.to_owned(),
            requirements: r,
        }
    }

    /// The folder name: a hash of everything the environment is built from.
    pub fn key(&self) -> String {
        let mut h = Sha256::new();
        h.update(format!("python {}\nsdk {}\n", self.python, *sdk::SDK_HASH));
        for r in &self.requirements {
            h.update(r.as_bytes());
            h.update(b"\n");
        }
        format!("py{}-{}", self.python, &hex::encode(h.finalize())[..16])
    }
}

/// Builds and finds environments under one folder.
#[derive(Debug)]
pub struct EnvBuilder {
    root: PathBuf,
    uv: PathBuf,
    building: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// Why an environment could not be had.
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    #[error("the environment failed to build: {0}")]
    Failed(String),
    #[error("cannot run uv ({0}): install it or set FEATHER_UV")]
    NoUv(String),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

impl EnvBuilder {
    pub fn new(root: &Path, uv: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
            uv: uv.to_path_buf(),
            building: Mutex::new(HashMap::new()),
        }
    }

    fn dir(&self, spec: &EnvSpec) -> PathBuf {
        self.root.join(spec.key())
    }

    fn failed_log(&self, spec: &EnvSpec) -> PathBuf {
        self.root.join(format!("{}.failed.log", spec.key()))
    }

    /// The interpreter of a ready environment.
    pub fn python(&self, spec: &EnvSpec) -> PathBuf {
        self.dir(spec).join("bin/python")
    }

    pub fn status(&self, spec: &EnvSpec) -> EnvStatus {
        if self.dir(spec).join("bin/python").exists() {
            return EnvStatus::Ready;
        }
        if self
            .building
            .lock()
            .expect("not poisoned")
            .contains_key(&spec.key())
        {
            return EnvStatus::Building;
        }
        match std::fs::read_to_string(self.failed_log(spec)) {
            Ok(log) => EnvStatus::Failed {
                reason: tail(&log, 20),
            },
            Err(_) => EnvStatus::Pending,
        }
    }

    /// The build log of an environment, if one was built or failed.
    pub fn log(&self, spec: &EnvSpec) -> Option<String> {
        std::fs::read_to_string(self.dir(spec).join("build.log"))
            .or_else(|_| std::fs::read_to_string(self.failed_log(spec)))
            .ok()
    }

    /// Builds the environment unless it exists; concurrent calls for one key build once.
    pub async fn ensure(&self, spec: &EnvSpec) -> Result<PathBuf, EnvError> {
        let key = spec.key();
        let lock = self
            .building
            .lock()
            .expect("not poisoned")
            .entry(key.clone())
            .or_default()
            .clone();
        let result = {
            let _guard = lock.lock().await;
            if self.dir(spec).join("bin/python").exists() {
                Ok(self.python(spec))
            } else {
                self.build(spec).await
            }
        };
        self.building.lock().expect("not poisoned").remove(&key);
        result
    }

    async fn build(&self, spec: &EnvSpec) -> Result<PathBuf, EnvError> {
        std::fs::create_dir_all(&self.root)?;
        let sdk = sdk::unpack(&self.root.join("sdk"))?;
        let scratch = sdk::tempfile_in(&self.root)?;
        let venv = scratch.join("env");
        let mut log = format!("environment {} (python {})\n", spec.key(), spec.python);
        let started = std::time::Instant::now();
        let venv_arg = venv.to_string_lossy().into_owned();
        let mut steps: Vec<Vec<String>> = vec![vec![
            "venv".into(),
            "--python".into(),
            spec.python.clone(),
            venv_arg.clone(),
        ]];
        let mut install = vec![
            "pip".into(),
            "install".into(),
            "--python".into(),
            format!("{venv_arg}/bin/python"),
            sdk.to_string_lossy().into_owned(),
        ];
        install.extend(spec.requirements.iter().cloned());
        steps.push(install);
        for args in steps {
            log.push_str(&format!("$ uv {}\n", args.join(" ")));
            let out = Command::new(&self.uv)
                .args(&args)
                .env("UV_PYTHON_DOWNLOADS", "never")
                .env("UV_NO_PROGRESS", "1")
                .stdin(Stdio::null())
                .output()
                .await
                .map_err(|e| EnvError::NoUv(format!("{}: {e}", self.uv.display())))?;
            log.push_str(&String::from_utf8_lossy(&out.stdout));
            log.push_str(&String::from_utf8_lossy(&out.stderr));
            if !out.status.success() {
                log.push_str(&format!("failed ({})\n", out.status));
                std::fs::write(self.failed_log(spec), &log)?;
                let _ = std::fs::remove_dir_all(&scratch);
                tracing::warn!(env = %spec.key(), "environment build failed");
                return Err(EnvError::Failed(tail(&log, 20)));
            }
        }
        log.push_str(&format!(
            "ready in {:.1} s\n",
            started.elapsed().as_secs_f64()
        ));
        std::fs::write(venv.join("build.log"), &log)?;
        // A venv survives the rename: `bin/python` finds `pyvenv.cfg` beside it. Only console
        // scripts' shebangs name the old folder, and workers run `python -m`, not scripts.
        std::fs::rename(&venv, self.dir(spec))?;
        let _ = std::fs::remove_dir_all(&scratch);
        let _ = std::fs::remove_file(self.failed_log(spec));
        tracing::info!(env = %spec.key(), secs = started.elapsed().as_secs_f64(), "environment ready");
        Ok(self.python(spec))
    }
}

/// The last `n` lines of a text.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
