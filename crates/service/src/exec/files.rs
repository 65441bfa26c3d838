//! Files between clients, the store and workers: `data:` URLs and file ids in, parts to the
//! worker; parts from the worker out, stored files with ids to the client.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine;
use bytes::Bytes;
use feather_runner::transfer::{InStream, STREAM_AT, Spool};
use feather_spec::components::type_matches;
use feather_spec::{Component, FileRef, Props, file_ref::FileSource};
use feather_store::accounts::unix_now;
use feather_store::{Keep, StoredFile, new_id, now};
use futures::StreamExt;
use serde_json::{Map, Value, json};

use crate::Service;
use crate::{Actor, Code, Result, ServiceError};

/// How files uploaded or made by runs are kept: the operator's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilePolicy {
    /// Bytes one upload may have (`--max-file-mb`).
    pub max_file: u64,
    /// Bytes of uploads waiting for a run that one user, or one address without a token, may
    /// hold (`--upload-quota-mb`).
    pub quota: u64,
    /// How long an upload (and a one-call prediction's files) is kept unless a run uses it
    /// (`--upload-ttl`).
    pub ttl: std::time::Duration,
    /// How long a run is kept after its last change, with its files and state
    /// (`--run-retention-days`); none: for good.
    pub run_retention: Option<std::time::Duration>,
    /// How often expired files and runs are collected.
    pub collect_every: std::time::Duration,
    /// How long a write may hold a claim on a blob (storing or reusing it) before the claim is
    /// taken for one of a write that died, and no longer keeps the blob from a collection.
    pub fresh: std::time::Duration,
}

impl Default for FilePolicy {
    fn default() -> Self {
        Self {
            max_file: 64 << 20,
            quota: 1 << 30,
            ttl: std::time::Duration::from_secs(3600),
            run_retention: Some(std::time::Duration::from_secs(30 * 86_400)),
            collect_every: std::time::Duration::from_secs(60),
            fresh: feather_store::files::FRESH,
        }
    }
}

/// Who keeps the files a step stores: its run, or (for one-call predictions) the upload TTL.
#[derive(Debug, Clone, Copy)]
pub enum Keeper<'a> {
    Run(&'a str),
    Prediction,
}

impl Keeper<'_> {
    fn keep(&self, s: &Service) -> Keep<'_> {
        match self {
            Self::Run(r) => Keep::Run(r),
            Self::Prediction => Keep::Until(unix_now() + s.files.ttl.as_secs() as i64),
        }
    }
}

/// Stores bytes as a file and returns its record.
pub async fn store_file(
    s: &Service,
    data: Bytes,
    name: Option<String>,
    media_type: Option<String>,
    keeper: Keeper<'_>,
    uploader: Option<&str>,
) -> Result<StoredFile> {
    let size = data.len() as i64;
    let digest = feather_store::blobs::digest_bytes(&data);
    s.store
        .claimed(&digest, async {
            s.store.blobs.put_bytes(&digest, data).await?;
            record_file(s, digest.clone(), size, name, media_type, keeper, uploader).await
        })
        .await
}

/// Stores a large file a step sent, from its spool on disk (linked into a local blob folder,
/// not copied), and returns its record.
async fn store_spool(
    s: &Service,
    spool: &Spool,
    name: Option<String>,
    media_type: Option<String>,
    keeper: Keeper<'_>,
) -> Result<StoredFile> {
    let digest = feather_store::blobs::digest_of(spool.sha256());
    let size = spool.size() as i64;
    s.store
        .claimed(&digest, async {
            s.store.blobs.put_file(&digest, spool.path()).await?;
            record_file(s, digest.clone(), size, name, media_type, keeper, None).await
        })
        .await
}

async fn record_file(
    s: &Service,
    digest: String,
    size: i64,
    name: Option<String>,
    media_type: Option<String>,
    keeper: Keeper<'_>,
    uploader: Option<&str>,
) -> Result<StoredFile> {
    let media_type = media_type.unwrap_or_else(|| guess_type(name.as_deref()));
    let f = StoredFile {
        id: new_id("f_"),
        digest,
        name,
        media_type,
        size,
        expires_at: None,
    };
    s.store
        .registry
        .insert_file(&f, keeper.keep(s), uploader, &now())
        .await?;
    Ok(f)
}

