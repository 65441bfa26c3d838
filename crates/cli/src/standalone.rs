//! `feather serve-model`: a server for one version that `feather export` wrote out. Its
//! registry (SQLite in the folder's `data/` unless told otherwise) holds that version alone,
//! under the same owner, name, number and aliases, public, and no user: nobody can publish
//! there, and every route, the page and the OpenAPI document are the ones the model had. Its
//! environment is built with the export's `requirements.lock` as constraints, so it holds the
//! packages the version ran with.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use feather_service::{Actor, Service, exec, models};
use feather_spec::Manifest;
use feather_store::{StoreError, Visibility};
use serde::Deserialize;

use crate::app::Built;
use crate::export::LOCK;
use crate::serve::{ServeArgs, announce};

#[derive(Args)]
pub struct ServeModelArgs {
    /// A folder `feather export` wrote.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Build the model's environment, then stop without serving: what the export's Dockerfile
    /// runs, so that its containers answer at once.
    #[arg(long)]
    prepare: bool,
    #[command(flatten)]
    serve: ServeArgs,
}

/// The export's `version.json`.
#[derive(Deserialize)]
struct Origin {
    /// `owner/name`.
    model: String,
    version: i64,
    digest: String,
    #[serde(default)]
    aliases: Vec<String>,
}

pub async fn run(mut a: ServeModelArgs) -> anyhow::Result<()> {
    let dir = std::path::absolute(&a.dir)?;
    let origin: Origin =
        serde_json::from_slice(&std::fs::read(dir.join("version.json")).with_context(|| {
            format!(
                "{} has no version.json: is it a folder `feather export` wrote?",
                dir.display()
            )
        })?)
        .context("reading version.json")?;
    let (owner, name) = origin
        .model
        .split_once('/')
        .with_context(|| format!("version.json names {:?}, not OWNER/NAME", origin.model))?;
    if a.serve.data.data.is_none() {
        a.serve.data.data = Some(dir.join("data"));
    }
    if a.serve.constraints.is_none() && dir.join(LOCK).is_file() {
        a.serve.constraints = Some(dir.join(LOCK));
    }
    let config = a.serve.config()?;
    let (store, lock) = feather_server::open(&config).await?;
    let service = feather_server::service(store, &config);
    install(&service, &dir, &origin, (owner, name)).await?;
    if a.prepare {
        eprintln!(
            "building the environment of {}@{} ...",
            origin.model, origin.version
        );
        exec::build_environment(&service, owner, name, origin.version).await?;
        eprintln!("{}@{} is ready to serve", origin.model, origin.version);
        return Ok(());
    }
    let data = config.data.clone();
    let model = origin.model.clone();
    feather_server::run(service, lock, config, move |_, addr| {
        announce(&data, addr);
        // On stderr: stdout says only where it listens, for scripts.
        eprintln!("\n{model} (only it) runs at http://{addr}/m/{model}");
        eprintln!(
            "  its API: http://{addr}/api/v1/models/{model}  (http://{addr}/api/openapi.json)"
        );
    })
    .await?;
    Ok(())
}

/// Puts the exported version into the registry unless it is there already (a restart); a data
/// folder holding another bundle under that number is refused.
async fn install(
    service: &Service,
    dir: &Path,
    origin: &Origin,
    (owner, name): (&str, &str),
) -> anyhow::Result<()> {
    let registry = &service.store.registry;
    match registry
        .version(owner, name, &origin.version.to_string())
        .await
    {
        Ok(have) if have.version.digest == origin.digest => return Ok(()),
        Ok(have) => bail!(
            "the data folder holds another {}@{} (bundle {}, not {}): give this model a data folder of its own",
            origin.model,
            origin.version,
            have.version.digest,
            origin.digest
        ),
        Err(StoreError::NotFound(_)) => {}
        Err(e) => return Err(e.into()),
    }
    let built = Built::at(dir);
    let manifest = Manifest::parse(&built.manifest()?)
        .map_err(|e| anyhow::anyhow!("manifest.json: {e}: {:?}", e.0))?;
    if manifest.name != name {
        bail!(
            "manifest.json is of {:?}, not of {}",
            manifest.name,
            origin.model
        );
    }
    let file = tokio::fs::File::open(built.bundle()?).await?;
    let upload = service
        .store
        .receive(tokio_util::io::ReaderStream::new(file))
        .await?;
    if upload.digest != origin.digest {
        bail!(
            "the bundle has the digest {}, not the exported version's {}: it was changed since the export",
            upload.digest,
            origin.digest
        );
    }
    let operator = Actor::Operator(crate::accounts::local_actor());
    let new = models::NewVersion {
        owner: Some(owner),
        manifest: &manifest,
        upload: &upload,
        visibility: Some(Visibility::Public),
        number: Some(origin.version),
    };
    models::publish(service, &operator, new).await?;
    for alias in &origin.aliases {
        models::set_alias(service, &operator, owner, name, alias, origin.version)
            .await
            .with_context(|| format!("setting the alias {alias}"))?;
    }
    Ok(())
}
