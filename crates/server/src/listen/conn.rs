//! One connection's state as the watchdog sees it: how many requests are in flight, since when
//! it has been idle, and since when a client has been sending a request head it has not
//! finished. The socket is wrapped so that every read marks the connection as active.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

const NONE: u64 = u64::MAX;

/// Why the watchdog closed a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// A request head did not arrive whole within the header timeout.
    SlowHead,
    /// Nothing was asked for within the keep-alive timeout.
    Idle,
    /// The client took nothing of an answer for longer than the body timeout.
    SlowReader,
}

/// What the connection is doing, shared by its socket, its requests and its watchdog.
#[derive(Debug)]
pub struct ConnState {
    born: Instant,
    in_flight: AtomicUsize,
    /// Milliseconds after `born` when the last request ended (or the connection opened).
    idle_since: AtomicU64,
    /// Milliseconds after `born` of the first byte of a head not yet whole; `NONE` if none.
    head_since: AtomicU64,
    /// A request body came too slowly: its answer is a 408 and the connection closes.
    body_cut: AtomicBool,
    /// Milliseconds after `born` since a write has waited for the client; `NONE` if none.
    write_waiting_since: AtomicU64,
}

impl ConnState {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            born: Instant::now(),
            in_flight: AtomicUsize::new(0),
            idle_since: AtomicU64::new(0),
            head_since: AtomicU64::new(NONE),
            body_cut: AtomicBool::new(false),
            write_waiting_since: AtomicU64::new(NONE),
        })
    }

    fn ms(&self) -> u64 {
        self.born.elapsed().as_millis() as u64
    }

    fn read_some(&self) {
        if self.in_flight.load(Ordering::Relaxed) == 0
            && self.head_since.load(Ordering::Relaxed) == NONE
        {
            self.head_since.store(self.ms(), Ordering::Relaxed);
        }
    }

    /// A request's head arrived whole; the returned guard ends the request when dropped (once
    /// its answer was written, or when the client went away).
    pub fn request(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.head_since.store(NONE, Ordering::Relaxed);
        InFlight(self.clone())
    }

    pub fn cut_body(&self) {
        self.body_cut.store(true, Ordering::Relaxed);
    }

    pub fn body_was_cut(&self) -> bool {
        self.body_cut.load(Ordering::Relaxed)
    }

    fn write_pending(&self) {
        if self.write_waiting_since.load(Ordering::Relaxed) == NONE {
            self.write_waiting_since.store(self.ms(), Ordering::Relaxed);
        }
    }

    fn wrote(&self) {
        self.write_waiting_since.store(NONE, Ordering::Relaxed);
    }

    /// Whether a write has waited for the client longer than `timeout`: a reader that takes
    /// nothing (or next to nothing: the kernel only wakes a writer once a good part of its
    /// buffer is free) holds no connection for long.
    fn reads_too_slowly(&self, timeout: Duration) -> bool {
        let since = self.write_waiting_since.load(Ordering::Relaxed);
        since != NONE && self.ms().saturating_sub(since) > timeout.as_millis() as u64
    }

    /// Returns when the connection should be closed: a head unfinished past `header`,
    /// nothing in flight and nothing read for `idle`, or a write of an answer waiting for the
    /// client past `send`. Request bodies are watched by [`super::body::WatchedBody`].
    pub async fn watch(&self, header: Duration, idle: Duration, send: Duration) -> Cut {
        loop {
            let now = self.ms();
            let wait = if self.in_flight.load(Ordering::Relaxed) > 0 {
                if self.reads_too_slowly(send) {
                    return Cut::SlowReader;
                }
                250
            } else {
                let head = self.head_since.load(Ordering::Relaxed);
                let (deadline, cut) = if head != NONE {
                    (head + header.as_millis() as u64, Cut::SlowHead)
                } else {
                    let since = self.idle_since.load(Ordering::Relaxed);
                    (since + idle.as_millis() as u64, Cut::Idle)
                };
                if now >= deadline {
                    return cut;
                }
                (deadline - now).min(1000)
            };
            tokio::time::sleep(Duration::from_millis(wait.max(10))).await;
        }
    }
}

/// A request in flight on a connection.
#[derive(Debug)]
pub struct InFlight(Arc<ConnState>);

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::Relaxed) == 1 {
            self.0.idle_since.store(self.0.ms(), Ordering::Relaxed);
        }
    }
}

/// A socket whose reads mark its connection active.
#[derive(Debug)]
pub struct Watched<S> {
    inner: S,
    state: Arc<ConnState>,
}

impl<S> Watched<S> {
    pub fn new(inner: S, state: Arc<ConnState>) -> Self {
        Self { inner, state }
    }

    fn note(&self, r: &Poll<io::Result<usize>>) {
        match r {
            Poll::Pending => self.state.write_pending(),
            Poll::Ready(Ok(_)) => self.state.wrote(),
            Poll::Ready(Err(_)) => {}
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.state.read_some();
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.note(&r);
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.note(&r);
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
