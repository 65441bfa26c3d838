//! Publishing, deleting, and collecting blobs no version uses.
//!
//! A publish writes in this order: the upload to a temporary file (hashed as it arrives), a
//! claim on the blob, the blob (skipped when the digest is already stored), then one registry
//! transaction. Killed at
//! any point, the registry shows the whole version or nothing; a blob written before the
//! transaction committed is an orphan that [`Store::collect_garbage`] removes.

use std::path::Path;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tempfile::NamedTempFile;
use tokio::io::AsyncWriteExt;
use utoipa::ToSchema;

use feather_spec::{Manifest, Problem, Problems};

use crate::blobs::digest_of;
use crate::bundle::{self, BundleInfo};
use crate::error::{Result, StoreError};
use crate::registry::NewVersion;
use crate::sharing::Visibility;
use crate::{Store, now};

/// An uploaded bundle in a temporary file, removed when dropped.
#[derive(Debug)]
pub struct Upload {
    file: NamedTempFile,
    pub digest: String,
    pub size: u64,
}

impl Upload {
    pub fn path(&self) -> &Path {
        self.file.path()
    }
}

/// What a successful publish created.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Published {
    /// `owner/name`.
    pub model: String,
    pub version: i64,
    pub digest: String,
    /// Whether an earlier version of the publisher's own already had this bundle (it is stored
    /// once).
    pub deduplicated: bool,
}

/// What garbage collection removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Collected {
    pub blobs: usize,
    pub staging: usize,
}

