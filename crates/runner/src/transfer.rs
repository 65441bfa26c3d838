//! Files too large to travel as a frame's part: streamed between the server and a worker as
//! `chunk` frames (docs/worker-protocol.md, "Large files"), so neither side holds one whole.
//! An input is read from the blob store a chunk at a time; an output is written to a spool file
//! on the server's disk as it arrives, hashed on the way, and linked into the blob store.

use std::path::Path;

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use crate::protocol::{Frame, Message, ProtocolError};

/// The most bytes of a file in one `chunk` frame.
pub const CHUNK: usize = 1 << 20;
/// Files larger than this are streamed rather than sent as parts (both directions).
pub const STREAM_AT: u64 = 8 << 20;

/// A large input file, read as it is sent: its length is known ahead.
pub struct InStream {
    pub size: u64,
    pub body: BoxStream<'static, std::io::Result<Bytes>>,
}

impl std::fmt::Debug for InStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "InStream({} bytes)", self.size)
    }
}

/// A file received from a worker, on disk until it is stored; removed when dropped.
#[derive(Debug)]
pub struct Spool {
    path: tempfile::TempPath,
    size: u64,
    sha256: String,
}

impl Spool {
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// The SHA-256 of its bytes, in hex.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }
}

/// Why a streamed file could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The file could not be read (the blob store failed, or it is shorter or longer than its
    /// length said).
    #[error("{0}")]
    Source(String),
    /// The worker's socket failed.
    #[error(transparent)]
    Socket(#[from] std::io::Error),
}

/// Sends input file `file` as `chunk` frames, the last one marked `end`.
pub async fn send<W: AsyncWrite + Unpin>(
    w: &mut W,
    file: u32,
    input: InStream,
) -> Result<(), SendError> {
    let InStream { size, mut body } = input;
    let mut sent = 0u64;
    while let Some(piece) = body.next().await {
        let mut piece = piece.map_err(|e| SendError::Source(e.to_string()))?;
        while !piece.is_empty() {
            let part = piece.split_to(piece.len().min(CHUNK));
            sent += part.len() as u64;
            if sent > size {
                return Err(SendError::Source(format!(
                    "the file is longer than its {size} bytes"
                )));
            }
            let frame = Frame {
                message: Message::Chunk { file, end: false },
                parts: vec![part],
            };
            w.write_all(&frame.encode()).await?;
        }
    }
    if sent != size {
        return Err(SendError::Source(format!(
            "the file ended after {sent} of its {size} bytes"
        )));
    }
    let end = Frame::new(Message::Chunk { file, end: true });
    w.write_all(&end.encode()).await?;
    Ok(())
}

/// The files of one answer as they arrive: numbered from 0, one after another.
pub struct Receiving<'a> {
    dir: &'a Path,
    /// Bytes the answer may hold in all: its parts and these files.
    limit: u64,
    received: u64,
    done: Vec<Spool>,
    open: Option<Open>,
}

struct Open {
    file: tokio::fs::File,
    path: tempfile::TempPath,
    size: u64,
    hasher: Sha256,
}

impl<'a> Receiving<'a> {
    pub fn new(dir: &'a Path, limit: u64) -> Self {
        Self {
            dir,
            limit,
            received: 0,
            done: Vec::new(),
            open: None,
        }
    }

    /// Takes one `chunk` frame of file `file`.
    pub async fn take(&mut self, file: u32, end: bool, frame: Frame) -> Result<(), ProtocolError> {
        let expected = self.done.len() as u32;
        if file != expected {
            return Err(ProtocolError::Malformed(format!(
                "a chunk of file {file} where file {expected} was due"
            )));
        }
        if self.open.is_none() {
            let spool = tempfile::Builder::new()
                .prefix("spool-")
                .tempfile_in(self.dir)
                .map_err(ProtocolError::Spool)?;
            let (std_file, path) = spool.into_parts();
            self.open = Some(Open {
                file: tokio::fs::File::from_std(std_file),
                path,
                size: 0,
                hasher: Sha256::new(),
            });
        }
        let open = self.open.as_mut().expect("opened above");
        for part in &frame.parts {
            self.received += part.len() as u64;
            if self.received > self.limit {
                return Err(ProtocolError::TooLarge {
                    what: "answer",
                    size: self.received,
                    limit: self.limit,
                });
            }
            open.hasher.update(part);
            open.size += part.len() as u64;
            open.file
                .write_all(part)
                .await
                .map_err(ProtocolError::Spool)?;
        }
        if end {
            let mut open = self.open.take().expect("opened above");
            open.file.flush().await.map_err(ProtocolError::Spool)?;
            self.done.push(Spool {
                path: open.path,
                size: open.size,
                sha256: hex::encode(open.hasher.finalize()),
            });
        }
        Ok(())
    }

    /// The files received, once the answer's own frame came: a file left unfinished is a
    /// protocol error. The answer's parts count against the same limit.
    pub fn finish(self, answer: &Frame) -> Result<Vec<Spool>, ProtocolError> {
        if self.open.is_some() {
            return Err(ProtocolError::Malformed(
                "the answer came before its last file's end".into(),
            ));
        }
        let parts: u64 = answer.parts.iter().map(|p| p.len() as u64).sum();
        if self.received + parts > self.limit {
            return Err(ProtocolError::TooLarge {
                what: "answer",
                size: self.received + parts,
                limit: self.limit,
            });
        }
        Ok(self.done)
    }
}

/// Reads one answer: any `chunk` frames of its files, then its own frame.
/// `limit` caps the answer's bytes in all, its parts and files together.
pub async fn read_answer<R: AsyncRead + Unpin>(
    r: &mut R,
    limit: u32,
    dir: &Path,
) -> Result<(Frame, Vec<Spool>), ProtocolError> {
    let mut files = Receiving::new(dir, limit.into());
    loop {
        let frame = Frame::read(r, limit).await?;
        match frame.message {
            Message::Chunk { file, end } => files.take(file, end, frame).await?,
            _ => {
                let files = files.finish(&frame)?;
                return Ok((frame, files));
            }
        }
    }
}
