//! A worker's stdout and stderr, forwarded to the server's log without letting a model flood
//! it: lines are cut at [`MAX_LINE`] bytes, so a line with no end costs no memory, and each
//! worker may log [`LINES_PER_SECOND`] lines a second; the rest are counted, then dropped.
//! The pipes are always drained, so a chatty model never blocks on its own output.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

/// The longest line kept; the rest of a longer line is dropped.
pub const MAX_LINE: usize = 4096;
/// Lines a worker may log per second, and its burst.
pub const LINES_PER_SECOND: u32 = 200;
/// The last stderr lines kept for error messages.
pub const STDERR_LINES: usize = 40;

/// A token bucket of log lines.
#[derive(Debug)]
pub struct LogBudget {
    tokens: f64,
    per_second: f64,
    last: Instant,
    dropped: u64,
}

impl LogBudget {
    pub fn new(per_second: u32) -> Self {
        Self {
            tokens: f64::from(per_second),
            per_second: f64::from(per_second),
            last: Instant::now(),
            dropped: 0,
        }
    }

    /// Whether a line at `now` may be logged. When lines were dropped and the budget allows
    /// again, returns how many, to be said once.
    pub fn admit(&mut self, now: Instant) -> (bool, Option<u64>) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.per_second);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            let dropped = std::mem::take(&mut self.dropped);
            (true, (dropped > 0).then_some(dropped))
        } else {
            self.dropped += 1;
            (false, None)
        }
    }
}

/// Splits a pipe into lines of at most `max` bytes (longer ones are cut, the rest of them
/// skipped), calling `line` for each. Memory stays bounded whatever the pipe carries.
pub async fn read_lines<R: AsyncRead + Unpin>(
    pipe: R,
    max: usize,
    mut line: impl FnMut(&[u8], bool),
) {
    let mut reader = BufReader::with_capacity(64 << 10, pipe);
    let mut current: Vec<u8> = Vec::new();
    let mut cut = false;
    loop {
        let buf = match reader.fill_buf().await {
            Ok([]) | Err(_) => break,
            Ok(b) => b,
        };
        let (chunk, end) = match buf.iter().position(|b| *b == b'\n') {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        let room = max.saturating_sub(current.len());
        current.extend_from_slice(&chunk[..chunk.len().min(room)]);
        cut |= chunk.len() > room;
        let used = end.unwrap_or(buf.len());
        reader.consume(used);
        if end.is_some() {
            line(&current, cut);
            current.clear();
            cut = false;
        }
    }
    if !current.is_empty() {
        line(&current, cut);
    }
}

/// Forwards a worker's pipe to the log, keeping the last lines in `keep` (stderr) for error
/// messages.
pub fn forward<R>(
    pipe: Option<R>,
    label: String,
    pid: u32,
    keep: Option<Arc<Mutex<VecDeque<String>>>>,
) where
    R: AsyncRead + Unpin + Send + 'static,
{
    let Some(pipe) = pipe else { return };
    tokio::spawn(async move {
        let mut budget = LogBudget::new(LINES_PER_SECOND);
        read_lines(pipe, MAX_LINE, |bytes, cut| {
            let mut text = String::from_utf8_lossy(bytes).into_owned();
            if cut {
                text.push_str(" [cut]");
            }
            if let (true, dropped) = budget.admit(Instant::now()) {
                if let Some(n) = dropped {
                    tracing::warn!(worker = %label, pid, "{n} lines of output were dropped: the worker wrote faster than {LINES_PER_SECOND} lines a second");
                }
                tracing::info!(worker = %label, pid, "{text}");
            }
            if let Some(keep) = &keep {
                let mut k = keep.lock().expect("not poisoned");
                if k.len() == STDERR_LINES {
                    k.pop_front();
                }
                k.push_back(text);
            }
        })
        .await;
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_budget_admits_a_burst_then_a_steady_rate_and_counts_what_it_drops() {
        let t0 = Instant::now();
        let mut b = LogBudget::new(10);
        let admitted = (0..25).filter(|_| b.admit(t0).0).count();
        assert_eq!(admitted, 10);
        // Half a second refills five; the first of them reports the fifteen dropped.
        let t1 = t0 + Duration::from_millis(500);
        assert_eq!(b.admit(t1), (true, Some(15)));
        let more = (0..10).filter(|_| b.admit(t1).0).count();
        assert_eq!(more, 4);
    }

    #[tokio::test]
    async fn lines_are_cut_at_the_limit_and_a_line_without_end_costs_no_memory() {
        let mut input = Vec::new();
        input.extend(b"short\n");
        input.extend(vec![b'x'; 1 << 20]);
        input.extend(b"\nlast");
        let mut got = Vec::new();
        read_lines(&input[..], 16, |l, cut| got.push((l.to_vec(), cut))).await;
        assert_eq!(
            got,
            vec![
                (b"short".to_vec(), false),
                (vec![b'x'; 16], true),
                (b"last".to_vec(), false)
            ]
        );
    }
}