/// Whose quota a caller's files count against: their user's (all their tokens together), or
/// without a token their address's.
pub fn uploader(user: Option<&Actor>, client: Option<std::net::IpAddr>) -> String {
    match user {
        Some(u) => format!("user:{}", u.name()),
        None => format!(
            "addr:{}",
            client.unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]))
        ),
    }
}

fn quota_exceeded(policy: &FilePolicy, held: u64) -> ServiceError {
    ServiceError::new(
        Code::QuotaExceeded,
        format!(
            "a user (or an address without a token) may store {} MiB of files, uploads and files sent with runs alike; {} MiB are stored now, kept until they expire or their runs go",
            policy.quota >> 20,
            held >> 20
        ),
    )
}

/// One lock per uploader: the quota is checked and the file stored under it, so parallel
/// requests cannot each find the same room.
#[derive(Debug, Default)]
pub struct UploadLocks(std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>);

impl UploadLocks {
    pub async fn hold(&self, uploader: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut all = self.0.lock().expect("not poisoned");
            // Locks nobody holds or waits for are dropped as others are taken.
            all.retain(|_, l| Arc::strong_count(l) > 1);
            all.entry(uploader.to_owned()).or_default().clone()
        };
        lock.lock_owned().await
    }
}

/// A file a client sends to use in runs later, as it streams in.
pub struct NewUpload<S> {
    pub body: S,
    /// Its name, without folders.
    pub name: Option<String>,
    /// Its type as the client says; guessed from the name otherwise.
    pub media_type: Option<String>,
    /// Who sends it: its user's quota, or without a token its address's.
    pub caller: Option<Actor>,
    pub client: Option<std::net::IpAddr>,
}

/// Receives an upload as it streams in (memory stays at a chunk) and keeps it for the upload
/// TTL under its sender, whose quota it counts against until a run uses it.
pub async fn receive_upload<S, E>(s: &Service, new: NewUpload<S>) -> Result<StoredFile>
where
    S: futures::Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let NewUpload {
        body,
        name,
        media_type,
        caller,
        client,
    } = new;
    if let Some(a) = &caller {
        a.require(feather_store::Scope::Run)?;
    }
    let uploader = &uploader(caller.as_ref(), client);
    let policy = s.files;
    let _turn = s.upload_locks.hold(uploader).await;
    let held = s.store.registry.stored_bytes(uploader).await?;
    let room = policy.quota.saturating_sub(held);
    let limit = policy.max_file.min(room);
    let upload = match s.store.receive_limited(body, limit, "the file").await {
        Err(feather_store::StoreError::TooLarge { .. }) if limit < policy.max_file => {
            return Err(quota_exceeded(&policy, held));
        }
        other => other?,
    };
    let expires = unix_now() + policy.ttl.as_secs() as i64;
    let f = StoredFile {
        id: new_id("f_"),
        digest: upload.digest.clone(),
        media_type: media_type.unwrap_or_else(|| guess_type(name.as_deref())),
        name,
        size: upload.size as i64,
        expires_at: None,
    };
    s.store
        .claimed(&upload.digest, async {
            s.store
                .blobs
                .put_file(&upload.digest, upload.path())
                .await?;
            s.store
                .registry
                .insert_file(&f, Keep::Until(expires), Some(uploader), &now())
                .await
        })
        .await?;
    Ok(s.store.registry.file(&f.id).await?)
}

/// Takes back an upload its request turned out to be bad for.
pub async fn discard_upload(s: &Service, f: &StoredFile) -> Result<()> {
    Ok(s.store.registry.forget_file(&f.id).await?)
}

/// A stored file (an upload or a step's output): its record, size and bytes, streamed.
pub async fn open_file(
    s: &Service,
    id: &str,
) -> Result<(
    StoredFile,
    u64,
    futures::stream::BoxStream<'static, feather_store::Result<Bytes>>,
)> {
    let f = s.store.registry.file(id).await?;
    let (size, bytes) = s.store.blobs.get(&f.digest).await?;
    Ok((f, size, bytes))
}

/// The bytes [`sniff_image`] reads at most.
const SNIFF: usize = 1024;

