//! Users, their roles, and their API tokens. A token is shown once; only its SHA-256 is stored.
//! A token carries scopes (what it may do) and may expire; its user's role bounds its scopes.

use async_trait::async_trait;
use std::collections::BTreeSet;

use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::Row;
use utoipa::ToSchema;

use crate::audit::{Action, Record};
use crate::error::{Result, StoreError};
use crate::registry::SqliteRegistry;

const TOKEN_PREFIX: &str = "ftr_";

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

fn join(scopes: &BTreeSet<Scope>) -> String {
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

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The current time in Unix seconds.
pub fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Unix seconds as RFC 3339.
pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

fn check_user_name(user: &str) -> Result<()> {
    if feather_spec::manifest::is_slug(user, 64) {
        Ok(())
    } else {
        Err(StoreError::BadRequest(format!(
            "user name {user:?} must be 1 to 64 of a-z 0-9 - _ . starting and ending with a letter or digit"
        )))
    }
}

const TOKEN_COLUMNS: &str = "t.id, u.name AS user_name, t.label, t.prefix, t.scopes, t.created_at, t.expires_at, t.revoked_at";

fn token_from(row: &sqlx::sqlite::SqliteRow) -> Result<TokenInfo> {
    let scopes: String = row.try_get("scopes")?;
    Ok(TokenInfo {
        id: row.try_get("id")?,
        user: row.try_get("user_name")?,
        label: row.try_get("label")?,
        prefix: row.try_get("prefix")?,
        scopes: Scope::parse_list(&scopes)?.into_iter().collect(),
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get::<Option<i64>, _>("expires_at")?.map(rfc3339),
        revoked_at: row.try_get("revoked_at")?,
    })
}

fn user_from(row: &sqlx::sqlite::SqliteRow) -> Result<UserInfo> {
    Ok(UserInfo {
        name: row.try_get("name")?,
        role: Role::parse(row.try_get("role")?)?,
        created_at: row.try_get("created_at")?,
    })
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

#[async_trait]
impl AccountRegistry for SqliteRegistry {
    async fn create_user(&self, actor: &str, name: &str, role: Role) -> Result<UserInfo> {
        check_user_name(name)?;
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "INSERT INTO users (name, role, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO NOTHING RETURNING *",
        )
        .bind(name)
        .bind(role.as_str())
        .bind(crate::now())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::Conflict(format!("the user {name} exists already")))?;
        Record {
            actor,
            action: Action::CreateUser,
            owner: Some(name),
            target: name,
            details: json!({ "role": role }),
        }
        .write(&mut tx)
        .await?;
        tx.commit().await?;
        user_from(&row)
    }

    async fn user(&self, name: &str) -> Result<UserInfo> {
        let row = sqlx::query("SELECT * FROM users WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("user {name}")))?;
        user_from(&row)
    }

    async fn users(&self) -> Result<Vec<UserInfo>> {
        sqlx::query("SELECT * FROM users ORDER BY name")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(user_from)
            .collect()
    }

    async fn set_role(&self, actor: &str, name: &str, role: Role) -> Result<UserInfo> {
        let mut tx = self.pool.begin().await?;
        let before: String = sqlx::query_scalar("SELECT role FROM users WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("user {name}")))?;
        if before == Role::Admin.as_str() && role != Role::Admin {
            let admins: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin'")
                .fetch_one(&mut *tx)
                .await?;
            if admins <= 1 {
                return Err(StoreError::Conflict(format!(
                    "{name} is the last admin; make another user an admin first, so that someone can still manage users"
                )));
            }
        }
        let row = sqlx::query("UPDATE users SET role = $2 WHERE name = $1 RETURNING *")
            .bind(name)
            .bind(role.as_str())
            .fetch_one(&mut *tx)
            .await?;
        if before != role.as_str() {
            Record {
                actor,
                action: Action::SetRole,
                owner: Some(name),
                target: name,
                details: json!({ "role": role, "was": before }),
            }
            .write(&mut tx)
            .await?;
        }
        tx.commit().await?;
        user_from(&row)
    }

    async fn create_token(&self, actor: &str, new: &NewToken) -> Result<(String, TokenInfo)> {
        if new.scopes.is_empty() {
            return Err(StoreError::BadRequest(
                "a token needs at least one scope: publish, run or admin".into(),
            ));
        }
        if let Some(label) = &new.label
            && (label.is_empty()
                || label.chars().count() > 100
                || label.chars().any(char::is_control))
        {
            return Err(StoreError::BadRequest(
                "a token's label is 1 to 100 printable characters".into(),
            ));
        }
        if new.expires_at.is_some_and(|t| t <= unix_now()) {
            return Err(StoreError::BadRequest(
                "the expiry must be in the future".into(),
            ));
        }
        let user = self.user(&new.user).await?;
        if new.scopes.contains(&Scope::Admin) && user.role != Role::Admin {
            return Err(StoreError::Forbidden(format!(
                "{} is not an admin, so no token of theirs may have the admin scope",
                new.user
            )));
        }
        let mut secret = [0u8; 24];
        rand::rng().fill_bytes(&mut secret);
        let token = format!("{TOKEN_PREFIX}{}", hex::encode(secret));
        let mut tx = self.pool.begin().await?;
        // Counted in the statement that inserts, so racing requests cannot pass the cap.
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO tokens (user_id, hash, prefix, created_at, scopes, expires_at, label)
             SELECT id, $2, $3, $4, $5, $6, $7 FROM users WHERE name = $1
               AND (SELECT COUNT(*) FROM tokens t WHERE t.user_id = users.id AND t.revoked_at IS NULL
                    AND (t.expires_at IS NULL OR t.expires_at > $8)) < $9
             RETURNING id",
        )
        .bind(&new.user)
        .bind(hash(&token))
        .bind(&token[..TOKEN_PREFIX.len() + 6])
        .bind(crate::now())
        .bind(join(&new.scopes))
        .bind(new.expires_at)
        .bind(&new.label)
        .bind(unix_now())
        .bind(MAX_ACTIVE_TOKENS)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| {
            StoreError::Conflict(format!(
                "{} has {MAX_ACTIVE_TOKENS} active tokens, the most a user may have; revoke some first",
                new.user
            ))
        })?;
        Record {
            actor,
            action: Action::CreateToken,
            owner: Some(&new.user),
            target: &format!("token {id}"),
            details: json!({
                "scopes": new.scopes,
                "expires_at": new.expires_at.map(rfc3339),
                "label": new.label,
            }),
        }
        .write(&mut tx)
        .await?;
        tx.commit().await?;
        Ok((token, self.token(id).await?))
    }

    async fn token(&self, id: i64) -> Result<TokenInfo> {
        let row = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("token {id}")))?;
        token_from(&row)
    }

    async fn tokens(&self, user: Option<&str>) -> Result<Vec<TokenInfo>> {
        sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens t JOIN users u ON u.id = t.user_id
             WHERE ($1 IS NULL OR u.name = $1) ORDER BY t.id DESC"
        ))
        .bind(user)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(token_from)
        .collect()
    }

    async fn revoke_token(&self, actor: &str, id: i64) -> Result<TokenInfo> {
        let mut tx = self.pool.begin().await?;
        let user: Option<String> = sqlx::query_scalar(
            "UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL
             RETURNING (SELECT name FROM users WHERE users.id = tokens.user_id)",
        )
        .bind(id)
        .bind(crate::now())
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(user) = &user {
            Record {
                actor,
                action: Action::RevokeToken,
                owner: Some(user),
                target: &format!("token {id}"),
                details: json!({}),
            }
            .write(&mut tx)
            .await?;
        }
        tx.commit().await?;
        self.token(id).await
    }

    async fn authenticate(&self, token: &str) -> Result<Principal> {
        let row = sqlx::query(
            "SELECT t.id, t.scopes, t.expires_at, t.revoked_at, u.name, u.role
             FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = $1",
        )
        .bind(hash(token))
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::Unauthorized("the token is not valid".into()))?;
        let id: i64 = row.try_get("id")?;
        if let Some(at) = row.try_get::<Option<String>, _>("revoked_at")? {
            return Err(StoreError::Unauthorized(format!(
                "token {id} was revoked at {at}"
            )));
        }
        let expires_at: Option<i64> = row.try_get("expires_at")?;
        if let Some(t) = expires_at.filter(|t| *t <= unix_now()) {
            return Err(StoreError::Unauthorized(format!(
                "token {id} expired at {}",
                rfc3339(t)
            )));
        }
        let role = Role::parse(row.try_get("role")?)?;
        let mut scopes = Scope::parse_list(row.try_get("scopes")?)?;
        if role != Role::Admin {
            scopes.remove(&Scope::Admin);
        }
        Ok(Principal {
            user: row.try_get("name")?,
            role,
            scopes,
            token: id,
            expires_at,
        })
    }
}
