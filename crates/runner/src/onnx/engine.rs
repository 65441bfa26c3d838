//! An ONNX version's engine: a few sessions (`--onnx-sessions`), each on its own thread and
//! running one batch at a time. Requests wait in one queue; a session that is free takes the
//! first at once and, with it, whatever else is queued (up to the batch size), stacked along
//! the batch dimension into one run. Nothing waits for a batch to fill. A run past its
//! wall-clock limit is stopped by ONNX Runtime's terminate flag.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use ort::environment::Environment;
use ort::session::{RunOptions, Session, SessionOutputs};
use ort::value::{DynMapValueType, Tensor};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use super::OnnxConfig;
use super::plan::{Outputs, Plan};
use crate::engine::{Engine, RunError, StepCall, StepOutput};

type Reply = oneshot::Sender<Result<Vec<Value>, RunError>>;

struct Job {
    row: Vec<f64>,
    reply: Reply,
}

/// The sessions of one version, and the queue they take requests from.
#[derive(Debug)]
pub struct OnnxEngine {
    queue: Mutex<Option<mpsc::Sender<Job>>>,
    plan: Arc<Plan>,
    closed: Arc<AtomicBool>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").finish_non_exhaustive()
    }
}

/// Makes a session of the model's bytes with the operator's threads.
pub fn session(env: &Environment, model: &[u8], threads: usize) -> Result<Session, String> {
    let builder = Session::builder(env).map_err(|e| e.to_string())?;
    let builder = builder
        .with_intra_threads(threads)
        .map_err(|e| e.to_string())?;
    let mut builder = builder.with_inter_threads(1).map_err(|e| e.to_string())?;
    builder
        .commit_from_memory(model)
        .map_err(|e| reason(&e.to_string()))
}

/// ONNX Runtime's message without the source file and function it came from.
fn reason(message: &str) -> String {
    let message = message.trim();
    match message.split_once(") ") {
        Some((head, rest)) if head.starts_with('/') || head.contains("onnxruntime::") => {
            rest.trim().to_owned()
        }
        _ => message.to_owned(),
    }
}

impl OnnxEngine {
    /// Starts the sessions; fails when the model does not load.
    pub fn start(
        env: &Environment,
        model: &[u8],
        plan: Plan,
        config: &OnnxConfig,
        timeout: Duration,
        batchable: bool,
    ) -> Result<Self, String> {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let plan = Arc::new(plan);
        let closed = Arc::new(AtomicBool::new(false));
        let max = if batchable {
            config.max_batch.max(1)
        } else {
            1
        };
        for _ in 0..config.sessions.max(1) {
            let mut s = session(env, model, config.threads)?;
            let (rx, plan) = (rx.clone(), plan.clone());
            let options = Arc::new(RunOptions::new().map_err(|e| e.to_string())?);
            let started = Arc::new(AtomicU64::new(0));
            watchdog(options.clone(), started.clone(), timeout, closed.clone());
            std::thread::Builder::new()
                .name("onnx-session".into())
                .spawn(move || serve(&mut s, &rx, &plan, max, &options, &started, timeout))
                .map_err(|e| e.to_string())?;
        }
        Ok(Self {
            queue: Mutex::new(Some(tx)),
            plan,
            closed,
        })
    }

    /// Stops taking requests; the sessions end once the queue is empty.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        self.queue.lock().expect("not poisoned").take();
    }
}

#[async_trait::async_trait]
impl Engine for OnnxEngine {
    async fn run(&self, call: StepCall) -> Result<StepOutput, RunError> {
        let Value::Object(inputs) = &call.inputs else {
            return Err(RunError::Failed {
                message: "the inputs are not an object".into(),
                traceback: String::new(),
            });
        };
        let row = self.plan.row(inputs).map_err(|message| RunError::Failed {
            message,
            traceback: String::new(),
        })?;
        let (reply, answer) = oneshot::channel();
        let sent = match &*self.queue.lock().expect("not poisoned") {
            Some(q) => q.send(Job { row, reply }).is_ok(),
            None => false,
        };
        if !sent {
            return Err(RunError::Unavailable(
                "the model's engine was stopped".into(),
            ));
        }
        let outputs = answer
            .await
            .map_err(|_| RunError::Crashed("the model's session ended".into()))??;
        Ok(StepOutput {
            outputs,
            ..StepOutput::default()
        })
    }

