//! The worker protocol (docs/worker-protocol.md): typed messages in length-prefixed frames, a
//! JSON header plus raw binary parts, so file bytes and state never travel as base64.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The protocol version a worker must announce.
pub const PROTOCOL: u32 = 2;
/// The largest header: it holds metadata only.
pub const MAX_HEADER: u32 = 1 << 20;

/// A message, as its header says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Message {
    /// The worker loaded the model and is ready.
    Hello {
        protocol: u32,
        sdk: String,
        pid: u32,
        model: String,
        steps: Vec<String>,
    },
    /// The worker could not start; it exits after sending this.
    Fatal { error: String, traceback: String },
    /// Run one step.
    Run {
        id: u64,
        step: String,
        index: usize,
        /// Component id to value; files as `{"part": N, ...}`.
        inputs: Value,
        /// The input components the values answer (canonical dicts).
        components: Value,
        /// `{"part": N}` with the pickled state, or null.
        state: Value,
    },
    /// Several `run`s for one step, answered one frame each, in order.
    Batch { items: Vec<BatchItem> },
    /// A step's outputs and state.
    Result {
        id: u64,
        outputs: Value,
        state: Value,
    },
    /// The step raised.
    Error {
        id: u64,
        error: String,
        traceback: String,
        /// The resource limit the failure met, when the worker knows it met one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<LimitKind>,
    },
    /// Bytes of a large file (one part), sent just before the `run` or `result` that names it
    /// as `{"file": N}`; the file's last chunk says `end` (see [`crate::transfer`]).
    Chunk {
        file: u32,
        #[serde(default)]
        end: bool,
    },
    /// Exit now.
    Shutdown,
}

/// A worker's resource limit, as a failure names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitKind {
    /// Address space (`limits.memory_mb`).
    Memory,
    /// The largest file it may write (`limits.file_size_mb`).
    FileSize,
    /// Processes and threads (`limits.processes`).
    Processes,
    /// Open files (`limits.open_files`).
    OpenFiles,
    /// Bytes its scratch folder may hold (`limits.scratch_mb`).
    Scratch,
    /// Bytes of a step's answer (`limits.output_mb`).
    Output,
    /// CPU seconds of a step (`limits.cpu_seconds`): measured by the server, not the worker.
    Cpu,
}

/// One request of a batch: a `run` and how many of the frame's parts are its own (they follow
/// the previous item's; its `{"part": N}` count from its first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchItem {
    #[serde(flatten)]
    pub run: Message,
    pub part_count: usize,
}

/// A message with its binary parts.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub message: Message,
    pub parts: Vec<Bytes>,
}

/// Why a frame could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    #[error("the worker closed the connection")]
    Closed,
    #[error("frame too large: {what} of {size} bytes (limit {limit})")]
    TooLarge {
        what: &'static str,
        size: u64,
        limit: u64,
    },
    #[error("malformed frame: {0}")]
    Malformed(String),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// A file the worker sent could not be written to the server's disk.
    #[error("cannot keep a file the worker sent: {0}")]
    Spool(std::io::Error),
}

/// A message's JSON object with `extra` (`,"key":value...`) added before its closing brace.
fn message_json(message: &Message, extra: &str) -> Vec<u8> {
    let mut json = serde_json::to_vec(message).expect("a message serialises");
    if !extra.is_empty() {
        json.pop();
        json.extend_from_slice(extra.as_bytes());
        json.push(b'}');
    }
    json
}

