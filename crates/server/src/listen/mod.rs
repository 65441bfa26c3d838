//! Connections: accepting them and holding them to account. Each connection gets a watchdog
//! that closes it when a request head does not arrive whole within the header timeout, or when
//! nothing is asked for within the keep-alive timeout; each request body must keep pace
//! ([`body`]); connections beyond the cap are answered 503 and closed, so idle clients cannot
//! use up the server's file descriptors. Answers given at this layer (too many headers, a body
//! too slow, too many connections) use the API's one error shape.

mod body;
mod conn;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::ApiError;
use body::WatchedBody;
use conn::{ConnState, Watched};

/// How long requests in flight may finish after a shutdown was asked for.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// How long clients may take, and how many may be connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// A request head (request line and headers) must arrive whole within this, from its first
    /// byte.
    pub header_timeout: Duration,
    /// A request body may keep the server waiting this long in all, plus a second for every
    /// `body_min_rate` bytes it delivered; a client reading an answer may leave a write
    /// waiting this long.
    pub body_timeout: Duration,
    /// Bytes a second a body must average to never be cut.
    pub body_min_rate: u64,
    /// A connection with nothing in flight is closed after this.
    pub keep_alive: Duration,
    /// Connections open at once; more are answered 503 and closed.
    pub max_connections: usize,
    /// Headers a request may have.
    pub max_headers: usize,
    /// Bytes a request's headers may hold in all.
    pub max_header_bytes: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(30),
            body_min_rate: 1024,
            keep_alive: Duration::from_secs(20),
            max_connections: 4096,
            max_headers: 100,
            max_header_bytes: 64 << 10,
        }
    }
}

/// Serves `app` on `listener` under `limits` until `shutdown` completes, then lets the
/// requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: HttpLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, addr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors, say: wait rather than spin.
                    tracing::warn!(error = %e, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tokio::spawn(refuse(stream));
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (app, mut stop) = (app.clone(), stop_rx.clone());
        tokio::spawn(async move {
            let _slot = slot;
            connection(stream, addr, app, limits, &mut stop).await;
        });
    }
    drop(stop_rx);
    // Every connection task holds a receiver; they are all gone once the channel closes. A
    // request still running after the grace period is cut off with the process.
    stop_tx.send_replace(());
    if tokio::time::timeout(SHUTDOWN_GRACE, stop_tx.closed())
        .await
        .is_err()
    {
        tracing::warn!("requests were still running at shutdown; they are cut off");
    }
    Ok(())
}

async fn connection(
    stream: tokio::net::TcpStream,
    addr: SocketAddr,
    app: Router,
    limits: HttpLimits,
    stop: &mut tokio::sync::watch::Receiver<()>,
) {
    let state = ConnState::new();
    let io = TokioIo::new(Watched::new(stream, state.clone()));
    let per_conn = state.clone();
    let service = tower::service_fn(move |req: Request<Incoming>| {
        let (app, conn) = (app.clone(), per_conn.clone());
        async move { Ok::<_, Infallible>(handle(app, conn, addr, limits, req).await) }
    });
    // HTTP/1 only: the limits here are per connection, and an HTTP/2 connection would carry
    // many requests under one of them.
    let mut builder = Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .header_read_timeout(None)
        // Above ours, so that ours answer in the error shape.
        .max_headers(limits.max_headers.max(1) * 4)
        .max_buf_size((limits.max_header_bytes * 4).max(1 << 20));
    let conn = builder.serve_connection_with_upgrades(io, TowerToHyperService::new(service));
    let mut conn = std::pin::pin!(conn);
    let mut stopping = false;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::trace!(error = %e, "connection ended");
                }
                return;
            }
            cut = state.watch(limits.header_timeout, limits.keep_alive, limits.body_timeout) => {
                tracing::debug!(client = %addr, ?cut, "closing a connection");
                return;
            }
            _ = stop.changed(), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

async fn handle(
    app: Router,
    conn: Arc<ConnState>,
    addr: SocketAddr,
    limits: HttpLimits,
    req: Request<Incoming>,
) -> Response {
    let in_flight = conn.request();
    let headers = req.headers();
    let bytes: usize = headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    let response = if headers.len() > limits.max_headers || bytes > limits.max_header_bytes {
        ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            format!(
                "a request may have at most {} headers of {} bytes in all; this one has {} of {bytes}",
                limits.max_headers,
                limits.max_header_bytes,
                headers.len()
            ),
        )
        .into_response()
    } else {
        let (parts, body) = req.into_parts();
        let body = WatchedBody::new(
            body,
            limits.body_timeout,
            limits.body_min_rate,
            conn.clone(),
        );
        let mut req = Request::from_parts(parts, axum::body::Body::new(body));
        req.extensions_mut().insert(ConnectInfo(addr));
        let response = app.oneshot(req).await.unwrap_or_else(|e| match e {});
        if conn.body_was_cut() {
            let mut r = ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "body_too_slow",
                format!(
                    "the request body came too slowly: the server waits {} s for a body, plus 1 s per {} bytes received",
                    limits.body_timeout.as_secs(),
                    limits.body_min_rate
                ),
            )
            .into_response();
            r.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            r
        } else {
            response
        }
    };
    // The request ends when its answer's body is written, or dropped unwritten.
    response.map(|b| {
        axum::body::Body::new(Tracked {
            inner: b,
            _in_flight: in_flight,
        })
    })
}

/// A response body that holds its request in flight until it is done.
struct Tracked {
    inner: axum::body::Body,
    _in_flight: conn::InFlight,
}

impl http_body::Body for Tracked {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::pin::Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Answers a connection over the cap with a 503 in the error shape, without reading it.
async fn refuse(mut stream: tokio::net::TcpStream) {
    let body = serde_json::json!({"error": {
        "code": "too_many_connections",
        "message": "the server has as many connections open as it allows; try again shortly",
        "details": null,
    }})
    .to_string();
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        let _ = stream.write_all(answer.as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await;
}
