//! An ONNX model as it is: a `.onnx` file (and, in a model folder, `model.json` with its name,
//! texts and class labels) made into a bundle and a manifest. The server reads the graph's
//! signature and derives the page's components when it is published.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::app::Built;

/// What `model.json` (or the command line) may say of an ONNX model.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct About {
    pub name: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Class names, in the order of the classifier's class indices.
    pub labels: Option<Vec<String>>,
    /// Components of the model's inputs, to title or name them (one Number.In per feature).
    pub init: Option<Vec<Value>>,
}

/// The ONNX model of a path: the file itself, or a folder's `model.onnx`.
pub fn model_file(path: &Path) -> Option<std::path::PathBuf> {
    if path.is_file() && path.extension().is_some_and(|e| e == "onnx") {
        return Some(path.to_path_buf());
    }
    let inside = path.join("model.onnx");
    (path.is_dir() && inside.is_file()).then_some(inside)
}

/// A name for a model from its file: the stem, as a slug.
fn name_of(file: &Path) -> String {
    let stem = file.file_stem().unwrap_or_default().to_string_lossy();
    let slug: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    slug.trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_owned()
}

/// Builds the bundle and manifest of an ONNX model into a scratch folder.
pub fn build(file: &Path, mut about: About) -> anyhow::Result<Built> {
    if let Some(folder) = file.parent() {
        let described = folder.join("model.json");
        if described.is_file() && file.file_name().is_some_and(|n| n == "model.onnx") {
            let text = std::fs::read_to_string(&described)?;
            let from_file: About = serde_json::from_str(&text)
                .with_context(|| format!("reading {}", described.display()))?;
            about = About {
                name: about.name.or(from_file.name),
                title: about.title.or(from_file.title),
                description: about.description.or(from_file.description),
                tags: if about.tags.is_empty() {
                    from_file.tags
                } else {
                    about.tags
                },
                labels: about.labels.or(from_file.labels),
                init: about.init.or(from_file.init),
            };
        }
    }
    let name = about.name.clone().unwrap_or_else(|| name_of(file));
    if name.is_empty() {
        bail!("name the model with --name");
    }
    let scratch = tempfile::tempdir()?;
    let dir = scratch.path().to_path_buf();
    let mut runtime = json!({"kind": "onnx", "file": "model.onnx"});
    if let Some(labels) = &about.labels {
        runtime["labels"] = json!(labels);
    }
    let mut manifest = json!({
        "schema": "feather.manifest/v1",
        "name": name,
        "description": about.description.clone().unwrap_or_default(),
        "tags": about.tags,
        "runtime": runtime,
        "init": about.init.clone().unwrap_or_default(),
        "steps": [{"name": "predict", "title": "Predict"}],
        "provenance": {
            "sdk": format!("feather-cli {}", env!("CARGO_PKG_VERSION")),
            "platform": format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH),
            "packages": {},
        },
    });
    if let Some(t) = &about.title {
        manifest["title"] = json!(t);
    }
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_vec_pretty(&manifest)?,
    )?;
    let model = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let gz = flate2::write::GzEncoder::new(
        std::fs::File::create(dir.join("bundle.tar.gz"))?,
        flate2::Compression::default(),
    );
    let mut tar = tar::Builder::new(gz);
    let mut header = tar::Header::new_gnu();
    header.set_size(model.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, "model.onnx", model.as_slice())?;
    tar.into_inner()?.finish()?.flush()?;
    Ok(Built::scratch(scratch))
}
