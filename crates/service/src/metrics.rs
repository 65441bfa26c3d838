//! What `GET /metrics` tells Prometheus: every step called, per model, version and step, by
//! outcome (`ok` or the error's code) and by latency; and the process's own figures. Recording
//! a call does no I/O (a lock, a few lookups and atomics); the process is read from `/proc`
//! when scraped. A deleted version's series go with it, so the label sets stay those of versions
//! that exist.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::error::Code;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StepLabels {
    /// `owner/name`.
    model: String,
    version: String,
    step: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    model: String,
    version: String,
    step: String,
    /// `ok`, or the error's code.
    outcome: String,
}

type Latency = Family<StepLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 1 ms to about 33 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// The process's figures, set when scraped.
#[derive(Default)]
struct Process {
    resident: Gauge,
    open_fds: Gauge,
    cpu: Gauge<f64, std::sync::atomic::AtomicU64>,
    start: Gauge<f64, std::sync::atomic::AtomicU64>,
}

/// The server's metrics.
pub struct Metrics {
    registry: Registry,
    calls: Family<OutcomeLabels, Counter>,
    latency: Latency,
    process: Process,
    /// The steps seen of each version (by `owner/name`, then number), so that its series can go.
    seen: Mutex<HashMap<String, HashMap<i64, HashSet<String>>>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("feather");
        let calls = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "step_calls",
            "Steps called (one-call predictions and run steps), by outcome: ok or the error's code",
            calls.clone(),
        );
        let latency = Latency::new_with_constructor(latency_histogram);
        registry.register(
            "step_duration_seconds",
            "Time from a step's call to its answer: inputs checked, files resolved, the engine run",
            latency.clone(),
        );
        let process = Process::default();
        let p = registry.sub_registry_with_prefix("process");
        p.register(
            "resident_memory_bytes",
            "The server's resident memory (its workers are processes of their own)",
            process.resident.clone(),
        );
        p.register(
            "open_fds",
            "File descriptors the server holds",
            process.open_fds.clone(),
        );
        p.register(
            "cpu_seconds",
            "CPU time the server has used, user and system",
            process.cpu.clone(),
        );
        p.register(
            "start_time_seconds",
            "When the server started, in seconds since the Unix epoch",
            process.start.clone(),
        );
        Self {
            registry,
            calls,
            latency,
            process,
            seen: Mutex::default(),
        }
    }
}

impl Metrics {
    /// Records one call of a step of `model` (`owner/name`) at `version`.
    pub fn step(
        &self,
        model: String,
        version: i64,
        step: &str,
        took: Duration,
        error: Option<Code>,
    ) {
        {
            let mut seen = self.seen.lock().expect("not poisoned");
            let known = seen
                .get(&model)
                .and_then(|v| v.get(&version))
                .is_some_and(|steps| steps.contains(step));
            if !known {
                seen.entry(model.clone())
                    .or_default()
                    .entry(version)
                    .or_default()
                    .insert(step.to_owned());
            }
        }
        let labels = StepLabels {
            model,
            version: version.to_string(),
            step: step.to_owned(),
        };
        self.latency
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
        let outcome = error.map_or("ok", Code::as_str).to_owned();
        let StepLabels {
            model,
            version,
            step,
        } = labels;
        self.calls
            .get_or_create(&OutcomeLabels {
                model,
                version,
                step,
                outcome,
            })
            .inc();
    }

    /// Drops the series of a deleted version of `model`, or of all its versions.
    pub fn forget(&self, model: &str, version: Option<i64>) {
        let gone: Vec<(i64, HashSet<String>)> = {
            let mut seen = self.seen.lock().expect("not poisoned");
            match (seen.get_mut(model), version) {
                (None, _) => Vec::new(),
                (Some(versions), Some(v)) => {
                    versions.remove(&v).map(|s| (v, s)).into_iter().collect()
                }
                (Some(_), None) => seen.remove(model).into_iter().flatten().collect(),
            }
        };
        let model = model.to_owned();
        for (version, steps) in gone {
            for step in steps {
                let labels = StepLabels {
                    model: model.clone(),
                    version: version.to_string(),
                    step: step.clone(),
                };
                self.latency.remove(&labels);
                for outcome in std::iter::once("ok").chain(Code::ALL.map(Code::as_str)) {
                    self.calls.remove(&OutcomeLabels {
                        model: model.clone(),
                        version: version.to_string(),
                        step: step.clone(),
                        outcome: outcome.to_owned(),
                    });
                }
            }
        }
    }

    /// Everything, in the OpenMetrics text format (which Prometheus reads).
    pub fn render(&self) -> String {
        self.read_process();
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String");
        out
    }

    fn read_process(&self) {
        let p = &self.process;
        if let Ok(statm) = std::fs::read_to_string("/proc/self/statm")
            && let Some(pages) = statm
                .split_whitespace()
                .nth(1)
                .and_then(|n| n.parse::<i64>().ok())
        {
            p.resident.set(pages * page_size());
        }
        if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
            p.open_fds.set(fds.count() as i64);
        }
        // /proc/self/stat: fields after the command's closing parenthesis; utime and stime are
        // the 12th and 13th of them, starttime the 20th, in clock ticks.
        let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
            return;
        };
        let Some((_, rest)) = stat.rsplit_once(')') else {
            return;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let tick = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok());
        let hz = clock_ticks();
        if let (Some(user), Some(system)) = (tick(11), tick(12)) {
            p.cpu.set((user + system) / hz);
        }
        if let (Some(start), Some(boot)) = (tick(19), boot_time()) {
            p.start.set(boot + start / hz);
        }
    }
}

fn page_size() -> i64 {
    rustix::param::page_size() as i64
}

fn clock_ticks() -> f64 {
    rustix::param::clock_ticks_per_second() as f64
}

/// When the machine booted, in seconds since the Unix epoch (`btime` in /proc/stat).
fn boot_time() -> Option<f64> {
    std::fs::read_to_string("/proc/stat")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()
}
