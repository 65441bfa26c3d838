//! Parsed versions, kept in memory: a version is immutable, so once read it never changes
//! (until it is deleted, which this server does itself or hears of from the registry). Aliases
//! and visibility change: this server forgets them when it changes them, and when it hears of
//! another replica's change (`follow`), so a request reads the registry only when a model was
//! changed, or first used, or a while ago.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use feather_runner::engine::Engine;
use feather_spec::{Component, Manifest};
use feather_store::VersionDetail;

/// How long an alias's answer, or a model's being public, is trusted at most. Changes are
/// forgotten as they are made or heard of; this bounds what a change missed some other way
/// (a registry written by a program that does not announce) could be served stale for. Read
/// once a second, as it was before replicas heard each other, every busy model cost the
/// registry four queries a second.
const ALIAS_TTL: Duration = Duration::from_secs(60);

/// A version ready to run: its record, its parsed manifest, and once it has one, its pool.
#[derive(Debug)]
pub struct Target {
    pub detail: VersionDetail,
    pub manifest: Manifest,
    /// Where its bundle is (or will be) unpacked.
    pub bundle: PathBuf,
    /// Set when the environment was found ready and the bundle unpacked, so that later
    /// requests go straight to the workers.
    /// What runs its steps, until the runner closes it (the version was deleted, or its
    /// environment or bundle evicted from the cache).
    pub engine: Mutex<Option<Arc<dyn Engine>>>,
}

impl Target {
    pub fn key(&self) -> String {
        format!(
            "{}/{}@{}",
            self.detail.owner, self.detail.name, self.detail.version.version
        )
    }

    pub fn init(&self) -> &[Component] {
        &self.manifest.init
    }
}

/// What the server remembers of one model.
#[derive(Debug, Default)]
struct Model {
    versions: HashMap<i64, Arc<Target>>,
    aliases: HashMap<String, (i64, Instant)>,
    /// When the model was last seen public: anyone may run it without asking the registry
    /// again until the alias TTL has passed, or the model is changed.
    public: Option<Instant>,
}

/// The cache of one server: models by owner, then name, so that a request's lookups borrow its
/// path's strings rather than build keys of their own.
#[derive(Debug, Default)]
pub struct Cache {
    models: Mutex<HashMap<String, HashMap<String, Model>>>,
    /// Counts what was forgotten: a version read from the registry before a change was heard
    /// must not be put back after it.
    forgotten: AtomicU64,
}

/// When a registry read began, in the cache's count of forgetting.
#[derive(Debug, Clone, Copy)]
pub struct Epoch(u64);

impl Cache {
    /// Reads what is known of a model, under the lock.
    fn read<T>(&self, owner: &str, name: &str, f: impl FnOnce(&Model) -> Option<T>) -> Option<T> {
        let models = self.models.lock().expect("not poisoned");
        models.get(owner).and_then(|m| m.get(name)).and_then(f)
    }

    /// Changes what is known of a model from a registry read begun at `read`, under the lock;
    /// not when something was forgotten since (the read may predate the change).
    fn write(&self, owner: &str, name: &str, read: Epoch, f: impl FnOnce(&mut Model)) {
        let mut models = self.models.lock().expect("not poisoned");
        // Under the lock, which `forget` holds while counting: nothing is forgotten between
        // this check and the change.
        if self.forgotten.load(Ordering::Acquire) != read.0 {
            return;
        }
        let names = models.entry(owner.to_owned()).or_default();
        match names.get_mut(name) {
            Some(m) => f(m),
            None => f(names.entry(name.to_owned()).or_default()),
        }
    }

    pub fn version(&self, owner: &str, name: &str, number: i64) -> Option<Arc<Target>> {
        self.read(owner, name, |m| m.versions.get(&number).cloned())
    }

    /// Taken before reading the registry, for [`Cache::put`].
    pub fn epoch(&self) -> Epoch {
        Epoch(self.forgotten.load(Ordering::Acquire))
    }

    /// Keeps a version read from the registry since `read`, unless something was forgotten
    /// meanwhile (the read may predate the change).
    pub fn put(&self, t: Arc<Target>, read: Epoch) {
        let (owner, name) = (t.detail.owner.clone(), t.detail.name.clone());
        self.write(&owner, &name, read, |m| {
            m.versions.insert(t.detail.version.version, t);
        });
    }

    pub fn alias(&self, owner: &str, name: &str, alias: &str) -> Option<i64> {
        self.read(owner, name, |m| {
            let (n, at) = m.aliases.get(alias)?;
            (at.elapsed() < ALIAS_TTL).then_some(*n)
        })
    }

    pub fn put_alias(&self, owner: &str, name: &str, alias: &str, number: i64, read: Epoch) {
        self.write(owner, name, read, |m| {
            m.aliases.insert(alias.to_owned(), (number, Instant::now()));
        });
    }

    /// Whether the model was seen public within the alias TTL and not changed since: making a
    /// model private reaches every replica as soon as it hears of it.
    pub fn is_public(&self, owner: &str, name: &str) -> bool {
        self.read(owner, name, |m| m.public)
            .is_some_and(|at| at.elapsed() < ALIAS_TTL)
    }

    pub fn put_public(&self, owner: &str, name: &str, read: Epoch) {
        self.write(owner, name, read, |m| m.public = Some(Instant::now()));
    }

    /// Forgets a model's versions, aliases and visibility (it was deleted, wholly or in part,
    /// or changed).
    pub fn forget(&self, owner: &str, name: &str) {
        let mut models = self.models.lock().expect("not poisoned");
        self.forgotten.fetch_add(1, Ordering::AcqRel);
        if let Some(names) = models.get_mut(owner) {
            names.remove(name);
            if names.is_empty() {
                models.remove(owner);
            }
        }
    }

    /// Forgets everything (changes may have been missed).
    pub fn forget_all(&self) {
        let mut models = self.models.lock().expect("not poisoned");
        self.forgotten.fetch_add(1, Ordering::AcqRel);
        models.clear();
    }

    /// The versions of a model held in memory.
    pub fn versions(&self, owner: &str, name: &str) -> Vec<Arc<Target>> {
        self.read(owner, name, |m| {
            Some(m.versions.values().cloned().collect())
        })
        .unwrap_or_default()
    }

    /// Every version held in memory.
    pub fn all(&self) -> Vec<Arc<Target>> {
        let models = self.models.lock().expect("not poisoned");
        models
            .values()
            .flat_map(|names| names.values())
            .flat_map(|m| m.versions.values().cloned())
            .collect()
    }
}
