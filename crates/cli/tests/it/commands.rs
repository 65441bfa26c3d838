//! The commands a person types.

use crate::{Served, build_dir, feather, token};

fn stdout(o: &std::process::Output) -> String {
    assert!(
        o.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[test]
fn publish_list_show_and_pull() {
    let data = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let server = Served::start(data.path());
    let token = token(data.path(), "alice");
    let dir = build_dir(work.path(), "echo", b"print('echo')\n");
    let args = ["--server", &server.url, "--token", &token];
    let first = stdout(&feather(
        &[&["publish", dir.to_str().unwrap()][..], &args].concat(),
    ));
    assert!(
        first.starts_with("published alice/echo version 1\n"),
        "{first}"
    );
    assert!(first.contains(&format!("{}/api/v1/models/alice/echo", server.url)));
    let second = stdout(&feather(
        &[&["publish", dir.to_str().unwrap()][..], &args].concat(),
    ));
    assert!(
        second.starts_with("published alice/echo version 2 (bundle already stored)"),
        "{second}"
    );

    let ls = stdout(&feather(&["models", "ls", "--server", &server.url]));
    assert!(
        ls.contains("alice/echo") && ls.contains("v2") && ls.contains("[cli]"),
        "{ls}"
    );
    let show: serde_json::Value = serde_json::from_str(&stdout(&feather(&[
        "models",
        "show",
        "alice/echo@1",
        "--server",
        &server.url,
    ])))
    .unwrap();
    assert_eq!(show["version"], 1);
    assert_eq!(show["manifest"]["name"], "echo");

    let pulled = work.path().join("pulled");
    let out = stdout(&feather(&[
        "models",
        "pull",
        "alice/echo",
        "-o",
        pulled.to_str().unwrap(),
        "--server",
        &server.url,
    ]));
    assert!(out.contains("version 2"), "{out}");
    assert_eq!(
        std::fs::read(pulled.join("bundle.tar.gz")).unwrap(),
        std::fs::read(dir.join("bundle.tar.gz")).unwrap()
    );
    // A pulled folder publishes again as it is.
    let again = stdout(&feather(
        &[&["publish", pulled.to_str().unwrap()][..], &args].concat(),
    ));
    assert!(
        again.starts_with("published alice/echo version 3"),
        "{again}"
    );
}

#[test]
fn errors_are_explained_and_exit_non_zero() {
    let data = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let server = Served::start(data.path());
    let dir = build_dir(work.path(), "echo", b"");
    let out = feather(&[
        "publish",
        dir.to_str().unwrap(),
        "--server",
        &server.url,
        "--token",
        "ftr_wrong",
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("the token is not valid"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let missing = feather(&["models", "show", "alice/none", "--server", &server.url]);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("model alice/none not found"));
    let empty = feather(&[
        "publish",
        work.path().to_str().unwrap(),
        "--server",
        &server.url,
    ]);
    assert!(String::from_utf8_lossy(&empty.stderr).contains("has no app.py"));
    let bad_user = feather(&[
        "token",
        "create",
        "--user",
        "Not A Slug",
        "--data",
        data.path().to_str().unwrap(),
    ]);
    assert!(!bad_user.status.success());
}

#[test]
fn schema_manifest_prints_the_json_schema() {
    let schema: serde_json::Value =
        serde_json::from_str(&stdout(&feather(&["schema", "manifest"]))).unwrap();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(schema["$ref"], "#/$defs/Manifest");
    assert!(schema["$defs"]["Props"]["oneOf"].as_array().unwrap().len() == 21);
    assert!(
        !schema.to_string().contains("#/components/"),
        "every reference points into $defs"
    );
}

#[test]
fn every_command_explains_itself() {
    for cmd in [
        &["--help"][..],
        &["serve", "--help"],
        &["publish", "--help"],
        &["models", "ls", "--help"],
        &["models", "show", "--help"],
        &["models", "pull", "--help"],
        &["token", "create", "--help"],
        &["schema", "manifest", "--help"],
    ] {
        let help = stdout(&feather(cmd));
        assert!(help.contains("Usage: feather"), "{cmd:?}: {help}");
    }
    let serve = stdout(&feather(&["serve", "--help"]));
    assert!(serve.contains("FEATHER_DATA") && serve.contains("127.0.0.1:7860"));
    let publish = stdout(&feather(&["publish", "--help"]));
    assert!(publish.contains("FEATHER_TOKEN") && publish.contains("ftr.build"));
}
