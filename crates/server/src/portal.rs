//! The portal: the single-page app built from `web/` by Vite, embedded in the binary. Its
//! pages all answer `index.html` (the app routes in the browser); its assets carry a content
//! hash in their names, so they are cached for good.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::error::ApiError;
use crate::state::AppState;

#[derive(rust_embed::Embed)]
#[folder = "../../web/dist"]
struct Dist;

/// What pages may load: only this server, plus the `data:` and `blob:` URLs of images the
/// page makes itself, and inline style attributes (the bars of a `Label`).
const CSP: &str = "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; \
                   object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(page))
        .route("/me", get(page))
        .route("/m/{*model}", get(page))
        .route("/r/{id}", get(page))
        .route("/assets/{*file}", get(asset))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
}

async fn page() -> Response {
    let Some(index) = Dist::get("index.html") else {
        return ApiError::not_found("the portal is not built").into_response();
    };
    let mut res = (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        index.data.into_owned(),
    )
        .into_response();
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    res
}

async fn asset(Path(file): Path<String>) -> Response {
    let Some(f) = Dist::get(&format!("assets/{file}")) else {
        return ApiError::not_found(format!("no asset {file}")).into_response();
    };
    (
        [
            (header::CONTENT_TYPE, media_type(&file)),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        f.data.into_owned(),
    )
        .into_response()
}

fn media_type(file: &str) -> &'static str {
    match file.rsplit('.').next() {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("woff2") => "font/woff2",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}
