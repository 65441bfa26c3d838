//! Packs the Python SDK into the binary as a wheel, so that any `feather` can install the
//! matching SDK into model environments without the repository beside it, and without building
//! anything: environments install wheels only.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use sha2::{Digest, Sha256};

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

/// The SDK's version, from the one place it is written.
fn version(sdk: &Path) -> String {
    let text = std::fs::read_to_string(sdk.join("feather/_version.py")).expect("_version.py");
    text.split('"')
        .nth(1)
        .expect("__version__ = \"X\"")
        .to_owned()
}

fn main() {
    let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../python");
    let mut files = Vec::new();
    collect(&sdk.join("feather"), &mut files);
    let version = version(&sdk);
    let info = format!("feather_sdk-{version}.dist-info");
    let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
    for f in &files {
        // Each file, not the folder: the folder's __pycache__ changes on every test run.
        println!("cargo::rerun-if-changed={}", f.display());
        let rel = f.strip_prefix(&sdk).expect("inside python/");
        let bytes = std::fs::read(f).expect("SDK file readable");
        entries.push((rel.to_string_lossy().into_owned(), bytes));
    }
    entries.push((
        format!("{info}/METADATA"),
        format!(
            "Metadata-Version: 2.1\nName: feather-sdk\nVersion: {version}\nRequires-Python: >=3.10\n"
        )
        .into_bytes(),
    ));
    entries.push((
        format!("{info}/WHEEL"),
        b"Wheel-Version: 1.0\nGenerator: feather\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
            .to_vec(),
    ));
    let mut record = String::new();
    for (name, bytes) in &entries {
        let hash = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(bytes));
        record.push_str(&format!("{name},sha256={hash},{}\n", bytes.len()));
    }
    record.push_str(&format!("{info}/RECORD,,\n"));
    entries.push((format!("{info}/RECORD"), record.into_bytes()));

    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let mut zip = zip::ZipWriter::new(std::fs::File::create(out.join("sdk.whl")).expect("OUT_DIR"));
    // Fixed times and modes: the same source gives the same wheel, and the same SDK hash.
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    for (name, bytes) in &entries {
        zip.start_file(name.as_str(), options).expect("wheel entry");
        zip.write_all(bytes).expect("wheel entry written");
    }
    zip.finish().expect("wheel written");
    std::fs::write(out.join("sdk-version"), &version).expect("OUT_DIR");
    println!(
        "cargo::rerun-if-changed={}",
        sdk.join("feather/_version.py").display()
    );
}
