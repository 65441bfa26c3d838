//! `feather serve`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use feather_runner::RunnerConfig;
use feather_runner::env::{BuildPolicy, lock};
use feather_runner::onnx::OnnxConfig;
use feather_runner::pool::PoolLimits;
use feather_runner::sandbox::Limits;
use feather_server::ServerConfig;
use feather_server::listen::HttpLimits;
use feather_server::rate::RateConfig;
use feather_service::exec::files::FilePolicy;
use feather_store::BundleLimits;

use crate::DataArg;

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub data: DataArg,
    /// The address to listen on; port 0 picks a free one.
    #[arg(long, env = "FEATHER_ADDR", default_value = "127.0.0.1:7860")]
    pub addr: SocketAddr,
    /// The URL clients reach this server at, when behind a proxy [default: from each request].
    #[arg(long, env = "FEATHER_PUBLIC_URL")]
    public_url: Option<String>,
    /// Largest bundle upload, in bytes (compressed).
    #[arg(long, env = "FEATHER_MAX_UPLOAD", default_value_t = BundleLimits::default().max_upload)]
    max_upload: u64,
    /// Largest unpacked bundle, in bytes.
    #[arg(long, env = "FEATHER_MAX_UNPACKED", default_value_t = BundleLimits::default().max_unpacked)]
    max_unpacked: u64,
    /// The uv executable that builds models' Python environments.
    #[arg(long, env = "FEATHER_UV", default_value = "uv")]
    pub uv: PathBuf,
    /// Run models' code without the bubblewrap sandbox: any model can then read the data
    /// folder, other models and the network. For machines where namespaces are unavailable.
    #[arg(long, env = "FEATHER_INSECURE_NO_SANDBOX")]
    insecure_no_sandbox: bool,
    /// MiB of address space per worker: the default, and the most a model may ask for.
    #[arg(long, env = "FEATHER_MEMORY_MB", default_value_t = Limits::default().memory >> 20)]
    memory_mb: u64,
    /// Files a worker may hold open: the default, and the most a model may ask for.
    #[arg(long, env = "FEATHER_OPEN_FILES", default_value_t = Limits::default().open_files)]
    open_files: u64,
    /// MiB of the largest file a worker may write: the default, and the most a model may ask for.
    #[arg(long, env = "FEATHER_FILE_SIZE_MB", default_value_t = Limits::default().file_size >> 20)]
    file_size_mb: u64,
    /// Processes and threads per worker (applied when the server runs as root, where each
    /// worker has a user of its own): the default, and the most a model may ask for.
    #[arg(long, env = "FEATHER_PROCESSES", default_value_t = Limits::default().processes)]
    processes: u64,
    /// MiB a worker's scratch folder (a tmpfs, so memory) may hold: the default, and the most a
    /// model may ask for. /dev/shm gets as much again.
    #[arg(long, env = "FEATHER_SCRATCH_MB", default_value_t = Limits::default().scratch >> 20)]
    scratch_mb: u64,
    /// Seconds of CPU a step may use, all its threads counted: the default, and the most a
    /// model may ask for.
    #[arg(long, env = "FEATHER_CPU_SECONDS", default_value_t = Limits::default().cpu)]
    cpu_seconds: u64,
    /// The bubblewrap binary [default: `bwrap` on PATH].
    #[arg(long, env = "FEATHER_BWRAP")]
    bwrap: Option<PathBuf>,
    /// MiB of a step's outputs, files included: the default, and the most a model may ask for
    /// (at most 4095).
    #[arg(long, env = "FEATHER_OUTPUT_MB", default_value_t = Limits::default().output >> 20, value_parser = clap::value_parser!(u64).range(1..4096))]
    output_mb: u64,
    /// Runs per minute from each client address without a token (0: no limit).
    #[arg(long, env = "FEATHER_RATE_ANONYMOUS", default_value_t = RateConfig::default().anonymous_per_minute)]
    rate_anonymous: u32,
    /// Runs per minute with each token (0: no limit).
    #[arg(long, env = "FEATHER_RATE_TOKEN", default_value_t = RateConfig::default().token_per_minute)]
    rate_token: u32,
    /// An origin whose pages may call the API from a browser (CORS), e.g. https://example.org;
    /// repeat for several. None: only this server's own pages.
    #[arg(
        long = "cors-origin",
        env = "FEATHER_CORS_ORIGINS",
        value_delimiter = ','
    )]
    cors_origins: Vec<String>,
    /// Wall-clock limit of one step, in seconds.
    #[arg(long, env = "FEATHER_STEP_TIMEOUT", default_value_t = 60)]
    step_timeout: u64,
    /// Workers kept per version even when idle (0: scale to zero).
    #[arg(long, env = "FEATHER_MIN_WORKERS", default_value_t = 0)]
    min_workers: usize,
    /// Workers at most per version: steps of one version running at once.
    #[arg(long, env = "FEATHER_MAX_WORKERS", default_value_t = 2)]
    max_workers: usize,
    /// Seconds an idle worker waits before it stops.
    #[arg(long, env = "FEATHER_IDLE_TIMEOUT", default_value_t = 300)]
    idle_timeout: u64,
    /// Most requests one worker call takes when requests queue (1: no batching). A step
    /// declared with `batch=True` uses its own size.
    #[arg(long, env = "FEATHER_MAX_BATCH", default_value_t = PoolLimits::default().batch)]
    max_batch: usize,
    /// The longest step timeout, in seconds, a model may ask for in its manifest's limits.
    #[arg(long, env = "FEATHER_MAX_STEP_TIMEOUT", default_value_t = 900)]
    max_step_timeout: u64,
    /// The package index every model's requirements come from (PEP 503 simple API); a
    /// manifest cannot name another.
    #[arg(long, env = "FEATHER_PACKAGE_INDEX", default_value_t = BuildPolicy::default().index)]
    package_index: String,
    /// Install source distributions too. Their build backends are code the package's author
    /// wrote, so builds then run in the sandbox (bubblewrap, a user of their own, the network
    /// for the index only as far as the host allows). Without it, environments get wheels only.
    #[arg(long, env = "FEATHER_ALLOW_SOURCE_BUILDS")]
    allow_source_builds: bool,
    /// Seconds an environment build may take in all.
    #[arg(long, env = "FEATHER_BUILD_TIMEOUT", default_value_t = BuildPolicy::default().timeout.as_secs())]
    build_timeout: u64,
    /// MiB an environment build may write.
    #[arg(long, env = "FEATHER_BUILD_DISK_MB", default_value_t = BuildPolicy::default().disk >> 20)]
    build_disk_mb: u64,
    /// MiB of address space each process of a source build may have.
    #[arg(long, env = "FEATHER_BUILD_MEMORY_MB", default_value_t = BuildPolicy::default().memory >> 20)]
    build_memory_mb: u64,
    /// A lock file every environment keeps to: one pin (name==version) per line, as `uv pip
    /// compile` or `feather export` writes them. A package it names is installed at that
    /// version; a requirement it cannot meet fails the build.
    #[arg(long, env = "FEATHER_CONSTRAINTS")]
    pub constraints: Option<PathBuf>,
    /// uv's cache for wheel installs [default: uv's own for the server's user].
    #[arg(long, env = "FEATHER_UV_CACHE")]
    uv_cache: Option<PathBuf>,
    /// Seconds a client may take to send a request's head (request line and headers) from its
    /// first byte; past it the connection is closed.
    #[arg(long, env = "FEATHER_HEADER_TIMEOUT", default_value_t = HttpLimits::default().header_timeout.as_secs())]
    header_timeout: u64,
    /// Seconds a request body may keep the server waiting in all, plus one for every
    /// --body-min-rate bytes it delivered; past it the request gets 408.
    #[arg(long, env = "FEATHER_BODY_TIMEOUT", default_value_t = HttpLimits::default().body_timeout.as_secs())]
    body_timeout: u64,
    /// Bytes a second a request body must average never to be cut off.
    #[arg(long, env = "FEATHER_BODY_MIN_RATE", default_value_t = HttpLimits::default().body_min_rate)]
    body_min_rate: u64,
    /// Seconds a connection with nothing in flight stays open.
    #[arg(long, env = "FEATHER_KEEP_ALIVE_TIMEOUT", default_value_t = HttpLimits::default().keep_alive.as_secs())]
    keep_alive_timeout: u64,
    /// Connections open at once (within the open-files limit); more get 503 and are closed.
    #[arg(long, env = "FEATHER_MAX_CONNECTIONS", default_value_t = HttpLimits::default().max_connections)]
    max_connections: usize,
    /// MiB one uploaded file (POST /api/v1/files) may have.
    #[arg(long, env = "FEATHER_MAX_FILE_MB", default_value_t = FilePolicy::default().max_file >> 20)]
    max_file_mb: u64,
    /// MiB of files one user (all their tokens), or one address without a token, may have
    /// stored: uploads and the files sent with runs and predictions, while they are kept.
    #[arg(long, env = "FEATHER_UPLOAD_QUOTA_MB", default_value_t = FilePolicy::default().quota >> 20)]
    upload_quota_mb: u64,
    /// Seconds an upload, and a one-call prediction's files, are kept unless a run uses them.
    #[arg(long, env = "FEATHER_UPLOAD_TTL", default_value_t = FilePolicy::default().ttl.as_secs())]
    upload_ttl: u64,
    /// Days a run is kept after its last change, with its files and state (0: for good).
    #[arg(long, env = "FEATHER_RUN_RETENTION_DAYS", default_value_t = 30)]
    run_retention_days: u64,
    /// GB the runner's cache (unpacked bundles and environments) may hold; past it, what was
    /// used longest ago and no live worker uses is removed (0: no cap).
    #[arg(long, env = "FEATHER_RUNNER_CACHE_GB", default_value_t = 20)]
    runner_cache_gb: u64,
    /// Most entries in a bundle.
    #[arg(long, env = "FEATHER_MAX_FILES", default_value_t = BundleLimits::default().max_files)]
    max_files: u64,
    /// The ONNX Runtime library (libonnxruntime.so) that runs ONNX models [default: the
    /// onnxruntime wheel's, installed with uv into the data folder when a model first needs it].
    #[arg(long, env = "FEATHER_ONNXRUNTIME")]
    onnxruntime: Option<PathBuf>,
    /// Sessions per ONNX model, each running one batch of requests at a time [default: the
    /// number of CPUs].
    #[arg(long, env = "FEATHER_ONNX_SESSIONS")]
    onnx_sessions: Option<usize>,
    /// Threads each ONNX session's operators may use.
    #[arg(long, env = "FEATHER_ONNX_THREADS", default_value_t = 1)]
    onnx_threads: usize,
    /// MiB every ONNX model of the server may take together for weights and tensors; a run
    /// that needs more fails with the memory limit.
    #[arg(long, env = "FEATHER_ONNX_MEMORY_MB", default_value_t = OnnxConfig::default().memory >> 20)]
    onnx_memory_mb: usize,
}

