//! Python environments: one venv per (python version, requirements, SDK) hash, built with uv,
//! shared by every version and model that needs the same one.
//!
//! What a model's author sends never runs on the host. Requirement lines are checked again
//! here (names, extras, versions and markers only: see [`feather_spec::requirement`]), and uv
//! installs **wheels only** from the operator's index, with no configuration read from the
//! bundle, the data folder or the host user's files. Installing a wheel runs no code. An
//! operator may allow source distributions ([`BuildPolicy::allow_source_builds`]); their build
//! backends are the model author's code, so then the install runs inside bubblewrap as a user of
//! its own, with only the environment being built and a scratch folder writable.
//!
//! A build writes into a scratch folder and is renamed into place only when it succeeded, so a
//! folder under `envs/` is always a whole environment. A failed build leaves `<key>.failed.log`.
//! Every build has a deadline and a disk cap; past either it is stopped, the limit named.

pub(crate) mod install;
pub mod lock;

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::sandbox::{BUILD_UIDS, BuildMounts, Sandbox, runs_as_root};
use crate::sdk;
use install::{Budget, BuildLog, Stop, clean_env};

pub use install::dir_size;

/// Where an environment is in its life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase", tag = "status")]
pub enum EnvStatus {
    Pending,
    Building,
    Ready,
    /// The build failed; `reason` says why in one line, without the log's paths.
    Failed {
        reason: String,
    },
}

/// How a built environment's folder is laid out; a change gives every environment a new key,
/// so ones built the old way are built again rather than used. 2: bytecode compiled ahead.
const LAYOUT: u32 = 2;

/// What an environment is built from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EnvSpec {
    /// `3.N`.
    pub python: String,
    /// Requirement lines, normalised: trimmed, sorted, deduplicated.
    pub requirements: Vec<String>,
    /// The operator's pins ([`BuildPolicy::constraints`]): versions the install must take
    /// when it needs those packages at all, normalised like the requirements.
    pub constraints: Vec<String>,
}

impl EnvSpec {
    pub fn new(python: &str, requirements: &[String]) -> Self {
        Self {
            python: python.to_owned(),
            requirements: normalised(requirements),
            constraints: Vec::new(),
        }
    }

    /// The same environment with its packages pinned by `constraints`.
    pub fn constrained(mut self, constraints: &[String]) -> Self {
        self.constraints = normalised(constraints);
        self
    }

    /// The folder name: a hash of everything the environment is built from.
    pub fn key(&self) -> String {
        let mut h = Sha256::new();
        h.update(format!(
            "python {}\nsdk {}\nlayout {LAYOUT}\n",
            self.python,
            *sdk::SDK_HASH
        ));
        for r in &self.requirements {
            h.update(r.as_bytes());
            h.update(b"\n");
        }
        // Only when there are any: environments built without pins keep the keys they had.
        if !self.constraints.is_empty() {
            h.update(b"constraints\n");
            for c in &self.constraints {
                h.update(c.as_bytes());
                h.update(b"\n");
            }
        }
        format!("py{}-{}", self.python, &hex::encode(h.finalize())[..16])
    }
}

fn normalised(lines: &[String]) -> Vec<String> {
    let mut r: Vec<String> = lines
        .iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    r.sort();
    r.dedup();
    r
}

/// How environments are built: the operator's choices.
#[derive(Debug, Clone)]
pub struct BuildPolicy {
    /// The package index every requirement comes from (`--package-index`).
    pub index: String,
    /// Install source distributions too, building them in the sandbox (`--allow-source-builds`).
    pub allow_source_builds: bool,
    /// How long a whole build may take.
    pub timeout: Duration,
    /// Bytes a build's folder may hold.
    pub disk: u64,
    /// Bytes of address space each process of a source build may have (`--build-memory-mb`).
    pub memory: u64,
    /// uv's cache for wheel installs; none: uv's own default for the server's user. Source
    /// builds get a cache of their own, so a build backend cannot poison it.
    pub cache: Option<PathBuf>,
    /// Pins every environment's packages must keep (`--constraints`, or an exported model's
    /// `requirements.lock`): requirement lines of the checked kind, each `name==version`
    /// (markers allowed). A package they name is installed at that version or not at all.
    pub constraints: Vec<String>,
}

