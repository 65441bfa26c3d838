//! A pool of workers for one version: at most `max` at once, idle ones stopped after a while
//! (scale to zero), a broken one replaced by the next request.
//!
//! Requests wait in one queue. Each busy worker has a driver task that takes whatever is
//! queued when its worker becomes free (its fair share, up to the step's batch size) and
//! sends it as one frame; a lone request goes as a plain `run`. Nothing ever waits for a batch
//! to fill: an idle worker takes the first request at once.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::protocol::{Frame, Message};
use crate::transfer::InStream;
use crate::worker::{Reply, Worker, WorkerError, WorkerSpec};

/// Sizes and timings of a pool.
#[derive(Debug, Clone, Copy)]
pub struct PoolLimits {
    /// Workers kept even when idle.
    pub min: usize,
    /// Workers at most.
    pub max: usize,
    /// An idle worker beyond `min` stops after this long.
    pub idle: Duration,
    /// The most requests one worker call takes for a step that is called once per request
    /// (1: no batching). A batching step has its own size in the manifest.
    pub batch: usize,
}

impl Default for PoolLimits {
    fn default() -> Self {
        Self {
            min: 0,
            max: 2,
            idle: Duration::from_secs(300),
            batch: 32,
        }
    }
}

/// How requests for one step may be grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepBatch {
    /// The most requests in one frame.
    pub max: usize,
    /// One call of the step answers them all (`@ftr.step(batch=True)`), so a failure of the
    /// call fails them all; otherwise the worker calls the step once per request.
    pub together: bool,
}

/// A queued request.
struct Job {
    frame: Frame,
    /// Large files streamed before the frame: a job with any is sent alone, never batched.
    files: Vec<InStream>,
    step: usize,
    timeout: Duration,
    reply: oneshot::Sender<Result<Reply, WorkerError>>,
}

#[derive(Default)]
struct Inner {
    idle: Vec<Worker>,
    queue: VecDeque<Job>,
    /// Workers out of `idle`: running requests or starting.
    busy: usize,
}

/// The workers of one version.
pub struct WorkerPool {
    spec: WorkerSpec,
    limits: PoolLimits,
    /// By step index.
    steps: Vec<StepBatch>,
    inner: Mutex<Inner>,
    /// Closed pools take no more requests: their version was deleted, or their environment or
    /// bundle was evicted from the runner's cache.
    closed: AtomicBool,
    /// When a request last came, in milliseconds of the Unix epoch.
    last_call: AtomicU64,
}

