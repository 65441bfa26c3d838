//! With the `portal` feature, the web build must exist: say how to make it instead of failing
//! inside the embedding macro.

fn main() {
    let dist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/dist");
    println!("cargo:rerun-if-changed={}", dist.display());
    println!("cargo:rerun-if-env-changed=CARGO_FEATURE_PORTAL");
    if std::env::var_os("CARGO_FEATURE_PORTAL").is_some() && !dist.join("index.html").is_file() {
        panic!(
            "the portal is not built: run `npm ci && npm run build` in web/ (scripts/start and \
             scripts/test do), or build without it: --no-default-features"
        );
    }
}
