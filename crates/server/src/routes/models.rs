//! Reading and deleting models and versions.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use feather_service::{exec, models};
use feather_store::bundle::Compression;
use feather_store::{Model, ModelPage, StoreError, Version, VersionDetail};
use futures::{StreamExt, stream};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{MaybeUser, User};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Path, Query};
use crate::state::AppState;

/// Search parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Words to find in owner, name, title or description.
    pub q: Option<String>,
    /// Only models with this tag.
    pub tag: Option<String>,
    /// Only this owner's models.
    pub owner: Option<String>,
    /// Page number, from 1.
    #[param(minimum = 1)]
    pub page: Option<i32>,
    /// Models per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<i32>,
}

/// Lists the versions of a model.
#[derive(Serialize, ToSchema)]
pub struct VersionList {
    pub versions: Vec<Version>,
}

/// Finds models.
#[utoipa::path(get, path = "/api/v1/models", tag = "models", params(SearchParams),
    responses((status = 200, body = ModelPage), (status = 400, body = ErrorBody)))]
pub async fn search(
    State(s): State<AppState>,
    caller: MaybeUser,
    Query(p): Query<SearchParams>,
) -> ApiResult<Json<ModelPage>> {
    let q = models::Search {
        q: p.q,
        tag: p.tag,
        owner: p.owner,
        // Out of range, negative numbers are refused as 0 is.
        page: p.page.map(|n| u32::try_from(n).unwrap_or(0)),
        per_page: p.per_page.map(|n| u32::try_from(n).unwrap_or(0)),
    };
    Ok(Json(models::search(&s.service, &caller.viewer(), q).await?))
}

/// One model, its tags and aliases.
#[utoipa::path(get, path = "/api/v1/models/{owner}/{name}", tag = "models", operation_id = "show_model",
    responses((status = 200, body = Model), (status = 404, body = ErrorBody)))]
pub async fn show(
    State(s): State<AppState>,
    caller: MaybeUser,
    Path((owner, name)): Path<(String, String)>,
) -> ApiResult<Json<Model>> {
    Ok(Json(
        models::model(&s.service, &caller.viewer(), &owner, &name).await?,
    ))
}

/// A model's versions, newest first.
#[utoipa::path(get, path = "/api/v1/models/{owner}/{name}/versions", tag = "models",
    responses((status = 200, body = VersionList), (status = 404, body = ErrorBody)))]
pub async fn versions(
    State(s): State<AppState>,
    caller: MaybeUser,
    Path((owner, name)): Path<(String, String)>,
) -> ApiResult<Json<VersionList>> {
    Ok(Json(VersionList {
        versions: models::versions(&s.service, &caller.viewer(), &owner, &name).await?,
    }))
}

/// One version with its manifest and provenance; `version` is a number or an alias such as `latest`.
#[utoipa::path(get, path = "/api/v1/models/{owner}/{name}/versions/{version}", tag = "models",
    responses((status = 200, body = VersionDetail), (status = 404, body = ErrorBody)))]
pub async fn version(
    State(s): State<AppState>,
    caller: MaybeUser,
    Path((owner, name, version)): Path<(String, String, String)>,
) -> ApiResult<Json<VersionDetail>> {
    Ok(Json(
        models::version(&s.service, &caller.viewer(), &owner, &name, &version).await?,
    ))
}

/// The version's bundle archive, as published.
#[utoipa::path(get, path = "/api/v1/models/{owner}/{name}/versions/{version}/bundle", tag = "models",
    responses((status = 200, description = "a .tar.gz or .tar.zst archive", content(("application/gzip"), ("application/zstd"))),
              (status = 404, body = ErrorBody)))]