impl ServeArgs {
    pub fn config(&self) -> anyhow::Result<ServerConfig> {
        let a = self;
        let data = a.data.resolve();
        let constraints = match &a.constraints {
            Some(file) => {
                let text = std::fs::read_to_string(file)
                    .with_context(|| format!("reading --constraints {}", file.display()))?;
                lock::parse(&text)
                    .map_err(|e| anyhow::anyhow!("--constraints {}: {e}", file.display()))?
            }
            None => Vec::new(),
        };
        Ok(ServerConfig {
            data: data.clone(),
            places: a.data.places(),
            addr: a.addr,
            limits: BundleLimits {
                max_upload: a.max_upload,
                max_unpacked: a.max_unpacked,
                max_files: a.max_files,
            },
            public_url: a.public_url.clone(),
            rate: RateConfig {
                anonymous_per_minute: a.rate_anonymous,
                token_per_minute: a.rate_token,
            },
            cors_origins: a.cors_origins.clone(),
            files: FilePolicy {
                max_file: a.max_file_mb << 20,
                quota: a.upload_quota_mb << 20,
                ttl: Duration::from_secs(a.upload_ttl.max(1)),
                run_retention: (a.run_retention_days > 0)
                    .then(|| Duration::from_secs(a.run_retention_days * 86_400)),
                ..FilePolicy::default()
            },
            http: HttpLimits {
                header_timeout: Duration::from_secs(a.header_timeout.max(1)),
                body_timeout: Duration::from_secs(a.body_timeout.max(1)),
                body_min_rate: a.body_min_rate,
                keep_alive: Duration::from_secs(a.keep_alive_timeout.max(1)),
                max_connections: a.max_connections.max(1),
                ..HttpLimits::default()
            },
            runner: RunnerConfig {
                pool: PoolLimits {
                    min: a.min_workers,
                    max: a.max_workers.max(1),
                    idle: Duration::from_secs(a.idle_timeout),
                    batch: a.max_batch.max(1),
                },
                step_timeout: Duration::from_secs(a.step_timeout),
                max_step_timeout: Duration::from_secs(a.max_step_timeout),
                insecure_no_sandbox: a.insecure_no_sandbox,
                bwrap: a.bwrap.clone(),
                limits: Limits {
                    memory: a.memory_mb << 20,
                    open_files: a.open_files,
                    file_size: a.file_size_mb << 20,
                    processes: a.processes,
                    scratch: a.scratch_mb << 20,
                    cpu: a.cpu_seconds,
                    output: a.output_mb << 20,
                },
                cache_cap: (a.runner_cache_gb > 0).then_some(a.runner_cache_gb << 30),
                build: BuildPolicy {
                    index: a.package_index.clone(),
                    allow_source_builds: a.allow_source_builds,
                    timeout: Duration::from_secs(a.build_timeout),
                    disk: a.build_disk_mb << 20,
                    memory: a.build_memory_mb << 20,
                    cache: a.uv_cache.clone(),
                    constraints,
                },
                onnx: OnnxConfig {
                    library: a
                        .onnxruntime
                        .as_ref()
                        .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone())),
                    sessions: a
                        .onnx_sessions
                        .unwrap_or(OnnxConfig::default().sessions)
                        .max(1),
                    threads: a.onnx_threads.max(1),
                    memory: a.onnx_memory_mb.max(1) << 20,
                    ..OnnxConfig::default()
                },
                ..RunnerConfig::new(&data.join("runner"), &a.uv)
            },
        })
    }
}

/// The line scripts wait for, and the log line people read.
pub fn announce(data: &std::path::Path, addr: SocketAddr) {
    tracing::info!(data = %data.display(), "feather is serving on http://{addr}");
    // One plain line on stdout, for scripts that started the server on port 0.
    println!("listening on http://{addr}");
}

pub async fn run(a: ServeArgs) -> anyhow::Result<()> {
    let config = a.config()?;
    let data = config.data.clone();
    feather_server::serve(config, |_, addr| announce(&data, addr)).await?;
    Ok(())
}
