//! Packs the Python SDK's source into the binary, so that any `feather` can install the
//! matching SDK into model environments without the repository beside it.

use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("python/feather exists")
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if p.is_dir() {
            if name != "__pycache__" {
                collect(&p, out);
            }
        } else if name.ends_with(".py") || name == "py.typed" {
            out.push(p);
        }
    }
}

fn main() {
    let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../python");
    let mut files = vec![sdk.join("pyproject.toml"), sdk.join("README.md")];
    collect(&sdk.join("feather"), &mut files);
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("sdk.tar");
    let mut tar = tar::Builder::new(std::fs::File::create(&out).expect("OUT_DIR is writable"));
    tar.mode(tar::HeaderMode::Deterministic);
    for f in &files {
        // Each file, not the folder: the folder's __pycache__ changes on every test run.
        println!("cargo::rerun-if-changed={}", f.display());
        let rel = f.strip_prefix(&sdk).expect("inside python/");
        tar.append_path_with_name(f, rel)
            .expect("SDK file readable");
    }
    tar.finish().expect("SDK archive written");
}