impl Store {
    /// Writes a bundle upload's bytes to a temporary file, hashing them, and stops at the size
    /// limit.
    pub async fn receive<S, E>(&self, body: S) -> Result<Upload>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let upload = self
            .receive_limited(body, self.limits.max_upload, "the bundle upload")
            .await?;
        if upload.size == 0 {
            return Err(StoreError::UnsupportedFormat(
                "the bundle is empty; send a .tar.gz or .tar.zst archive".into(),
            ));
        }
        Ok(upload)
    }

    /// Writes an upload's bytes to a temporary file as they arrive, hashing them; past `limit`
    /// bytes it stops with [`StoreError::TooLarge`] naming `what`. Memory stays at a chunk.
    pub async fn receive_limited<S, E>(&self, mut body: S, limit: u64, what: &str) -> Result<Upload>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let file = NamedTempFile::new_in(&self.tmp)?;
        let mut out = tokio::fs::File::from_std(file.reopen()?);
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = chunk
                .map_err(|e| StoreError::BadRequest(format!("the upload was cut short: {e}")))?;
            size += chunk.len() as u64;
            if size > limit {
                return Err(StoreError::TooLarge {
                    what: what.into(),
                    limit,
                });
            }
            hasher.update(&chunk);
            out.write_all(&chunk).await?;
        }
        out.flush().await?;
        Ok(Upload {
            file,
            digest: digest_of(&hex::encode(hasher.finalize())),
            size,
        })
    }

    /// Checks an upload as a bundle (paths, types, sizes) and lists its files, keeping the bytes
    /// of one of them if asked (the model a runtime loads, read before the version is made).
    pub async fn inspect(&self, upload: &Upload, keep: Option<&str>) -> Result<BundleInfo> {
        let path = upload.path().to_path_buf();
        let (limits, keep) = (self.limits, keep.map(str::to_owned));
        tokio::task::spawn_blocking(move || {
            bundle::inspect_keeping(&path, &limits, keep.as_deref())
        })
        .await
        .map_err(|e| StoreError::Io(std::io::Error::other(e)))?
    }

    /// Checks the bundle against a parsed manifest and stores a new version of
    /// `owner/<manifest name>`.
    pub async fn publish(
        &self,
        owner: &str,
        manifest: &Manifest,
        upload: &Upload,
        visibility: Option<Visibility>,
    ) -> Result<Published> {
        let info = self.inspect(upload, None).await?;
        self.publish_inspected(owner, manifest, upload, visibility, &info, None)
            .await
    }

    /// [`Store::publish`] of an upload [`Store::inspect`] has checked already.
    pub async fn publish_inspected(
        &self,
        owner: &str,
        manifest: &Manifest,
        upload: &Upload,
        visibility: Option<Visibility>,
        info: &BundleInfo,
        number: Option<i64>,
    ) -> Result<Published> {
        let (entry, field) = manifest.runtime.entry();
        if !info.files.iter().any(|f| f == entry) {
            return Err(StoreError::InvalidManifest(Problems(vec![Problem::new(
                field,
                format!("{entry:?} is not a file in the bundle"),
            )])));
        }
        if let Some(model) = &manifest.model
            && !info.files.iter().any(|f| *f == model.file)
        {
            return Err(StoreError::InvalidManifest(Problems(vec![Problem::new(
                "/model/file",
                format!("{:?} is not a file in the bundle", model.file),
            )])));
        }
        let missing: Vec<Problem> = manifest
            .bundle_paths()
            .into_iter()
            .filter(|(_, p)| !info.files.iter().any(|f| f == p))
            .map(|(at, p)| Problem::new(at, format!("{p:?} is not a file in the bundle")))
            .collect();
        if !missing.is_empty() {
            return Err(StoreError::InvalidManifest(Problems(missing)));
        }
        let canonical = manifest.to_value().to_string();
        let now = now();
        let new = NewVersion {
            owner,
            name: &manifest.name,
            title: &manifest.title,
            description: &manifest.description,
            tags: &manifest.tags,
            manifest: &canonical,
            digest: &upload.digest,
            bundle_size: upload.size as i64,
            bundle_files: info.files.len() as i64,
            now: &now,
            number,
        };
        let (version, deduplicated) = self
            .claimed(&upload.digest, async {
                self.blobs.put_file(&upload.digest, upload.path()).await?;
                // Said only of the publisher's own versions: whether anyone else's model holds
                // these bytes is not the publisher's to learn.
                let deduplicated = self
                    .registry
                    .owner_has_digest(owner, &upload.digest)
                    .await?;
                let version = self.registry.add_version(&new, visibility).await?;
                Ok::<_, StoreError>((version, deduplicated))
            })
            .await?;
        tracing::info!(model = %format!("{owner}/{}", manifest.name), version, digest = %upload.digest, deduplicated, "published");
        Ok(Published {
            model: format!("{owner}/{}", manifest.name),
            version,
            digest: upload.digest.clone(),
            deduplicated,
        })
    }

    /// Deletes a version and, when no other version uses it, its bundle. Returns the bundle's
    /// digest when it went, so that copies of it elsewhere (unpacked) can go too.
    pub async fn delete_version(
        &self,
        actor: &str,
        owner: &str,
        name: &str,
        number: i64,
    ) -> Result<Vec<String>> {
        let digest = self
            .registry
            .delete_version(actor, owner, name, number)
            .await?;
        self.drop_unused(&[digest]).await
    }

    /// Deletes a model, its versions, and the bundles no other model uses; returns those.
    pub async fn delete_model(&self, actor: &str, owner: &str, name: &str) -> Result<Vec<String>> {
        let digests = self.registry.delete_model(actor, owner, name).await?;
        self.drop_unused(&digests).await
    }

    async fn drop_unused(&self, digests: &[String]) -> Result<Vec<String>> {
        let mut dropped = Vec::new();
        for d in digests {
            if self.drop_blob(d, crate::files::FRESH).await? {
                dropped.push(d.clone());
            }
        }
        Ok(dropped)
    }

    /// Removes blobs that no version uses and that are at least `grace_secs` old (a younger one
    /// may belong to a publish still in progress on another replica), and interrupted uploads.
    /// Only at start, when no write is in progress: it also sweeps staging files.
    pub async fn collect_garbage(&self, grace_secs: i64) -> Result<Collected> {
        let c = Collected {
            staging: self.blobs.sweep_staging()?,
            blobs: self.collect_orphans(grace_secs).await?,
        };
        if c != Collected::default() {
            tracing::info!(
                blobs = c.blobs,
                staging = c.staging,
                "collected unused blobs"
            );
        }
        Ok(c)
    }

    /// Removes blobs nothing names that are at least `grace_secs` old; safe while serving, as
    /// writes claim what they rely on.
    pub async fn collect_orphans(&self, grace_secs: i64) -> Result<usize> {
        let mut n = 0;
        for (digest, age) in self.blobs.list().await? {
            if age >= grace_secs && self.drop_blob(&digest, crate::files::FRESH).await? {
                n += 1;
            }
        }
        Ok(n)
    }
}