/// Adds `"parts"` (their lengths) as the header's last key, when there are parts.
fn close_with_parts(header: &mut Vec<u8>, parts: &[Bytes]) {
    if parts.is_empty() {
        return;
    }
    let lengths: Vec<String> = parts.iter().map(|p| p.len().to_string()).collect();
    header.pop();
    header.extend_from_slice(format!(r#","parts":[{}]}}"#, lengths.join(",")).as_bytes());
}

/// Lengths, header, parts: one frame.
fn assemble(header: &[u8], parts: &[Bytes]) -> Vec<u8> {
    let body: usize = parts.iter().map(Bytes::len).sum();
    let mut out = Vec::with_capacity(8 + header.len() + body);
    out.extend_from_slice(&(header.len() as u32).to_be_bytes());
    out.extend_from_slice(&(body as u32).to_be_bytes());
    out.extend_from_slice(header);
    for p in parts {
        out.extend_from_slice(p);
    }
    out
}

#[derive(Deserialize)]
struct Header {
    #[serde(flatten)]
    message: Message,
    #[serde(default)]
    parts: Vec<u64>,
}

/// The header of a `result`, read directly: the answer to every request, where the general
/// [`Header`] (an internally tagged enum, flattened) has serde buffer the whole header twice.
#[derive(Deserialize)]
struct ResultHeader {
    #[serde(rename = "type")]
    _type: ResultTag,
    id: u64,
    outputs: Value,
    state: Value,
    #[serde(default)]
    parts: Vec<u64>,
}

/// A `type` that is only `"result"`: any other fails the fast read, and the general one runs.
#[derive(Deserialize)]
enum ResultTag {
    #[serde(rename = "result")]
    Result,
}

impl Header {
    fn read(header: &[u8]) -> Result<Self, serde_json::Error> {
        if let Ok(r) = serde_json::from_slice::<ResultHeader>(header) {
            return Ok(Self {
                message: Message::Result {
                    id: r.id,
                    outputs: r.outputs,
                    state: r.state,
                },
                parts: r.parts,
            });
        }
        serde_json::from_slice(header)
    }
}

impl Frame {
    pub fn new(message: Message) -> Self {
        Self {
            message,
            parts: Vec::new(),
        }
    }

    /// The frame's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut header = message_json(&self.message, "");
        close_with_parts(&mut header, &self.parts);
        assemble(&header, &self.parts)
    }

    /// The bytes of one `batch` frame carrying these `run` frames: each item is its run's
    /// header plus `part_count`, and the parts follow in order.
    pub fn encode_batch(frames: &[&Frame]) -> Vec<u8> {
        let mut header = br#"{"type":"batch","items":["#.to_vec();
        for (i, f) in frames.iter().enumerate() {
            if i > 0 {
                header.push(b',');
            }
            let count = format!(r#","part_count":{}"#, f.parts.len());
            header.extend(message_json(&f.message, &count));
        }
        header.extend_from_slice(b"]}");
        let parts: Vec<Bytes> = frames
            .iter()
            .flat_map(|f| f.parts.iter().cloned())
            .collect();
        close_with_parts(&mut header, &parts);
        assemble(&header, &parts)
    }

    pub async fn write<W: AsyncWrite + Unpin>(&self, w: &mut W) -> Result<(), ProtocolError> {
        w.write_all(&self.encode()).await?;
        w.flush().await?;
        Ok(())
    }

    /// Reads one whole frame (short reads are retried); `max_body` caps the parts.
    pub async fn read<R: AsyncRead + Unpin>(
        r: &mut R,
        max_body: u32,
    ) -> Result<Self, ProtocolError> {
        let mut lens = [0u8; 8];
        match r.read_exact(&mut lens).await {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Err(ProtocolError::Closed);
            }
            Err(e) => return Err(e.into()),
        }
        let h = u32::from_be_bytes(lens[..4].try_into().expect("4 bytes"));
        let b = u32::from_be_bytes(lens[4..].try_into().expect("4 bytes"));
        if h > MAX_HEADER {
            return Err(ProtocolError::TooLarge {
                what: "header",
                size: h.into(),
                limit: MAX_HEADER.into(),
            });
        }
        if b > max_body {
            return Err(ProtocolError::TooLarge {
                what: "body",
                size: b.into(),
                limit: max_body.into(),
            });
        }
        let mut header = vec![0u8; h as usize];
        r.read_exact(&mut header).await?;
        let mut body = vec![0u8; b as usize];
        r.read_exact(&mut body).await?;
        Self::from_parts(&header, Bytes::from(body))
    }

    fn from_parts(header: &[u8], body: Bytes) -> Result<Self, ProtocolError> {
        let header = Header::read(header).map_err(|e| ProtocolError::Malformed(e.to_string()))?;
        if header.parts.iter().sum::<u64>() != body.len() as u64 {
            return Err(ProtocolError::Malformed(
                "the parts' lengths do not add up to the body".into(),
            ));
        }
        let mut parts = Vec::with_capacity(header.parts.len());
        let mut at = 0usize;
        for len in header.parts {
            parts.push(body.slice(at..at + len as usize));
            at += len as usize;
        }
        Ok(Self {
            message: header.message,
            parts,
        })
    }

    /// Decodes a frame held in memory.
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtocolError> {
        if bytes.len() < 8 {
            return Err(ProtocolError::Malformed("shorter than its lengths".into()));
        }
        let h = u32::from_be_bytes(bytes[..4].try_into().expect("4 bytes")) as usize;
        let b = u32::from_be_bytes(bytes[4..8].try_into().expect("4 bytes")) as usize;
        if bytes.len() != 8 + h + b {
            return Err(ProtocolError::Malformed(
                "lengths do not match the frame".into(),
            ));
        }
        Self::from_parts(&bytes[8..8 + h], Bytes::copy_from_slice(&bytes[8 + h..]))
    }
}
