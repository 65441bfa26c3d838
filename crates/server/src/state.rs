//! What every handler can reach: passed in, never global.

use std::sync::Arc;

use axum::http::HeaderValue;
use feather_runner::Runner;
use feather_store::Store;

impl AppState {
    pub fn new(store: Store, runner: Arc<Runner>, public_url: Option<Arc<str>>) -> Self {
        Self {
            store,
            runner,
            cache: Default::default(),
            public_url,
            rates: Default::default(),
            cors: Vec::new(),
            files: Default::default(),
            upload_locks: Default::default(),
        }
    }

    /// Keeps files and runs as the operator says.
    pub fn with_files(mut self, p: crate::exec::files::FilePolicy) -> Self {
        self.files = p;
        self
    }

    /// Limits the rate of runs (the default state has none).
    pub fn with_rates(mut self, c: crate::rate::RateConfig) -> Self {
        self.rates = Arc::new(crate::rate::RateLimits::new(c));
        self
    }

    /// Lets pages of these origins call the API from a browser.
    pub fn with_cors(mut self, origins: &[String]) -> Result<Self, crate::ServeError> {
        self.cors = origins
            .iter()
            .map(|o| {
                HeaderValue::from_str(o.trim_end_matches('/')).map_err(|_| {
                    crate::ServeError::Config(format!(
                        "{o:?} is not an origin such as https://example.org"
                    ))
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(self)
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
    pub rates: Arc<crate::rate::RateLimits>,
    /// Origins allowed to call the API from a browser.
    pub cors: Vec<HeaderValue>,
    /// How long files and runs are kept, and how much may be uploaded.
    pub files: crate::exec::files::FilePolicy,
    /// One turn at a time per uploader for checking the quota and storing.
    pub upload_locks: Arc<crate::exec::files::UploadLocks>,
}
