//! One worker process: started in a version's environment and bundle, spoken to over its own
//! Unix socket, one request at a time, killed when dropped.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::BufReader;
use tokio::net::{UnixListener, UnixStream};
use tokio::process::{Child, Command};

use crate::cpu::CpuLimit;
use crate::output::forward;
use crate::protocol::{Frame, Message, PROTOCOL, ProtocolError};
use crate::sandbox::{self, Limits, Mounts, Sandbox};
use crate::transfer::{self, InStream, Spool};

/// How to start workers of one version.
#[derive(Debug, Clone)]
pub struct WorkerSpec {
    /// The environment's interpreter.
    pub python: PathBuf,
    /// The unpacked bundle: the worker's working folder.
    pub bundle: PathBuf,
    /// The app file, relative to the bundle.
    pub entry: String,
    /// Where sockets and scratch folders go.
    pub run_dir: PathBuf,
    /// Names the worker in logs: `owner/name@version`.
    pub label: String,
    /// The largest frame body accepted from the worker.
    pub max_frame: u32,
    /// How long loading the model may take.
    pub start_timeout: Duration,
    pub sandbox: Sandbox,
    pub limits: Limits,
}

impl WorkerSpec {
    /// The answers' body limit: the model's output limit, which fits a frame's u32 length.
    pub fn max_output(&self) -> u32 {
        u32::try_from(self.limits.output).unwrap_or(u32::MAX)
    }
}

/// Why a worker failed a request or never started.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WorkerError {
    #[error("the model failed to load: {error}")]
    Fatal { error: String, traceback: String },
    #[error("the worker did not start within {0:?}")]
    StartTimeout(Duration),
    #[error("the step took longer than its limit of {0:?} and was stopped")]
    Timeout(Duration),
    #[error("the worker exited ({status}){}", if .stderr.is_empty() { String::new() } else { format!(": {}", .stderr) })]
    Crashed { status: String, stderr: String },
    #[error("the step used more than its {0} s of CPU time (limits.cpu_seconds) and was stopped")]
    CpuLimit(u64),
    #[error("the worker broke the protocol: {0}")]
    Protocol(String),
    #[error("cannot start the worker: {0}")]
    Spawn(String),
    /// A large file could not be passed: read from the store for the worker, or kept from it.
    #[error("a file could not be passed to or from the worker: {0}")]
    Transfer(String),
}

/// A worker's answer: its frame, and the large files that came before it, in order (the
/// answer names them as `{"file": N}`).
#[derive(Debug)]
pub struct Reply {
    pub frame: Frame,
    pub files: Vec<Spool>,
}

impl From<std::io::Error> for WorkerError {
    fn from(e: std::io::Error) -> Self {
        Self::Spawn(e.to_string())
    }
}

/// A live worker.
#[derive(Debug)]
pub struct Worker {
    child: Child,
    /// Buffered for reading: the answers to a batch often arrive together, and one read then
    /// takes several frames.
    stream: BufReader<UnixStream>,
    socket: PathBuf,
    stderr: Arc<Mutex<VecDeque<String>>>,
    /// The most bytes of an answer, its parts and files together: the model's output limit.
    max_output: u32,
    /// Where files the worker sends are spooled.
    spool: PathBuf,
    /// Watched while an answer is awaited; none when the process could not be found.
    cpu: Option<CpuLimit>,
    pub pid: u32,
    pub steps: Vec<String>,
    pub last_used: Instant,
    sandbox: Sandbox,
}

static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// How often a step's CPU time is read while its answer is awaited.
const CPU_LOOK: Duration = Duration::from_millis(250);

