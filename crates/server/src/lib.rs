//! The feather HTTP server.
//!
//! It owns the HTTP surface: routes and their thin handlers ([`routes`]), who is calling
//! ([`auth`]), the one error shape and its status table ([`error`]), and the OpenAPI document
//! generated from the handlers ([`openapi`]). Work is done by `feather-store`; this crate
//! extracts, calls and maps.

pub mod auth;
pub mod error;
mod extract;
pub mod listen;
mod model_doc;
pub mod openapi;
#[cfg(feature = "portal")]
mod portal;
pub mod rate;
pub mod routes;
pub mod state;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use feather_runner::{Runner, RunnerConfig};
use feather_service::Service;
use feather_store::{BundleLimits, Places, Store};
use tower_http::trace::TraceLayer;

pub use error::ApiError;
pub use state::AppState;

/// How to run a server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub data: PathBuf,
    /// Where the registry and the blobs are: by default in the data folder.
    pub places: Places,
    pub addr: SocketAddr,
    pub limits: BundleLimits,
    pub public_url: Option<String>,
    pub runner: RunnerConfig,
    pub rate: rate::RateConfig,
    /// Origins whose pages may call the API from a browser (CORS); none: this server's only.
    pub cors_origins: Vec<String>,
    /// How long clients may take, and how many may be connected at once.
    pub http: listen::HttpLimits,
    /// How much may be uploaded, and how long files and runs are kept.
    pub files: feather_service::exec::files::FilePolicy,
}

/// The largest JSON body of a step's inputs, files inline included.
const INPUTS_LIMIT: usize = 64 << 20;

/// All routes, on the given state.
pub fn router(state: AppState) -> Router {
    use routes::{accounts, health, models, oip, publish, runs, scoring, sharing};
    let api = Router::new()
        .route(
            "/models",
            get(models::search)
                .post(publish::publish)
                .layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/models/{owner}/{name}",
            get(models::show)
                .patch(sharing::change)
                .delete(models::delete_model),
        )
        .route("/models/{owner}/{name}/grants", get(sharing::grants))
        .route(
            "/models/{owner}/{name}/grants/{user}",
            axum::routing::put(sharing::grant).delete(sharing::ungrant),
        )
        .route(
            "/models/{owner}/{name}/aliases/{alias}",
            axum::routing::put(sharing::set_alias).delete(sharing::delete_alias),
        )
        .route(
            "/tokens",
            get(accounts::list_tokens).post(accounts::create_token),
        )
        .route(
            "/tokens/{id}",
            axum::routing::delete(accounts::revoke_token),
        )
        .route(
            "/users",
            get(accounts::list_users).post(accounts::create_user),
        )
        .route("/users/{name}", axum::routing::patch(accounts::set_role))
        .route("/audit", get(accounts::audit))
        .route("/models/{owner}/{name}/versions", get(models::versions))
        .route("/models/{owner}/{name}/openapi.json", get(models::openapi))
        .route("/me", get(models::me))
        .route(
            "/models/{owner}/{name}/versions/{version}",
            get(models::version).delete(models::delete_version),
        )
        .route(
            "/models/{owner}/{name}/versions/{version}/files/{*path}",
            get(models::bundle_file),
        )
        .route(
            "/models/{owner}/{name}/versions/{version}/bundle",
            get(models::bundle),
        )
        .route(
            "/models/{owner}/{name}/versions/{version}/environment",
            get(runs::environment),
        )
        .route("/runs/{id}", get(runs::show))
        .route("/files/{id}", get(runs::file));
    // Running models and uploading their files: rate-limited. Inputs may carry files as
    // data: URLs.
    let running = Router::new()
        .route(
            "/models/{owner}/{name}/runs",
            post(runs::start).layer(DefaultBodyLimit::max(INPUTS_LIMIT)),
        )
        .route(
            "/models/{owner}/{name}/predict",
            post(runs::predict).layer(DefaultBodyLimit::max(INPUTS_LIMIT)),
        )
        .route(
            "/runs/{id}/steps",
            post(runs::answer).layer(DefaultBodyLimit::max(INPUTS_LIMIT)),
        )
        // MLflow's scoring protocol: its own error shape.
        .route(
            "/models/{owner}/{name}/invocations",
            post(scoring::invocations)
                .layer(DefaultBodyLimit::max(INPUTS_LIMIT))
                .layer(axum::middleware::map_response(scoring::errors)),
        )
        // Capped by the file limit and the uploader's quota while it streams in.
        .route(
            "/files",
            post(runs::upload).layer(DefaultBodyLimit::disable()),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            rate::limit,
        ));
    let api = api.merge(running);
    // The Open Inference Protocol: the same service, its own paths and error shape; calls to
    // models count against the same rate limits as the REST API's.
    let v2_infer = Router::new()
        .route("/models/{owner}/{name}/infer", post(oip::infer))
        .route(
            "/models/{owner}/{name}/versions/{version}/infer",
            post(oip::version_infer),
        )
        .layer(DefaultBodyLimit::max(INPUTS_LIMIT))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            rate::limit,
        ));
    let v2 = Router::new()
        .route("/", get(oip::server))
        .route("/health/live", get(oip::live))
        .route("/health/ready", get(oip::ready))
        .route("/models/{owner}/{name}", get(oip::model))
        .route("/models/{owner}/{name}/ready", get(oip::model_ready))
        .route(
            "/models/{owner}/{name}/versions/{version}",
            get(oip::model_version),
        )
        .route(
            "/models/{owner}/{name}/versions/{version}/ready",
            get(oip::version_ready),
        )
        .merge(v2_infer)
        .fallback(|| async { ApiError::not_found("no such route of the Open Inference Protocol") })
        .layer(axum::middleware::map_response(oip::errors));
    let app = Router::new()
        .nest("/api/v1", api)
        .nest("/v2", v2)
        .route(
            "/api/openapi.json",
            get(|| async { Json(openapi::document()) }),
        )
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics));
    #[cfg(feature = "portal")]
    let app = app.merge(portal::routes());
    let app = app
        .fallback(|| async {
            ApiError::not_found("no such route; the API is described at /api/openapi.json")
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not take that method",
            )
        })
        // A handler that panics is a fault of ours: its client gets the one error shape, not a
        // closed connection.
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            ApiError::internal("a request's handler panicked").into_response()
        }))
        .layer(TraceLayer::new_for_http());
    // Outermost, so that preflight requests are answered before any route sees them.
    let app = if state.cors.is_empty() {
        app
    } else {
        app.layer(
            tower_http::cors::CorsLayer::new()
                .allow_origin(state.cors.to_vec())
                .allow_methods(tower_http::cors::Any)
                .allow_headers([
                    axum::http::header::AUTHORIZATION,
                    axum::http::header::CONTENT_TYPE,
                ]),
        )
    };
    app.with_state(state)
}

