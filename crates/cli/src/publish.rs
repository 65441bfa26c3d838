//! `feather publish`: build a model with its own app file, or take a build folder, and upload it.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use reqwest::multipart::{Form, Part};

use crate::app;
use crate::client::{Client, ServerArgs};

#[derive(Args)]
pub struct PublishArgs {
    /// A model folder holding an app file that calls `ftr.build` (app.py or main.py) or a
    /// deploy.py that calls `ftr.deploy` on a fitted object, that file itself, a folder
    /// `ftr.build` wrote (manifest.json and bundle.tar.gz), an ONNX model (a `.onnx` file, or a
    /// folder with `model.onnx` and `model.json`), or a saved MLflow model directory.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// An ONNX model's name [default: the file's stem].
    #[arg(long)]
    name: Option<String>,
    /// An ONNX model's title.
    #[arg(long)]
    title: Option<String>,
    /// An ONNX classifier's class names, comma-separated, in the order of its class indices.
    #[arg(long, value_delimiter = ',')]
    labels: Option<Vec<String>>,
    #[command(flatten)]
    server: ServerArgs,
    /// The Python that runs the app file; it needs the feather SDK installed.
    #[arg(long, env = "FEATHER_PYTHON", default_value = "python3")]
    python: String,
    /// Make the model private (only you, the users you grant it to and admins see it), or
    /// public with --public. A new model is public; an existing one keeps its setting.
    #[arg(long, conflicts_with = "public")]
    private: bool,
    /// Make the model public.
    #[arg(long)]
    public: bool,
    /// Return once the version is stored, without waiting for its environment to build.
    #[arg(long)]
    no_wait: bool,
}

pub async fn run(a: PublishArgs) -> anyhow::Result<()> {
    let built = match crate::onnx::model_file(&a.path) {
        Some(model) => {
            let about = crate::onnx::About {
                name: a.name.clone(),
                title: a.title.clone(),
                labels: a.labels.clone(),
                ..Default::default()
            };
            crate::onnx::build(&model, about)?
        }
        None => app::build(&a.python, &a.path)?,
    };
    let manifest =
        std::fs::read(built.dir.join("manifest.json")).context("reading manifest.json")?;
    let bundle_path = built.bundle()?;
    // Sent as it is read from disk: a large bundle never sits in memory whole.
    let bundle = tokio::fs::File::open(&bundle_path)
        .await
        .with_context(|| format!("opening {}", bundle_path.display()))?;
    let size = bundle.metadata().await?.len();
    let client = Client::new(&a.server)?;
    if a.server.token.is_some() {
        // A token the server refuses is said before the bundle is sent: the server answers a
        // publish it refuses at once, and a client still sending sees a broken connection
        // rather than the answer.
        client.json(client.get("/api/v1/me")).await?;
    }
    eprintln!("uploading {size} bytes to {} ...", a.server.server);
    let form = Form::new()
        .part(
            "manifest",
            Part::bytes(manifest)
                .file_name("manifest.json")
                .mime_str("application/json")?,
        )
        .part(
            "bundle",
            Part::stream_with_length(reqwest::Body::from(bundle), size)
                .file_name(
                    bundle_path
                        .file_name()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .into_owned(),
                )
                .mime_str("application/octet-stream")?,
        );
    let form = match (a.private, a.public) {
        (true, _) => form.text("visibility", "private"),
        (_, true) => form.text("visibility", "public"),
        _ => form,
    };
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
    println!("  page:    {}", res["page"].as_str().unwrap_or(""));
    println!("  model:   {}", res["url"].as_str().unwrap_or(""));
    println!("  version: {}", res["api"].as_str().unwrap_or(""));
    if a.no_wait {
        return Ok(());
    }
    let environment = format!(
        "/api/v1/models/{}/versions/{}/environment",
        res["model"].as_str().unwrap_or_default(),
        res["version"]
    );
    wait_for_environment(&client, &environment).await
}

/// Follows a version's environment until it is ready, saying what it does on stderr; a failed
/// build is an error with the server's reason and the end of the build's log.
pub(crate) async fn wait_for_environment(client: &Client, path: &str) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let mut said = String::new();
    let mut pause = std::time::Duration::from_millis(200);
    loop {
        let state = client.json(client.get(path)).await?;
        let status = state["status"].as_str().unwrap_or("unknown").to_owned();
        match status.as_str() {
            "ready" => {
                if !said.is_empty() {
                    eprintln!(
                        "environment ready in {:.1} s",
                        started.elapsed().as_secs_f64()
                    );
                }
                return Ok(());
            }
            "failed" => {
                let log = state["log"].as_str().unwrap_or_default();
                let lines: Vec<&str> = log.lines().collect();
                for line in &lines[lines.len().saturating_sub(20)..] {
                    eprintln!("  | {line}");
                }
                anyhow::bail!(
                    "the version is stored, but its environment failed to build: {}",
                    state["reason"].as_str().unwrap_or("no reason given")
                );
            }
            other if other != said => {
                eprintln!("environment {other} ...");
                said = other.to_owned();
            }
            _ => {}
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 3 / 2).min(std::time::Duration::from_secs(2));
    }
}
