//! `feather dev`: run a model from a local folder with the same runner, without publishing,
//! and publish it again into the scratch registry whenever its files change.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use clap::Args;

use crate::app;
use crate::serve::{ServeArgs, announce};

/// The owner of models under development.
const OWNER: &str = "dev";

#[derive(Args)]
pub struct DevArgs {
    /// The model folder (holding app.py) or its app file.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// The Python that runs the app file; it needs the feather SDK installed.
    #[arg(long, env = "FEATHER_PYTHON", default_value = "python3")]
    python: String,
    #[command(flatten)]
    serve: ServeArgs,
}

/// The newest modification time of the model's files (skipping build output and caches).
fn newest(dir: &Path) -> SystemTime {
    let mut newest = SystemTime::UNIX_EPOCH;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let name = e.file_name();
            if [".feather", "__pycache__", ".git", ".venv"]
                .iter()
                .any(|s| name == *s)
            {
                continue;
            }
            match e.metadata() {
                Ok(m) if m.is_dir() => stack.push(e.path()),
                Ok(m) => newest = newest.max(m.modified().unwrap_or(newest)),
                Err(_) => {}
            }
        }
    }
    newest
}

pub async fn run(mut a: DevArgs) -> anyhow::Result<()> {
    // A scratch registry: nothing of development leaks into a real data folder.
    let scratch = tempfile::tempdir()?;
    if a.serve.data.data.is_none() {
        a.serve.data.data = Some(scratch.path().to_path_buf());
    }
    let config = a.serve.config()?;
    let (store, lock) = feather_server::open(&config).await?;
    let service = feather_server::service(store, &config);
    let folder = if a.path.is_file() {
        a.path.parent().map(Path::to_path_buf).unwrap_or_default()
    } else {
        a.path.clone()
    };
    let built = app::build(&a.python, &a.path)?;
    let name = built.manifest()?["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    app::publish_local(&service, OWNER, &built).await?;
    drop(built);

    let (python, path, watched) = (a.python.clone(), a.path.clone(), folder.clone());
    let data = config.data.clone();
    feather_server::run(service, lock, config, move |service, addr| {
        announce(&data, addr);
        let base = format!("http://{addr}/api/v1/models/{OWNER}/{name}");
        println!("\n{name} runs at {base}");
        println!("  one call:  curl -s -X POST {base}/predict -H 'content-type: application/json' -d '{{\"inputs\": {{...}}}}'");
        println!("  a run:     curl -s -X POST {base}/runs -H 'content-type: application/json' -d '{{\"inputs\": {{...}}}}'");
        println!("  its API:   http://{addr}/api/openapi.json");
        println!("Edit the files in {}: each change is built and served as a new version.", watched.display());
        let service = service.clone();
        tokio::spawn(async move {
            let mut seen = newest(&watched);
            loop {
                tokio::time::sleep(Duration::from_millis(500)).await;
                let now = newest(&watched);
                if now == seen {
                    continue;
                }
                seen = now;
                let rebuilt = tokio::task::block_in_place(|| app::build(&python, &path));
                let published = match rebuilt {
                    Ok(b) => app::publish_local(&service, OWNER, &b).await,
                    Err(e) => Err(e),
                };
                match published {
                    Ok(Some(p)) => {
                        eprintln!("reloaded: {} version {}", p.model, p.version);
                    }
                    Ok(None) => {}
                    Err(e) => eprintln!("the change did not build: {e:#}"),
                }
            }
        });
    })
    .await?;
    Ok(())
}
