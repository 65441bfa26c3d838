//! A request body that must keep coming: the time spent waiting for the client may be at most
//! the body timeout plus one second per `min_rate` bytes received. A silent client is cut after
//! the timeout; one that trickles (a byte every few seconds) soon after; any client sending at
//! least `min_rate` bytes a second is never cut, however large the body. Time the handler
//! spends elsewhere (writing to disk, say) is not counted: only waits for the client are.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

use super::conn::ConnState;

/// The error a cut body ends with; its request is answered 408.
#[derive(Debug, thiserror::Error)]
#[error(
    "the request body came too slowly (it may wait for the client {timeout} s, plus 1 s per {min_rate} bytes received: --body-timeout, --body-min-rate)"
)]
pub struct TooSlow {
    timeout: u64,
    min_rate: u64,
}

/// A body watched for pace.
pub struct WatchedBody<B> {
    inner: B,
    timeout: Duration,
    min_rate: u64,
    waited: Duration,
    received: u64,
    waiting_since: Option<Instant>,
    alarm: Option<Pin<Box<tokio::time::Sleep>>>,
    conn: Arc<ConnState>,
}

impl<B> WatchedBody<B> {
    pub fn new(inner: B, timeout: Duration, min_rate: u64, conn: Arc<ConnState>) -> Self {
        Self {
            inner,
            timeout,
            min_rate: min_rate.max(1),
            waited: Duration::ZERO,
            received: 0,
            waiting_since: None,
            alarm: None,
            conn,
        }
    }

    /// How long the client may still keep us waiting, counted from the start of this wait.
    fn allowance(&self) -> Duration {
        let earned = Duration::from_secs_f64(self.received as f64 / self.min_rate as f64);
        (self.timeout + earned).saturating_sub(self.waited)
    }

    fn too_slow(&self) -> TooSlow {
        self.conn.cut_body();
        TooSlow {
            timeout: self.timeout.as_secs(),
            min_rate: self.min_rate,
        }
    }
}

impl<B> Body for WatchedBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                if let Some(since) = this.waiting_since.take() {
                    this.waited += since.elapsed();
                }
                if let Some(Ok(f)) = &frame
                    && let Some(data) = f.data_ref()
                {
                    this.received += data.len() as u64;
                }
                Poll::Ready(frame.map(|r| r.map_err(Into::into)))
            }
            Poll::Pending => {
                let now = Instant::now();
                let since = *this.waiting_since.get_or_insert(now);
                let deadline = since + this.allowance();
                if now >= deadline {
                    return Poll::Ready(Some(Err(Box::new(this.too_slow()))));
                }
                let alarm = this
                    .alarm
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline.into())));
                if alarm.deadline() != deadline.into() {
                    alarm.as_mut().reset(deadline.into());
                }
                if alarm.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Some(Err(Box::new(this.too_slow()))));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
