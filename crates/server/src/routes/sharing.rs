//! Who may see a model, and where its aliases point: changed by its owner or an admin.

use axum::extract::State;
use axum::http::StatusCode;
use feather_service::models;
use feather_store::{Grant, Model, Visibility};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::User;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::state::AppState;

/// Changes to a model's settings.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelChange {
    pub visibility: Visibility,
}

/// Makes a model public or private.
#[utoipa::path(patch, path = "/api/v1/models/{owner}/{name}", tag = "models", security(("token" = [])),
    request_body = ModelChange,
    responses((status = 200, body = Model), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn change(
    State(s): State<AppState>,
    user: User,
    Path((owner, name)): Path<(String, String)>,
    Json(change): Json<ModelChange>,
) -> ApiResult<axum::Json<Model>> {
    Ok(axum::Json(
        models::set_visibility(&s.service, &user.actor(), &owner, &name, change.visibility).await?,
    ))
}

#[derive(Serialize, ToSchema)]
pub struct GrantList {
    pub grants: Vec<Grant>,
}

/// The users a model is shared with.
#[utoipa::path(get, path = "/api/v1/models/{owner}/{name}/grants", tag = "models", security(("token" = [])),
    responses((status = 200, body = GrantList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn grants(
    State(s): State<AppState>,
    user: User,
    Path((owner, name)): Path<(String, String)>,
) -> ApiResult<axum::Json<GrantList>> {
    Ok(axum::Json(GrantList {
        grants: models::grants(&s.service, &user.actor(), &owner, &name).await?,
    }))
}

/// Lets a user see and run a private model. Granting twice changes nothing.
#[utoipa::path(put, path = "/api/v1/models/{owner}/{name}/grants/{user}", tag = "models", security(("token" = [])),
    params(("owner" = String, Path), ("name" = String, Path), ("user" = String, Path, pattern = r"^[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?$")),
    responses((status = 204), (status = 409, body = ErrorBody, description = "the user owns the model"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn grant(
    State(s): State<AppState>,
    user: User,
    Path((owner, name, to)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    models::grant(&s.service, &user.actor(), &owner, &name, &to).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Takes a grant back; the user no longer sees a private model.
#[utoipa::path(delete, path = "/api/v1/models/{owner}/{name}/grants/{user}", tag = "models", security(("token" = [])),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn ungrant(
    State(s): State<AppState>,
    user: User,
    Path((owner, name, to)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    models::ungrant(&s.service, &user.actor(), &owner, &name, &to).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Where an alias should point.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AliasTarget {
    #[serde(deserialize_with = "crate::extract::whole")]
    pub version: i64,
}

/// An alias and the version it names.
#[derive(Serialize, ToSchema)]
pub struct AliasView {
    pub alias: String,
    pub version: i64,
    /// The version it named before, if it existed.
    pub previous: Option<i64>,
}

/// Points an alias (such as `prod`) at a version; `latest` moves only by publishing.
#[utoipa::path(put, path = "/api/v1/models/{owner}/{name}/aliases/{alias}", tag = "models", security(("token" = [])),
    params(("owner" = String, Path), ("name" = String, Path), ("alias" = String, Path, pattern = r"^[a-z]([a-z0-9._-]{0,62}[a-z0-9])?$")),
    request_body = AliasTarget,
    responses((status = 200, body = AliasView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn set_alias(
    State(s): State<AppState>,
    user: User,
    Path((owner, name, alias)): Path<(String, String, String)>,
    Json(target): Json<AliasTarget>,
) -> ApiResult<axum::Json<AliasView>> {
    let previous = models::set_alias(
        &s.service,
        &user.actor(),
        &owner,
        &name,
        &alias,
        target.version,
    )
    .await?;
    Ok(axum::Json(AliasView {
        alias,
        version: target.version,
        previous,
    }))
}

/// Removes an alias.
#[utoipa::path(delete, path = "/api/v1/models/{owner}/{name}/aliases/{alias}", tag = "models", security(("token" = [])),
    params(("owner" = String, Path), ("name" = String, Path), ("alias" = String, Path, pattern = r"^[a-z]([a-z0-9._-]{0,62}[a-z0-9])?$")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_alias(
    State(s): State<AppState>,
    user: User,
    Path((owner, name, alias)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    models::delete_alias(&s.service, &user.actor(), &owner, &name, &alias).await?;
    Ok(StatusCode::NO_CONTENT)
}
