//! Models and their versions: the records and the [`ModelRegistry`] they are kept behind (its
//! SQL is in `registry/sql/models.rs`, shared by the engines).

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::Result;
use crate::sharing::{Viewer, Visibility};

/// A model: `owner/name` and what its newest version says of itself.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Model {
    pub owner: String,
    pub name: String,
    pub title: String,
    /// Markdown, from the newest version's manifest.
    pub description: String,
    pub tags: Vec<String>,
    pub visibility: Visibility,
    /// The version `latest` points at; none once every version is deleted.
    pub latest_version: Option<i64>,
    /// Alias name to version number.
    pub aliases: BTreeMap<String, i64>,
    pub versions: i64,
    /// Runs started, by the API or the portal (one-call predictions are not runs).
    pub runs: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// One immutable version.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Version {
    pub version: i64,
    /// `sha256:<hex>` of the bundle archive.
    pub digest: String,
    /// Compressed bundle size in bytes.
    pub bundle_size: i64,
    pub bundle_files: i64,
    pub published_by: String,
    pub created_at: String,
}

/// A version with its whole manifest (provenance included).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VersionDetail {
    pub owner: String,
    pub name: String,
    #[serde(flatten)]
    pub version: Version,
    #[schema(value_type = feather_spec::Manifest)]
    pub manifest: Value,
}

/// A page of search results.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ModelPage {
    pub models: Vec<Model>,
    pub page: u32,
    pub per_page: u32,
    pub total: i64,
}

/// What a search asks for.
#[derive(Debug, Clone, Default)]
pub struct ModelQuery {
    /// Words matched against owner, name, title and description.
    pub q: Option<String>,
    pub tag: Option<String>,
    pub owner: Option<String>,
    /// From 1.
    pub page: u32,
    pub per_page: u32,
    /// Private models are listed only to those who may see them.
    pub viewer: Viewer,
}

/// The columns a new version row needs.
pub struct NewVersion<'a> {
    pub owner: &'a str,
    pub name: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    pub tags: &'a [String],
    pub manifest: &'a str,
    pub digest: &'a str,
    pub bundle_size: i64,
    pub bundle_files: i64,
    pub now: &'a str,
    /// The number to take instead of the next one: a copy of a version made elsewhere (a
    /// served export) keeps its number. Later publishes go on from it.
    pub number: Option<i64>,
}

/// Models and their versions.
#[async_trait]
pub trait ModelRegistry: Send + Sync {
    /// Records the next version of `owner/name` (creating the model, public unless
    /// `visibility` says otherwise; an existing one keeps its own unless it is given), points
    /// `latest` at it and writes the audit row, all or nothing. Returns the new number. A
    /// number asked for that the model already has is a conflict.
    async fn add_version(&self, v: &NewVersion<'_>, visibility: Option<Visibility>) -> Result<i64>;

    async fn model(&self, owner: &str, name: &str) -> Result<Model>;

    /// Models matching a query, newest first.
    async fn search(&self, q: &ModelQuery) -> Result<ModelPage>;

    async fn versions(&self, owner: &str, name: &str) -> Result<Vec<Version>>;

    /// A version by number, or by alias when `reference` is not a number.
    async fn version(&self, owner: &str, name: &str, reference: &str) -> Result<VersionDetail>;

    /// Deletes one version; `latest` moves to the newest remaining one. Returns its digest.
    async fn delete_version(
        &self,
        actor: &str,
        owner: &str,
        name: &str,
        number: i64,
    ) -> Result<String>;

    /// Deletes a model and all its versions. Returns the digests its versions used.
    async fn delete_model(&self, actor: &str, owner: &str, name: &str) -> Result<Vec<String>>;

    /// Whether one of `owner`'s versions has this bundle.
    async fn owner_has_digest(&self, owner: &str, digest: &str) -> Result<bool>;

    /// Whether any version, file or run state still uses the blob.
    async fn digest_in_use(&self, digest: &str) -> Result<bool>;
}
