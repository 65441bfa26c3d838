//! Inspection of an uploaded bundle before anything is stored: the archive format, every entry's
//! path and type, and the unpacked size, counted while decompressing so that a bomb is stopped
//! long before it could fill a disk. Nothing is unpacked to disk here.

use std::collections::BTreeSet;
use std::io::{self, Read};
use std::path::{Component as PathPart, Path};

use crate::error::{Result, StoreError};

/// Caps on what a bundle may unpack to.
#[derive(Debug, Clone, Copy)]
pub struct BundleLimits {
    /// The compressed upload, in bytes.
    pub max_upload: u64,
    /// All files unpacked, in bytes.
    pub max_unpacked: u64,
    /// Entries of any kind.
    pub max_files: u64,
}

impl Default for BundleLimits {
    fn default() -> Self {
        Self {
            max_upload: 512 << 20,
            max_unpacked: 2 << 30,
            max_files: 10_000,
        }
    }
}

/// How a bundle is compressed, known from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    Zstd,
}

impl Compression {
    pub fn sniff(head: &[u8]) -> Option<Self> {
        match head {
            [0x1f, 0x8b, ..] => Some(Self::Gzip),
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Some(Self::Zstd),
            _ => None,
        }
    }

    /// The file name a bundle of this kind is served under.
    pub fn file_name(self) -> &'static str {
        match self {
            Self::Gzip => "bundle.tar.gz",
            Self::Zstd => "bundle.tar.zst",
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Self::Gzip => "application/gzip",
            Self::Zstd => "application/zstd",
        }
    }
}

/// What inspection learnt of a safe bundle.
#[derive(Debug, Clone)]
pub struct BundleInfo {
    pub compression: Compression,
    /// Regular files, relative to the bundle's root.
    pub files: BTreeSet<String>,
    pub unpacked: u64,
    /// The bytes of the file asked to be kept, if the bundle has it.
    pub kept: Option<Vec<u8>>,
}

/// Stops reading once more than `left` bytes came through.
struct Capped<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.left = self
            .left
            .checked_sub(n as u64)
            .ok_or_else(|| io::Error::other(Overflow))?;
        Ok(n)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unpacked size over the limit")]
struct Overflow;

fn unsafe_entry(entry: &str, reason: &str) -> StoreError {
    StoreError::UnsafeBundle {
        entry: entry.to_owned(),
        reason: reason.to_owned(),
    }
}

/// Checks a bundle archive read from `file` and lists its files.
pub fn inspect(file: &Path, limits: &BundleLimits) -> Result<BundleInfo> {
    inspect_keeping(file, limits, None)
}

