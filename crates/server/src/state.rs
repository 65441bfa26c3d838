//! What every handler can reach: passed in, never global.

use std::sync::Arc;

use feather_runner::Runner;
use feather_store::Store;

/// Shared state of the server.
#[derive(Clone, Debug)]
pub struct AppState {
    pub store: Store,
    pub runner: Arc<Runner>,
    /// The URL clients reach this server at, when it is set; else taken from each request.
    pub public_url: Option<Arc<str>>,
}
