//! Content-addressed blobs (bundles, uploaded files, run state) in any `object_store` backend:
//! a folder on this machine, or S3-compatible, Google Cloud or Azure storage. Each is stored once
//! under its SHA-256.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, WriteMultipart};
use tokio::io::AsyncReadExt;

use crate::error::Result;

const PREFIX: &str = "sha256";

static STAGING: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A `sha256:<hex>` digest.
pub fn digest_of(hex: &str) -> String {
    format!("sha256:{hex}")
}

/// The digest bytes are stored under.
pub fn digest_bytes(data: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    digest_of(&hex::encode(Sha256::digest(data)))
}

/// Where blobs are kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum BlobPlace {
    /// `blobs/` in the data folder.
    #[default]
    Local,
    /// An object store by URL: `s3://bucket/prefix`, `gs://bucket/prefix`,
    /// `az://container/prefix`; credentials, region and endpoint from the provider's usual
    /// variables (`AWS_ACCESS_KEY_ID`, `AWS_ENDPOINT`, `GOOGLE_SERVICE_ACCOUNT`,
    /// `AZURE_STORAGE_ACCOUNT_NAME`, ...).
    Url {
        provider: Provider,
        bucket: String,
        prefix: String,
    },
}

/// An object store's provider, by its URL scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provider {
    /// `s3://`: AWS and S3-compatible servers.
    S3,
    /// `gs://`: Google Cloud Storage.
    Gcs,
    /// `az://`: Azure Blob Storage.
    Azure,
}

impl Provider {
    fn scheme(self) -> &'static str {
        match self {
            Provider::S3 => "s3",
            Provider::Gcs => "gs",
            Provider::Azure => "az",
        }
    }
}

impl FromStr for BlobPlace {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        if s == "local" {
            return Ok(BlobPlace::Local);
        }
        let known = "`local` (blobs/ in the data folder), s3://bucket/prefix, gs://bucket/prefix \
                     or az://container/prefix";
        let Some((scheme, rest)) = s.split_once("://") else {
            return Err(format!("{s:?} is not a place for blobs: {known}"));
        };
        let provider = match scheme {
            "s3" => Provider::S3,
            "gs" => Provider::Gcs,
            "az" => Provider::Azure,
            _ => {
                return Err(format!(
                    "{scheme}:// is not a blob store feather knows: {known}"
                ));
            }
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(format!("{s:?} names no bucket: {known}"));
        }
        Ok(BlobPlace::Url {
            provider,
            bucket: bucket.into(),
            prefix: prefix.trim_matches('/').into(),
        })
    }
}

impl BlobPlace {
    /// Where it is, for logs.
    pub fn describe(&self) -> String {
        match self {
            BlobPlace::Local => "blobs/ in the data folder".into(),
            BlobPlace::Url {
                provider,
                bucket,
                prefix,
            } => format!("{}://{bucket}/{prefix}", provider.scheme()),
        }
    }
}

/// The blob store.
#[derive(Clone, Debug)]
pub struct Blobs {
    store: Arc<dyn ObjectStore>,
    /// Set for the local backend, whose interrupted uploads leave staging files to sweep.
    local_root: Option<Arc<Path>>,
}

impl Blobs {
    /// Blobs in a folder on this machine.
    pub fn local(root: &Path) -> Result<Self> {
        std::fs::create_dir_all(root)?;
        let store = LocalFileSystem::new_with_prefix(root)?;
        Ok(Self {
            store: Arc::new(store),
            local_root: Some(Arc::from(root)),
        })
    }

    /// The blobs of a data folder: its `blobs/`, or those at `place`.
    pub fn open(place: &BlobPlace, data: &Path) -> Result<Self> {
        let BlobPlace::Url {
            provider,
            bucket,
            prefix,
        } = place
        else {
            return Self::local(&data.join("blobs"));
        };
        let url = format!("{}://{bucket}", provider.scheme());
        let store: Arc<dyn ObjectStore> = match provider {
            Provider::S3 => Arc::new(
                object_store::aws::AmazonS3Builder::from_env()
                    .with_url(&url)
                    .build()?,
            ),
            Provider::Gcs => Arc::new(
                object_store::gcp::GoogleCloudStorageBuilder::from_env()
                    .with_url(&url)
                    .build()?,
            ),
            Provider::Azure => Arc::new(
                object_store::azure::MicrosoftAzureBuilder::from_env()
                    .with_url(&url)
                    .build()?,
            ),
        };
        let store = if prefix.is_empty() {
            store
        } else {
            Arc::new(PrefixStore::new(store, prefix.as_str()))
        };
        Ok(Self {
            store,
            local_root: None,
        })
    }