impl Worker {
    /// Starts a worker and waits for its `hello`.
    pub async fn start(spec: &WorkerSpec) -> Result<Self, WorkerError> {
        std::fs::create_dir_all(&spec.run_dir)?;
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let socket = spec
            .run_dir
            .join(format!("w-{}-{n}.sock", std::process::id()));
        let _ = std::fs::remove_file(&socket);
        let listener = UnixListener::bind(&socket)?;
        let scratch = spec
            .run_dir
            .join(format!("scratch-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&scratch)?;
        // The environment folder: `<env>/bin/python`.
        let env = spec
            .python
            .parent()
            .and_then(Path::parent)
            .unwrap_or(&spec.python);
        let uid = sandbox::runs_as_root().then(|| sandbox::WORKER_UIDS + (n % 100_000) as u32);
        if let Some(uid) = uid {
            // Its own folder and socket are the only things the worker's user may write.
            std::os::unix::fs::chown(&scratch, Some(uid), Some(uid))?;
            std::os::unix::fs::chown(&socket, Some(uid), Some(uid))?;
        }
        let mounts = Mounts {
            env,
            bundle: &spec.bundle,
            scratch: &scratch,
            socket: &socket,
            uid,
        };
        let (program, args) = spec
            .sandbox
            .command(&spec.limits, &mounts, &spec.python)
            .map_err(WorkerError::Spawn)?;
        let mut child = Command::new(program)
            .args(args)
            .args(["-u", "-m", "feather.worker", "--socket"])
            .arg(&socket)
            .arg("--entry")
            .arg(&spec.entry)
            .current_dir(&spec.bundle)
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("LANG", "C.UTF-8")
            .env("HOME", &scratch)
            .env("FEATHER_WORKER", "1")
            .env("FEATHER_SCRATCH", &scratch)
            .env("FEATHER_MAX_FRAME", spec.max_frame.to_string())
            .env("FEATHER_MAX_OUTPUT", spec.max_output().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .process_group(0)
            .spawn()?;
        let pid = child.id().unwrap_or(0);
        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        forward(child.stdout.take(), spec.label.clone(), pid, None);
        forward(
            child.stderr.take(),
            spec.label.clone(),
            pid,
            Some(stderr.clone()),
        );
        let accepted = tokio::select! {
            r = tokio::time::timeout(spec.start_timeout, listener.accept()) => r,
            status = child.wait() => {
                let status = status.map(|s| s.to_string()).unwrap_or_default();
                tokio::time::sleep(Duration::from_millis(50)).await;
                return Err(WorkerError::Crashed { status, stderr: last_lines(&stderr) });
            }
        };
        let (stream, _) = accepted.map_err(|_| WorkerError::StartTimeout(spec.start_timeout))??;
        let mut stream = BufReader::with_capacity(64 << 10, stream);
        let hello =
            tokio::time::timeout(spec.start_timeout, Frame::read(&mut stream, spec.max_frame))
                .await
                .map_err(|_| WorkerError::StartTimeout(spec.start_timeout))?
                .map_err(|e| WorkerError::Protocol(e.to_string()))?;
        let steps = match hello.message {
            Message::Hello {
                protocol: PROTOCOL,
                steps,
                ..
            } => steps,
            Message::Hello { protocol, .. } => {
                return Err(WorkerError::Protocol(format!(
                    "the worker speaks protocol {protocol}, not {PROTOCOL}"
                )));
            }
            Message::Fatal { error, traceback } => {
                return Err(WorkerError::Fatal { error, traceback });
            }
            other => {
                return Err(WorkerError::Protocol(format!(
                    "expected hello, got {other:?}"
                )));
            }
        };
        tracing::debug!(worker = %spec.label, pid, "worker ready");
        let cpu = CpuLimit::find(pid, spec.limits.cpu);
        if cpu.is_none() {
            tracing::warn!(worker = %spec.label, pid, "cannot find the worker's Python process: its steps have no CPU limit");
        }
        Ok(Self {
            cpu,
            child,
            stream,
            socket,
            stderr,
            max_output: spec.max_output(),
            spool: spec.run_dir.clone(),
            pid,
            steps,
            last_used: Instant::now(),
            sandbox: spec.sandbox.clone(),
        })
    }

    /// Sends a request, after the large files it names as `{"file": N}` (N their order
    /// here), and waits for its answer; past `timeout` the worker is killed.
    pub async fn call(
        &mut self,
        request: &Frame,
        files: Vec<InStream>,
        timeout: Duration,
    ) -> Result<Reply, WorkerError> {
        let start = Instant::now();
        for (n, file) in files.into_iter().enumerate() {
            let left = timeout.saturating_sub(start.elapsed());
            self.send_file(n as u32, file, left, timeout).await?;
        }
        let left = timeout.saturating_sub(start.elapsed());
        self.send(request, left).await?;
        self.receive(timeout, timeout.saturating_sub(start.elapsed()))
            .await
    }

    /// Streams one large file within `wait`; past it the worker is killed and the error names
    /// `timeout`, the step's limit. A file that cannot be read leaves the worker
    /// mid-message, so it is killed too.
    async fn send_file(
        &mut self,
        n: u32,
        file: InStream,
        wait: Duration,
        timeout: Duration,
    ) -> Result<(), WorkerError> {
        self.last_used = Instant::now();
        let sent = tokio::time::timeout(wait, transfer::send(&mut self.stream, n, file)).await;
        match sent {
            Ok(Ok(())) => Ok(()),
            Ok(Err(transfer::SendError::Source(e))) => {
                self.kill().await;
                Err(WorkerError::Transfer(e))
            }
            Ok(Err(transfer::SendError::Socket(e))) => {
                self.outcome(Ok(Err(e.into())), timeout).await
            }
            Err(elapsed) => self.outcome::<()>(Err(elapsed), timeout).await,
        }
    }

    /// Sends a request without waiting for an answer.
    pub async fn send(&mut self, request: &Frame, timeout: Duration) -> Result<(), WorkerError> {
        self.send_encoded(&request.encode(), timeout).await
    }

    /// Sends an encoded frame (a `run` or a `batch`) without waiting for an answer.
    pub async fn send_encoded(
        &mut self,
        frame: &[u8],
        timeout: Duration,
    ) -> Result<(), WorkerError> {
        use tokio::io::AsyncWriteExt;
        self.last_used = Instant::now();
        let write = async {
            self.stream.write_all(frame).await?;
            self.stream.flush().await?;
            Ok(())
        };
        let result = tokio::time::timeout(timeout, write).await;
        self.outcome(result, timeout).await
    }

    /// Waits at most `wait` for the next answer; then the worker is killed and the error
    /// names `limit`, the step's timeout.
    pub async fn receive(&mut self, limit: Duration, wait: Duration) -> Result<Reply, WorkerError> {
        let cpu = self.cpu;
        // Counted from the first look, so a quick answer costs no read of /proc; the first
        // quarter second of a step is free.
        let mut start = None;
        let outcome = {
            let answer = transfer::read_answer(&mut self.stream, self.max_output, &self.spool);
            let read = tokio::time::timeout(wait, answer);
            tokio::pin!(read);
            loop {
                tokio::select! {
                    r = &mut read => break Ok(r),
                    _ = tokio::time::sleep(CPU_LOOK) => {
                        let Some(cpu) = cpu else { continue };
                        let Some(now) = cpu.used() else { continue };
                        let first = *start.get_or_insert(now);
                        if now - first > cpu.per_step as f64 {
                            break Err(cpu.per_step);
                        }
                    }
                }
            }
        };
        self.last_used = Instant::now();
        match outcome {
            Ok(result) => {
                let (frame, files) = self.outcome(result, limit).await?;
                Ok(Reply { frame, files })
            }
            Err(seconds) => {
                self.kill().await;
                Err(WorkerError::CpuLimit(seconds))
            }
        }
    }

    async fn outcome<T>(
        &mut self,
        result: Result<Result<T, ProtocolError>, tokio::time::error::Elapsed>,
        timeout: Duration,
    ) -> Result<T, WorkerError> {
        match result {
            Err(_) => {
                self.kill().await;
                Err(WorkerError::Timeout(timeout))
            }
            Ok(Ok(v)) => Ok(v),
            Ok(Err(ProtocolError::Closed | ProtocolError::Io(_))) => Err(self.death().await),
            Ok(Err(ProtocolError::Spool(e))) => {
                self.kill().await;
                Err(WorkerError::Transfer(e.to_string()))
            }
            Ok(Err(e)) => {
                self.kill().await;
                Err(WorkerError::Protocol(e.to_string()))
            }
        }
    }

    /// Why the worker went away: its exit status and last words.
    async fn death(&mut self) -> WorkerError {
        let status = match tokio::time::timeout(Duration::from_secs(2), self.child.wait()).await {
            Ok(Ok(s)) => describe(s, &self.sandbox),
            _ => {
                self.kill().await;
                "stopped answering".into()
            }
        };
        // Let the stderr reader catch the last lines.
        tokio::time::sleep(Duration::from_millis(50)).await;
        WorkerError::Crashed {
            status,
            stderr: last_lines(&self.stderr),
        }
    }

    /// Whether the process is still running (a worker killed while idle is not).
    pub fn is_alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub async fn kill(&mut self) {
        if let Some(pid) = self.child.id() {
            // The whole process group: the model may have started children of its own.
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        let _ = self.child.kill().await;
    }

    /// Asks the worker to exit, then makes sure it did.
    pub async fn shutdown(mut self) {
        let _ = Frame::new(Message::Shutdown).write(&mut self.stream).await;
        if tokio::time::timeout(Duration::from_secs(2), self.child.wait())
            .await
            .is_err()
        {
            self.kill().await;
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.socket);
    }
}

fn describe(s: std::process::ExitStatus, sandbox: &Sandbox) -> String {
    use std::os::unix::process::ExitStatusExt;
    let signal = s
        .signal()
        .or_else(|| s.code().and_then(|c| sandbox.signal_of(c)));
    match signal {
        Some(11) => "killed by signal 11 (segmentation fault)".into(),
        Some(sig) if Sandbox::limit_of(sig).is_some() => format!(
            "killed by signal {sig}: {}",
            Sandbox::limit_of(sig).unwrap_or_default()
        ),
        Some(9) => "killed by signal 9 (SIGKILL, possibly out of memory)".into(),
        Some(sig) => format!("killed by signal {sig}"),
        None => format!("exit code {}", s.code().unwrap_or(-1)),
    }
}

fn last_lines(buf: &Mutex<VecDeque<String>>) -> String {
    let lines = buf.lock().expect("not poisoned");
    let v: Vec<&str> = lines.iter().map(String::as_str).collect();
    v[v.len().saturating_sub(8)..].join("\n")
}
