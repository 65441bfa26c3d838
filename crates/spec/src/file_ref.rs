//! A reference to a file inside a manifest, a step's output or a request.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::read::{Ctx, Obj, string, uint};

/// Where a file's bytes are: inline, in the server's file store, or in the bundle.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FileSource {
    /// A `data:` URL (RFC 2397).
    Data(String),
    /// The id of a file stored on the server.
    Id(String),
    /// A relative path inside the model's bundle.
    Path(String),
    /// The file part number N (from 0) of the same multipart request.
    Part(u64),
}

/// A file: exactly one source, plus what is known of it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FileRef {
    #[serde(flatten)]
    pub source: FileSource,
    /// The file's name, without folders.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub name: Option<String>,
    /// Its MIME type.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub mime: Option<String>,
    /// Its size in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub size: Option<u64>,
}

/// The highest part number a reference may name.
const MAX_PARTS: u64 = 1 << 16;

/// The longest `data:` URL a manifest or request may carry inline (about 1.3 GiB of base64).
const MAX_DATA_URL: usize = 1 << 31;

impl FileRef {
    pub(crate) fn read(ctx: &mut Ctx, v: &Value, path: &str) -> Option<Self> {
        let mut o = Obj::new(ctx, v, path)?;
        let before = ctx.problems.len();
        let mut sources = Vec::new();
        if let Some(s) = o.opt(ctx, "data", string(MAX_DATA_URL)) {
            if !s.starts_with("data:") || !s.contains(',') {
                ctx.add(format!("{path}/data"), "must be a data: URL");
            }
            sources.push(FileSource::Data(s));
        }
        if let Some(s) = o.opt(ctx, "id", string(128)) {
            if s.is_empty()
                || !s
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                ctx.add(format!("{path}/id"), "must be 1 to 128 of A-Z a-z 0-9 _ -");
            }
            sources.push(FileSource::Id(s));
        }
        if let Some(s) = o.opt(ctx, "path", string(1024)) {
            if !is_relative_path(&s) {
                ctx.add(
                    format!("{path}/path"),
                    "must be a relative path inside the bundle",
                );
            }
            sources.push(FileSource::Path(s));
        }
        if let Some(n) = o.opt(ctx, "part", uint(0, MAX_PARTS)) {
            sources.push(FileSource::Part(n));
        }
        let name = o.opt(ctx, "name", string(255));
        if let Some(n) = &name
            && (n.is_empty() || n.contains('/') || n == "." || n == "..")
        {
            ctx.add(
                format!("{path}/name"),
                "must be a file name without folders",
            );
        }
        let mime = o.opt(ctx, "type", string(255));
        if let Some(m) = &mime
            && !is_mime(m)
        {
            ctx.add(
                format!("{path}/type"),
                "must be a MIME type such as image/png",
            );
        }
        let size = o.opt(ctx, "size", uint(0, u64::MAX));
        o.finish(ctx);
        if sources.len() != 1 {
            ctx.add(path, "must have exactly one of data, id, path or part");
        }
        if ctx.problems.len() != before {
            return None;
        }
        Some(Self {
            source: sources.pop()?,
            name,
            mime,
            size,
        })
    }

    /// Parses a file reference from untrusted JSON.
    pub fn parse(v: &Value) -> Result<Self, crate::Problems> {
        let mut ctx = Ctx::default();
        match Self::read(&mut ctx, v, "") {
            Some(f) if ctx.problems.is_empty() => Ok(f),
            _ => Err(crate::Problems(ctx.problems)),
        }
    }

    /// The MIME type: the declared one, else the one of a `data:` URL.
    pub fn media_type(&self) -> Option<&str> {
        if let Some(m) = &self.mime {
            return Some(m);
        }
        match &self.source {
            FileSource::Data(url) => {
                let head = url.strip_prefix("data:")?.split(',').next()?;
                let mime = head.split(';').next()?;
                (!mime.is_empty()).then_some(mime)
            }
            _ => None,
        }
    }
}

/// The media type a file name suggests.
pub fn guess_type(name: Option<&str>) -> String {
    let ext = name
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("csv") => "text/csv",
        Some("txt") => "text/plain",
        Some("json") => "application/json",
        Some("pdf") => "application/pdf",
        Some("svg") => "image/svg+xml",
        Some("md") => "text/markdown",
        _ => "application/octet-stream",
    }
    .to_owned()
}

/// `type/subtype`, each part a non-empty token.
pub fn is_mime(s: &str) -> bool {
    let token = |t: &str| {
        !t.is_empty()
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$&^_.+-".contains(c))
    };
    matches!(s.split_once('/'), Some((a, b)) if token(a) && token(b))
}

/// A path that stays inside the folder it is relative to.
pub fn is_relative_path(p: &str) -> bool {
    !p.is_empty()
        && !p.starts_with('/')
        && !p.contains('\\')
        && !p.contains('\0')
        && p.split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
}
