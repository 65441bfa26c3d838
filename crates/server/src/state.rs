//! What every handler can reach: passed in, never global.

use std::sync::Arc;

use feather_runner::Runner;
use feather_store::Store;

impl AppState {
    pub fn new(store: Store, runner: Arc<Runner>, public_url: Option<Arc<str>>) -> Self {
        Self {
            store,
            runner,
            cache: Default::default(),
            public_url,
        }
    }
}

/// Shared state of the server.
#[derive(Clone, Debug)]
pub struct AppState {
    pub store: Store,
    pub runner: Arc<Runner>,
    /// Parsed versions and recent alias answers.
    pub cache: Arc<crate::exec::cache::Cache>,
    /// The URL clients reach this server at, when it is set; else taken from each request.
    pub public_url: Option<Arc<str>>,
}
