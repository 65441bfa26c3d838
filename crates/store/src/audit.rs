//! The audit log: publishes, deletions, alias and sharing changes, and token and user actions.
//! Each entry is written in the transaction of the change it records, so the log shows a
//! change exactly when the change happened.

use async_trait::async_trait;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::{Result, StoreError};

/// What was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Publish,
    DeleteModel,
    DeleteVersion,
    Visibility,
    SetAlias,
    DeleteAlias,
    Grant,
    Ungrant,
    CreateToken,
    RevokeToken,
    CreateUser,
    SetRole,
}

impl Action {
    pub const ALL: [Action; 12] = [
        Action::Publish,
        Action::DeleteModel,
        Action::DeleteVersion,
        Action::Visibility,
        Action::SetAlias,
        Action::DeleteAlias,
        Action::Grant,
        Action::Ungrant,
        Action::CreateToken,
        Action::RevokeToken,
        Action::CreateUser,
        Action::SetRole,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Publish => "model.publish",
            Action::DeleteModel => "model.delete",
            Action::DeleteVersion => "version.delete",
            Action::Visibility => "model.visibility",
            Action::SetAlias => "alias.set",
            Action::DeleteAlias => "alias.delete",
            Action::Grant => "grant.add",
            Action::Ungrant => "grant.remove",
            Action::CreateToken => "token.create",
            Action::RevokeToken => "token.revoke",
            Action::CreateUser => "user.create",
            Action::SetRole => "user.role",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<_> = Self::ALL.iter().map(|a| a.as_str()).collect();
                StoreError::BadRequest(format!("unknown action {s:?}; one of {}", known.join(", ")))
            })
    }
}

/// One recorded change.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    /// The user who did it, or `local:<account>` for the operator on the server's machine.
    pub actor: String,
    #[schema(value_type = String)]
    pub action: String,
    /// Whose thing it concerned: a model's owner, or the user a token or role belongs to.
    pub owner: Option<String>,
    /// What it was done to: `owner/name`, `owner/name@3`, `owner/name@prod`, `token 12`, a user.
    pub target: String,
    #[schema(value_type = Object)]
    pub details: Value,
}

/// A change to record, inside the transaction that makes it.
pub(crate) struct Record<'a> {
    pub actor: &'a str,
    pub action: Action,
    pub owner: Option<&'a str>,
    pub target: &'a str,
    pub details: Value,
}

/// Which entries to read, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub owner: Option<String>,
    pub action: Option<Action>,
    /// Only entries by or concerning this user (what a non-admin may read).
    pub concerning: Option<String>,
    /// Only entries older than this id: the next page.
    pub before: Option<i64>,
    /// 1 to 500.
    pub limit: u32,
}

/// A page of the log; `next_before` asks for the page after it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub next_before: Option<i64>,
}

/// The log of changes (each written in its change's transaction).
#[async_trait]
pub trait AuditLog: Send + Sync {
    async fn audit(&self, q: &AuditQuery) -> Result<AuditPage>;
}
