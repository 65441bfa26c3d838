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
    let origin: serde_json::Value =
        serde_json::from_slice(&std::fs::read(pulled.join("version.json")).unwrap()).unwrap();
    assert_eq!(origin["model"], "alice/echo");
    assert_eq!(origin["version"], 2);
    assert_eq!(
        origin["digest"], show["digest"],
        "one bundle for versions 1 and 2"
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
fn publish_waits_for_the_environment_and_says_when_it_fails() {
    let data = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    // An index with no packages: the build fails at once, and nothing is fetched.
    let index = tempfile::tempdir().unwrap();
    let uv = crate::uv();
    let server = Served::start_in(
        std::path::Path::new("."),
        &[
            "--data".as_ref(),
            data.path().as_os_str(),
            "--uv".as_ref(),
            uv.as_os_str(),
            "--package-index".as_ref(),
            format!("file://{}", index.path().display()).as_ref(),
        ],
    );
    let token = token(data.path(), "alice");
    let dir = build_dir(work.path(), "echo", b"print('echo')\n");
    let manifest = dir.join("manifest.json");
    let mut m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    m["runtime"]["requirements"] = serde_json::json!(["feather-no-such-package==0.0.1"]);
    std::fs::write(&manifest, m.to_string()).unwrap();
    let args = ["--server", &server.url, "--token", &token];
    let out = feather(&[&["publish", dir.to_str().unwrap()][..], &args].concat());
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(!out.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!("page:    {}/m/alice/echo", server.url)),
        "{stdout}"
    );
    assert!(
        stderr.contains("environment failed to build")
            && stderr.contains("feather-no-such-package"),
        "{stderr}"
    );
    let quick = feather(&[&["publish", dir.to_str().unwrap(), "--no-wait"][..], &args].concat());
    assert!(
        quick.status.success(),
        "{}",
        String::from_utf8_lossy(&quick.stderr)
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
    assert_eq!(
        schema["$defs"]["Props"]["oneOf"].as_array().unwrap().len(),
        feather_spec::components::TYPES.len()
    );
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
        &["token", "ls", "--help"],
        &["token", "revoke", "--help"],
        &["user", "add", "--help"],
        &["user", "role", "--help"],
        &["audit", "--help"],
        &["models", "alias", "--help"],
        &["models", "grant", "--help"],
        &["models", "visibility", "--help"],
        &["models", "rm", "--help"],
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

/// Fails with a message on stderr containing `needle`.
fn fails_with(o: &std::process::Output, needle: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains(needle), "{err}");
}

#[test]
fn users_tokens_sharing_and_the_audit_log() {
    let data = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap();
    // The operator makes the first admin on the data folder; no server or token needed.
    let root = stdout(&feather(&[
        "token", "create", "--user", "root", "--role", "admin", "--label", "ops", "--data", d,
    ]));
    let root = root.trim();
    let server = Served::start(data.path());
    let at = |t: &str| -> Vec<String> {
        vec![
            "--server".into(),
            server.url.clone(),
            "--token".into(),
            t.into(),
        ]
    };
    let run = |args: &[&str], t: &str| -> std::process::Output {
        let mut v: Vec<&str> = args.to_vec();
        let extra = at(t);
        v.extend(extra.iter().map(String::as_str));
        feather(&v)
    };

    // The admin adds a developer and gives them a token through the API.
    stdout(&run(&["user", "add", "alice"], root));
    let alice = stdout(&run(
        &[
            "token",
            "create",
            "--user",
            "alice",
            "--scope",
            "publish,run",
            "--expires-in-days",
            "30",
        ],
        root,
    ));
    let alice = alice.trim().to_owned();
    assert!(alice.starts_with("ftr_"), "{alice}");
    let users = stdout(&run(&["user", "ls"], root));
    assert!(
        users.contains("alice") && users.contains("developer") && users.contains("admin"),
        "{users}"
    );
    fails_with(&run(&["user", "ls"], &alice), "not an admin");

    // alice publishes privately, shares with bob, points an alias, and makes a token of her own.
    stdout(&run(&["user", "add", "bob"], root));
    let dir = build_dir(work.path(), "echo", b"print('echo')\n");
    stdout(&run(
        &["publish", dir.to_str().unwrap(), "--private"],
        &alice,
    ));
    let (code, _) = server.get("/api/v1/models/alice/echo");
    assert_eq!(code, 404, "a private model is visible anonymously");
    stdout(&run(&["models", "grant", "alice/echo", "bob"], &alice));
    let grants = stdout(&run(&["models", "grants", "alice/echo"], &alice));
    assert!(grants.contains("bob"), "{grants}");
    stdout(&run(
        &["models", "alias", "alice/echo", "prod", "1"],
        &alice,
    ));
    fails_with(
        &run(&["models", "alias", "alice/echo", "latest", "1"], &alice),
        "publish to move it",
    );
    let runner = stdout(&run(
        &["token", "create", "--scope", "run", "--label", "notebook"],
        &alice,
    ));
    let runner = runner.trim().to_owned();
    fails_with(
        &run(&["token", "create", "--scope", "publish"], &runner),
        "lacks the `publish` scope",
    );
    let mine = stdout(&run(&["token", "ls"], &alice));
    assert!(
        mine.contains("notebook") && mine.contains("expires") && !mine.contains(&runner),
        "{mine}"
    );

    // Revoking works at once, from the API and on the data folder.
    let id = |listing: &str, label: &str| -> String {
        listing
            .lines()
            .find(|l| l.contains(label))
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned()
    };
    stdout(&run(&["token", "revoke", &id(&mine, "notebook")], &alice));
    fails_with(&run(&["token", "ls"], &runner), "revoked");
    let all = stdout(&feather(&["token", "ls", "--data", d]));
    assert!(all.contains("revoked") && all.contains("root"), "{all}");
    stdout(&run(
        &["models", "visibility", "alice/echo", "public"],
        &alice,
    ));
    let (code, _) = server.get("/api/v1/models/alice/echo");
    assert_eq!(code, 200);
    stdout(&run(&["models", "rm", "alice/echo@1"], root));

    // The log names who did each thing, on the data folder and through the API.
    let log = stdout(&feather(&["audit", "--data", d, "--limit", "100"]));
    for needle in [
        "user.create",
        "token.create",
        "model.publish",
        "grant.add",
        "alias.set",
        "token.revoke",
        "model.visibility",
        "version.delete",
        "local:",
    ] {
        assert!(log.contains(needle), "{needle} missing from\n{log}");
    }
    let theirs = stdout(&run(&["audit", "--action", "version.delete"], root));
    assert!(
        theirs.contains("root") && theirs.contains("alice/echo@1"),
        "{theirs}"
    );
    fails_with(
        &run(&["audit", "--action", "nothing"], root),
        "unknown action",
    );
}
