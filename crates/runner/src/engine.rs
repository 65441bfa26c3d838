//! Engines: the one call every way of running a step answers, [`Engine::run`]. A call carries
//! typed inputs (values, with file bytes apart) and the run's state; an engine answers typed
//! outputs and state, or a [`RunError`] that says what happened (a limit met, a crash, a
//! timeout, the step's own error) without its caller reading any engine's wire. The Python
//! worker pool is one engine ([`PythonEngine`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};

use crate::pool::WorkerPool;
use crate::protocol::{Frame, Message};
use crate::transfer::{InStream, Spool};
use crate::worker::{Reply, WorkerError};

pub use crate::protocol::LimitKind;

/// One step to run.
#[derive(Debug, Default)]
pub struct StepCall {
    /// The step's index in the manifest.
    pub step: usize,
    /// The step's name.
    pub name: String,
    /// Component id to value; a file is `{"part": N, "name"?, "type"?}`, its bytes `files[N]`,
    /// or, past [`crate::transfer::STREAM_AT`], `{"file": K, ...}`, its bytes `streams[K]`.
    pub inputs: Value,
    pub files: Vec<Bytes>,
    pub streams: Vec<InStream>,
    /// The input components a later step's values answer (their canonical JSON); none for the
    /// first step, whose components the model declared itself.
    pub components: Option<Value>,
    /// The state the previous step left.
    pub state: Option<Bytes>,
    /// Wall-clock limit of the step.
    pub timeout: Duration,
}

/// What a step gave.
#[derive(Debug, Default)]
pub struct StepOutput {
    /// The components to show; a file is `{"part": N, "name"?, "type"?}`, its bytes `files[N]`,
    /// or a large one `{"file": K, ...}`, spooled on disk as `spooled[K]`.
    pub outputs: Vec<Value>,
    pub files: Vec<Bytes>,
    pub spooled: Vec<Spool>,
    /// The state for the next step, kept by the server and never shown.
    pub state: Option<Bytes>,
    /// The engine built the outputs itself, as valid components naming no files (a native
    /// engine), rather than passing on what a model's code returned: nothing to check.
    pub built: bool,
}

/// Why a step gave no output.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RunError {
    /// The step met a resource limit: it raised at it (memory, a file, processes...), or was
    /// stopped for it (CPU time).
    #[error("{message}")]
    Limit {
        kind: LimitKind,
        message: String,
        traceback: String,
    },
    /// The step raised.
    #[error("{message}")]
    Failed { message: String, traceback: String },
    /// The model could not be loaded.
    #[error("the model failed to load: {message}")]
    LoadFailed { message: String, traceback: String },
    /// The step took longer than its wall-clock limit, or the model longer to load.
    #[error("{0}")]
    Timeout(String),
    /// What ran the step died or broke its protocol.
    #[error("{0}")]
    Crashed(String),
    /// Nothing could run it (a worker could not be started).
    #[error("{0}")]
    Unavailable(String),
}

/// A way of running a version's steps.
#[async_trait::async_trait]
pub trait Engine: Send + Sync + std::fmt::Debug {
    /// Runs one step.
    async fn run(&self, call: StepCall) -> Result<StepOutput, RunError>;

    /// Gets ready to answer at once (a worker started, a model loaded).
    async fn warm(&self) -> Result<(), RunError>;

    /// A closed engine takes no more calls: its version was deleted, or what it runs from
    /// was evicted. The caller asks the runner for a fresh one.
    fn is_closed(&self) -> bool;
}

/// Python models, run by a version's pool of sandboxed workers.
#[derive(Debug)]
pub struct PythonEngine {
    pub pool: Arc<WorkerPool>,
}

static REQUEST: AtomicU64 = AtomicU64::new(1);

impl From<WorkerError> for RunError {
    fn from(e: WorkerError) -> Self {
        match e {
            WorkerError::Timeout(_) | WorkerError::StartTimeout(_) => Self::Timeout(e.to_string()),
            WorkerError::CpuLimit(_) => Self::Limit {
                kind: LimitKind::Cpu,
                message: e.to_string(),
                traceback: String::new(),
            },
            WorkerError::Fatal { error, traceback } => Self::LoadFailed {
                message: error,
                traceback,
            },
            WorkerError::Crashed { .. } | WorkerError::Protocol(_) => Self::Crashed(e.to_string()),
            WorkerError::Spawn(_) | WorkerError::Transfer(_) => Self::Unavailable(e.to_string()),
        }
    }
}

#[async_trait::async_trait]
impl Engine for PythonEngine {
    async fn run(&self, call: StepCall) -> Result<StepOutput, RunError> {
        let mut parts = call.files;
        let state = match call.state {
            Some(s) => {
                parts.push(s);
                json!({"part": parts.len() - 1})
            }
            None => Value::Null,
        };
        let request = Frame {
            message: Message::Run {
                id: REQUEST.fetch_add(1, Ordering::Relaxed),
                step: call.name,
                index: call.step,
                inputs: call.inputs,
                components: call.components.unwrap_or(Value::Null),
                state,
            },
            parts,
        };
        let Reply {
            frame: reply,
            files,
        } = self.pool.call(request, call.streams, call.timeout).await?;
        match reply.message {
            Message::Result { outputs, state, .. } => {
                let state = state
                    .get("part")
                    .and_then(Value::as_u64)
                    .map(|n| reply.parts.get(n as usize).cloned().unwrap_or_default());
                let outputs = match outputs {
                    Value::Array(a) => a,
                    _ => Vec::new(),
                };
                Ok(StepOutput {
                    outputs,
                    files: reply.parts,
                    spooled: files,
                    state,
                    built: false,
                })
            }
            Message::Error {
                error,
                traceback,
                limit: Some(kind),
                ..
            } => Err(RunError::Limit {
                kind,
                message: error,
                traceback,
            }),
            Message::Error {
                error, traceback, ..
            } => Err(RunError::Failed {
                message: error,
                traceback,
            }),
            other => Err(RunError::Crashed(format!("the worker answered {other:?}"))),
        }
    }

    async fn warm(&self) -> Result<(), RunError> {
        Ok(self.pool.warm().await?)
    }

    fn is_closed(&self) -> bool {
        self.pool.is_closed()
    }
}
