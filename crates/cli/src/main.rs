//! `feather`: serve the platform, publish models, browse the registry, manage tokens.

mod accounts;
mod app;
mod client;
mod demo;
mod dev;
mod export;
mod models;
mod onnx;
mod publish;
mod pull;
mod serve;
mod standalone;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use feather_store::{BlobPlace, Database, Places};

/// mimalloc: the server allocates and frees small JSON values on every request, where glibc's
/// allocator costs a fifth of its time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Share and deploy machine-learning models.
///
/// Settings come from defaults, then FEATHER_* environment variables, then flags.
#[derive(Parser)]
#[command(name = "feather", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server: REST API, registry and runner on a data folder.
    Serve(serve::ServeArgs),
    /// Run the server with the examples published (trained first if needed): the main job.
    Demo(demo::DemoArgs),
    /// Serve one version that `feather export` wrote out, alone, with the API and page it had.
    ServeModel(standalone::ServeModelArgs),
    /// Run a model from a local folder without publishing it; changes are served as they are saved.
    Dev(dev::DevArgs),
    /// Publish a model: build it from its app file (or take what `ftr.build` wrote) and upload it.
    Publish(publish::PublishArgs),
    /// Write one version out as a standalone serving context: its bundle, its environment's
    /// packages as requirements.lock, an entry point and a Dockerfile.
    Export(export::ExportArgs),
    /// Browse the registry of a server.
    #[command(subcommand)]
    Models(models::ModelsCommand),
    /// Manage API tokens: create, list, revoke.
    #[command(subcommand)]
    Token(accounts::TokenCommand),
    /// Manage users and their roles.
    #[command(subcommand)]
    User(accounts::UserCommand),
    /// Read the audit log: publishes, deletions, aliases, sharing, tokens and users.
    Audit(accounts::AuditArgs),
    /// Print JSON Schemas, and the API's OpenAPI document.
    #[command(subcommand)]
    Schema(SchemaCommand),
}

#[derive(Subcommand)]
enum SchemaCommand {
    /// The JSON Schema (draft 2020-12) of a canonical manifest, as the SDK writes it.
    Manifest,
    /// The REST API's OpenAPI 3.1 document, as a server serves it at /api/openapi.json.
    Openapi,
}

/// Where the server keeps its database and blobs.
#[derive(Args, Clone)]
pub struct DataArg {
    /// The data folder [default: the user's data folder, such as ~/.local/share/feather].
    #[arg(long, env = "FEATHER_DATA")]
    pub data: Option<PathBuf>,
    /// Where the registry is: `sqlite` (feather.db in the data folder) or
    /// postgres://user:password@host:port/database, created beforehand.
    #[arg(
        long,
        env = "FEATHER_DATABASE",
        default_value = "sqlite",
        hide_env_values = true
    )]
    pub database: Database,
    /// Where bundles and files are kept: `local` (blobs/ in the data folder), s3://bucket/prefix
    /// (credentials, region and endpoint from AWS_* variables), gs://bucket/prefix or
    /// az://container/prefix.
    #[arg(long, env = "FEATHER_BLOBS", default_value = "local")]
    pub blobs: BlobPlace,
}

impl DataArg {
    pub fn places(&self) -> Places {
        Places {
            database: self.database.clone(),
            blobs: self.blobs.clone(),
        }
    }

    /// The folder, absolute: workers and builds run in folders of their own, where a relative
    /// path would name something else.
    pub fn resolve(&self) -> PathBuf {
        let dir = self.data.clone().unwrap_or_else(|| {
            dirs::data_dir()
                .unwrap_or_else(|| PathBuf::from("."))
                .join("feather")
        });
        std::path::absolute(&dir).unwrap_or(dir)
    }
}

/// Errors end the program with one line (the error and its causes), never a backtrace: they
/// are the operator's to act on, not the program's to debug.
fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("FEATHER_LOG").unwrap_or_else(|_| {
                "feather=info,feather_server=info,feather_store=info,tower_http=warn".into()
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
        match cli.command {
            Command::Serve(a) => serve::run(a).await,
            Command::Demo(a) => demo::run(a).await,
            Command::Dev(a) => dev::run(a).await,
            Command::ServeModel(a) => standalone::run(a).await,
            Command::Export(a) => export::run(a).await,
            Command::Publish(a) => publish::run(a).await,
            Command::Models(c) => models::run(c).await,
            Command::Token(c) => accounts::token(c).await,
            Command::User(c) => accounts::user(c).await,
            Command::Audit(a) => accounts::audit(a).await,
            Command::Schema(SchemaCommand::Manifest) => {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&feather_spec::schema::manifest_schema())?
                );
                Ok(())
            }
            Command::Schema(SchemaCommand::Openapi) => {
                println!("{}", feather_server::openapi::document().to_pretty_json()?);
                Ok(())
            }
        }
    })
}
