//! What every handler can reach: passed in, never global.

use axum::http::HeaderValue;
use feather_service::Service;
use std::sync::Arc;

impl AppState {
    pub fn new(service: Service, public_url: Option<Arc<str>>) -> Self {
        Self(Arc::new(Shared {
            service,
            public_url,
            rates: Default::default(),
            cors: Arc::from([]),
        }))
    }

    /// The fields, to set while the state is built (before any request holds it).
    fn build(&mut self) -> &mut Shared {
        Arc::make_mut(&mut self.0)
    }

    /// Keeps files and runs as the operator says.
    pub fn with_files(mut self, p: feather_service::exec::files::FilePolicy) -> Self {
        self.build().service.files = p;
        self
    }

    /// Limits the rate of runs (the default state has none).
    pub fn with_rates(mut self, c: crate::rate::RateConfig) -> Self {
        self.build().rates = Arc::new(crate::rate::RateLimits::new(c));
        self
    }

    /// Lets pages of these origins call the API from a browser.
    pub fn with_cors(mut self, origins: &[String]) -> Result<Self, crate::ServeError> {
        self.build().cors = origins
            .iter()
            .map(|o| {
                HeaderValue::from_str(o.trim_end_matches('/')).map_err(|_| {
                    crate::ServeError::Config(format!(
                        "{o:?} is not an origin such as https://example.org"
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?
            .into();
        Ok(self)
    }
}

/// Shared state of the server. Every request clones it (its extractors and middleware do, a
/// few times each), so it is one reference-counted pointer rather than a struct of them.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What the state holds.
#[derive(Clone, Debug)]
pub struct Shared {
    /// What the routes call: every decision is made there.
    pub service: Service,
    /// The URL clients reach this server at, when it is set; else taken from each request.
    pub public_url: Option<Arc<str>>,
    pub rates: Arc<crate::rate::RateLimits>,
    /// Origins allowed to call the API from a browser.
    pub cors: Arc<[HeaderValue]>,
}
