//! HTTP handlers: each extracts, names the caller, calls one service function and renders
//! its answer; `oip` speaks the Open Inference Protocol over the same functions.

pub mod accounts;
pub mod health;
pub mod models;
pub mod oip;
mod oip_binary;
pub mod publish;
pub mod runs;
pub mod scoring;
pub mod sharing;

use axum::http::HeaderMap;
use axum::http::header::HOST;

use crate::state::AppState;

/// The base URL clients use to reach this server.
pub(crate) fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(u) = &state.public_url {
        return u.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// The policy of files served from uploads, outputs and bundles: anyone made them, so an HTML
/// or SVG file among them opens in a sandbox (no scripts, no access to this site's storage).
pub(crate) const FILE_CSP: &str =
    "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'";