    /// Checks that the store answers, so that a server with unreachable or unauthorised storage
    /// says so at start rather than at its first publish.
    pub async fn check(&self) -> Result<()> {
        match self.store.head(&ObjectPath::from("feather-check")).await {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    fn path(digest: &str) -> ObjectPath {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        ObjectPath::from(format!("{PREFIX}/{}/{hex}", &hex[..2.min(hex.len())]))
    }

    /// Seconds since the blob was last written or reused; none if it is not there.
    pub async fn age(&self, digest: &str) -> Result<Option<u64>> {
        match self.store.head(&Self::path(digest)).await {
            Ok(meta) => {
                let modified: std::time::SystemTime = meta.last_modified.into();
                Ok(Some(modified.elapsed().map_or(0, |d| d.as_secs())))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn exists(&self, digest: &str) -> Result<bool> {
        match self.store.head(&Self::path(digest)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Copies a local file into the store under `digest` (once), streaming it in parts. In a local
    /// folder on the same file system the file is linked into place instead: no copy, and no
    /// bytes held in memory.
    pub async fn put_file(&self, digest: &str, file: &Path) -> Result<()> {
        // Stored once: a write relying on bytes stored already claims them first
        // (`Store::claimed`), so that no collector removes them under it.
        if self.exists(digest).await? {
            return Ok(());
        }
        if let Some(root) = &self.local_root {
            let dest = root.join(Self::path(digest).as_ref());
            let parent = dest.parent().expect("blob paths have folders");
            std::fs::create_dir_all(parent)?;
            // A staging name as object_store's own (`name#N`), which the sweep removes if a
            // crash leaves it.
            let n = STAGING.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let staging = dest.with_file_name(format!(
                "{}#{}{n}",
                dest.file_name()
                    .and_then(|f| f.to_str())
                    .unwrap_or_default(),
                std::process::id()
            ));
            if std::fs::hard_link(file, &staging).is_ok() {
                std::fs::rename(&staging, &dest)?;
                return Ok(());
            }
        }
        let upload = self.store.put_multipart(&Self::path(digest)).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, 8 << 20);
        match Self::copy_into(&mut writer, file).await {
            Ok(()) => {
                writer.finish().await?;
                Ok(())
            }
            Err(e) => {
                // The parts sent so far go, rather than waiting for the bucket's lifecycle rule.
                let _ = writer.abort().await;
                Err(e)
            }
        }
    }

    async fn copy_into(writer: &mut WriteMultipart, file: &Path) -> Result<()> {
        let mut f = tokio::fs::File::open(file).await?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = f.read(&mut buf).await?;
            if n == 0 {
                return Ok(());
            }
            writer.wait_for_capacity(4).await?;
            writer.write(&buf[..n]);
        }
    }

    /// Stores bytes under their digest ([`digest_bytes`]), once.
    pub async fn put_bytes(&self, digest: &str, data: Bytes) -> Result<()> {
        if !self.exists(digest).await? {
            self.store.put(&Self::path(digest), data.into()).await?;
        }
        Ok(())
    }

    /// A small blob's bytes, whole.
    pub async fn get_bytes(&self, digest: &str) -> Result<Bytes> {
        Ok(self.store.get(&Self::path(digest)).await?.bytes().await?)
    }

    /// The first `n` bytes of a blob (all of it when it is shorter).
    pub async fn get_head(&self, digest: &str, n: usize) -> Result<Bytes> {
        let path = Self::path(digest);
        let size = self.store.head(&path).await?.size;
        let end = size.min(n as u64);
        Ok(self.store.get_range(&path, 0..end).await?)
    }

    /// The blob's bytes as a stream, and its size.
    pub async fn get(&self, digest: &str) -> Result<(u64, BoxStream<'static, Result<Bytes>>)> {
        let got = self.store.get(&Self::path(digest)).await?;
        let size = got.meta.size;
        Ok((
            size,
            got.into_stream().map(|r| r.map_err(Into::into)).boxed(),
        ))
    }

    pub async fn delete(&self, digest: &str) -> Result<()> {
        match self.store.delete(&Self::path(digest)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Every stored digest with its age in seconds.
    pub async fn list(&self) -> Result<Vec<(String, i64)>> {
        let now = std::time::SystemTime::now();
        let mut out = Vec::new();
        let mut s = self.store.list(Some(&ObjectPath::from(PREFIX)));
        while let Some(meta) = s.next().await {
            let meta = meta?;
            if let Some(hex) = meta.location.filename() {
                let modified: std::time::SystemTime = meta.last_modified.into();
                let age = now
                    .duration_since(modified)
                    .map(|d| d.as_secs() as i64)
                    .unwrap_or(0);
                out.push((digest_of(hex), age));
            }
        }
        Ok(out)
    }

    /// Removes staging files (`name#N`) that an interrupted local upload left behind; they are
    /// invisible to `list`. Returns how many went.
    pub fn sweep_staging(&self) -> Result<usize> {
        let Some(root) = &self.local_root else {
            return Ok(0);
        };
        let mut removed = 0;
        let mut stack = vec![root.join(PREFIX)];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                let p = e.path();
                if e.file_type()?.is_dir() {
                    stack.push(p);
                } else if p
                    .file_name()
                    .and_then(|n| n.to_str())
                    .and_then(|n| n.split_once('#'))
                    .is_some_and(|(_, suffix)| suffix.bytes().all(|b| b.is_ascii_digit()))
                {
                    std::fs::remove_file(&p)?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::BlobPlace;

    #[test]
    fn a_blob_place_is_local_or_an_object_store_url() {
        assert_eq!("local".parse::<BlobPlace>(), Ok(BlobPlace::Local));
        assert_eq!(
            "s3://models/feather/prod/".parse::<BlobPlace>(),
            Ok(BlobPlace::Url {
                provider: super::Provider::S3,
                bucket: "models".into(),
                prefix: "feather/prod".into(),
            })
        );
        let gs: BlobPlace = "gs://b".parse().unwrap();
        assert_eq!(gs.describe(), "gs://b/");
        for bad in ["ftp://b/x", "s3://", "/var/blobs"] {
            let e = bad.parse::<BlobPlace>().unwrap_err();
            assert!(e.contains("s3://bucket/prefix"), "{bad}: {e}");
        }
    }
}
