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

/// Rewrites an error answer, the REST shape `{"error": {"code", "message", ...}}`, into
/// another protocol's (`shape` makes its body from the code and the message); a success
/// passes as it is.
pub(crate) async fn reshape_error(
    res: axum::response::Response,
    shape: fn(&str, String) -> serde_json::Value,
) -> axum::response::Response {
    use axum::http::header;
    if res.status().is_success() {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let rest: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let code = rest["error"]["code"].as_str().unwrap_or("internal");
    let message = rest["error"]["message"].as_str().map_or_else(
        || String::from_utf8_lossy(&bytes).into_owned(),
        str::to_owned,
    );
    let body = serde_json::to_vec(&shape(code, message)).expect("JSON");
    parts.headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    axum::response::Response::from_parts(parts, axum::body::Body::from(body))
}
