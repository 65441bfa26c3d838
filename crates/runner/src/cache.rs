//! The runner's cache on disk: unpacked bundles and environments. Both can be made again (a
//! bundle from its blob, an environment from its requirements), so the cache is held to a
//! size: past it, what was used longest ago and no live worker uses is removed. The pools that
//! needed it are closed, and the next request rebuilds what it needs (a 409 while an
//! environment is rebuilt). A bundle no version uses any more is removed at once.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use crate::env::dir_size;
use crate::pool::WorkerPool;
use crate::runner::{Runner, make_writable_and_remove};

/// One thing the cache holds.
struct Entry {
    path: PathBuf,
    used: SystemTime,
    size: u64,
}

/// The environment folder of an interpreter: `<env>/bin/python`.
fn env_of(python: &Path) -> &Path {
    python.parent().and_then(Path::parent).unwrap_or(python)
}

/// Marks a cached folder used now: its time orders evictions, across restarts too.
pub(crate) fn touch(dir: &Path) {
    if let Ok(f) = std::fs::File::open(dir) {
        let _ = f.set_modified(SystemTime::now());
    }
}

fn modified(dir: &Path) -> SystemTime {
    std::fs::metadata(dir)
        .and_then(|m| m.modified())
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

/// Folders directly under `dir` that are whole entries (not ones being written).
fn entries(dir: &Path) -> Vec<PathBuf> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    read.flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| !n.starts_with('.') && !n.starts_with("sdk"))
        })
        .collect()
}

impl Runner {
    fn pools_now(&self) -> Vec<Arc<WorkerPool>> {
        self.pools
            .lock()
            .expect("not poisoned")
            .values()
            .cloned()
            .collect()
    }

    /// Removes the unpacked bundle of a digest that no version uses any more.
    pub async fn forget_bundle(&self, digest: &str) {
        let dir = self.bundle_dir(digest);
        if let Err(e) = self.remove(&dir).await {
            tracing::warn!(bundle = %digest, error = %e, "could not remove an unpacked bundle");
        }
    }

    /// Removes a cached folder: renamed out of the way first, so that nothing finds it half
    /// gone and it can be made again at once, then deleted off the async threads. The pools
    /// that ran from it are closed, before and after, so one made meanwhile goes too.
    async fn remove(&self, dir: &Path) -> std::io::Result<()> {
        self.close_pools_using(dir).await;
        self.sizes.lock().expect("not poisoned").remove(dir);
        if !dir.is_dir() {
            return Ok(());
        }
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("entry");
        let gone = dir.with_file_name(format!(".evicted-{name}-{}", std::process::id()));
        std::fs::rename(dir, &gone)?;
        self.close_pools_using(dir).await;
        tokio::task::spawn_blocking(move || make_writable_and_remove(&gone))
            .await
            .map_err(std::io::Error::other)?
    }

    /// Closes and forgets the pools whose workers run from `dir` (an environment or a bundle).
    async fn close_pools_using(&self, dir: &Path) {
        let gone: Vec<Arc<WorkerPool>> = {
            let mut pools = self.pools.lock().expect("not poisoned");
            let keys: Vec<String> = pools
                .iter()
                .filter(|(_, p)| env_of(&p.spec().python) == dir || p.spec().bundle == dir)
                .map(|(k, _)| k.clone())
                .collect();
            keys.iter().filter_map(|k| pools.remove(k)).collect()
        };
        for p in gone {
            p.close().await;
        }
    }

    /// Bytes the cache holds now.
    pub async fn cache_size(&self) -> u64 {
        self.cached().await.iter().map(|e| e.size).sum()
    }

    /// Every cached folder with its size (measured once, off the async threads) and when it
    /// was last used.
    async fn cached(&self) -> Vec<Entry> {
        let mut used: HashMap<PathBuf, SystemTime> = HashMap::new();
        for p in self.pools_now() {
            for dir in [
                env_of(&p.spec().python).to_path_buf(),
                p.spec().bundle.clone(),
            ] {
                let t = used.entry(dir).or_insert(SystemTime::UNIX_EPOCH);
                *t = (*t).max(p.last_used());
            }
        }
        let root = &self.config.root;
        let paths: Vec<PathBuf> = entries(&root.join("envs"))
            .into_iter()
            .chain(entries(&root.join("bundles")))
            .collect();
        let unmeasured: Vec<PathBuf> = {
            let sizes = self.sizes.lock().expect("not poisoned");
            paths
                .iter()
                .filter(|p| !sizes.contains_key(*p))
                .cloned()
                .collect()
        };
        if !unmeasured.is_empty() {
            let measured = tokio::task::spawn_blocking(move || {
                unmeasured
                    .into_iter()
                    .map(|p| {
                        let n = dir_size(&p);
                        (p, n)
                    })
                    .collect::<Vec<_>>()
            })
            .await
            .unwrap_or_default();
            self.sizes.lock().expect("not poisoned").extend(measured);
        }
        let sizes = self.sizes.lock().expect("not poisoned");
        paths
            .into_iter()
            .map(|path| {
                let size = sizes.get(&path).copied().unwrap_or(0);
                let used = used.get(&path).copied().unwrap_or(SystemTime::UNIX_EPOCH);
                Entry {
                    used: used.max(modified(&path)),
                    path,
                    size,
                }
            })
            .collect()
    }

    /// Holds the cache to its cap: removes the least recently used folders that no live worker
    /// uses until it fits. Returns how many went.
    pub async fn keep_within_cap(&self) -> usize {
        let Some(cap) = self.config.cache_cap else {
            return 0;
        };
        let mut all = self.cached().await;
        let mut total: u64 = all.iter().map(|e| e.size).sum();
        if total <= cap {
            return 0;
        }
        let live: HashSet<PathBuf> = self
            .pools_now()
            .iter()
            .filter(|p| p.live_workers() > 0)
            .flat_map(|p| {
                [
                    env_of(&p.spec().python).to_path_buf(),
                    p.spec().bundle.clone(),
                ]
            })
            .collect();
        all.sort_by_key(|e| e.used);
        let mut evicted = 0;
        for e in all {
            if total <= cap {
                break;
            }
            if live.contains(&e.path) {
                continue;
            }
            match self.remove(&e.path).await {
                Ok(()) => {
                    total = total.saturating_sub(e.size);
                    evicted += 1;
                    tracing::info!(path = %e.path.display(), mib = e.size >> 20, "evicted from the runner's cache");
                }
                Err(err) => {
                    tracing::warn!(path = %e.path.display(), error = %err, "could not evict")
                }
            }
        }
        if total > cap {
            tracing::warn!(
                mib = total >> 20,
                cap_mib = cap >> 20,
                "the runner's cache is over its cap, but live workers use the rest"
            );
        }
        evicted
    }
}
