//! What the test suites of several crates share: the repository and what `scripts/test`
//! installs into it, and throwaway databases on the test run's PostgreSQL server.

use std::path::{Path, PathBuf};

/// The repository's root.
pub fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// The onnxruntime wheel's library in the repository's .venv (`scripts/python-env.sh`), so
/// that no test fetches it.
pub fn onnxruntime_library() -> PathBuf {
    let lib = repo().join(".venv/lib");
    std::fs::read_dir(&lib)
        .unwrap_or_else(|e| panic!("{}: {e}: run scripts/python-env.sh", lib.display()))
        .flatten()
        .map(|e| e.path().join("site-packages/onnxruntime/capi"))
        .flat_map(|d| std::fs::read_dir(d).into_iter().flatten().flatten())
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("libonnxruntime.so")
        })
        .expect("onnxruntime in .venv: run scripts/python-env.sh")
}

/// Writes an ONNX model to `out` with the repository's .venv: `script` writes it to the path in
/// `sys.argv[1]`, and reads `args` after it.
pub fn onnx_model(script: &str, out: &Path, args: &[&str]) {
    let status = std::process::Command::new(repo().join(".venv/bin/python"))
        .arg("-c")
        .arg(script)
        .arg(out)
        .args(args)
        .status()
        .unwrap();
    assert!(status.success(), "the model script failed");
}

/// A model in the ONNX format: `y = 2x` on rows of three numbers.
pub const DOUBLE_ONNX: &str = r#"
import sys
from onnx import TensorProto, helper
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 3])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 3])
two = helper.make_tensor("two", TensorProto.FLOAT, [1], [2.0])
g = helper.make_graph([helper.make_node("Mul", ["x", "two"], ["y"])], "double", [x], [y], [two])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
open(sys.argv[1], "wb").write(m.SerializeToString())
"#;

/// The test run's PostgreSQL server (`scripts/postgres.sh`, which `scripts/test` starts and
/// names in `FEATHER_TEST_POSTGRES`), as a URL without a database.
pub fn postgres_server() -> String {
    std::env::var("FEATHER_TEST_POSTGRES").expect(
        "FEATHER_TEST_POSTGRES names a PostgreSQL server for these tests: run scripts/test, or \
         export FEATHER_TEST_POSTGRES=$(scripts/postgres.sh start /tmp/feather-pg)",
    )
}

/// Makes a new, empty database on the test run's PostgreSQL server, named `prefix_<random>`;
/// its URL.
pub async fn postgres_database(prefix: &str) -> String {
    use sqlx::Connection;
    let server = postgres_server();
    let name = format!("{prefix}_{:016x}", rand::random::<u64>());
    let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres"))
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    admin.close().await.unwrap();
    format!("{server}/{name}")
}
