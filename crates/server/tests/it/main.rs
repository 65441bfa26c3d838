//! Behaviour of the HTTP API against a real server with a temporary data folder.

mod abuse;
mod accounts;
mod batch;
mod builds;
mod context;
mod disk;
mod errors;
mod hostile;
mod manage;
mod metrics;
mod multipart;
mod objects;
mod onnx;
mod openapi;
mod portal;
mod publish;
mod rate;
mod repeats;
mod replicas;
mod runs;
mod scoring;
mod slow;
mod uploads;