const IMAGE_KINDS: &str = "PNG, JPEG, GIF, WebP, AVIF, BMP, TIFF, ICO or SVG";

/// What an image's first bytes say it is, if they are an image at all.
pub fn sniff_image(b: &[u8]) -> Option<&'static str> {
    let at = |i: usize, p: &[u8]| b.get(i..i + p.len()) == Some(p);
    if at(0, b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if at(0, b"\xff\xd8\xff") {
        Some("image/jpeg")
    } else if at(0, b"GIF87a") || at(0, b"GIF89a") {
        Some("image/gif")
    } else if at(0, b"RIFF") && at(8, b"WEBP") {
        Some("image/webp")
    } else if at(4, b"ftypavif") || at(4, b"ftypavis") {
        Some("image/avif")
    } else if at(0, b"BM") {
        Some("image/bmp")
    } else if at(0, b"II*\0") || at(0, b"MM\0*") {
        Some("image/tiff")
    } else if at(0, b"\0\0\x01\0") {
        Some("image/x-icon")
    } else if is_svg(b) {
        Some("image/svg+xml")
    } else {
        None
    }
}

/// An SVG document: XML whose first element, within the first kilobyte, is `<svg`.
fn is_svg(b: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&b[..b.len().min(1024)]);
    let text = head.trim_start_matches('\u{feff}').trim_start();
    text.starts_with('<') && text.contains("<svg")
}

pub use feather_spec::file_ref::guess_type;

/// A client's reference to a stored file, as runs show it.
pub fn file_json(f: &StoredFile) -> Value {
    let mut o = json!({"id": f.id, "type": f.media_type, "size": f.size});
    if let Some(n) = &f.name {
        o["name"] = json!(n);
    }
    o
}

fn decode_data_url(url: &str) -> Option<(Option<String>, Bytes)> {
    let (head, data) = url.strip_prefix("data:")?.split_once(',')?;
    let mut meta = head.split(';');
    let mime = meta.next().filter(|m| !m.is_empty()).map(str::to_owned);
    let bytes = if head.ends_with(";base64") {
        base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .ok()?
    } else {
        data.as_bytes().to_vec()
    };
    Some((mime, Bytes::from(bytes)))
}

/// A file sent as a part of a multipart request.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The part's field name: an input's id, unless the inputs name the part by number.
    pub field: String,
    pub name: Option<String>,
    pub mime: Option<String>,
    pub bytes: Bytes,
}

/// Fills in the inputs that multipart file parts answer: a part named after a file input's id
/// (repeated for several files) is that input's value, unless the inputs JSON gives the input
/// itself or names the part as `{"part": N}`. A part that answers nothing is a problem, so a
/// misnamed field is not silently dropped.
pub fn attach<'a>(
    components: &[Component],
    inputs: &'a Value,
    uploads: &[Upload],
) -> Result<Cow<'a, Value>> {
    // Most requests send no parts: their inputs are used as they came.
    if uploads.is_empty() {
        return Ok(Cow::Borrowed(inputs));
    }
    let mut inputs = inputs.clone();
    let Value::Object(map) = &mut inputs else {
        return Ok(Cow::Owned(inputs));
    };
    let mut named = Vec::new();
    // The inputs' own keys are ids, not a reference: only their values may name parts.
    map.values()
        .for_each(|v| collect_part_numbers(v, &mut named));
    let given: Vec<String> = map.keys().cloned().collect();
    let mut problems = Vec::new();
    for (i, u) in uploads.iter().enumerate() {
        if named.contains(&(i as u64)) {
            continue;
        }
        let many = match components
            .iter()
            .find(|c| c.id == u.field)
            .map(|c| &c.props)
        {
            Some(Props::FileUpload(_)) => true,
            Some(Props::ImageUpload(_)) => false,
            _ => {
                problems.push(feather_spec::Problem::new(
                    format!("/parts/{i}"),
                    format!("the part {:?} answers no file input of this step: name it after the input's id", u.field),
                ));
                continue;
            }
        };
        let at = format!("/inputs/{}", u.field);
        let reference = json!({ "part": i });
        if given.contains(&u.field) {
            problems.push(feather_spec::Problem::new(
                at,
                "is given both in the inputs and as a file part",
            ));
        } else if many {
            match map.entry(u.field.clone()).or_insert_with(|| json!([])) {
                Value::Array(a) => a.push(reference),
                _ => unreachable!("set to an array here"),
            }
        } else if map.contains_key(&u.field) {
            problems.push(feather_spec::Problem::new(
                at,
                "takes one image, not several parts",
            ));
        } else {
            map.insert(u.field.clone(), reference);
        }
    }
    if problems.is_empty() {
        Ok(Cow::Owned(inputs))
    } else {
        Err(ServiceError::invalid_inputs(problems))
    }
}

