//! A model folder on disk: build it with its own app file, and publish what that wrote, over
//! HTTP or straight into a store.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context, bail};
use feather_service::{Actor, Service, exec, models};
use feather_spec::Manifest;
use feather_store::Published;

/// The files that build a model when run with FEATHER_BUILD_DIR: an app file calling
/// `ftr.build`, or a script calling `ftr.deploy` on a fitted object.
pub const APP_FILES: [&str; 3] = ["app.py", "main.py", "deploy.py"];

/// A folder holding `manifest.json` and a bundle archive, possibly a scratch one.
pub struct Built {
    pub dir: PathBuf,
    _scratch: Option<tempfile::TempDir>,
}

impl Built {
    /// A build folder as it is (a pull or an export, say).
    pub fn at(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
            _scratch: None,
        }
    }

    /// A build written into a scratch folder, removed with it.
    pub fn scratch(dir: tempfile::TempDir) -> Self {
        Self {
            dir: dir.path().to_path_buf(),
            _scratch: Some(dir),
        }
    }

    pub fn manifest(&self) -> anyhow::Result<serde_json::Value> {
        Ok(serde_json::from_slice(
            &std::fs::read(self.dir.join("manifest.json")).context("reading manifest.json")?,
        )?)
    }

    pub fn bundle(&self) -> anyhow::Result<PathBuf> {
        ["bundle.tar.gz", "bundle.tar.zst"]
            .iter()
            .map(|n| self.dir.join(n))
            .find(|p| p.is_file())
            .with_context(|| format!("{} has no bundle.tar.gz", self.dir.display()))
    }
}

/// An interpreter path as given, made absolute when it is a relative path: the app runs in its
/// own folder.
fn interpreter(python: &str) -> anyhow::Result<std::ffi::OsString> {
    Ok(if python.contains('/') {
        std::path::absolute(python)?.into_os_string()
    } else {
        python.into()
    })
}

/// Runs a Python file in its folder; `env` adds variables.
pub fn run_python(python: &str, file: &Path, env: &[(&str, &Path)]) -> anyhow::Result<()> {
    let folder = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let python = interpreter(python)?;
    let mut cmd = std::process::Command::new(&python);
    cmd.arg(file.file_name().context("the file has no name")?)
        .current_dir(folder)
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let status = cmd.status().with_context(|| {
        let python = python.to_string_lossy();
        format!(
            "cannot run {python}; set --python or FEATHER_PYTHON to a Python with the feather SDK"
        )
    })?;
    if !status.success() {
        bail!("{} failed ({status}); its output is above", file.display());
    }
    Ok(())
}

/// A saved model (an MLflow model directory) deployed by the SDK into a scratch folder.
fn saved_model(python: &str, path: &Path) -> anyhow::Result<Built> {
    let scratch = tempfile::tempdir()?;
    eprintln!("building the saved model {} ...", path.display());
    let status = std::process::Command::new(interpreter(python)?)
        .args(["-m", "feather.deployment"])
        .arg(std::path::absolute(path)?)
        .env("FEATHER_BUILD_DIR", scratch.path())
        .stdin(Stdio::null())
        .status()
        .context(
            "cannot run Python; set --python or FEATHER_PYTHON to a Python with the feather SDK",
        )?;
    if !status.success() {
        bail!(
            "building {} failed ({status}); its output is above",
            path.display()
        );
    }
    Ok(Built::scratch(scratch))
}

/// Takes a build folder as it is, makes an ONNX model (a `.onnx` file, or a folder with
/// `model.onnx`) into one, or runs the folder's (or the given) app file with
/// FEATHER_BUILD_DIR set so that `ftr.build` writes into a scratch folder.
pub fn build(python: &str, path: &Path) -> anyhow::Result<Built> {
    if let Some(model) = crate::onnx::model_file(path) {
        return crate::onnx::build(&model, crate::onnx::About::default());
    }
    if path.is_dir() && path.join("manifest.json").is_file() {
        return Ok(Built {
            dir: path.to_path_buf(),
            _scratch: None,
        });
    }
    if path.is_dir() && path.join("MLmodel").is_file() {
        return saved_model(python, path);
    }
    let app = if path.is_file() {
        path.to_path_buf()
    } else {
        APP_FILES
            .iter()
            .map(|f| path.join(f))
            .find(|p| p.is_file())
            .with_context(|| {
                format!(
                    "{} has no app.py, main.py or deploy.py, and no manifest.json from ftr.build",
                    path.display()
                )
            })?
    };
    let scratch = tempfile::tempdir()?;
    eprintln!("building {} ...", app.display());
    run_python(python, &app, &[("FEATHER_BUILD_DIR", scratch.path())])?;
    if !scratch.path().join("manifest.json").is_file() {
        bail!(
            "{} ran but wrote no manifest: does it call ftr.build(...) or ftr.deploy(...)?",
            app.display()
        );
    }
    Ok(Built {
        dir: scratch.path().to_path_buf(),
        _scratch: Some(scratch),
    })
}

/// Publishes a build as `owner`, by the machine's operator, unless the newest version already
/// has the same bundle and manifest. Returns the new version, or `None` when nothing changed;
/// either way the newest version is prepared in the background.
pub async fn publish_local(
    service: &Service,
    owner: &str,
    built: &Built,
) -> anyhow::Result<Option<Published>> {
    let store = &service.store;
    let manifest =
        Manifest::parse(&built.manifest()?).map_err(|e| anyhow::anyhow!("{e}: {:?}", e.0))?;
    let file = tokio::fs::File::open(built.bundle()?).await?;
    let upload = store
        .receive(tokio_util::io::ReaderStream::new(file))
        .await?;
    if let Ok(latest) = store
        .registry
        .version(owner, &manifest.name, "latest")
        .await
        && latest.version.digest == upload.digest
        && latest.manifest == manifest.to_value()
    {
        let (name, version) = (manifest.name.clone(), latest.version.version);
        exec::prepare_in_background(service, owner.to_owned(), name, version);
        return Ok(None);
    }
    let new = models::NewVersion {
        owner: Some(owner),
        manifest: &manifest,
        upload: &upload,
        visibility: None,
        number: None,
    };
    let operator = Actor::Operator(crate::accounts::local_actor());
    Ok(Some(models::publish(service, &operator, new).await?))
}
