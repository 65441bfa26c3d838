//! `feather publish`: build a model with its own app file, or take a build folder, and upload it.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context, bail};
use clap::Args;
use reqwest::multipart::{Form, Part};

use crate::client::{Client, ServerArgs};

#[derive(Args)]
pub struct PublishArgs {
    /// A model folder holding an app file that calls `ftr.build` (app.py or main.py), that app
    /// file itself, or a folder `ftr.build` wrote (manifest.json and bundle.tar.gz).
    #[arg(default_value = ".")]
    path: PathBuf,
    #[command(flatten)]
    server: ServerArgs,
    /// The Python that runs the app file; it needs the feather SDK installed.
    #[arg(long, env = "FEATHER_PYTHON", default_value = "python3")]
    python: String,
}

const APP_FILES: [&str; 2] = ["app.py", "main.py"];

/// Finds the bundle archive of a build folder.
fn bundle_in(dir: &Path) -> Option<PathBuf> {
    ["bundle.tar.gz", "bundle.tar.zst"]
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
}

/// Runs the app file with FEATHER_BUILD_DIR set, so that `ftr.build` writes there.
fn build(python: &str, app: &Path, out: &Path) -> anyhow::Result<()> {
    let folder = app
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    eprintln!("building {} ...", app.display());
    // The app runs in its own folder, so a relative interpreter path is taken from here first.
    let python = if python.contains('/') {
        std::path::absolute(python)?.into_os_string()
    } else {
        python.into()
    };
    let status = std::process::Command::new(&python)
        .arg(app.file_name().context("the app file has no name")?)
        .current_dir(folder)
        .env("FEATHER_BUILD_DIR", out)
        .stdin(Stdio::null())
        .status()
        .with_context(|| {
            let python = python.to_string_lossy();
            format!("cannot run {python}; set --python or FEATHER_PYTHON to a Python with the feather SDK")
        })?;
    if !status.success() {
        bail!("{} failed ({status}); its output is above", app.display());
    }
    if !out.join("manifest.json").is_file() {
        bail!(
            "{} ran but wrote no manifest: does it call ftr.build(...)?",
            app.display()
        );
    }
    Ok(())
}

pub async fn run(a: PublishArgs) -> anyhow::Result<()> {
    let scratch = tempfile::tempdir()?;
    let dir = if a.path.is_dir() && a.path.join("manifest.json").is_file() {
        a.path.clone()
    } else {
        let app = if a.path.is_file() {
            a.path.clone()
        } else {
            APP_FILES
                .iter()
                .map(|f| a.path.join(f))
                .find(|p| p.is_file())
                .with_context(|| {
                    format!(
                        "{} has no app.py or main.py, and no manifest.json from ftr.build",
                        a.path.display()
                    )
                })?
        };
        build(&a.python, &app, scratch.path())?;
        scratch.path().to_path_buf()
    };
    let manifest = std::fs::read(dir.join("manifest.json")).context("reading manifest.json")?;
    let bundle_path =
        bundle_in(&dir).with_context(|| format!("{} has no bundle.tar.gz", dir.display()))?;
    let bundle = tokio::fs::read(&bundle_path).await?;
    eprintln!(
        "uploading {} bytes to {} ...",
        bundle.len(),
        a.server.server
    );
    let form = Form::new()
        .part(
            "manifest",
            Part::bytes(manifest)
                .file_name("manifest.json")
                .mime_str("application/json")?,
        )
        .part(
            "bundle",
            Part::bytes(bundle)
                .file_name(
                    bundle_path
                        .file_name()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .into_owned(),
                )
                .mime_str("application/octet-stream")?,
        );
    let client = Client::new(&a.server)?;
    let res = client
        .json(client.post("/api/v1/models").multipart(form))
        .await?;
    let dedup = if res["deduplicated"].as_bool() == Some(true) {
        " (bundle already stored)"
    } else {
        ""
    };
    println!(
        "published {} version {}{dedup}",
        res["model"].as_str().unwrap_or("?"),
        res["version"]
    );
    println!("  model:   {}", res["url"].as_str().unwrap_or(""));
    println!("  version: {}", res["api"].as_str().unwrap_or(""));
    Ok(())
}