    async fn warm(&self) -> Result<(), RunError> {
        Ok(())
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }
}

fn now_ms() -> u64 {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_millis() as u64 + 1
}

/// Stops a session's run once it has taken longer than `timeout`.
fn watchdog(
    options: Arc<RunOptions>,
    started: Arc<AtomicU64>,
    timeout: Duration,
    closed: Arc<AtomicBool>,
) {
    let limit = timeout.as_millis() as u64;
    let _ = std::thread::Builder::new()
        .name("onnx-watchdog".into())
        .spawn(move || {
            while !closed.load(Ordering::Relaxed) || started.load(Ordering::Relaxed) != 0 {
                std::thread::sleep(Duration::from_millis(50));
                let at = started.load(Ordering::Relaxed);
                if at != 0 && now_ms().saturating_sub(at) > limit {
                    let _ = options.terminate();
                }
            }
        });
}

/// A session's loop: one batch at a time until the queue closes.
fn serve(
    session: &mut Session,
    rx: &Mutex<mpsc::Receiver<Job>>,
    plan: &Plan,
    max: usize,
    options: &RunOptions,
    started: &AtomicU64,
    timeout: Duration,
) {
    loop {
        let batch = {
            let rx = rx.lock().expect("not poisoned");
            let Ok(first) = rx.recv() else { return };
            let mut batch = vec![first];
            while batch.len() < max {
                match rx.try_recv() {
                    Ok(j) => batch.push(j),
                    Err(_) => break,
                }
            }
            batch
        };
        started.store(now_ms(), Ordering::Relaxed);
        let result = run_batch(session, plan, &batch, options);
        started.store(0, Ordering::Relaxed);
        match result {
            Ok(rows) => {
                for (job, row) in batch.into_iter().zip(rows) {
                    let _ = job.reply.send(Ok(row));
                }
            }
            Err(e) => {
                let e = if e.contains("terminate") {
                    let _ = options.unterminate();
                    RunError::Timeout(format!(
                        "the model ran longer than its time limit of {} s and was stopped",
                        timeout.as_secs()
                    ))
                } else {
                    RunError::Failed {
                        message: e,
                        traceback: String::new(),
                    }
                };
                for job in batch {
                    let _ = job.reply.send(Err(e.clone()));
                }
            }
        }
    }
}

/// One run of stacked rows; each row's output components.
fn run_batch(
    session: &mut Session,
    plan: &Plan,
    batch: &[Job],
    options: &RunOptions,
) -> Result<Vec<Vec<Value>>, String> {
    let n = batch.len();
    let width = plan.features.len();
    let input = if plan.float64 {
        let data: Vec<f64> = batch.iter().flat_map(|j| j.row.iter().copied()).collect();
        Tensor::from_array(([n, width], data))
            .map_err(|e| e.to_string())?
            .into_dyn()
    } else {
        let data: Vec<f32> = batch
            .iter()
            .flat_map(|j| j.row.iter().map(|v| *v as f32))
            .collect();
        Tensor::from_array(([n, width], data))
            .map_err(|e| e.to_string())?
            .into_dyn()
    };
    let out = session
        .run_with_options(ort::inputs![plan.input.as_str() => input], options)
        .map_err(|e| e.to_string())?;
    match &plan.outputs {
        Outputs::Classifier {
            label,
            probabilities,
            labels,
        } => classify(&out, n, label, probabilities.as_deref(), labels.as_deref()),
        Outputs::Tensors(names) => tensors(&out, n, names),
    }
}

fn class_name(labels: Option<&[String]>, index: i64) -> String {
    usize::try_from(index)
        .ok()
        .and_then(|i| labels.and_then(|l| l.get(i)))
        .cloned()
        .unwrap_or_else(|| index.to_string())
}

