//! An ONNX version's engine: a few sessions (`--onnx-sessions`), each running one batch at a
//! time. A request that finds a session free runs at once on its own task, with whatever else
//! is queued (up to the batch size) stacked along the batch dimension into the same run; one
//! that finds none queues, and the next session to come free takes it with the others queued.
//! Nothing waits for a batch to fill, and a quick model costs no thread hand-off: its runs
//! stay on the request's own thread. A model whose runs take longer than a millisecond runs on
//! the blocking pool instead, so it never holds up the server's other requests; one shorter
//! than a tenth of that takes turns with the others on one session at a time, the requests
//! arriving meanwhile batched into its next run. A run past its wall-clock limit is stopped by
//! ONNX Runtime's terminate flag.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ort::environment::Environment;
use ort::session::{RunOptions, Session, SessionOutputs};
use ort::value::{DynMapValueType, Tensor};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use super::OnnxConfig;
use feather_spec::components::{Dtype, nest};

use super::plan::{Outputs, Part, Plan};
use crate::engine::{Engine, RunError, StepCall, StepOutput};

type Reply = oneshot::Sender<Result<Vec<Value>, RunError>>;

struct Job {
    /// The request's values for each input.
    parts: Vec<Part>,
    reply: Reply,
}

impl Job {
    /// Whether two requests' items have the same shapes, and so may share a run.
    fn fits(&self, other: &Job) -> bool {
        self.parts
            .iter()
            .zip(&other.parts)
            .all(|(a, b)| a.dims == b.dims)
    }
}

/// A session, with what stops its run past the limit.
struct Slot {
    session: Session,
    options: Arc<RunOptions>,
    /// When its run began (ms since the engine's clock started); 0 when idle.
    started: Arc<AtomicU64>,
}

#[derive(Default)]
struct State {
    idle: Vec<Slot>,
    queue: VecDeque<Job>,
}

/// A slot's driver: boxed, since it hands the slot on to a driver of its own.
type Drive = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// Runs taking longer than this on average (µs) go to the blocking pool.
const QUICK: u64 = 1_000;

/// Runs shorter than this on average (µs) take turns: while one is under way the others queue
/// behind it and go together in its session's next run. A run this short costs less than the
/// requests around it, so a second core serves them better than a second session would, and
/// a run of several rows costs little more than a run of one.
const BRIEF: u64 = 100;

/// The sessions of one version, and the queue of requests waiting for one.
pub struct OnnxEngine {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    /// How many sessions there are, idle or not.
    sessions: usize,
    plan: Plan,
    max: usize,
    timeout: Duration,
    /// The process's ONNX memory cap in bytes, for messages.
    memory: usize,
    closed: Arc<AtomicBool>,
    /// The average run's length in µs.
    average: AtomicU64,
}

impl std::fmt::Debug for OnnxEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxEngine")
            .field("plan", &self.inner.plan)
            .finish_non_exhaustive()
    }
}