pub async fn bundle(
    State(s): State<AppState>,
    caller: MaybeUser,
    Path((owner, name, version)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let models::BundleDownload {
        detail: v,
        size,
        bytes: mut first,
    } = models::bundle(&s.service, &caller.viewer(), &owner, &name, &version).await?;
    // The compression is read off the first bytes, so the name and type match the content.
    let head = first.next().await.transpose()?.unwrap_or_default();
    let kind = Compression::sniff(&head).unwrap_or(Compression::Gzip);
    let body =
        Body::from_stream(stream::once(async move { Ok::<_, StoreError>(head) }).chain(first));
    let file = format!(
        "{name}-{}.{}",
        v.version.version,
        kind.file_name().trim_start_matches("bundle.")
    );
    Ok((
        [
            (header::CONTENT_TYPE, kind.media_type().to_owned()),
            (header::CONTENT_LENGTH, size.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
            (header::ETAG, format!("\"{}\"", v.version.digest)),
        ],
        body,
    )
        .into_response())
}

/// Deletes one version (the owner only). Its number is never reused.
#[utoipa::path(delete, path = "/api/v1/models/{owner}/{name}/versions/{version}", tag = "models",
    security(("token" = [])),
    params(("owner" = String, Path), ("name" = String, Path),
           ("version" = String, Path, pattern = "^[0-9]+$", description = "the version's number (not an alias)")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_version(
    State(s): State<AppState>,
    user: User,
    Path((owner, name, version)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    models::delete_version(&s.service, &user.actor(), &owner, &name, &version).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes a model and all its versions (the owner only).
#[utoipa::path(delete, path = "/api/v1/models/{owner}/{name}", tag = "models",
    security(("token" = [])),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_model(
    State(s): State<AppState>,
    user: User,
    Path((owner, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    models::delete_model(&s.service, &user.actor(), &owner, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The model's own OpenAPI document: its predict and run routes with the inputs its manifest
/// describes. `name` may end in `@version` or `@alias` (default: latest).
#[utoipa::path(get, path = "/api/v1/models/{owner}/{name}/openapi.json", tag = "models",
    responses((status = 200, description = "an OpenAPI 3.1 document", content_type = "application/json"), (status = 404, body = ErrorBody)))]
pub async fn openapi(
    State(s): State<AppState>,
    caller: MaybeUser,
    Path((owner, name)): Path<(String, String)>,
) -> ApiResult<Json<serde_json::Value>> {
    let t = exec::resolve(&s.service, &owner, &name, &caller.viewer()).await?;
    Ok(Json(crate::model_doc::document(
        &t.manifest,
        &t.detail.owner,
        &t.detail.name,
        t.detail.version.version,
    )))
}

/// Who the caller's token belongs to, and what it may do.
#[derive(serde::Serialize, ToSchema)]
pub struct Me {
    pub user: String,
    pub role: feather_store::Role,
    /// The token's scopes, as they apply now (admin only while the user is an admin).
    pub scopes: Vec<feather_store::Scope>,
    /// The token's id, as `feather token list` shows it.
    pub token: i64,
    pub expires_at: Option<String>,
}

/// The user the bearer token belongs to (401 without a valid token).
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", security(("token" = [])),
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn me(User(p): User) -> Json<Me> {
    Json(Me {
        user: p.user,
        role: p.role,
        scopes: p.scopes.into_iter().collect(),
        token: p.token,
        expires_at: p.expires_at.map(feather_store::accounts::rfc3339),
    })
}

/// A file of the version's bundle, such as an example image its manifest shows. Served in a
/// sandbox: a bundle is anyone's upload, so nothing in it may run as this site.
#[utoipa::path(get, path = "/api/v1/models/{owner}/{name}/versions/{version}/files/{path}", tag = "models",
    params(("path" = String, Path, description = "the file's path inside the bundle")),
    responses((status = 200, description = "the file's bytes, with the type its name says", content_type = "*/*"), (status = 404, body = ErrorBody)))]
pub async fn bundle_file(
    State(s): State<AppState>,
    caller: MaybeUser,
    Path((owner, name, version, path)): Path<(String, String, String, String)>,
) -> ApiResult<Response> {
    let (bytes, media_type) =
        exec::bundle_file(&s.service, &owner, &name, &version, &path, &caller.viewer()).await?;
    let cache = if version.parse::<i64>().is_ok() {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    Ok((
        [
            (header::CONTENT_TYPE, media_type),
            (header::CACHE_CONTROL, cache.to_owned()),
            (
                header::CONTENT_SECURITY_POLICY,
                crate::routes::FILE_CSP.to_owned(),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        Body::from(bytes),
    )
        .into_response())
}
