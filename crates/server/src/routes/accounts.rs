//! Users, tokens and the audit log.

use axum::extract::State;
use axum::http::StatusCode;
use feather_service::accounts::{self, TokenRequest};
use feather_store::{Action, AuditPage, AuditQuery, Role, Scope, TokenInfo, UserInfo};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::User;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::state::AppState;

/// A token to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// Whose token it is: the caller by default; another user's needs an admin.
    #[schema(pattern = r"^[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?$")]
    pub user: Option<String>,
    /// What it may do; no more than the calling token may, unless an admin calls.
    #[schema(min_items = 1)]
    pub scopes: Vec<Scope>,
    /// Days until it expires, 1 to 3650; none: as long as the calling token lives.
    #[schema(minimum = 1, maximum = 3650)]
    #[serde(default, deserialize_with = "crate::extract::whole_opt")]
    pub expires_in_days: Option<u32>,
    /// A name to tell it apart, such as the machine it is for.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]+$"
    )]
    pub label: Option<String>,
}

/// A new token: shown this once, only its hash is kept.
#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    pub token: String,
    #[serde(flatten)]
    pub info: TokenInfo,
}

#[derive(Serialize, ToSchema)]
pub struct TokenList {
    pub tokens: Vec<TokenInfo>,
}

/// Whose tokens to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenParams {
    /// Another user's tokens (admins only); the caller's by default.
    pub user: Option<String>,
}

/// Creates a token. A token cannot make one that may do more, or live longer, than itself (by
/// default the new one expires with it); admins may make tokens for anyone.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "accounts", security(("token" = [])),
    request_body = CreateToken,
    responses((status = 201, body = CreatedToken), (status = 400, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create_token(
    State(s): State<AppState>,
    caller: User,
    Json(req): Json<CreateToken>,
) -> ApiResult<(StatusCode, axum::Json<CreatedToken>)> {
    let req = TokenRequest {
        user: req.user,
        scopes: req.scopes.into_iter().collect(),
        expires_in_days: req.expires_in_days,
        label: req.label,
    };
    let (token, info) = accounts::create_token(&s.service.store, &caller.actor(), req).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedToken { token, info }),
    ))
}

/// Lists tokens (never the tokens themselves): the caller's, or a user's for an admin.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "accounts", security(("token" = [])), params(TokenParams),
    responses((status = 200, body = TokenList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_tokens(
    State(s): State<AppState>,
    caller: User,
    Query(p): Query<TokenParams>,
) -> ApiResult<axum::Json<TokenList>> {
    let tokens = accounts::tokens(&s.service.store, &caller.actor(), p.user.as_deref()).await?;
    Ok(axum::Json(TokenList { tokens }))
}

/// Revokes a token at once: the caller's own, or anyone's for an admin.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "accounts", security(("token" = [])),
    responses((status = 200, body = TokenInfo), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_token(
    State(s): State<AppState>,
    caller: User,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<TokenInfo>> {
    Ok(axum::Json(
        accounts::revoke_token(&s.service.store, &caller.actor(), id).await?,
    ))
}

#[derive(Serialize, ToSchema)]
pub struct UserList {
    pub users: Vec<UserInfo>,
}

/// A user to create (admins only).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    #[schema(pattern = r"^[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?$")]
    pub name: String,
    /// `developer` by default.
    pub role: Option<Role>,
}

/// A user's new role.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetRole {
    pub role: Role,
}

/// Lists users (admins only).
#[utoipa::path(get, path = "/api/v1/users", tag = "accounts", security(("token" = [])),
    responses((status = 200, body = UserList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_users(
    State(s): State<AppState>,
    caller: User,
) -> ApiResult<axum::Json<UserList>> {
    Ok(axum::Json(UserList {
        users: accounts::users(&s.service.store, &caller.actor()).await?,
    }))
}

/// Creates a user (admins only); give them a token with `POST /api/v1/tokens`.
#[utoipa::path(post, path = "/api/v1/users", tag = "accounts", security(("token" = [])),
    request_body = CreateUser,
    responses((status = 201, body = UserInfo), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_user(
    State(s): State<AppState>,
    caller: User,
    Json(req): Json<CreateUser>,
) -> ApiResult<(StatusCode, axum::Json<UserInfo>)> {
    let role = req.role.unwrap_or(Role::Developer);
    let user = accounts::create_user(&s.service.store, &caller.actor(), &req.name, role).await?;
    Ok((StatusCode::CREATED, axum::Json(user)))
}

/// Changes a user's role (admins only).
#[utoipa::path(patch, path = "/api/v1/users/{name}", tag = "accounts", security(("token" = [])),
    request_body = SetRole,
    responses((status = 200, body = UserInfo), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "the user is the last admin")))]
pub async fn set_role(
    State(s): State<AppState>,
    caller: User,
    Path(name): Path<String>,
    Json(req): Json<SetRole>,
) -> ApiResult<axum::Json<UserInfo>> {
    Ok(axum::Json(
        accounts::set_role(&s.service.store, &caller.actor(), &name, req.role).await?,
    ))
}

/// Which entries of the audit log to read, newest first.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Only what this user did.
    pub actor: Option<String>,
    /// Only what concerned this user's models and tokens.
    pub owner: Option<String>,
    /// Only this action, such as `model.publish` or `token.revoke`.
    #[param(value_type = Option<crate::openapi::schemas::AuditAction>)]
    pub action: Option<String>,
    /// Only entries older than this id (the previous page's `next_before`).
    pub before: Option<i64>,
    /// Entries per page, 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i32>,
}

/// The audit log: publishes, deletions, alias and sharing changes, token and user actions.
/// Admins read all of it; others what they did and what concerned them.
#[utoipa::path(get, path = "/api/v1/audit", tag = "accounts", security(("token" = [])), params(AuditParams),
    responses((status = 200, body = AuditPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn audit(
    State(s): State<AppState>,
    caller: User,
    Query(p): Query<AuditParams>,
) -> ApiResult<axum::Json<AuditPage>> {
    let q = AuditQuery {
        actor: p.actor,
        owner: p.owner,
        action: p.action.as_deref().map(Action::parse).transpose()?,
        concerning: None,
        before: p.before,
        limit: p.limit.map_or(100, |n| u32::try_from(n).unwrap_or(0)),
    };
    Ok(axum::Json(
        accounts::audit(&s.service.store, &caller.actor(), q).await?,
    ))
}
