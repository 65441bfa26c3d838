//! Models in the ONNX format, run inside the server by ONNX Runtime: no Python, no worker.
//!
//! ONNX Runtime is loaded at run time from the `onnxruntime` wheel (the version pinned in
//! [`ORT_VERSION`]), which uv installs into the runner's folder the first time a model needs it,
//! or from a library the operator names (`--onnxruntime`). Nothing is downloaded at build
//! time. Its C API is reached through the `ort` crate (`load-dynamic`): the `ort` release in
//! `Cargo.lock` supports ONNX Runtime 1.17 and later, and is tested with [`ORT_VERSION`].
//!
//! - [`library`]: finding, installing and loading the library.
//! - [`plan`]: what a graph's signature means to a client: its components, and how their
//!   values become tensors and tensors become components.
//! - [`engine`]: sessions, batching and the wall-clock limit.
//! - [`arena`]: the cap on the memory every session's tensors may take.

pub mod arena;
pub mod engine;
pub mod library;
pub mod plan;

pub use engine::OnnxEngine;
pub use library::{ORT_VERSION, OnnxLibrary};
pub use plan::Plan;

/// How ONNX models run: the operator's settings.
#[derive(Debug, Clone)]
pub struct OnnxConfig {
    /// The ONNX Runtime library to load; none: install the pinned wheel with uv.
    pub library: Option<std::path::PathBuf>,
    /// Sessions per version, each running one batch at a time (`--onnx-sessions`).
    pub sessions: usize,
    /// Threads each session's operators may use (`--onnx-threads`).
    pub threads: usize,
    /// Requests one session run may answer together.
    pub max_batch: usize,
    /// Bytes every ONNX session of the process may take for tensors, weights included
    /// (`--onnx-memory-mb`).
    pub memory: usize,
}

impl Default for OnnxConfig {
    fn default() -> Self {
        Self {
            library: None,
            sessions: std::thread::available_parallelism().map_or(2, |n| n.get()),
            threads: 1,
            max_batch: 64,
            memory: 2 << 30,
        }
    }
}