/// Makes a session of the model's bytes with the operator's threads.
pub fn session(env: &Environment, model: &[u8], threads: usize) -> Result<Session, String> {
    let builder = Session::builder(env).map_err(|e| e.to_string())?;
    let builder = builder
        .with_intra_threads(threads)
        .map_err(|e| e.to_string())?;
    // The process's one capped arena (see `arena`), not an arena of its own.
    let builder = builder.with_env_allocators().map_err(|e| e.to_string())?;
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
    /// Makes the sessions; fails when the model does not load.
    pub fn start(
        env: &Environment,
        model: &[u8],
        plan: Plan,
        config: &OnnxConfig,
        timeout: Duration,
        batchable: bool,
    ) -> Result<Self, String> {
        let closed = Arc::new(AtomicBool::new(false));
        let mut idle = Vec::new();
        for _ in 0..config.sessions.max(1) {
            let slot = Slot {
                session: session(env, model, config.threads)?,
                options: Arc::new(RunOptions::new().map_err(|e| e.to_string())?),
                started: Arc::new(AtomicU64::new(0)),
            };
            watchdog(
                slot.options.clone(),
                slot.started.clone(),
                timeout,
                closed.clone(),
            );
            idle.push(slot);
        }
        Ok(Self {
            inner: Arc::new(Inner {
                sessions: idle.len(),
                state: Mutex::new(State {
                    idle,
                    queue: VecDeque::new(),
                }),
                plan,
                max: if batchable {
                    config.max_batch.max(1)
                } else {
                    1
                },
                timeout,
                memory: config.memory,
                closed,
                average: AtomicU64::new(0),
            }),
        })
    }

    /// Stops taking requests; the sessions go once their runs end.
    pub fn close(&self) {
        self.inner.closed.store(true, Ordering::Relaxed);
        let mut state = self.inner.state.lock().expect("not poisoned");
        state.idle.clear();
        for job in state.queue.drain(..) {
            let _ = job.reply.send(Err(RunError::Unavailable(
                "the model's engine was stopped".into(),
            )));
        }
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
        let parts = self
            .inner
            .plan
            .row(inputs)
            .map_err(|message| RunError::Failed {
                message,
                traceback: String::new(),
            })?;
        let (reply, answer) = oneshot::channel();
        let job = Job { parts, reply };
        let ready = {
            let mut state = self.inner.state.lock().expect("not poisoned");
            if self.inner.closed.load(Ordering::Relaxed) {
                return Err(RunError::Unavailable(
                    "the model's engine was stopped".into(),
                ));
            }
            let running = self.inner.sessions - state.idle.len();
            let free = if running > 0 && self.inner.brief() {
                None
            } else {
                state.idle.pop()
            };
            match free {
                Some(slot) => {
                    let mut batch = vec![job];
                    take(&mut state.queue, &mut batch, self.inner.max);
                    Some((slot, batch))
                }
                None => {
                    state.queue.push_back(job);
                    None
                }
            }
        };
        if let Some((slot, batch)) = ready {
            let quick = self.inner.quick();
            let drive = Inner::drive(self.inner.clone(), slot, batch, quick);
            if quick {
                // Nothing in it waits: a caller that goes away cannot drop the session.
                drive.await;
            } else {
                // On a task of its own: the session comes back whether or not the caller waits.
                tokio::spawn(drive);
            }
        }
        let outputs = answer
            .await
            .map_err(|_| RunError::Crashed("the model's session ended".into()))??;
        Ok(StepOutput {
            outputs,
            built: true,
            ..StepOutput::default()
        })
    }

    async fn warm(&self) -> Result<(), RunError> {
        Ok(())
    }

    fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::Relaxed)
    }
}

/// Moves queued jobs into a batch, up to `max` in all: the first queued (when the batch is
/// empty) and those whose items have the same shapes as the batch's, the others keeping their
/// place for a run of their own.
fn take(queue: &mut VecDeque<Job>, batch: &mut Vec<Job>, max: usize) {
    let mut i = 0;
    while batch.len() < max && i < queue.len() {
        if batch.first().is_none_or(|first| first.fits(&queue[i])) {
            batch.extend(queue.remove(i));
        } else {
            i += 1;
        }
    }
}

impl Inner {
    /// Runs a batch on a slot, then hands the slot to what is queued (on a task of its own, so
    /// that the caller's answer does not wait for others') or puts it back.
    fn drive(this: Arc<Self>, slot: Slot, batch: Vec<Job>, quick: bool) -> Drive {
        Box::pin(async move {
            let slot = if !quick {
                let inner = this.clone();
                match tokio::task::spawn_blocking(move || {
                    let mut slot = slot;
                    inner.run(&mut slot, batch);
                    slot
                })
                .await
                {
                    Ok(slot) => slot,
                    Err(_) => return,
                }
            } else {
                let mut slot = slot;
                this.run(&mut slot, batch);
                slot
            };
            let next = {
                let mut state = this.state.lock().expect("not poisoned");
                if this.closed.load(Ordering::Relaxed) {
                    return;
                }
                if state.queue.is_empty() {
                    state.idle.push(slot);
                    None
                } else {
                    let mut batch = Vec::new();
                    take(&mut state.queue, &mut batch, this.max);
                    Some((slot, batch))
                }
            };
            if let Some((slot, batch)) = next {
                let quick = this.quick();
                tokio::spawn(Self::drive(this, slot, batch, quick));
            }
        })
    }

