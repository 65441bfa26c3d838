//! `feather models pull`: a version's `manifest.json`, bundle and `version.json` written into
//! a folder that `feather publish` takes back and `ftr.load` runs. The bundle is streamed to
//! disk and kept only when it has the version's digest.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::client::Client;

/// The bundle archive names, by compression; a folder holds one of them.
const ARCHIVES: [&str; 2] = ["bundle.tar.gz", "bundle.tar.zst"];

/// What a pull wrote, and the version's detail as the server gave it.
pub struct Pulled {
    pub dir: PathBuf,
    /// `owner/name`.
    pub model: String,
    pub version: i64,
    pub digest: String,
    pub detail: serde_json::Value,
}

pub async fn pull(
    client: &Client,
    (owner, name, reference): (&str, &str, Option<&str>),
    out: Option<PathBuf>,
) -> anyhow::Result<Pulled> {
    let r = reference.unwrap_or("latest");
    let detail = client
        .json(client.get(&format!("/api/v1/models/{owner}/{name}/versions/{r}")))
        .await?;
    let version = detail["version"]
        .as_i64()
        .context("the server gave no version number")?;
    let digest = detail["digest"]
        .as_str()
        .context("the server gave no digest")?
        .to_owned();
    let dir = out.unwrap_or_else(|| PathBuf::from(format!("{name}-{version}")));
    std::fs::create_dir_all(&dir)?;
    let mut res = client
        .send(client.get(&format!(
            "/api/v1/models/{owner}/{name}/versions/{version}/bundle"
        )))
        .await?;
    let zst = res
        .headers()
        .get("content-type")
        .is_some_and(|t| t == "application/zstd");
    // Removed with the folder's other files when anything below fails.
    let mut part = tempfile::NamedTempFile::new_in(&dir)?;
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    while let Some(chunk) = res.chunk().await? {
        hasher.update(&chunk);
        part.write_all(&chunk)?;
        size += chunk.len() as u64;
    }
    let got = format!("sha256:{}", hex::encode(hasher.finalize()));
    if got != *digest {
        bail!(
            "the bundle the server sent has the digest {got}, not the version's {digest}; nothing was kept"
        );
    }
    let (keep, other) = if zst {
        (ARCHIVES[1], ARCHIVES[0])
    } else {
        (ARCHIVES[0], ARCHIVES[1])
    };
    part.persist(dir.join(keep))?;
    // `feather publish` takes the first archive it finds: a stale one of the other kind goes.
    let _ = std::fs::remove_file(dir.join(other));
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_string_pretty(&detail["manifest"])? + "\n",
    )?;
    let model = format!(
        "{}/{}",
        detail["owner"].as_str().unwrap_or(owner),
        detail["name"].as_str().unwrap_or(name)
    );
    let origin = json!({"model": model, "version": version, "digest": digest});
    std::fs::write(
        dir.join("version.json"),
        serde_json::to_string_pretty(&origin)? + "\n",
    )?;
    println!(
        "pulled {model} version {version} into {} ({size} bytes, {digest})",
        dir.display()
    );
    Ok(Pulled {
        dir,
        model,
        version,
        digest,
        detail,
    })
}