/// Every `{"part": N}` inside a value.
fn collect_part_numbers(v: &Value, out: &mut Vec<u64>) {
    match v {
        Value::Object(o) => {
            if let Some(n) = o.get("part").and_then(Value::as_u64) {
                out.push(n);
            }
            o.values().for_each(|x| collect_part_numbers(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_part_numbers(x, out)),
        _ => {}
    }
}

/// The inputs of a step, ready for the worker and for the record.
pub struct WireInputs {
    /// What the worker receives: files as `{"part": N, ...}`, large stored ones as
    /// `{"file": K, ...}`.
    pub wire: Value,
    /// What the run records: files as stored ids; `None` when the step takes no files, as
    /// then it is the wire's.
    pub stored: Option<Value>,
    pub parts: Vec<Bytes>,
    /// The large files, streamed from the blob store as they are sent.
    pub streams: Vec<InStream>,
}

/// A file of the inputs, checked but not yet stored.
struct Incoming {
    component: String,
    many: bool,
    existing: Option<StoredFile>,
    name: Option<String>,
    mime: String,
    content: Content,
}

/// An input file's bytes: held, or (a stored file past [`STREAM_AT`]) left in the blob store
/// until they are streamed to the worker.
enum Content {
    Bytes(Bytes),
    Stored { size: u64, digest: String },
}

impl Content {
    fn size(&self) -> u64 {
        match self {
            Self::Bytes(b) => b.len() as u64,
            Self::Stored { size, .. } => *size,
        }
    }
}

/// Where the files a request names may come from besides the store: its own parts, and the
/// version's bundle (an example's files).
#[derive(Clone, Copy)]
pub struct Sources<'a> {
    pub uploads: &'a [Upload],
    /// The version's unpacked bundle.
    pub bundle: &'a std::path::Path,
}

/// The file of an unpacked bundle a relative path names, if it is one: links were checked to
/// stay inside the bundle when it was published, and the resolved path is checked again.
pub async fn in_bundle(dir: &std::path::Path, path: &str) -> Option<std::path::PathBuf> {
    if !feather_spec::file_ref::is_relative_path(path) {
        return None;
    }
    let file = tokio::fs::canonicalize(dir.join(path)).await.ok()?;
    let root = tokio::fs::canonicalize(dir).await.ok()?;
    (file.starts_with(&root) && file.is_file()).then_some(file)
}

/// Resolves every file of validated inputs: `data:` URLs are decoded, ids are loaded, bundle
/// paths are read, and each file's real size and type are checked against its component. Only
/// when every file passed are new ones stored, so a refused request leaves nothing behind.
pub async fn resolve_inputs(
    s: &Service,
    components: &[Component],
    inputs: &Map<String, Value>,
    sources: Sources<'_>,
    keeper: Keeper<'_>,
    uploader: &(dyn Fn() -> String + Sync),
) -> Result<WireInputs> {
    let takes_files = components
        .iter()
        .any(|c| matches!(c.props, Props::FileUpload(_) | Props::ImageUpload(_)));
    let mut wire = Map::new();
    let mut stored = Map::new();
    let mut parts = Vec::new();
    let mut streams = Vec::new();
    let mut incoming = Vec::new();
    for c in components.iter().filter(|c| c.is_input()) {
        let v = inputs.get(&c.id).cloned().unwrap_or(Value::Null);
        // (accepted types, size limit, several files, an image)
        let (types, max_size, many, image) = match &c.props {
            Props::FileUpload(p) => (&p.types, p.max_size, true, false),
            Props::ImageUpload(p) => (&p.types, p.max_size, false, true),
            _ => {
                if takes_files {
                    stored.insert(c.id.clone(), v.clone());
                }
                wire.insert(c.id.clone(), v);
                continue;
            }
        };
        let empty = if many { json!([]) } else { Value::Null };
        wire.insert(c.id.clone(), empty.clone());
        stored.insert(c.id.clone(), empty);
        let refs: Vec<Value> = match v {
            Value::Array(a) if many => a,
            Value::Null => Vec::new(),
            one => vec![one],
        };
        for (i, r) in refs.iter().enumerate() {
            let path = if many {
                format!("/inputs/{}/{i}", c.id)
            } else {
                format!("/inputs/{}", c.id)
            };
            let bad = |reason: String| {
                ServiceError::invalid_inputs(vec![feather_spec::Problem::new(path.clone(), reason)])
            };
            let f = FileRef::parse(r).map_err(|_| bad("is not a file reference".into()))?;
            let file = match &f.source {
                FileSource::Data(url) => {
                    let (mime, bytes) = decode_data_url(url)
                        .ok_or_else(|| bad("is not a readable data: URL".into()))?;
                    let mime = f
                        .mime
                        .clone()
                        .or(mime)
                        .unwrap_or_else(|| guess_type(f.name.as_deref()));
                    Incoming {
                        component: c.id.clone(),
                        many,
                        existing: None,
                        name: f.name.clone(),
                        mime,
                        content: Content::Bytes(bytes),
                    }
                }
                FileSource::Id(id) => {
                    let stored = s
                        .store
                        .registry
                        .file(id)
                        .await
                        .map_err(|_| bad(format!("no file has the id {id:?}")))?;
                    let size = stored.size.max(0) as u64;
                    let content = if size > STREAM_AT {
                        Content::Stored {
                            size,
                            digest: stored.digest.clone(),
                        }
                    } else {
                        Content::Bytes(s.store.blobs.get_bytes(&stored.digest).await?)
                    };
                    let (name, mime) = (stored.name.clone(), stored.media_type.clone());
                    Incoming {
                        component: c.id.clone(),
                        many,
                        existing: Some(stored),
                        name,
                        mime,
                        content,
                    }
                }
                FileSource::Part(n) => {
                    let uploads = sources.uploads;
                    let u = uploads.get(*n as usize).ok_or_else(|| {
                        bad(format!(
                            "names file part {n}, but the request has {} (send files as multipart/form-data parts)",
                            uploads.len()
                        ))
                    })?;
                    let name = f.name.clone().or_else(|| u.name.clone());
                    let mime = f
                        .mime
                        .clone()
                        .or_else(|| u.mime.clone())
                        .unwrap_or_else(|| guess_type(name.as_deref()));
                    Incoming {
                        component: c.id.clone(),
                        many,
                        existing: None,
                        name,
                        mime,
                        content: Content::Bytes(u.bytes.clone()),
                    }
                }
                FileSource::Path(p) => {
                    let file = in_bundle(sources.bundle, p).await.ok_or_else(|| {
                        bad(format!("{p:?} is not a file of this version's bundle"))
                    })?;
                    let size = tokio::fs::metadata(&file)
                        .await
                        .map_err(|e| ServiceError::internal(e.to_string()))?
                        .len();
                    if size > max_size {
                        return Err(bad(format!(
                            "is {size} bytes, over the limit of {max_size}"
                        )));
                    }
                    let bytes = tokio::fs::read(&file)
                        .await
                        .map_err(|e| ServiceError::internal(e.to_string()))?;
                    let name = f
                        .name
                        .clone()
                        .or_else(|| p.rsplit('/').next().map(str::to_owned));
                    let mime = f
                        .mime
                        .clone()
                        .unwrap_or_else(|| guess_type(name.as_deref()));
                    Incoming {
                        component: c.id.clone(),
                        many,
                        existing: None,
                        name,
                        mime,
                        content: Content::Bytes(Bytes::from(bytes)),
                    }
                }
            };
            if file.content.size() > max_size {
                return Err(bad(format!(
                    "is {} bytes, over the limit of {max_size}",
                    file.content.size()
                )));
            }
            let mut file = file;
            // An image input gets an image: its bytes decide its type, not its name, so a text
            // file renamed .png is refused here rather than failing inside the model.
            if image {
                let head = match &file.content {
                    Content::Stored { digest, .. } => s.store.blobs.get_head(digest, SNIFF).await?,
                    Content::Bytes(b) => b.clone(),
                };
                file.mime = sniff_image(&head)
                    .ok_or_else(|| {
                        bad(format!(
                            "is not an image: its bytes are none of {}",
                            IMAGE_KINDS
                        ))
                    })?
                    .to_owned();
            }
            let known = FileRef {
                source: FileSource::Id(String::new()),
                name: file.name.clone(),
                mime: Some(file.mime.clone()),
                size: None,
            };
            if !type_matches(types, &known) {
                return Err(bad(format!(
                    "is of type {}, not one of {}",
                    file.mime,
                    types.join(", ")
                )));
            }
            incoming.push(file);
        }
    }
    let new: u64 = incoming
        .iter()
        .filter(|f| f.existing.is_none())
        .map(|f| f.content.size())
        .sum();
    let uploader = if new > 0 { uploader() } else { String::new() };
    let _turn = if new > 0 {
        let turn = s.upload_locks.hold(&uploader).await;
        let held = s.store.registry.stored_bytes(&uploader).await?;
        if held + new > s.files.quota {
            return Err(quota_exceeded(&s.files, held));
        }
        Some(turn)
    } else {
        None
    };
    for f in incoming {
        let stored_file = match f.existing {
            Some(stored) => {
                if let Keeper::Run(run) = keeper {
                    s.store.registry.attach_file(&stored.id, run).await?;
                }
                stored
            }
            None => {
                let (name, mime) = (f.name.clone(), Some(f.mime.clone()));
                let Content::Bytes(bytes) = &f.content else {
                    unreachable!("a new file's bytes are held")
                };
                store_file(s, bytes.clone(), name, mime, keeper, Some(&uploader)).await?
            }
        };
        let mut w = match f.content {
            Content::Bytes(bytes) => {
                parts.push(bytes);
                json!({"part": parts.len() - 1})
            }
            Content::Stored { size, digest } => {
                let (_, body) = s.store.blobs.get(&digest).await?;
                let body = body.map(|r| r.map_err(std::io::Error::other)).boxed();
                streams.push(InStream { size, body });
                json!({"file": streams.len() - 1})
            }
        };
        w["type"] = json!(stored_file.media_type);
        if let Some(n) = &stored_file.name {
            w["name"] = json!(n);
        }
        let record = file_json(&stored_file);
        for (target, value) in [(&mut wire, w), (&mut stored, record)] {
            let slot = target
                .get_mut(&f.component)
                .expect("every input is set above");
            if f.many {
                slot.as_array_mut()
                    .expect("set to an array above")
                    .push(value);
            } else {
                *slot = value;
            }
        }
    }
    Ok(WireInputs {
        wire: Value::Object(wire),
        stored: takes_files.then_some(Value::Object(stored)),
        parts,
        streams,
    })
}

/// Replaces each `{"part": N, ...}` in a worker's outputs with a stored file's reference, its
/// bytes `parts[N]`, and each `{"file": K, ...}` too, its bytes spooled as `spooled[K]`.
pub async fn store_output_files(
    s: &Service,
    v: &mut Value,
    parts: &[Bytes],
    spooled: &[Spool],
    keeper: Keeper<'_>,
) -> Result<()> {
    let missing =
        || ServiceError::step_failed("the step's output names a file that was not sent", None);
    // Most steps send no files: a look for references, without noting where each is, says
    // whether the outputs are fine as they are.
    if parts.is_empty() && spooled.is_empty() {
        return if names_files(v) {
            Err(missing())
        } else {
            Ok(())
        };
    }
    let mut pending = Vec::new();
    collect_parts(v, &mut Vec::new(), &mut pending);
    for OutputPart {
        at: path,
        source,
        name,
        mime,
    } in pending
    {
        let f = match source {
            Source::Part(n) => {
                let data = parts.get(n).cloned().ok_or_else(missing)?;
                store_file(s, data, name, mime, keeper, None).await?
            }
            Source::File(k) => {
                let spool = spooled.get(k).ok_or_else(missing)?;
                store_spool(s, spool, name, mime, keeper).await?
            }
        };
        if let Some(slot) = pointer_mut(v, &path) {
            *slot = file_json(&f);
        }
    }
    Ok(())
}

/// A file in a worker's outputs: where it sits, where its bytes are, what it is.
struct OutputPart {
    at: Vec<String>,
    source: Source,
    name: Option<String>,
    mime: Option<String>,
}

enum Source {
    Part(usize),
    File(usize),
}

/// Whether a value holds a file reference (`{"part": N}` or `{"file": K}`) anywhere.
fn names_files(v: &Value) -> bool {
    match v {
        Value::Object(o) => {
            o.get("part").and_then(Value::as_u64).is_some()
                || (!o.contains_key("part") && o.get("file").and_then(Value::as_u64).is_some())
                || o.values().any(names_files)
        }
        Value::Array(a) => a.iter().any(names_files),
        _ => false,
    }
}

fn collect_parts(v: &Value, at: &mut Vec<String>, out: &mut Vec<OutputPart>) {
    let source = |o: &Map<String, Value>| match (o.get("part"), o.get("file")) {
        (Some(n), _) => n.as_u64().map(|n| Source::Part(n as usize)),
        (None, Some(k)) => k.as_u64().map(|k| Source::File(k as usize)),
        (None, None) => None,
    };
    match v {
        Value::Object(o) if source(o).is_some() => {
            let s = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_owned);
            out.push(OutputPart {
                at: at.clone(),
                source: source(o).expect("matched"),
                name: s("name"),
                mime: s("type"),
            });
        }
        Value::Object(o) => {
            for (k, x) in o {
                at.push(k.clone());
                collect_parts(x, at, out);
                at.pop();
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                at.push(i.to_string());
                collect_parts(x, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

fn pointer_mut<'a>(v: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |cur, k| match cur {
        Value::Object(o) => o.get_mut(k),
        Value::Array(a) => a.get_mut(k.parse::<usize>().ok()?),
        _ => None,
    })
}

/// Replaces every stored file reference (`{"id", "type", "size", ...}`) inside `v` with its
/// bytes as a `data:` URL, for clients that asked for inline files.
pub async fn inline_files(s: &Service, v: &mut Value) -> Result<()> {
    let is_file = |o: &Map<String, Value>| {
        o.contains_key("id") && o.contains_key("type") && o.contains_key("size")
    };
    match v {
        Value::Object(o) if is_file(o) => {
            let id = o["id"].as_str().unwrap_or_default().to_owned();
            let f = s.store.registry.file(&id).await?;
            let bytes = s.store.blobs.get_bytes(&f.digest).await?;
            let url = format!(
                "data:{};base64,{}",
                f.media_type,
                base64::engine::general_purpose::STANDARD.encode(&bytes)
            );
            o.remove("id");
            o.insert("data".into(), Value::String(url));
        }
        Value::Object(o) => {
            for x in o.values_mut() {
                Box::pin(inline_files(s, x)).await?;
            }
        }
        Value::Array(a) => {
            for x in a {
                Box::pin(inline_files(s, x)).await?;
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The quick look (`names_files`) and the full collection agree on whether outputs name
    /// files, so a step that sends none is refused for a reference exactly as before.
    #[test]
    fn the_quick_look_for_file_references_agrees_with_collecting_them() {
        let cases = [
            json!([{"id": "t", "type": "Text.View", "text": "part"}]),
            json!([{"id": "f", "type": "File.Download", "files": [{"part": 0, "name": "a.csv"}]}]),
            json!([{"id": "i", "type": "Image.View", "images": [{"file": 2}]}]),
            json!([{"id": "j", "type": "JSON.View", "value": {"part": "not a number"}}]),
            json!([{"id": "j", "type": "JSON.View", "value": {"part": "x", "file": 1}}]),
            json!([{"id": "j", "type": "JSON.View", "value": {"part": null, "deep": [{"file": 0}]}}]),
            json!([{"id": "n", "type": "Number.View", "value": 3}]),
        ];
        let verdicts: Vec<bool> = cases.iter().map(names_files).collect();
        for (v, quick) in cases.iter().zip(&verdicts) {
            let mut found = Vec::new();
            collect_parts(v, &mut Vec::new(), &mut found);
            assert_eq!(*quick, !found.is_empty(), "{v}");
        }
        assert_eq!(verdicts, [false, true, true, false, false, true, false]);
    }
}
