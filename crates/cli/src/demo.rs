//! `feather demo`: the platform on its embedded defaults with the examples published.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

use crate::app;
use crate::serve::{ServeArgs, announce};

/// The owner the examples are published as.
const OWNER: &str = "demo";

#[derive(Args)]
pub struct DemoArgs {
    #[command(flatten)]
    serve: ServeArgs,
    /// The folder of example models: each sub-folder with an app.py (or a deploy.py that
    /// deploys a fitted object), or an ONNX model's model.json, is published.
    #[arg(long, env = "FEATHER_EXAMPLES", default_value = "examples")]
    examples: PathBuf,
    /// The Python that trains the examples and runs their app files (the SDK and the examples'
    /// training packages installed, as in the repository's .venv).
    #[arg(long, env = "FEATHER_PYTHON", default_value = "python3")]
    python: String,
}

/// Trains an example (its `train.py`), takes a pretrained one out of its package
/// (`make_model.py`) and makes its samples (`make_samples.py`) when their output is missing, so
/// a fresh clone runs with no download but from the package index.
fn prepare(python: &str, dir: &Path) -> anyhow::Result<()> {
    let needs =
        |script: &str, output: &str| dir.join(script).is_file() && !dir.join(output).exists();
    let trained = if dir.join("model.json").is_file() {
        "model.onnx"
    } else {
        "model.pkl"
    };
    if needs("train.py", trained) {
        eprintln!("training {} ...", dir.display());
        app::run_python(python, &dir.join("train.py"), &[])?;
    }
    // A pretrained model is taken from the package it ships in.
    if needs("make_model.py", "model.onnx") {
        eprintln!("making {}'s model ...", dir.display());
        app::run_python(python, &dir.join("make_model.py"), &[])?;
    }
    if needs("make_samples.py", "samples") {
        app::run_python(python, &dir.join("make_samples.py"), &[])?;
    }
    Ok(())
}

/// Prepares, builds and publishes one example as the demo user; its name.
async fn publish_example(
    python: &str,
    service: &feather_service::Service,
    dir: &Path,
) -> anyhow::Result<String> {
    prepare(python, dir)?;
    let built = app::build(python, dir)?;
    let name = built.manifest()?["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    match app::publish_local(service, OWNER, &built).await? {
        Some(p) => eprintln!("published {} version {}", p.model, p.version),
        None => eprintln!("{OWNER}/{name} is up to date"),
    }
    Ok(name)
}

pub async fn run(a: DemoArgs) -> anyhow::Result<()> {
    let config = a.serve.config()?;
    let (store, lock) = feather_server::open(&config).await?;
    let service = feather_server::service(store, &config);
    let mut folders: Vec<PathBuf> = std::fs::read_dir(&a.examples)
        .with_context(|| format!("no examples folder at {}", a.examples.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.join("model.json").is_file() || app::APP_FILES.iter().any(|f| p.join(f).is_file())
        })
        .collect();
    folders.sort();
    let mut models = Vec::new();
    let mut skipped = Vec::new();
    for dir in &folders {
        // One example that cannot be built here (its framework missing from this Python, say)
        // leaves the others served.
        match publish_example(&a.python, &service, dir).await {
            Ok(name) => models.push(name),
            Err(e) => {
                eprintln!("skipped {}: {e:#}", dir.display());
                skipped.push(dir.display().to_string());
            }
        }
    }
    if !skipped.is_empty() {
        eprintln!(
            "{} example(s) skipped: {}",
            skipped.len(),
            skipped.join(", ")
        );
    }
    let data = config.data.clone();
    // Their environments build and workers warm up in the background meanwhile.
    feather_server::run(service, lock, config, |_, addr| {
        announce(&data, addr);
        println!("\nOpen http://{addr}/ to use the examples (environments build in the background):");
        for name in &models {
            println!("  http://{addr}/m/{OWNER}/{name}    API: http://{addr}/api/v1/models/{OWNER}/{name}");
        }
        println!("  the API: http://{addr}/api/openapi.json");
    })
    .await?;
    Ok(())
}
