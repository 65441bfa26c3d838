//! Users, roles and tokens in SQL.

use async_trait::async_trait;
use rand::RngCore;
use serde_json::json;
use sqlx::Row;

use super::{DbRow, Engine, FOR_UPDATE, audit};
use crate::accounts::*;
use crate::audit::{Action, Record};
use crate::error::{Result, StoreError};

const TOKEN_COLUMNS: &str = "t.id, u.name AS user_name, t.label, t.prefix, t.scopes, t.created_at, t.expires_at, t.revoked_at";

fn token_from(row: &DbRow) -> Result<TokenInfo> {
    let scopes: String = row.try_get("scopes")?;
    Ok(TokenInfo {
        id: row.try_get("id")?,
        user: row.try_get("user_name")?,
        label: row.try_get("label")?,
        prefix: row.try_get("prefix")?,
        scopes: Scope::parse_list(&scopes)?.into_iter().collect(),
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

fn user_from(row: &DbRow) -> Result<UserInfo> {
    Ok(UserInfo {
        name: row.try_get("name")?,
        role: Role::parse(row.try_get("role")?)?,
        created_at: row.try_get("created_at")?,
    })
}

#[async_trait]
impl AccountRegistry for Engine {
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
        audit::write(
            &mut tx,
            Record {
                actor,
                action: Action::CreateUser,
                owner: Some(name),
                target: name,
                details: json!({ "role": role }),
            },
        )
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
            // Locked until the transaction ends: two admins demoting each other at once must not
            // both see the other still an admin (PostgreSQL reads committed rows only; SQLite
            // has one writer).
            let admins: Vec<i64> = sqlx::query_scalar(&format!(
                "SELECT id FROM users WHERE role = 'admin'{FOR_UPDATE}"
            ))
            .fetch_all(&mut *tx)
            .await?;
            if admins.len() <= 1 {
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
            audit::write(
                &mut tx,
                Record {
                    actor,
                    action: Action::SetRole,
                    owner: Some(name),
                    target: name,
                    details: json!({ "role": role, "was": before }),
                },
            )
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
        // On PostgreSQL the user's row is locked first, so a token made meanwhile is counted:
        // the insert's snapshot is taken after the lock. SQLite has one writer at a time, and a
        // read first would make its transaction a reader that cannot become the writer.
        if !FOR_UPDATE.is_empty() {
            sqlx::query(&format!("SELECT id FROM users WHERE name = $1{FOR_UPDATE}"))
                .bind(&new.user)
                .fetch_optional(&mut *tx)
                .await?;
        }
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
        .bind(new.expires_at.map(rfc3339))
        .bind(&new.label)
        .bind(crate::now())
        .bind(MAX_ACTIVE_TOKENS)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| {
            StoreError::Conflict(format!(
                "{} has {MAX_ACTIVE_TOKENS} active tokens, the most a user may have; revoke some first",
                new.user
            ))
        })?;
        audit::write(
            &mut tx,
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
            },
        )
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
            audit::write(
                &mut tx,
                Record {
                    actor,
                    action: Action::RevokeToken,
                    owner: Some(user),
                    target: &format!("token {id}"),
                    details: json!({}),
                },
            )
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
        let expires_at: Option<String> = row.try_get("expires_at")?;
        if let Some(t) = expires_at.as_ref().filter(|t| **t <= crate::now()) {
            return Err(StoreError::Unauthorized(format!(
                "token {id} expired at {t}"
            )));
        }
        let expires_at = expires_at.as_deref().and_then(crate::unix_of);
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
