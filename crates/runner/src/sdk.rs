//! The Python SDK as a wheel, packed at build time, written out once per data folder.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use sha2::{Digest, Sha256};

static WHEEL: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/sdk.whl"));
static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
static VERSION: &str = include_str!(concat!(env!("OUT_DIR"), "/sdk-version"));

/// A short hash of the SDK's wheel: environments built with another SDK are other environments.
pub static SDK_HASH: LazyLock<String> = LazyLock::new(|| hex::encode(&Sha256::digest(WHEEL)[..8]));

/// Writes the SDK's wheel under `root` (once per SDK hash) and returns its path, which
/// `uv pip install` takes as it takes any wheel: nothing is built.
pub fn wheel(root: &Path) -> std::io::Result<PathBuf> {
    // The file name says what the wheel is, as installers require.
    let dir = root.join(format!("sdk-{}", *SDK_HASH));
    let path = dir.join(format!("feather_sdk-{VERSION}-py3-none-any.whl"));
    if path.is_file() {
        return Ok(path);
    }
    std::fs::create_dir_all(&dir)?;
    // Builds of other environments may write it at the same moment: each writes its own copy
    // and renames it into place, and the last rename wins with the same bytes.
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let partial = dir.join(format!(".partial-{}-{n}", std::process::id()));
    std::fs::write(&partial, WHEEL)?;
    std::fs::rename(&partial, &path)?;
    Ok(path)
}

/// A fresh folder under `root` for writing something whole before renaming it into place.
pub(crate) fn tempfile_in(root: &Path) -> std::io::Result<PathBuf> {
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = root.join(format!(".partial-{}-{t}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