fn classify(
    out: &SessionOutputs,
    n: usize,
    label: &str,
    probabilities: Option<&str>,
    labels: Option<&[String]>,
) -> Result<Vec<Vec<Value>>, String> {
    let e = |e: ort::Error| e.to_string();
    let names: Vec<String> = match out[label].try_extract_tensor::<i64>() {
        Ok((_, l)) => l.iter().map(|i| class_name(labels, *i)).collect(),
        Err(_) => out[label].try_extract_strings().map_err(e)?.1,
    };
    let mut confidences: Vec<BTreeMap<String, f64>> = vec![BTreeMap::new(); n];
    if let Some(p) = probabilities {
        let value = &out[p];
        if let Ok(maps) = value.try_extract_sequence::<DynMapValueType>() {
            for (row, m) in confidences.iter_mut().zip(maps) {
                if let Ok(kv) = m.try_extract_key_values::<i64, f32>() {
                    row.extend(
                        kv.into_iter()
                            .map(|(k, v)| (class_name(labels, k), f64::from(v))),
                    );
                } else if let Ok(kv) = m.try_extract_key_values::<String, f32>() {
                    row.extend(kv.into_iter().map(|(k, v)| (k, f64::from(v))));
                } else {
                    return Err(
                        "the probabilities map has keys or values feather cannot read".into(),
                    );
                }
            }
        } else {
            let (shape, values) = value.try_extract_tensor::<f32>().map_err(e)?;
            let classes = shape.get(1).copied().unwrap_or(0) as usize;
            for (i, row) in confidences.iter_mut().enumerate() {
                for c in 0..classes {
                    row.insert(
                        class_name(labels, c as i64),
                        f64::from(values[i * classes + c]),
                    );
                }
            }
        }
    }
    Ok(names
        .into_iter()
        .zip(confidences)
        .map(|(name, mut conf)| {
            if conf.is_empty() {
                conf.insert(name.clone(), 1.0);
            }
            vec![json!({"id": "label", "type": "Label", "label": name, "confidences": conf})]
        })
        .collect())
}

fn tensors(out: &SessionOutputs, n: usize, names: &[String]) -> Result<Vec<Vec<Value>>, String> {
    let mut rows: Vec<Vec<Value>> = vec![Vec::new(); n];
    for name in names {
        let (shape, flat) = flat_values(&out[name.as_str()])?;
        let per_row = shape.first().is_some_and(|d| *d as usize == n) && !shape.is_empty();
        let id = super::plan::component_id_for(name);
        for (i, row) in rows.iter_mut().enumerate() {
            let data = if per_row {
                let inner: usize = shape[1..].iter().map(|d| *d as usize).product();
                nest(&flat[i * inner..(i + 1) * inner], &shape[1..])
            } else {
                nest(&flat, &shape)
            };
            row.push(json!({"id": id, "type": "Json.View", "title": name, "data": data}));
        }
    }
    Ok(rows)
}

/// A tensor's shape and values as JSON numbers (or strings, or booleans).
fn flat_values(v: &ort::value::DynValue) -> Result<(Vec<i64>, Vec<Value>), String> {
    if let Ok((s, d)) = v.try_extract_tensor::<f32>() {
        return Ok((s.to_vec(), d.iter().map(|x| json!(x)).collect()));
    }
    if let Ok((s, d)) = v.try_extract_tensor::<f64>() {
        return Ok((s.to_vec(), d.iter().map(|x| json!(x)).collect()));
    }
    if let Ok((s, d)) = v.try_extract_tensor::<i64>() {
        return Ok((s.to_vec(), d.iter().map(|x| json!(x)).collect()));
    }
    if let Ok((s, d)) = v.try_extract_tensor::<i32>() {
        return Ok((s.to_vec(), d.iter().map(|x| json!(x)).collect()));
    }
    if let Ok((s, d)) = v.try_extract_tensor::<bool>() {
        return Ok((s.to_vec(), d.iter().map(|x| json!(x)).collect()));
    }
    if let Ok((s, d)) = v.try_extract_strings() {
        return Ok((s.to_vec(), d.into_iter().map(Value::String).collect()));
    }
    Err("an output holds elements feather cannot read".into())
}

/// Flat values in nested arrays of `shape`.
fn nest(flat: &[Value], shape: &[i64]) -> Value {
    match shape {
        [] => flat.first().cloned().unwrap_or(Value::Null),
        [_] => Value::Array(flat.to_vec()),
        [d, rest @ ..] => {
            let inner = flat.len() / (*d).max(1) as usize;
            Value::Array(flat.chunks(inner.max(1)).map(|c| nest(c, rest)).collect())
        }
    }
}
