//! A pool of workers for one version: at most `max` at once, one request each, idle ones
//! stopped after a while (scale to zero), a broken one replaced by the next request.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::protocol::Frame;
use crate::worker::{Worker, WorkerError, WorkerSpec};

/// Sizes and timings of a pool.
#[derive(Debug, Clone, Copy)]
pub struct PoolLimits {
    /// Workers kept even when idle.
    pub min: usize,
    /// Workers at most, so requests at most at once.
    pub max: usize,
    /// An idle worker beyond `min` stops after this long.
    pub idle: Duration,
}

impl Default for PoolLimits {
    fn default() -> Self {
        Self {
            min: 0,
            max: 2,
            idle: Duration::from_secs(300),
        }
    }
}

/// The workers of one version.
#[derive(Debug)]
pub struct WorkerPool {
    spec: WorkerSpec,
    limits: PoolLimits,
    idle: Mutex<Vec<Worker>>,
    slots: Semaphore,
}

impl WorkerPool {
    pub fn new(spec: WorkerSpec, limits: PoolLimits) -> Self {
        Self {
            spec,
            limits,
            idle: Mutex::new(Vec::new()),
            slots: Semaphore::new(limits.max.max(1)),
        }
    }

    /// Runs one request on a free worker, starting one if none is idle. A worker that fails
    /// the request in any way but an ordinary step error is dropped (killed), so the next
    /// request gets a fresh one.
    ///
    /// The exchange runs in its own task: a caller that goes away (a client that disconnects)
    /// does not cut a worker off mid-frame; the answer is read and the worker goes back idle.
    pub async fn call(
        self: &Arc<Self>,
        request: Frame,
        timeout: Duration,
    ) -> Result<Frame, WorkerError> {
        let pool = self.clone();
        let task = tokio::spawn(async move { pool.exchange(&request, timeout).await });
        task.await.unwrap_or_else(|e| {
            Err(WorkerError::Protocol(format!(
                "the request's task failed: {e}"
            )))
        })
    }

    async fn exchange(&self, request: &Frame, timeout: Duration) -> Result<Frame, WorkerError> {
        let _slot = self
            .slots
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let mut worker = match self.take_live() {
            Some(w) => w,
            None => Worker::start(&self.spec).await?,
        };
        let result = worker.call(request, timeout).await;
        if result.is_ok() {
            self.idle.lock().expect("not poisoned").push(worker);
        }
        result
    }

    /// An idle worker that is still alive; dead ones (killed while idle) are dropped.
    fn take_live(&self) -> Option<Worker> {
        let mut idle = self.idle.lock().expect("not poisoned");
        while let Some(mut w) = idle.pop() {
            if w.is_alive() {
                return Some(w);
            }
            tracing::warn!(pid = w.pid, "an idle worker had died; starting another");
        }
        None
    }

    /// Starts a worker now, so the first request does not wait for the model to load.
    pub async fn warm(&self) -> Result<(), WorkerError> {
        let _slot = self
            .slots
            .acquire()
            .await
            .expect("the semaphore is never closed");
        if self.idle.lock().expect("not poisoned").is_empty() {
            let w = Worker::start(&self.spec).await?;
            self.idle.lock().expect("not poisoned").push(w);
        }
        Ok(())
    }

    /// Starts workers until `min` are alive (idle or busy): after a crash, a kill or a
    /// timeout the pool comes back to its floor without waiting for traffic.
    pub async fn top_up(&self) -> Result<(), WorkerError> {
        loop {
            let busy = self.limits.max.max(1) - self.slots.available_permits();
            let idle = {
                let mut idle = self.idle.lock().expect("not poisoned");
                idle.retain_mut(Worker::is_alive);
                idle.len()
            };
            if idle + busy >= self.limits.min {
                return Ok(());
            }
            let _slot = self
                .slots
                .acquire()
                .await
                .expect("the semaphore is never closed");
            let w = Worker::start(&self.spec).await?;
            self.idle.lock().expect("not poisoned").push(w);
        }
    }

    /// Stops idle workers beyond `min` that have waited longer than the idle limit.
    pub async fn trim(&self) -> usize {
        let stale: Vec<Worker> = {
            let mut idle = self.idle.lock().expect("not poisoned");
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
        self.idle.lock().expect("not poisoned").len()
    }

    /// Stops every idle worker.
    pub async fn close(&self) {
        let all: Vec<Worker> = std::mem::take(&mut *self.idle.lock().expect("not poisoned"));
        for w in all {
            w.shutdown().await;
        }
    }
}