impl Default for BuildPolicy {
    fn default() -> Self {
        Self {
            index: "https://pypi.org/simple".into(),
            allow_source_builds: false,
            timeout: Duration::from_secs(900),
            disk: 10 << 30,
            memory: 8 << 30,
            cache: None,
            constraints: Vec::new(),
        }
    }
}

/// Builds and finds environments under one folder.
#[derive(Debug)]
pub struct EnvBuilder {
    root: PathBuf,
    uv: PathBuf,
    policy: BuildPolicy,
    /// Where source builds run; none: they cannot, and builds stay wheels-only.
    sandbox: Option<Sandbox>,
    building: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// Why an environment could not be had.
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    #[error("the environment failed to build: {0}")]
    Failed(String),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

static NEXT_BUILD: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

impl EnvBuilder {
    pub fn new(root: &Path, uv: &Path, policy: BuildPolicy, sandbox: Option<Sandbox>) -> Self {
        // uv runs in a folder of each build: a relative path given here must not change
        // meaning there. A bare name is looked up on PATH.
        let uv = if uv.components().count() > 1 {
            std::path::absolute(uv).unwrap_or_else(|_| uv.to_path_buf())
        } else {
            uv.to_path_buf()
        };
        Self {
            root: std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf()),
            uv,
            policy,
            sandbox: sandbox.filter(|s| matches!(s, Sandbox::Bubblewrap(_))),
            building: Mutex::new(HashMap::new()),
        }
    }

    fn dir(&self, spec: &EnvSpec) -> PathBuf {
        self.root.join(spec.key())
    }

    fn failed_log(&self, spec: &EnvSpec) -> PathBuf {
        self.root.join(format!("{}.failed.log", spec.key()))
    }

