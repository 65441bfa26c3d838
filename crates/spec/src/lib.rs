//! The feather manifest, defined once.
//!
//! This crate owns what a model *is* on paper: the [`Manifest`] (name, texts, runtime, init
//! components, steps, provenance), the component catalogue ([`components`]) with each type's props
//! and the value it accepts, validation that reports every [`Problem`] with a JSON Pointer, and
//! the JSON Schema of all of it. It does no I/O; the store, the server and the CLI build on it,
//! and the Python SDK mirrors it (the shared vectors in `tests/vectors/` keep them in step).
//!
//! - [`manifest`]: the document and its parsing.
//! - [`components`]: the catalogue.
//! - [`file_ref`]: how a component or a value points at a file.
//! - [`model`]: what a version deployed from a framework's object is.
//! - [`onnx`]: what a model in the ONNX format declares: its file and its graph's signature.
//! - [`requirement`]: what a requirement line of a model's environment may say.
//! - [`schema`]: the JSON Schema of the manifest.
//! - [`strict`]: JSON that gives no key twice.
//! - `read`: the problem-collecting JSON reader behind all parsing.

pub mod components;
pub mod file_ref;
pub mod manifest;
pub mod model;
pub mod onnx;
pub mod problem;
mod read;
pub mod requirement;
pub mod schema;
pub mod strict;

pub use components::{Component, Props};
pub use file_ref::FileRef;
pub use manifest::{Batch, Limits, Manifest, Runtime, SCHEMA_V1, Step};
pub use problem::{Problem, Problems};
