//! The Python SDK's source, packed at build time, unpacked once per data folder.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use sha2::{Digest, Sha256};

static ARCHIVE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/sdk.tar"));

/// A short hash of the SDK's source: environments built with another SDK are other environments.
pub static SDK_HASH: LazyLock<String> =
    LazyLock::new(|| hex::encode(&Sha256::digest(ARCHIVE)[..8]));

/// Unpacks the SDK under `root` (once per SDK hash) and returns its folder, which
/// `uv pip install` accepts.
pub fn unpack(root: &Path) -> std::io::Result<PathBuf> {
    let dir = root.join(format!("sdk-{}", *SDK_HASH));
    if dir.join("pyproject.toml").is_file() {
        return Ok(dir);
    }
    std::fs::create_dir_all(root)?;
    let partial = tempfile_in(root)?;
    tar::Archive::new(ARCHIVE).unpack(&partial)?;
    match std::fs::rename(&partial, &dir) {
        Ok(()) => Ok(dir),
        // Another thread unpacked it first.
        Err(_) if dir.join("pyproject.toml").is_file() => {
            std::fs::remove_dir_all(&partial)?;
            Ok(dir)
        }
        Err(e) => Err(e),
    }
}

/// A fresh folder under `root` for writing something whole before renaming it into place.
pub(crate) fn tempfile_in(root: &Path) -> std::io::Result<PathBuf> {
    let n: u64 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let dir = root.join(format!(".partial-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
