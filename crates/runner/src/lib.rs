//! Running feather models.
//!
//! It owns execution: one call for any way of running a step ([`engine`]), the worker protocol ([`protocol`]), Python environments built with uv
//! ([`env`]), the SDK carried inside the binary ([`sdk`]), worker processes ([`worker`]) and
//! their pools ([`pool`]), and the cache of unpacked bundles and environments on disk, held to a
//! size (`cache`). It does not know HTTP or the registry: the server hands it a version's
//! unpacked bundle, manifest and inputs, and gets outputs and state back.

mod cache;
pub mod cpu;
pub mod engine;
pub mod env;
pub mod onnx;
pub mod output;
pub mod pool;
pub mod protocol;
mod runner;
pub mod sandbox;
pub mod sdk;
pub mod transfer;
pub mod worker;

pub use runner::{Runner, RunnerConfig, RunnerError};
