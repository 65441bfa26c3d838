//! One problem found in a manifest or a value, located by a JSON Pointer.

use serde::Serialize;
use utoipa::ToSchema;

/// A problem with a document: where it is and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Problem {
    /// JSON Pointer (RFC 6901) to the offending field; `""` is the whole document.
    pub path: String,
    /// A sentence a person can act on.
    pub reason: String,
}

impl Problem {
    pub fn new(path: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = if self.path.is_empty() {
            "(document)"
        } else {
            &self.path
        };
        write!(f, "{path}: {}", self.reason)
    }
}

/// Every problem of one document; never empty when returned as an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} problem(s), first: {}", .0.len(), .0[0])]
pub struct Problems(pub Vec<Problem>);

/// Appends a key or index to a JSON Pointer, escaping as RFC 6901 says.
pub fn join(path: &str, key: impl std::fmt::Display) -> String {
    let key = key.to_string().replace('~', "~0").replace('/', "~1");
    format!("{path}/{key}")
}
