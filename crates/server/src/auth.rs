//! Who is calling, and what they may do: the principal behind a bearer token, its scopes, and
//! the rules every route applies through these methods.

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

    /// Refuses unless the token carries `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        Ok(self.actor().require(scope)?)
    }

    /// Refuses unless the caller is an admin acting as one.
    pub fn must_be_admin(&self) -> Result<(), ApiError> {
        Ok(self.actor().must_be_admin()?)
    }

    /// Refuses unless the caller may change `owner`'s models: the owner with a publish token,
    /// or an admin.
    pub fn must_manage(&self, owner: &str) -> Result<(), ApiError> {
        Ok(self.actor().must_manage(owner)?)
    }

    pub fn viewer(&self) -> Viewer {
        Viewer {
            user: Some(self.name().to_owned()),
            admin: self.0.is_admin(),
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
        Ok(Self(state.store.registry.authenticate(token).await?))
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
    pub fn runner(&self) -> Result<Option<&User>, ApiError> {
        if let Some(u) = &self.0 {
            u.require(Scope::Run)?;
        }
        Ok(self.0.as_ref())
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
