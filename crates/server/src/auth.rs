//! Who is calling: the user behind a bearer token, when there is one.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use feather_store::StoreError;

use crate::error::ApiError;
use crate::state::AppState;

/// A caller that presented a valid token.
#[derive(Debug, Clone)]
pub struct User(pub String);

impl User {
    /// Refuses unless the caller owns `owner`'s models.
    pub fn must_own(&self, owner: &str) -> Result<(), ApiError> {
        if self.0 == owner {
            Ok(())
        } else {
            Err(StoreError::Forbidden(format!("only {owner} may change {owner}'s models")).into())
        }
    }
}

impl<S> FromRequestParts<S> for User
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let header = parts.headers.get(AUTHORIZATION).ok_or_else(|| {
            ApiError::from(StoreError::Unauthorized("this needs a token: send `Authorization: Bearer <token>` (create one with `feather token create`)".into()))
        })?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::from(StoreError::Unauthorized(
                    "the Authorization header must be `Bearer <token>`".into(),
                ))
            })?;
        Ok(Self(state.store.registry.authenticate(token).await?))
    }
}

/// The caller's user when a token is sent; anonymous otherwise. A token that is sent must be
/// valid.
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<User>);

impl<S> FromRequestParts<S> for MaybeUser
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if parts.headers.get(AUTHORIZATION).is_none() {
            return Ok(Self(None));
        }
        Ok(Self(Some(User::from_request_parts(parts, state).await?)))
    }
}
