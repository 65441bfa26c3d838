//! Publishing a new version: a multipart upload of the manifest and the bundle.

use axum::Json;
use axum::extract::multipart::{Field, MultipartRejection};
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use feather_service::models;
use feather_spec::strict::StrictError;
use feather_spec::{Manifest, Problem, Problems};
use feather_store::{Published, StoreError, Upload, Visibility};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::auth::User;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::routes::base_url;
use crate::state::AppState;

/// The manifest part may be at most this large.
const MAX_MANIFEST: usize = 4 << 20;

/// The parts of a publish request.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct PublishForm {
    /// The manifest, JSON.
    #[schema(value_type = feather_spec::Manifest)]
    manifest: String,
    /// The bundle: a tar archive compressed with gzip or zstd.
    #[schema(value_type = String, format = Binary)]
    bundle: Vec<u8>,
    /// `public` or `private`; a new model is public unless this says otherwise, and an
    /// existing one keeps its visibility.
    #[schema(nullable = false)]
    visibility: Option<feather_store::Visibility>,
}

/// A new version, and where to find it.
#[derive(Serialize, ToSchema)]
pub struct PublishResponse {
    #[serde(flatten)]
    pub published: Published,
    /// The model's resource.
    pub url: String,
    /// The new version's resource.
    pub api: String,
    /// The model's page in the portal.
    pub page: String,
}

/// Publishes a new version of `<token's user>/<manifest name>`; numbers go 1, 2, 3...
#[utoipa::path(post, path = "/api/v1/models", tag = "models", security(("token" = [])),
    request_body(content = PublishForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, body = PublishResponse),
        (status = 400, body = ErrorBody, description = "a part is missing or unreadable"),
        (status = 401, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody, description = "not multipart, or the bundle is not .tar.gz/.tar.zst"),
        (status = 422, body = ErrorBody, description = "invalid manifest (with each problem's path) or unsafe bundle")))]
pub async fn publish(
    State(s): State<AppState>,
    user: User,
    headers: HeaderMap,
    form: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Json<PublishResponse>)> {
    let mut form = form.map_err(|e| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!(
                "send multipart/form-data with parts `manifest` and `bundle` ({})",
                e.body_text()
            ),
        )
    })?;
    models::may_publish(&user.actor())?;
    let (mut manifest, mut upload): (Option<Manifest>, Option<Upload>) = (None, None);
    let mut visibility = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| ApiError::bad_request(e.body_text()))?
    {
        let name = field.name().unwrap_or_default();
        let given = match name {
            "manifest" => manifest.is_some(),
            "bundle" => upload.is_some(),
            "visibility" => visibility.is_some(),
            _ => false,
        };
        if given {
            return Err(ApiError::bad_request(format!(
                "the part `{name}` is given twice; send each part once"
            )));
        }
        match field.name() {
            // Checked as soon as it arrives, so a bad manifest is refused before a large bundle
            // is received.
            Some("manifest") => {
                let json = read_manifest(field).await?;
                manifest = Some(Manifest::parse(&json).map_err(StoreError::InvalidManifest)?);
            }
            Some("bundle") => upload = Some(s.service.store.receive(field).await?),
            Some("visibility") => visibility = Some(read_visibility(field).await?),
            other => {
                return Err(ApiError::bad_request(format!(
                    "unexpected part {:?}: send `manifest`, `bundle` and optionally `visibility`",
                    other.unwrap_or("")
                )));
            }
        }
    }
    let manifest =
        manifest.ok_or_else(|| ApiError::bad_request("the `manifest` part is missing"))?;
    let upload = upload.ok_or_else(|| ApiError::bad_request("the `bundle` part is missing"))?;
    let new = models::NewVersion {
        owner: None,
        manifest: &manifest,
        upload: &upload,
        visibility,
        number: None,
    };
    // The environment builds and a worker warms up while the client reads the answer.
    let published = models::publish(&s.service, &user.actor(), new).await?;
    let base = base_url(&s, &headers);
    let url = format!("{base}/api/v1/models/{}", published.model);
    let api = format!("{url}/versions/{}", published.version);
    let page = format!("{base}/m/{}", published.model);
    Ok((
        StatusCode::CREATED,
        Json(PublishResponse {
            published,
            url,
            api,
            page,
        }),
    ))
}

async fn read_visibility(mut field: Field<'_>) -> ApiResult<Visibility> {
    let mut buf = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| ApiError::bad_request(e.body_text()))?
    {
        buf.extend_from_slice(&chunk);
        if buf.len() > 16 {
            break;
        }
    }
    match buf.trim_ascii() {
        b"public" => Ok(Visibility::Public),
        b"private" => Ok(Visibility::Private),
        _ => Err(ApiError::bad_request(
            "the `visibility` part is `public` or `private`",
        )),
    }
}

async fn read_manifest(mut field: Field<'_>) -> ApiResult<Value> {
    let mut buf = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| ApiError::bad_request(e.body_text()))?
    {
        buf.extend_from_slice(&chunk);
        if buf.len() > MAX_MANIFEST {
            return Err(StoreError::TooLarge {
                what: "the manifest".into(),
                limit: MAX_MANIFEST as u64,
            }
            .into());
        }
    }
    feather_spec::strict::from_slice(&buf).map_err(|e| match e {
        StrictError::Syntax(e) => {
            ApiError::bad_request(format!("the manifest is not valid JSON: {e}"))
        }
        // What the manifest says must not depend on which of two values a reader keeps.
        StrictError::Duplicate { pointer, key } => {
            StoreError::InvalidManifest(Problems(vec![Problem::new(
                pointer,
                format!("the key {key:?} is given twice"),
            )]))
            .into()
        }
    })
}
