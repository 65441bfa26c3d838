//! Users, their roles, and their API tokens. A token is shown once; only its SHA-256 is stored.
//! A token carries scopes (what it may do) and may expire; its user's role bounds its scopes.

use async_trait::async_trait;
use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::error::{Result, StoreError};

pub(crate) const TOKEN_PREFIX: &str = "ftr_";

/// What a user is: admins manage users, every token and every model; developers their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Developer,
}

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Publish, delete, move aliases and share the user's models.
    Publish,
    /// Run models (public ones, and private ones the user may see).
    Run,
    /// Act as an admin; only an admin's token may carry it.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Developer => "developer",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "admin" => Ok(Role::Admin),
            "developer" => Ok(Role::Developer),
            _ => Err(StoreError::BadRequest(format!(
                "unknown role {s:?}: admin or developer"
            ))),
        }
    }
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Publish => "publish",
            Scope::Run => "run",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "publish" => Ok(Scope::Publish),
            "run" => Ok(Scope::Run),
            "admin" => Ok(Scope::Admin),
            _ => Err(StoreError::BadRequest(format!(
                "unknown scope {s:?}: publish, run or admin"
            ))),
        }
    }

    /// Scopes from a list such as `publish,run` or `publish run`.
    pub fn parse_list(s: &str) -> Result<BTreeSet<Scope>> {
        s.split([',', ' '])
            .filter(|p| !p.is_empty())
            .map(Scope::parse)
            .collect()
    }
}

pub(crate) fn join(scopes: &BTreeSet<Scope>) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The most tokens one user may have that are neither revoked nor expired.
pub const MAX_ACTIVE_TOKENS: i64 = 100;

/// Who a valid token speaks for, and what it may do.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: String,
    pub role: Role,
    /// The token's scopes, less `admin` when its user is no longer an admin.
    pub scopes: BTreeSet<Scope>,
    pub token: i64,
    /// Unix seconds.
    pub expires_at: Option<i64>,
}

impl Principal {
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }

    /// An admin acting as one: the role and a token with the admin scope.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin && self.has(Scope::Admin)
    }
}

/// A user as listed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserInfo {
    pub name: String,
    pub role: Role,
    pub created_at: String,
}

/// A token as listed: never the token itself.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenInfo {
    pub id: i64,
    pub user: String,
    pub label: Option<String>,
    /// The token's first characters, to tell tokens apart.
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// A token to create.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub user: String,
    pub scopes: BTreeSet<Scope>,
    /// Unix seconds; none: it does not expire.
    pub expires_at: Option<i64>,
    pub label: Option<String>,
}

pub(crate) fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The current time in Unix seconds.
pub fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Unix seconds as the registry records a time (RFC 3339, see [`crate::now`]), held between
/// 1970 and the end of 9999, where the text stays as long.
pub fn rfc3339(unix: i64) -> String {
    let unix = unix.clamp(0, 253_402_300_799);
    crate::format_time(
        time::OffsetDateTime::from_unix_timestamp(unix).expect("within the range time supports"),
    )
}

pub(crate) fn check_user_name(user: &str) -> Result<()> {
    if feather_spec::manifest::is_slug(user, 64) {
        Ok(())
    } else {
        Err(StoreError::BadRequest(format!(
            "user name {user:?} must be 1 to 64 of a-z 0-9 - _ . starting and ending with a letter or digit"
        )))
    }
}

/// Users, roles and tokens.
#[async_trait]
pub trait AccountRegistry: Send + Sync {
    /// Creates a user; a name that is taken is a conflict.
    async fn create_user(&self, actor: &str, name: &str, role: Role) -> Result<UserInfo>;

    async fn user(&self, name: &str) -> Result<UserInfo>;

    async fn users(&self) -> Result<Vec<UserInfo>>;

    /// Changes a user's role. An admin made a developer keeps their tokens, which lose the
    /// admin scope at once.
    async fn set_role(&self, actor: &str, name: &str, role: Role) -> Result<UserInfo>;

    /// Creates a token; returns it (it is not kept) with its record.
    async fn create_token(&self, actor: &str, new: &NewToken) -> Result<(String, TokenInfo)>;

    async fn token(&self, id: i64) -> Result<TokenInfo>;

    /// Tokens, newest first: one user's, or everyone's.
    async fn tokens(&self, user: Option<&str>) -> Result<Vec<TokenInfo>>;

    /// Revokes a token at once. Revoking a revoked token changes nothing.
    async fn revoke_token(&self, actor: &str, id: i64) -> Result<TokenInfo>;

    /// The principal a token speaks for; unknown, revoked and expired tokens are refused,
    /// each with its reason.
    async fn authenticate(&self, token: &str) -> Result<Principal>;
}
