//! The service layer: what feather does, whoever asks and however they ask.
//!
//! It owns policy: who may do what, and what a request must say to be done. Front ends (the
//! REST routes, the Open Inference Protocol, the CLI working on a data folder) extract a
//! request, name its [`Actor`], call a function here and render its [`ServiceError`] in their
//! own shape; none of them decides anything. It knows no HTTP and no wire format; the store
//! below it knows no policy, and the engines beside it only run steps.
//!
//! - [`actor`]: who asks — a token's principal, or the machine's operator — and the checks on
//!   them.
//! - [`accounts`]: users, roles, tokens (the narrowing rules) and the audit log.
//! - [`models`]: publishing, reading and deleting versions, aliases, visibility and grants,
//!   with what each change means for the versions in memory and their engines.
//! - [`exec`]: runs and one-call predictions: inputs checked, files resolved, an engine runs
//!   the step, outputs and state stored.
//! - [`follow`]: what a change to a model, made here or by another server sharing the
//!   registry, means for the versions in memory and their engines.
//! - [`health`]: whether the server can take requests.
//! - [`metrics`]: what Prometheus reads: steps called, by outcome and latency; the process.
//! - [`error`]: the one error and its code table.

pub mod accounts;
pub mod actor;
pub mod error;
pub mod exec;
pub mod follow;
pub mod health;
pub mod metrics;
pub mod models;

use std::sync::Arc;

use feather_runner::Runner;
use feather_store::Store;

pub use actor::Actor;
pub use error::{Code, Result, ServiceError};
use exec::cache::Cache;
use exec::files::{FilePolicy, UploadLocks};

/// What every service call works with: the store, the engines, and what is kept in memory.
/// Cloning it is cheap; every clone shares the same parts.
#[derive(Clone, Debug)]
pub struct Service {
    pub store: Store,
    pub runner: Arc<Runner>,
    /// Parsed versions and recent alias answers.
    pub cache: Arc<Cache>,
    /// How long files and runs are kept, and how much may be uploaded.
    pub files: FilePolicy,
    /// One turn at a time per uploader for checking the quota and storing.
    pub upload_locks: Arc<UploadLocks>,
    pub metrics: Arc<metrics::Metrics>,
}

impl Service {
    pub fn new(store: Store, runner: Arc<Runner>, files: FilePolicy) -> Self {
        Self {
            store,
            runner,
            cache: Default::default(),
            files,
            upload_locks: Default::default(),
            metrics: Default::default(),
        }
    }
}

/// Every metric, for an admin (they name private models).
pub fn read_metrics(s: &Service, actor: &Actor) -> error::Result<String> {
    actor.must_be_admin()?;
    Ok(s.metrics.render())
}