    /// The folder of every environment.
    pub fn root(&self) -> &Path {
        &self.root
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
                reason: summary(&log),
            },
            Err(_) => EnvStatus::Pending,
        }
    }

    /// The build log of an environment, if one was built or failed. It names paths on this
    /// machine: for the model's owner and operators, not for everyone.
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
        let scratch = sdk::tempfile_in(&self.root)?;
        let venv = scratch.join("env");
        let work = scratch.join("work");
        std::fs::create_dir_all(work.join("tmp"))?;
        let log = Arc::new(Mutex::new(BuildLog::default()));
        let say = |line: &str| log.lock().expect("not poisoned").line(line);
        say(&format!(
            "environment {} (python {}) from {}",
            spec.key(),
            spec.python,
            self.policy.index
        ));
        let started = Instant::now();
        let outcome = self.steps(spec, &venv, &work, &log).await;
        let mut text = std::mem::take(&mut *log.lock().expect("not poisoned")).finish();
        // The log names the final folder, not the scratch one it was built in.
        text = text.replace(
            &venv.to_string_lossy().into_owned(),
            &self.dir(spec).to_string_lossy(),
        );
        if let Err(reason) = outcome {
            text.push_str(&format!("failed: {reason}\n"));
            std::fs::write(self.failed_log(spec), &text)?;
            remove_tree(&scratch);
            tracing::warn!(env = %spec.key(), %reason, "environment build failed");
            return Err(EnvError::Failed(reason));
        }
        text.push_str(&format!(
            "ready in {:.1} s\n",
            started.elapsed().as_secs_f64()
        ));
        std::fs::write(venv.join("build.log"), &text)?;
        // A venv survives the rename: `bin/python` finds `pyvenv.cfg` beside it. Only console
        // scripts' shebangs name the old folder, and workers run `python -m`, not scripts.
        std::fs::rename(&venv, self.dir(spec))?;
        remove_tree(&scratch);
        let _ = std::fs::remove_file(self.failed_log(spec));
        tracing::info!(env = %spec.key(), secs = started.elapsed().as_secs_f64(), "environment ready");
        Ok(self.python(spec))
    }

    /// Checks the requirements, makes the venv and installs into it. The error is the log's
    /// last line: what went wrong, the limit named when a limit ended it.
    async fn steps(
        &self,
        spec: &EnvSpec,
        venv: &Path,
        work: &Path,
        log: &Arc<Mutex<BuildLog>>,
    ) -> Result<(), String> {
        let say = |line: &str| log.lock().expect("not poisoned").line(line);
        // Registries written before requirements were checked at publish may hold others.
        for (i, r) in spec.requirements.iter().enumerate() {
            if let Err(reason) = feather_spec::requirement::check(r) {
                return Err(format!(
                    "requirement {i} ({r:?}) {reason}; nothing was installed"
                ));
            }
        }
        for (i, c) in spec.constraints.iter().enumerate() {
            if let Err(reason) = feather_spec::requirement::check(c) {
                return Err(format!(
                    "constraint {i} ({c:?}) {reason}; nothing was installed"
                ));
            }
        }
        let wheel = sdk::wheel(&self.root.join("sdk")).map_err(|e| e.to_string())?;
        let budget = Budget {
            deadline: Instant::now() + self.policy.timeout,
            timeout: self.policy.timeout,
            folder: venv.parent().expect("inside scratch").to_path_buf(),
            disk: self.policy.disk,
        };
        let env = clean_env(work);
        let mut venv_args = self.common(&self.shared_cache(work));
        venv_args.splice(
            0..0,
            ["venv".into(), "--python".into(), spec.python.clone().into()],
        );
        venv_args.push(venv.into());
        say(&format!("$ uv {}", show(&venv_args)));
        install::run(&self.uv, &venv_args, &env, work, &budget, log)
            .await
            .map_err(|s| s.describe("creating the environment"))?;

        let source = self.policy.allow_source_builds;
        if source && self.sandbox.is_none() {
            say(
                "source builds are allowed, but bubblewrap is not available: installing wheels only",
            );
        }
        let sandboxed = source && self.sandbox.is_some();
        let cache = if sandboxed {
            work.join("cache")
        } else {
            self.shared_cache(work)
        };
        let mut args: Vec<OsString> = vec!["pip".into(), "install".into(), "--python".into()];
        args.push(venv.join("bin/python").into());
        args.extend(self.common(&cache));
        // Workers see the environment read-only and cannot cache bytecode: compiled here once,
        // or every worker start compiles every module it imports again.
        args.push("--compile-bytecode".into());
        if !sandboxed {
            // A source distribution's build backend is code its author wrote: never here.
            args.push("--no-build".into());
        }
        if !spec.constraints.is_empty() {
            // Written by the server from checked lines, in the build's own folder (which the
            // build sandbox sees too), never a file of someone else's.
            let file = work.join("constraints.txt");
            std::fs::write(&file, spec.constraints.join("\n") + "\n").map_err(|e| e.to_string())?;
            args.push("--constraint".into());
            args.push(file.into());
        }
        args.push(wheel.clone().into());
        args.extend(spec.requirements.iter().map(OsString::from));
        say(&format!(
            "$ uv {}{}",
            show(&args),
            if sandboxed {
                "   (in the build sandbox)"
            } else {
                ""
            }
        ));
        let result = match (&self.sandbox, sandboxed) {
            (Some(sandbox), true) => {
                self.sandboxed(sandbox, venv, work, &wheel, &args, &env, &budget, log)
                    .await
            }
            _ => install::run(&self.uv, &args, &env, work, &budget, log).await,
        };
        result.map_err(|s| match s {
            Stop::Exited(_) if !sandboxed => format!(
                "{} (only wheels are installed: a requirement with no wheel for this platform needs --allow-source-builds)",
                s.describe("installing the requirements")
            ),
            s => s.describe("installing the requirements"),
        })
    }

    /// The arguments every uv command gets: no configuration files, the operator's index only.
    fn common(&self, cache: &Path) -> Vec<OsString> {
        vec![
            "--no-config".into(),
            "--python-preference".into(),
            "only-system".into(),
            "--index-url".into(),
            self.policy.index.clone().into(),
            "--cache-dir".into(),
            cache.into(),
        ]
    }

    /// uv's cache shared by wheel installs.
    fn shared_cache(&self, work: &Path) -> PathBuf {
        self.policy
            .cache
            .clone()
            .or_else(default_uv_cache)
            .unwrap_or_else(|| work.join("cache"))
    }

    /// The install inside bubblewrap, as a user of its own when the server is root; the
    /// environment is given back to the server's user afterwards.
    #[allow(clippy::too_many_arguments)]
    async fn sandboxed(
        &self,
        sandbox: &Sandbox,
        venv: &Path,
        work: &Path,
        wheel: &Path,
        args: &[OsString],
        env: &[(OsString, OsString)],
        budget: &Budget,
        log: &Arc<Mutex<BuildLog>>,
    ) -> Result<(), Stop> {
        let uid = runs_as_root().then(|| {
            BUILD_UIDS + NEXT_BUILD.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 100_000
        });
        let uv = std::fs::canonicalize(&self.uv).unwrap_or_else(|_| self.uv.clone());
        let mut read_only = vec![uv.clone(), wheel.to_path_buf()];
        if let Some(cert) = std::env::var_os("SSL_CERT_FILE") {
            read_only.push(PathBuf::from(cert));
        }
        read_only.retain(|p| p.exists());
        if let Some(uid) = uid {
            chown_tree(venv, uid).map_err(|e| Stop::Spawn(e.to_string()))?;
            chown_tree(work, uid).map_err(|e| Stop::Spawn(e.to_string()))?;
        }
        let mounts = BuildMounts {
            env: venv,
            scratch: work,
            read_only,
            uid,
            file_size: budget.disk,
            memory: self.policy.memory,
        };
        let (program, mut full) = sandbox.build_command(&mounts, &uv).map_err(Stop::Spawn)?;
        full.extend(args.iter().cloned());
        let mut env = env.to_vec();
        env.push(("TMPDIR".into(), work.join("tmp").into()));
        let result = install::run(&program, &full, &env, work, budget, log).await;
        if uid.is_some() {
            let me = std::fs::metadata("/proc/self").map(|m| {
                use std::os::unix::fs::MetadataExt;
                m.uid()
            });
            if let Ok(me) = me {
                let _ = chown_tree(venv, me);
            }
        }
        result
    }
}

/// uv's own default cache folder for the server's user, read before uv's environment is
/// cleared.
fn default_uv_cache() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("UV_CACHE_DIR") {
        return Some(dir.into());
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("uv"))
}

fn show(args: &[OsString]) -> String {
    args.iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The one-line reason of a failed build: its log's `failed:` line.
fn summary(log: &str) -> String {
    log.lines()
        .rev()
        .find_map(|l| l.strip_prefix("failed: "))
        .unwrap_or("the build failed")
        .to_owned()
}

fn chown_tree(dir: &Path, uid: u32) -> std::io::Result<()> {
    std::os::unix::fs::lchown(dir, Some(uid), Some(uid))?;
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        if e.file_type()?.is_dir() {
            chown_tree(&e.path(), uid)?;
        } else {
            std::os::unix::fs::lchown(e.path(), Some(uid), Some(uid))?;
        }
    }
    Ok(())
}

/// Removes a build's scratch folder, whatever a build left in it.
fn remove_tree(dir: &Path) {
    if std::fs::remove_dir_all(dir).is_err() {
        use std::os::unix::fs::PermissionsExt;
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            let _ = std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755));
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    stack.push(e.path());
                }
            }
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
