//! Parsed versions, kept in memory: a version is immutable, so once read it never changes;
//! aliases move, so what they name is kept for a moment only.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use feather_runner::engine::Engine;
use feather_spec::{Component, Manifest};
use feather_store::VersionDetail;

/// How long an alias's answer is trusted: publishing moves `latest`, and every replica should
/// see that within this long.
const ALIAS_TTL: Duration = Duration::from_secs(1);

/// A version ready to run: its record, its parsed manifest, and once it has one, its pool.
#[derive(Debug)]
pub struct Target {
    pub detail: VersionDetail,
    pub manifest: Manifest,
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

/// `(owner, name, alias or number)`.
type Key<T> = (String, String, T);

/// The cache of one server.
#[derive(Debug, Default)]
pub struct Cache {
    versions: Mutex<HashMap<Key<i64>, Arc<Target>>>,
    aliases: Mutex<HashMap<Key<String>, (i64, Instant)>>,
    /// Models seen public lately: anyone may run them without asking the registry again.
    public: Mutex<HashMap<(String, String), Instant>>,
}

impl Cache {
    pub fn version(&self, owner: &str, name: &str, number: i64) -> Option<Arc<Target>> {
        self.versions
            .lock()
            .expect("not poisoned")
            .get(&(owner.into(), name.into(), number))
            .cloned()
    }

    pub fn put(&self, t: Arc<Target>) {
        let key = (
            t.detail.owner.clone(),
            t.detail.name.clone(),
            t.detail.version.version,
        );
        self.versions.lock().expect("not poisoned").insert(key, t);
    }

    pub fn alias(&self, owner: &str, name: &str, alias: &str) -> Option<i64> {
        let aliases = self.aliases.lock().expect("not poisoned");
        let (n, at) = aliases.get(&(owner.into(), name.into(), alias.into()))?;
        (at.elapsed() < ALIAS_TTL).then_some(*n)
    }

    pub fn put_alias(&self, owner: &str, name: &str, alias: &str, number: i64) {
        self.aliases.lock().expect("not poisoned").insert(
            (owner.into(), name.into(), alias.into()),
            (number, Instant::now()),
        );
    }

    /// Whether the model was seen public within the alias TTL: making a model private
    /// reaches every replica within that long.
    pub fn is_public(&self, owner: &str, name: &str) -> bool {
        let public = self.public.lock().expect("not poisoned");
        public
            .get(&(owner.to_owned(), name.to_owned()))
            .is_some_and(|at| at.elapsed() < ALIAS_TTL)
    }

    pub fn put_public(&self, owner: &str, name: &str) {
        self.public
            .lock()
            .expect("not poisoned")
            .insert((owner.into(), name.into()), Instant::now());
    }

    /// Forgets a model's versions, aliases and visibility (it was deleted, wholly or in part,
    /// or changed).
    pub fn forget(&self, owner: &str, name: &str) {
        self.public
            .lock()
            .expect("not poisoned")
            .remove(&(owner.to_owned(), name.to_owned()));
        self.versions
            .lock()
            .expect("not poisoned")
            .retain(|(o, n, _), _| !(o == owner && n == name));
        self.aliases
            .lock()
            .expect("not poisoned")
            .retain(|(o, n, _), _| !(o == owner && n == name));
    }
}
