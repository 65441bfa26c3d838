//! Users and their API tokens. A token is shown once; only its SHA-256 is stored.

use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::{Result, StoreError};
use crate::registry::Registry;

const TOKEN_PREFIX: &str = "ftr_";

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Registry {
    /// Creates `user` if needed and a new token for it; returns the token, which is not kept.
    pub async fn create_token(&self, user: &str, now: &str) -> Result<String> {
        if !feather_spec::manifest::is_slug(user, 64) {
            return Err(StoreError::BadRequest(format!(
                "user name {user:?} must be 1 to 64 of a-z 0-9 - _ . starting and ending with a letter or digit"
            )));
        }
        let mut secret = [0u8; 24];
        rand::rng().fill_bytes(&mut secret);
        let token = format!("{TOKEN_PREFIX}{}", hex::encode(secret));
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO users (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(user)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO tokens (user_id, hash, prefix, created_at)
             SELECT id, $2, $3, $4 FROM users WHERE name = $1",
        )
        .bind(user)
        .bind(hash(&token))
        .bind(&token[..TOKEN_PREFIX.len() + 6])
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(token)
    }

    /// The user a token belongs to.
    pub async fn authenticate(&self, token: &str) -> Result<String> {
        sqlx::query_scalar(
            "SELECT users.name FROM tokens JOIN users ON users.id = tokens.user_id
             WHERE tokens.hash = $1 AND tokens.revoked_at IS NULL",
        )
        .bind(hash(token))
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| {
            StoreError::Unauthorized("the token is not valid (unknown or revoked)".into())
        })
    }
}
