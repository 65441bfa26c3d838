//! One command of an environment build, run under the build's limits: a deadline, a cap on
//! the bytes its folder may hold, and a bounded log. uv gets a clean environment and no
//! configuration: what it installs from is the operator's choice alone.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::process::Command;

use crate::output::read_lines;

/// The most log a build keeps; past it, lines are counted and dropped.
const MAX_LOG: usize = 256 << 10;
/// How often the build folder's size is measured.
const DISK_LOOK: Duration = Duration::from_millis(500);

/// Variables of the server's own environment that uv may see: the search path, proxies and
/// where TLS roots are. Everything else, `UV_*` and `PIP_*` included, is left out.
const PASSED: &[&str] = &[
    "PATH",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "all_proxy",
];

/// The environment uv runs with: the passed variables, and settings that keep it from reading
/// configuration files or downloading interpreters.
pub fn clean_env(home: &Path) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = PASSED
        .iter()
        .filter_map(|k| std::env::var_os(k).map(|v| (OsString::from(k), v)))
        .collect();
    for (k, v) in [
        ("UV_NO_CONFIG", "1"),
        ("UV_PYTHON_DOWNLOADS", "never"),
        ("UV_NO_PROGRESS", "1"),
        ("UV_NO_MODIFY_PATH", "1"),
    ] {
        env.push((k.into(), v.into()));
    }
    env.push(("HOME".into(), home.into()));
    env
}

/// A build's shared limits: when it must end and how much its folder may hold.
#[derive(Debug, Clone)]
pub struct Budget {
    pub deadline: Instant,
    pub timeout: Duration,
    /// The folder whose bytes count.
    pub folder: PathBuf,
    pub disk: u64,
}

/// How a command of a build ended, when not with success.
#[derive(Debug)]
pub enum Stop {
    Exited(std::process::ExitStatus),
    Timeout(Duration),
    Disk(u64),
    Spawn(String),
}

impl Stop {
    /// The build log's last line: what ended it, with the limit named.
    pub fn describe(&self, what: &str) -> String {
        match self {
            Self::Exited(s) => format!("{what} failed ({s})"),
            Self::Timeout(t) => format!(
                "the build took longer than its time limit of {} s (--build-timeout) and was stopped",
                t.as_secs()
            ),
            Self::Disk(d) => format!(
                "the build wrote more than its disk limit of {} MiB (--build-disk-mb) and was stopped",
                d >> 20
            ),
            Self::Spawn(e) => format!("{what} could not be started: {e}"),
        }
    }
}

/// A build's log, bounded.
#[derive(Debug, Default)]
pub struct BuildLog {
    pub text: String,
    dropped: u64,
}

impl BuildLog {
    pub fn line(&mut self, line: &str) {
        if self.text.len() + line.len() < MAX_LOG {
            self.text.push_str(line);
            self.text.push('\n');
        } else {
            self.dropped += 1;
        }
    }

    /// The whole log, saying how many lines did not fit.
    pub fn finish(mut self) -> String {
        if self.dropped > 0 {
            self.text.push_str(&format!(
                "({} more lines of output dropped)\n",
                self.dropped
            ));
        }
        self.text
    }
}

/// Runs `program args` in `cwd` with `env` only, adding its output to `log`; stops it (its
/// whole process group) at the deadline or when the folder outgrows the budget.
pub async fn run(
    program: &Path,
    args: &[OsString],
    env: &[(OsString, OsString)],
    cwd: &Path,
    budget: &Budget,
    log: &Arc<Mutex<BuildLog>>,
) -> Result<(), Stop> {
    let mut child = Command::new(program)
        .args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            log.lock()
                .expect("not poisoned")
                .line(&format!("cannot start {}: {e}", program.display()));
            Stop::Spawn(e.to_string())
        })?;
    let pid = child.id();
    let mut readers = Vec::new();
    for pipe in [
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
        child.stderr.take().map(|p| Box::new(p) as Box<_>),
    ]
    .into_iter()
    .flatten()
    {
        let log = log.clone();
        readers.push(tokio::spawn(read_lines(pipe, 4096, move |line, cut| {
            let mut l = String::from_utf8_lossy(line).into_owned();
            if cut {
                l.push_str(" [cut]");
            }
            log.lock().expect("not poisoned").line(&l);
        })));
    }
    let stop = tokio::select! {
        status = child.wait() => match status {
            Ok(s) if s.success() => None,
            Ok(s) => Some(Stop::Exited(s)),
            Err(e) => Some(Stop::Spawn(e.to_string())),
        },
        _ = tokio::time::sleep_until(budget.deadline.into()) => Some(Stop::Timeout(budget.timeout)),
        _ = outgrown(&budget.folder, budget.disk) => Some(Stop::Disk(budget.disk)),
    };
    if stop.is_some()
        && let Some(pid) = pid
    {
        kill_group(pid);
        let _ = child.wait().await;
    }
    for r in readers {
        // The pipes close when the last process holding them is gone.
        let _ = tokio::time::timeout(Duration::from_secs(5), r).await;
    }
    stop.map_or(Ok(()), Err)
}

fn kill_group(pid: u32) {
    use nix::sys::signal::{Signal, killpg};
    use nix::unistd::Pid;
    if let Ok(pid) = i32::try_from(pid) {
        let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
    }
}

/// Returns once the folder holds more than `limit` bytes.
async fn outgrown(folder: &Path, limit: u64) {
    loop {
        tokio::time::sleep(DISK_LOOK).await;
        let f = folder.to_path_buf();
        let size = tokio::task::spawn_blocking(move || dir_size(&f))
            .await
            .unwrap_or(0);
        if size > limit {
            return;
        }
    }
}

/// The bytes of the files below a folder (links not followed).
pub fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(meta) = e.path().symlink_metadata() else {
                continue;
            };
            if meta.is_dir() {
                stack.push(e.path());
            } else {
                total += meta.len();
            }
        }
    }
    total
}
