//! `feather export`: one version as a standalone serving context. The folder holds what `feather
//! models pull` writes (manifest, bundle checked against its digest, version.json with the
//! version's aliases), the packages its environment holds on the server as `requirements.lock`,
//! an entry point (`serve`) that runs `feather serve-model` on the folder, and a Dockerfile that
//! builds the environment into an image on the feather server's image.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use serde_json::{Value, json};

use crate::client::{Client, ServerArgs};
use crate::pull::{Pulled, pull};

const DOCKERFILE: &str = include_str!("../templates/export/Dockerfile");
const SERVE: &str = include_str!("../templates/export/serve");
const DOCKERIGNORE: &str = include_str!("../templates/export/dockerignore");

/// The files of an export besides the pulled ones.
pub const LOCK: &str = "requirements.lock";
pub const ENTRY: &str = "serve";

#[derive(Args)]
pub struct ExportArgs {
    /// OWNER/NAME[@REF] (REF: a version number or an alias; default latest).
    model: String,
    /// The folder to write (created if missing).
    #[arg(short, long)]
    out: PathBuf,
    #[command(flatten)]
    server: ServerArgs,
}

pub async fn run(a: ExportArgs) -> anyhow::Result<()> {
    let client = Client::new(&a.server)?;
    let parts = crate::models::parse_ref(&a.model)?;
    let pulled = pull(&client, parts, Some(a.out.clone())).await?;
    let lock = locked_packages(&client, &pulled).await?;
    std::fs::write(
        pulled.dir.join(LOCK),
        feather_runner::env::lock::render(&lock),
    )?;
    let (owner, name) = pulled.model.split_once('/').context("the model's name")?;
    let model = client
        .json(client.get(&format!("/api/v1/models/{owner}/{name}")))
        .await?;
    let aliases: Vec<&str> = model["aliases"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(alias, v)| *alias != "latest" && v.as_i64() == Some(pulled.version))
        .map(|(alias, _)| alias.as_str())
        .collect();
    let origin = json!({
        "model": pulled.model,
        "version": pulled.version,
        "digest": pulled.digest,
        "aliases": aliases,
        "exported_from": a.server.server,
    });
    std::fs::write(
        pulled.dir.join("version.json"),
        serde_json::to_string_pretty(&origin)? + "\n",
    )?;
    write_context(&pulled.dir, &pulled.model, pulled.version)?;
    println!(
        "exported {} version {} to {} ({} locked packages)",
        pulled.model,
        pulled.version,
        pulled.dir.display(),
        lock.len()
    );
    println!("  run it here:      {}/{ENTRY}", pulled.dir.display());
    println!(
        "  or as an image:   docker build -t {name}:{} {}",
        pulled.version,
        pulled.dir.display()
    );
    Ok(())
}

/// What the version's environment holds on the server, waiting for its build if it is not
/// done; nothing for a model that runs without Python.
async fn locked_packages(client: &Client, pulled: &Pulled) -> anyhow::Result<Vec<String>> {
    if pulled.detail["manifest"]["runtime"]["kind"] != "python" {
        return Ok(Vec::new());
    }
    let path = format!(
        "/api/v1/models/{}/versions/{}/environment",
        pulled.model, pulled.version
    );
    crate::publish::wait_for_environment(client, &path)
        .await
        .context("the version's environment is what the export locks")?;
    let env: Value = client.json(client.get(&path)).await?;
    let Some(packages) = env["packages"].as_array() else {
        bail!("the server did not say what the version's environment holds");
    };
    let lines: Vec<String> = packages
        .iter()
        .filter_map(|p| p.as_str().map(str::to_owned))
        .collect();
    // Read back as `feather serve-model` will: a line it would refuse is refused now.
    feather_runner::env::lock::parse(&lines.join("\n"))
        .map_err(|e| anyhow::anyhow!("the server's package list: {e}"))
}

/// The entry point, the Dockerfile and its ignore file, filled in for this version.
fn write_context(dir: &Path, model: &str, version: i64) -> anyhow::Result<()> {
    let name = model.rsplit('/').next().unwrap_or(model);
    let fill = |t: &str| {
        t.replace("__MODEL__", model)
            .replace("__NAME__", name)
            .replace("__VERSION__", &version.to_string())
            .replace("__FEATHER__", env!("CARGO_PKG_VERSION"))
    };
    std::fs::write(dir.join("Dockerfile"), fill(DOCKERFILE))?;
    std::fs::write(dir.join(".dockerignore"), DOCKERIGNORE)?;
    let entry = dir.join(ENTRY);
    std::fs::write(&entry, fill(SERVE))?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o755))?;
    Ok(())
}
