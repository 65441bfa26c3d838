//! Who may see a model, and the names pointing at its versions: visibility, grants and aliases.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{Result, StoreError};

/// Public models are listed and run by anyone; private ones only by their owner, the users
/// granted them, and admins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    #[default]
    Public,
    Private,
}

impl Visibility {
    /// From the registry's `private` column.
    pub(crate) fn from_private(private: bool) -> Self {
        if private {
            Visibility::Private
        } else {
            Visibility::Public
        }
    }

    /// As the registry's `private` column.
    pub(crate) fn is_private(self) -> bool {
        self == Visibility::Private
    }
}

/// Who is looking, for searches and reads: anonymous, a user, or an admin acting as one.
#[derive(Debug, Clone, Default)]
pub struct Viewer {
    pub user: Option<String>,
    pub admin: bool,
}

/// A user who may see and run a private model.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Grant {
    pub user: String,
    pub granted_by: String,
    pub created_at: String,
}

/// The alias publishing moves; nobody else may.
pub const LATEST: &str = "latest";

pub(crate) fn check_alias(alias: &str) -> Result<()> {
    if alias == LATEST {
        return Err(StoreError::Conflict(
            "`latest` always names the newest version; publish to move it".into(),
        ));
    }
    let starts_with_letter = alias.starts_with(|c: char| c.is_ascii_lowercase());
    if feather_spec::manifest::is_slug(alias, 64) && starts_with_letter {
        Ok(())
    } else {
        Err(StoreError::BadRequest(format!(
            "alias {alias:?} must be 1 to 64 of a-z 0-9 - _ . starting with a letter and ending with a letter or digit"
        )))
    }
}

/// Who may see a model, and where its aliases point.
#[async_trait]
pub trait SharingRegistry: Send + Sync {
    /// The model's visibility when the viewer may see it. A private model they may not see is
    /// "not found", as if it did not exist: its name is not theirs to learn.
    async fn visible(&self, owner: &str, name: &str, viewer: &Viewer) -> Result<Visibility>;

    async fn set_visibility(
        &self,
        actor: &str,
        owner: &str,
        name: &str,
        visibility: Visibility,
    ) -> Result<()>;

    async fn grants(&self, owner: &str, name: &str) -> Result<Vec<Grant>>;

    /// Lets `user` see and run the model. Granting twice changes nothing.
    async fn grant(&self, actor: &str, owner: &str, name: &str, user: &str) -> Result<()>;

    async fn ungrant(&self, actor: &str, owner: &str, name: &str, user: &str) -> Result<()>;

    /// Points `alias` at a version; returns the version it pointed at before, if any.
    async fn set_alias(
        &self,
        actor: &str,
        owner: &str,
        name: &str,
        alias: &str,
        version: i64,
    ) -> Result<Option<i64>>;

    async fn delete_alias(&self, actor: &str, owner: &str, name: &str, alias: &str) -> Result<()>;
}
