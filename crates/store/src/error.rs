//! What can go wrong in the store, typed so the server can map each case to one status.

use feather_spec::Problems;

/// An error of the registry, the blob store or a bundle.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("the manifest is invalid: {0}")]
    InvalidManifest(Problems),
    #[error("{0}")]
    BadRequest(String),
    #[error("unsafe bundle: {entry}: {reason}")]
    UnsafeBundle { entry: String, reason: String },
    #[error("{what} is over the limit of {limit} bytes")]
    TooLarge { what: String, limit: u64 },
    #[error("{0}")]
    UnsupportedFormat(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    /// A database that could not be reached or opened.
    #[error("{0}")]
    Unavailable(String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("blob store: {0}")]
    Blob(#[from] object_store::Error),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
