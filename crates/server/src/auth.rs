//! Who is calling: the principal behind a bearer token, as the service layer's [`Actor`]. The
//! rules about what it may do live there.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use feather_service::Actor;
use feather_store::{Principal, Scope, StoreError, Viewer};

use crate::error::ApiError;
use crate::state::AppState;

/// A caller that presented a valid token.
#[derive(Debug, Clone)]
pub struct User(pub Principal);

impl User {
    pub fn name(&self) -> &str {
        &self.0.user
    }

    /// The caller as the service layer sees it, where the rules live.
    pub fn actor(&self) -> Actor {
        Actor::Token(self.0.clone())
    }

    pub fn viewer(&self) -> Viewer {
        self.actor().viewer()
    }
}

impl<S> FromRequestParts<S> for User
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // The rate limiter checked the token already.
        if let Some(u) = parts.extensions.get::<User>() {
            return Ok(u.clone());
        }
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
        Ok(Self(
            state.service.store.registry.authenticate(token).await?,
        ))
    }
}

/// The caller's user when a token is sent; anonymous otherwise. A token that is sent must be
/// valid.
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<User>);

impl MaybeUser {
    pub fn viewer(&self) -> Viewer {
        self.0.as_ref().map(User::viewer).unwrap_or_default()
    }

    /// The caller, allowed to run models: anonymous, or a token with the run scope. A token
    /// narrows what its holder may do, so one without `run` is refused even where anonymous
    /// callers are not.
    pub fn runner(&self) -> Result<Option<Actor>, ApiError> {
        let actor = self.0.as_ref().map(User::actor);
        if let Some(a) = &actor {
            a.require(Scope::Run)?;
        }
        Ok(actor)
    }
}

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