impl std::fmt::Debug for WorkerPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerPool")
            .field("label", &self.spec.label)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl WorkerPool {
    /// `steps`: how each step's requests may be grouped, by index; a step not listed is
    /// called once per request, batched up to `limits.batch`.
    pub fn new(spec: WorkerSpec, limits: PoolLimits, steps: Vec<StepBatch>) -> Self {
        Self {
            spec,
            limits: PoolLimits {
                max: limits.max.max(1),
                batch: limits.batch.max(1),
                ..limits
            },
            steps,
            inner: Mutex::new(Inner::default()),
            closed: AtomicBool::new(false),
            last_call: AtomicU64::new(epoch_ms()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().expect("not poisoned")
    }

    fn batch_of(&self, step: usize) -> StepBatch {
        self.steps.get(step).copied().unwrap_or(StepBatch {
            max: self.limits.batch,
            together: false,
        })
    }

    /// Runs one `run` request on a worker, after the large files it names as `{"file": N}`,
    /// and gives its answer. A worker that fails a request
    /// in any way but an ordinary step error is dropped (killed), so the next request gets a
    /// fresh one.
    ///
    /// The request is carried out by the pool's own tasks: a caller that goes away (a client
    /// that disconnects) does not cut a worker off mid-frame.
    pub async fn call(
        self: &Arc<Self>,
        request: Frame,
        files: Vec<InStream>,
        timeout: Duration,
    ) -> Result<Reply, WorkerError> {
        let step = match &request.message {
            Message::Run { index, .. } => *index,
            _ => 0,
        };
        if self.is_closed() {
            return Err(WorkerError::Spawn(
                "this version's workers were stopped (deleted, or its files evicted); try again"
                    .into(),
            ));
        }
        self.last_call.store(epoch_ms(), Ordering::Relaxed);
        let (reply, answer) = oneshot::channel();
        {
            // Queued and counted under one lock, so a driver that finds the queue empty and
            // stops cannot miss this request.
            let mut inner = self.lock();
            inner.queue.push_back(Job {
                frame: request,
                files,
                step,
                timeout,
                reply,
            });
            self.start_driver(&mut inner);
        }
        answer
            .await
            .unwrap_or_else(|_| Err(WorkerError::Protocol("the pool dropped the request".into())))
    }

    /// Starts a driver when requests wait and fewer than `max` workers are out.
    fn start_driver(self: &Arc<Self>, inner: &mut Inner) {
        if !inner.queue.is_empty() && inner.busy < self.limits.max {
            inner.busy += 1;
            let pool = self.clone();
            tokio::spawn(async move { pool.drive().await });
        }
    }

    /// Feeds one worker until the queue is empty, then puts it back idle.
    async fn drive(self: Arc<Self>) {
        let mut worker: Option<Worker> = None;
        loop {
            let jobs = {
                let mut inner = self.lock();
                let jobs = self.take_jobs(&mut inner);
                if jobs.is_empty() {
                    if let Some(w) = worker.take() {
                        inner.idle.push(w);
                    }
                    inner.busy -= 1;
                    return;
                }
                if worker.is_none() {
                    worker = take_live(&mut inner.idle);
                }
                jobs
            };
            let w = match worker.take() {
                Some(w) => w,
                None => match Worker::start(&self.spec).await {
                    Ok(w) => w,
                    Err(e) => {
                        for j in jobs {
                            let _ = j.reply.send(Err(e.clone()));
                        }
                        continue;
                    }
                },
            };
            let (w, again) = self.run(w, jobs).await;
            worker = w;
            if !again.is_empty() {
                let mut inner = self.lock();
                for j in again.into_iter().rev() {
                    inner.queue.push_front(j);
                }
            }
        }
    }

    /// The next requests for one worker: the first queued, and after it queued requests for
    /// the same step, up to the step's batch size and this worker's fair share of the queue.
    fn take_jobs(&self, inner: &mut Inner) -> Vec<Job> {
        let Some(first) = inner.queue.pop_front() else {
            return Vec::new();
        };
        let batch = self.batch_of(first.step);
        let share = (inner.queue.len() + 1).div_ceil(self.limits.max);
        let want = if first.files.is_empty() {
            batch.max.min(share)
        } else {
            1
        };
        let mut jobs = vec![first];
        let mut i = 0;
        while jobs.len() < want && i < inner.queue.len() {
            let next = &inner.queue[i];
            if next.step == jobs[0].step && next.files.is_empty() {
                jobs.extend(inner.queue.remove(i));
            } else {
                i += 1;
            }
        }
        jobs
    }

    /// Runs requests on a worker. Gives the worker back if it is still good, and the requests
    /// it never got to (after a crash or timeout on an earlier one of a per-request batch).
    async fn run(&self, mut worker: Worker, mut jobs: Vec<Job>) -> (Option<Worker>, Vec<Job>) {
        if jobs.len() == 1 {
            let job = jobs.pop().expect("one job");
            let result = worker.call(&job.frame, job.files, job.timeout).await;
            let ok = result.is_ok();
            let _ = job.reply.send(result);
            return (ok.then_some(worker), Vec::new());
        }
        let together = self.batch_of(jobs[0].step).together;
        let frame = Frame::encode_batch(&jobs.iter().map(|j| &j.frame).collect::<Vec<_>>());
        let mut jobs = VecDeque::from(jobs);
        let mut failure = worker.send_encoded(&frame, jobs[0].timeout).await.err();
        while failure.is_none()
            && let Some(job) = jobs.pop_front()
        {
            let started = Instant::now();
            let result = match worker.receive(job.timeout, job.timeout).await {
                Ok(reply) if answers(&reply.frame, &job.frame) => Ok(reply),
                Ok(reply) => {
                    worker.kill().await;
                    Err(WorkerError::Protocol(format!(
                        "the worker answered {:?} out of turn",
                        reply.frame.message
                    )))
                }
                Err(e) => Err(e),
            };
            if let Err(e) = &result {
                failure = Some(e.clone());
                tracing::debug!(worker = %self.spec.label, after = ?started.elapsed(), "a batched request failed: {e}");
            }
            let _ = job.reply.send(result);
        }
        let Some(e) = failure else {
            return (Some(worker), Vec::new());
        };
        if together {
            // They were all in the call that failed.
            for j in jobs {
                let _ = j.reply.send(Err(e.clone()));
            }
            return (None, Vec::new());
        }
        (None, jobs.into())
    }

    /// Starts a worker now, so the first request does not wait for the model to load.
    pub async fn warm(self: &Arc<Self>) -> Result<(), WorkerError> {
        {
            let mut inner = self.lock();
            // A worker already idle, running or starting serves as well.
            if !inner.idle.is_empty() || inner.busy > 0 {
                return Ok(());
            }
            inner.busy += 1;
        }
        self.add_idle(Worker::start(&self.spec).await)
    }

    /// Puts a worker just started among the idle ones and gives its slot back.
    fn add_idle(self: &Arc<Self>, started: Result<Worker, WorkerError>) -> Result<(), WorkerError> {
        let mut inner = self.lock();
        inner.busy -= 1;
        let result = started.map(|w| inner.idle.push(w));
        // Requests that came while it started, with every slot taken, are waiting.
        self.start_driver(&mut inner);
        result
    }

    /// Starts workers until `min` are alive (idle or busy): after a crash, a kill or a
    /// timeout the pool comes back to its floor without waiting for traffic.
    pub async fn top_up(self: &Arc<Self>) -> Result<(), WorkerError> {
        loop {
            {
                let mut inner = self.lock();
                inner.idle.retain_mut(Worker::is_alive);
                if inner.idle.len() + inner.busy >= self.limits.min || inner.busy >= self.limits.max
                {
                    return Ok(());
                }
                inner.busy += 1;
            }
            self.add_idle(Worker::start(&self.spec).await)?;
        }
    }

    /// Stops idle workers beyond `min` that have waited longer than the idle limit.
    pub async fn trim(&self) -> usize {
        let stale: Vec<Worker> = {
            let mut inner = self.lock();
            let idle = &mut inner.idle;
            idle.sort_by_key(|w| std::cmp::Reverse(w.last_used));
            let keep = idle
                .iter()
                .take_while(|w| w.last_used.elapsed() < self.limits.idle)
                .count()
                .max(self.limits.min);
            if keep >= idle.len() {
                Vec::new()
            } else {
                idle.split_off(keep)
            }
        };
        let n = stale.len();
        for w in stale {
            w.shutdown().await;
        }
        n
    }

    /// Idle workers now.
    pub fn idle_count(&self) -> usize {
        self.lock().idle.len()
    }

    /// Workers alive now: idle, running or starting.
    pub fn live_workers(&self) -> usize {
        let inner = self.lock();
        inner.idle.len() + inner.busy
    }

    /// What its workers run.
    pub fn spec(&self) -> &WorkerSpec {
        &self.spec
    }

    /// When a request last came.
    pub fn last_used(&self) -> std::time::SystemTime {
        std::time::UNIX_EPOCH + Duration::from_millis(self.last_call.load(Ordering::Relaxed))
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    /// Stops every idle worker and takes no more requests.
    pub async fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        let all: Vec<Worker> = std::mem::take(&mut self.lock().idle);
        for w in all {
            w.shutdown().await;
        }
    }
}

fn epoch_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// An idle worker that is still alive; dead ones (killed while idle) are dropped.
fn take_live(idle: &mut Vec<Worker>) -> Option<Worker> {
    while let Some(mut w) = idle.pop() {
        if w.is_alive() {
            return Some(w);
        }
        tracing::warn!(pid = w.pid, "an idle worker had died; starting another");
    }
    None
}

/// Whether `answer` is the reply to `request` (same request id).
fn answers(answer: &Frame, request: &Frame) -> bool {
    let Message::Run { id, .. } = &request.message else {
        return false;
    };
    matches!(&answer.message, Message::Result { id: a, .. } | Message::Error { id: a, .. } if a == id)
}