    /// Whether runs are short enough to make on the caller's thread.
    fn quick(&self) -> bool {
        self.average.load(Ordering::Relaxed) <= QUICK
    }

    /// Whether runs are short enough to take turns (see [`BRIEF`]).
    fn brief(&self) -> bool {
        self.average.load(Ordering::Relaxed) <= BRIEF
    }

    /// One session run for a batch, each job answered.
    fn run(&self, slot: &mut Slot, batch: Vec<Job>) {
        let began = Instant::now();
        slot.started.store(now_ms(), Ordering::Relaxed);
        let result = run_batch(&mut slot.session, &self.plan, &batch, &slot.options);
        slot.started.store(0, Ordering::Relaxed);
        let took = began.elapsed().as_micros() as u64;
        let average = self.average.load(Ordering::Relaxed);
        self.average
            .store((average * 7 + took) / 8, Ordering::Relaxed);
        match result {
            Ok(rows) => {
                for (job, row) in batch.into_iter().zip(rows) {
                    let _ = job.reply.send(Ok(row));
                }
            }
            Err(e) => {
                let e = if e.contains("terminate") {
                    let _ = slot.options.unterminate();
                    RunError::Timeout(format!(
                        "the model ran longer than its time limit of {} s and was stopped",
                        self.timeout.as_secs()
                    ))
                } else if super::arena::is_exhausted(&e) {
                    // The server's cap, not one of the manifest's limits: said as such.
                    RunError::Failed {
                        message: format!(
                            "the model needed more memory than ONNX models may take together on this server ({} MiB, --onnx-memory-mb): {e}",
                            self.memory >> 20
                        ),
                        traceback: String::new(),
                    }
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

/// One run of stacked rows; each row's output components.
fn run_batch(
    session: &mut Session,
    plan: &Plan,
    batch: &[Job],
    options: &RunOptions,
) -> Result<Vec<Vec<Value>>, String> {
    let n = batch.len();
    let mut values = Vec::with_capacity(plan.inputs.len());
    for (k, input) in plan.inputs.iter().enumerate() {
        let cells: Vec<&Value> = batch.iter().flat_map(|j| &j.parts[k].cells).collect();
        let shape = input.shape(n, &batch[0].parts[k].dims);
        values.push((input.name.clone(), tensor(input.dtype, shape, &cells)?));
    }
    let out = session
        .run_with_options(values, options)
        .map_err(|e| e.to_string())?;
    match &plan.outputs {
        Outputs::Classifier {
            label,
            probabilities,
            labels,
        } => classify(
            &out,
            n,
            label.as_deref(),
            probabilities.as_deref(),
            labels.as_deref(),
        ),
        Outputs::Number(name) => numbers(&out, n, name),
        Outputs::Tensors(names) => tensors(&out, n, names),
    }
}

fn numbers(out: &SessionOutputs, n: usize, name: &str) -> Result<Vec<Vec<Value>>, String> {
    let (_, flat) = flat_values(&out[name])?;
    if flat.len() != n {
        return Err(format!("{name:?} gave {} numbers for {n} rows", flat.len()));
    }
    let id = super::plan::component_id_for(name);
    Ok(flat
        .into_iter()
        .map(|v| vec![json!({"id": id, "type": "Number.View", "title": name, "value": v})])
        .collect())
}

/// One input's tensor of the element type its graph wants.
fn tensor(
    dtype: Dtype,
    shape: Vec<usize>,
    cells: &[&Value],
) -> Result<ort::value::DynValue, String> {
    let e = |e: ort::Error| e.to_string();
    // Values were checked against their component: a miss here is a bug, not the caller's.
    let float = |v: &&Value| v.as_f64().unwrap_or(0.0);
    let int = |v: &&Value| v.as_i64().unwrap_or(0);
    let uint = |v: &&Value| v.as_u64().unwrap_or(0);
    macro_rules! of {
        ($read:expr, $t:ty) => {{
            let d: Vec<$t> = cells.iter().map(|v| $read(v) as $t).collect();
            Tensor::from_array((shape, d)).map_err(e)?.into_dyn()
        }};
    }
    Ok(match dtype {
        Dtype::Float32 => of!(float, f32),
        Dtype::Float64 => of!(float, f64),
        Dtype::Int8 => of!(int, i8),
        Dtype::Int16 => of!(int, i16),
        Dtype::Int32 => of!(int, i32),
        Dtype::Int64 => of!(int, i64),
        Dtype::Uint8 => of!(uint, u8),
        Dtype::Uint16 => of!(uint, u16),
        Dtype::Uint32 => of!(uint, u32),
        Dtype::Uint64 => of!(uint, u64),
        Dtype::Bool => {
            let d: Vec<bool> = cells.iter().map(|v| v.as_bool().unwrap_or(false)).collect();
            Tensor::from_array((shape, d)).map_err(e)?.into_dyn()
        }
        Dtype::String => {
            let d: Vec<String> = cells
                .iter()
                .map(|v| v.as_str().unwrap_or_default().to_owned())
                .collect();
            Tensor::from_string_array((shape, d.as_slice()))
                .map_err(e)?
                .into_dyn()
        }
    })
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
    label: Option<&str>,
    probabilities: Option<&str>,
    labels: Option<&[String]>,
) -> Result<Vec<Vec<Value>>, String> {
    let e = |e: ort::Error| e.to_string();
    let names: Option<Vec<String>> = match label {
        Some(label) => Some(match out[label].try_extract_tensor::<i64>() {
            Ok((_, l)) => l.iter().map(|i| class_name(labels, *i)).collect(),
            Err(_) => out[label].try_extract_strings().map_err(e)?.1,
        }),
        None => None,
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
            let (shape, values): (Vec<i64>, Vec<f64>) = match value.try_extract_tensor::<f32>() {
                Ok((s, v)) => (s.to_vec(), v.iter().map(|x| f64::from(*x)).collect()),
                Err(_) => {
                    let (s, v) = value.try_extract_tensor::<f64>().map_err(e)?;
                    (s.to_vec(), v.to_vec())
                }
            };
            let classes = shape.get(1).copied().unwrap_or(0) as usize;
            for (i, row) in confidences.iter_mut().enumerate() {
                for c in 0..classes {
                    row.insert(class_name(labels, c as i64), values[i * classes + c]);
                }
            }
        }
    }
    // Probabilities alone: the likeliest class is the label.
    let names = names.unwrap_or_else(|| {
        confidences
            .iter()
            .map(|c| {
                c.iter()
                    .max_by(|a, b| a.1.total_cmp(b.1))
                    .map(|(k, _)| k.clone())
                    .unwrap_or_default()
            })
            .collect()
    });
    Ok(names
        .into_iter()
        .zip(confidences)
        .map(|(name, conf)| vec![label_component(name, conf)])
        .collect())
}

/// A `Label` component, written field by field: this runs for every row answered.
fn label_component(name: String, conf: BTreeMap<String, f64>) -> Value {
    let mut confidences = serde_json::Map::new();
    if conf.is_empty() {
        confidences.insert(name.clone(), Value::from(1.0));
    }
    for (class, p) in conf {
        confidences.insert(class, Value::from(p));
    }
    let mut c = serde_json::Map::new();
    c.insert("id".into(), Value::from("label"));
    c.insert("type".into(), Value::from("Label"));
    c.insert("label".into(), Value::String(name));
    c.insert("confidences".into(), Value::Object(confidences));
    Value::Object(c)
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