/// [`inspect`], keeping the bytes of one regular file (such as the model a runtime loads).
pub fn inspect_keeping(
    file: &Path,
    limits: &BundleLimits,
    keep: Option<&str>,
) -> Result<BundleInfo> {
    let mut head = [0u8; 4];
    let n = std::fs::File::open(file)?.read(&mut head)?;
    let compression = Compression::sniff(&head[..n]).ok_or_else(|| {
        StoreError::UnsupportedFormat(
            "the bundle must be a tar archive compressed with gzip (.tar.gz) or zstd (.tar.zst)"
                .into(),
        )
    })?;
    let raw = std::fs::File::open(file)?;
    let decoder: Box<dyn Read> = match compression {
        Compression::Gzip => Box::new(flate2::read::GzDecoder::new(raw)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(raw)?),
    };
    // Tar headers and padding count too: a bomb of empty entries is still a bomb.
    let capped = Capped {
        inner: decoder,
        left: limits.max_unpacked.saturating_add(limits.max_files * 1024),
    };
    let mut archive = tar::Archive::new(capped);
    let too_large = || StoreError::TooLarge {
        what: "the unpacked bundle".into(),
        limit: limits.max_unpacked,
    };
    let map_io = |e: io::Error| {
        if e.get_ref().is_some_and(|i| i.is::<Overflow>()) {
            too_large()
        } else {
            StoreError::BadRequest(format!("the bundle is not a readable tar archive: {e}"))
        }
    };
    let mut info = BundleInfo {
        compression,
        files: BTreeSet::new(),
        unpacked: 0,
        kept: None,
    };
    let mut count = 0u64;
    let mut seen = BTreeSet::new();
    for entry in archive.entries().map_err(map_io)? {
        let mut entry = entry.map_err(map_io)?;
        count += 1;
        if count > limits.max_files {
            return Err(StoreError::TooLarge {
                what: format!("the bundle's entry count ({} allowed)", limits.max_files),
                limit: limits.max_files,
            });
        }
        let raw_path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let path = normalise(&raw_path)?;
        let kind = entry.header().entry_type();
        let meta = matches!(
            kind,
            tar::EntryType::XHeader
                | tar::EntryType::XGlobalHeader
                | tar::EntryType::GNULongName
                | tar::EntryType::GNULongLink
        );
        // Two entries for one path unpack as whichever comes last: what was checked and what
        // runs could differ.
        if !meta && !seen.insert(path.clone().unwrap_or_default()) {
            return Err(unsafe_entry(
                &raw_path,
                "the bundle has two entries for this path",
            ));
        }
        match kind {
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let n = if keep.is_some() && path.as_deref() == keep {
                    let mut bytes = Vec::new();
                    let n = io::copy(&mut entry, &mut bytes).map_err(map_io)?;
                    info.kept = Some(bytes);
                    n
                } else {
                    io::copy(&mut entry, &mut io::sink()).map_err(map_io)?
                };
                info.unpacked += n;
                if info.unpacked > limits.max_unpacked {
                    return Err(too_large());
                }
                if let Some(p) = path {
                    info.files.insert(p);
                }
            }
            tar::EntryType::Directory => {}
            tar::EntryType::Symlink | tar::EntryType::Link => {
                let target = entry
                    .link_name_bytes()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default();
                let base = Path::new(path.as_deref().unwrap_or(""))
                    .parent()
                    .unwrap_or(Path::new(""));
                let hard = entry.header().entry_type() == tar::EntryType::Link;
                let resolved = if hard {
                    Path::new(&target).to_path_buf()
                } else {
                    base.join(&target)
                };
                if Path::new(&target).is_absolute() || escapes(&resolved) {
                    return Err(unsafe_entry(
                        &raw_path,
                        &format!("link to {target:?} leaves the bundle"),
                    ));
                }
            }
            tar::EntryType::XHeader
            | tar::EntryType::XGlobalHeader
            | tar::EntryType::GNULongName
            | tar::EntryType::GNULongLink => {}
            other => {
                return Err(unsafe_entry(
                    &raw_path,
                    &format!("entries of type {other:?} (devices, fifos) are not allowed"),
                ));
            }
        }
    }
    Ok(info)
}

/// The entry's path relative to the root, `None` for the root itself; absolute paths and `..`
/// are refused.
fn normalise(raw: &str) -> Result<Option<String>> {
    let p = Path::new(raw);
    if p.is_absolute() || raw.starts_with('/') {
        return Err(unsafe_entry(raw, "absolute paths are not allowed"));
    }
    let mut parts = Vec::new();
    for part in p.components() {
        match part {
            PathPart::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            PathPart::CurDir => {}
            PathPart::ParentDir => return Err(unsafe_entry(raw, "'..' is not allowed in paths")),
            PathPart::RootDir | PathPart::Prefix(_) => {
                return Err(unsafe_entry(raw, "absolute paths are not allowed"));
            }
        }
    }
    Ok((!parts.is_empty()).then(|| parts.join("/")))
}

/// Whether a relative path climbs out of its root at any point.
fn escapes(p: &Path) -> bool {
    let mut depth = 0i32;
    for part in p.components() {
        match part {
            PathPart::Normal(_) => depth += 1,
            PathPart::ParentDir => {
                depth -= 1;
                if depth < 0 {
                    return true;
                }
            }
            PathPart::CurDir => {}
            _ => return true,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn climbing_links_are_caught() {
        assert!(escapes(Path::new("../x")));
        assert!(escapes(Path::new("a/../../x")));
        assert!(!escapes(Path::new("a/../b")));
    }

    #[test]
    fn paths_are_normalised() {
        assert_eq!(normalise("./a/b.py").unwrap().as_deref(), Some("a/b.py"));
        assert_eq!(normalise("./").unwrap(), None);
        assert!(normalise("/etc/passwd").is_err());
        assert!(normalise("a/../../b").is_err());
    }
}