/// Opens the data folder for serving: refuses a folder another server holds, clears uploads
/// a previous run left, and collects blobs that no version uses.
pub async fn open(config: &ServerConfig) -> Result<(Store, std::fs::File), ServeError> {
    std::fs::create_dir_all(&config.data)?;
    let path = config.data.join("serve.lock");
    let mut lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)?;
    if lock.try_lock().is_err() {
        // The holder wrote who it is: say so, so the operator knows which server to stop.
        let holder = std::fs::read_to_string(&path).unwrap_or_default();
        let holder = holder.split_whitespace().collect::<Vec<_>>().join(" ");
        return Err(ServeError::Busy {
            data: config.data.clone(),
            holder: if holder.is_empty() {
                "another process".into()
            } else {
                holder
            },
        });
    }
    note_holder(&mut lock, &format!("pid {}", std::process::id()))?;
    let store = Store::open(&config.data, &config.places, config.limits).await?;
    tracing::info!(places = %config.places.describe(), "store opened");
    store.clear_tmp()?;
    if config.places == Places::default() {
        // Nothing else serves this folder (the lock says so), and the registry and blobs are
        // in it: no publish is in progress anywhere, so every blob no version uses goes.
        store.collect_garbage(0).await?;
    } else if store.may_collect(COLLECTOR_LEASE).await? {
        // Shared with other replicas, which may be publishing: only blobs past the age a
        // publish could take go, and only by the collector lease's holder.
        let fresh = feather_store::files::FRESH.as_secs() as i64;
        store.collect_garbage(fresh).await?;
    }
    Ok((store, lock))
}

/// Writes who holds the data folder into its lock file, for a second server to name.
fn note_holder(lock: &mut std::fs::File, who: &str) -> std::io::Result<()> {
    use std::io::{Seek, Write};
    lock.set_len(0)?;
    lock.seek(std::io::SeekFrom::Start(0))?;
    lock.write_all(who.as_bytes())
}

/// Serves until ctrl-c or SIGTERM; `ready` receives the bound address.
pub async fn serve(
    config: ServerConfig,
    ready: impl FnOnce(&Service, SocketAddr),
) -> Result<(), ServeError> {
    let (store, lock) = open(&config).await?;
    run(service(store, &config), lock, config, ready).await
}

/// Serves a store already opened with [`open`] (which holds the data folder's lock).
/// The service a server with this configuration runs, on an opened store: publishing through
/// it before the server listens (as `feather demo` does) prepares versions the same way.
pub fn service(store: Store, config: &ServerConfig) -> Service {
    Service::new(
        store,
        Arc::new(Runner::new(config.runner.clone())),
        config.files,
    )
}

pub async fn run(
    service: Service,
    mut lock: std::fs::File,
    config: ServerConfig,
    ready: impl FnOnce(&Service, SocketAddr),
) -> Result<(), ServeError> {
    let (store, runner) = (service.store.clone(), service.runner.clone());
    // Before listening: a change another replica commits from now on is heard.
    feather_service::follow::follow(&service).await?;
    let state = AppState::new(service, config.public_url.map(Arc::from))
        .with_rates(config.rate)
        .with_cors(&config.cors_origins)?;
    // Idle workers stop after their pool's idle time: scale to zero.
    let trimmer = runner.clone();
    let rates = state.rates.clone();
    let trim = tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(10)).await;
            trimmer.trim().await;
            rates.forget_idle();
        }
    });
    let collector = tokio::spawn(collect(store.clone(), config.files));
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    let addr = listener.local_addr()?;
    note_holder(
        &mut lock,
        &format!("pid {}, serving on http://{addr}", std::process::id()),
    )?;
    ready(&state.service, addr);
    listen::serve(
        listener,
        router(state),
        http_limits(config.http),
        shutdown(),
    )
    .await?;
    trim.abort();
    collector.abort();
    runner.close().await;
    store.close().await;
    Ok(())
}

/// Removes expired uploads and runs past their retention, now and then, in the background.
pub async fn collect(store: Store, policy: feather_service::exec::files::FilePolicy) {
    let mut last_sweep = std::time::Instant::now();
    loop {
        // Of replicas sharing a registry, the lease's holder collects; the others wait.
        let lease = COLLECTOR_LEASE.max(policy.collect_every * 3);
        let held = store.may_collect(lease).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "taking the collector's lease failed");
            false
        });
        if !held {
            tokio::time::sleep(policy.collect_every).await;
            continue;
        }
        if let Err(e) = store
            .collect_expired(policy.run_retention, policy.fresh)
            .await
        {
            tracing::warn!(error = %e, "collecting expired files and runs failed");
        }
        // Blobs a collection left because they were fresh, once they are not.
        if last_sweep.elapsed() >= ORPHAN_SWEEP {
            last_sweep = std::time::Instant::now();
            let grace = policy.fresh.as_secs() as i64;
            if let Err(e) = store.collect_orphans(grace).await {
                tracing::warn!(error = %e, "collecting orphaned blobs failed");
            }
        }
        tokio::time::sleep(policy.collect_every).await;
    }
}

/// How long the collector's lease lasts unless renewed: a replica that died holding it is
/// taken over after this.
const COLLECTOR_LEASE: std::time::Duration = std::time::Duration::from_secs(60);

/// How often blobs nothing names are looked for while serving.
const ORPHAN_SWEEP: std::time::Duration = std::time::Duration::from_secs(3600);

/// The connection cap, within what the process's file descriptors allow: their soft limit is
/// raised to the hard one, and a quarter of them is kept for workers, files and the database.
fn http_limits(mut limits: listen::HttpLimits) -> listen::HttpLimits {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut nofile = getrlimit(Resource::Nofile);
    if nofile.current < nofile.maximum {
        nofile.current = nofile.maximum;
        if setrlimit(Resource::Nofile, nofile).is_err() {
            nofile = getrlimit(Resource::Nofile);
        }
    }
    if let Some(fds) = nofile.current {
        let room = (fds as usize).saturating_sub(64) * 3 / 4;
        if limits.max_connections > room {
            tracing::warn!(
                asked = limits.max_connections,
                allowed = room,
                "--max-connections is more than the open-files limit allows; using less"
            );
            limits.max_connections = room.max(1);
        }
    }
    limits
}

async fn shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    tracing::info!("shutting down");
}

/// Why a server could not start, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("another feather server ({holder}) is using the data folder {}; stop it, or serve another folder with --data", data.display())]
    Busy { data: PathBuf, holder: String },
    #[error(transparent)]
    Store(#[from] feather_store::StoreError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Config(String),
}
