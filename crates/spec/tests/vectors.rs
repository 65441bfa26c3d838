//! The shared test vectors in `tests/vectors/`: the Python SDK's tests read the same files.
//! `FEATHER_UPDATE_VECTORS=1 cargo test -p feather-spec` rewrites the `.canonical.json` goldens.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use feather_spec::{Component, Manifest};
use serde_json::Value;

fn vectors(sub: &str) -> Vec<(PathBuf, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/vectors")
        .join(sub);
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "json")
                && !p.to_string_lossy().ends_with(".canonical.json")
        })
        .map(|p| {
            let v = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            (p, v)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() >= 3, "too few vectors in {}", dir.display());
    out
}

fn paths(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn valid_manifests_parse_and_match_their_canonical_form() {
    let update = std::env::var_os("FEATHER_UPDATE_VECTORS").is_some();
    for (path, v) in vectors("manifests/valid") {
        let m = Manifest::parse(&v).unwrap_or_else(|e| panic!("{}: {:?}", path.display(), e.0));
        let canonical = m.to_value();
        let golden = path.with_extension("canonical.json");
        if update {
            std::fs::write(
                &golden,
                serde_json::to_string_pretty(&canonical).unwrap() + "\n",
            )
            .unwrap();
        }
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(&golden).unwrap()).unwrap();
        assert_eq!(canonical, expected, "{}", path.display());
        // The canonical form is itself a valid manifest, and a fixed point.
        assert_eq!(Manifest::parse(&canonical).unwrap().to_value(), canonical);
    }
}

#[test]
fn invalid_manifests_report_exactly_their_problems() {
    for (path, v) in vectors("manifests/invalid") {
        let err = Manifest::parse(&v["manifest"]).expect_err(&path.display().to_string());
        let got: BTreeSet<String> = err.0.iter().map(|p| p.path.clone()).collect();
        assert_eq!(
            got,
            paths(&v["problems"]),
            "{}: {:#?}",
            path.display(),
            err.0
        );
        assert!(err.0.iter().all(|p| !p.reason.is_empty()));
    }
}

#[test]
fn values_are_checked_against_their_component() {
    let update = std::env::var_os("FEATHER_UPDATE_VECTORS").is_some();
    for (path, mut v) in vectors("values") {
        let c = Component::parse(&v["component"])
            .unwrap_or_else(|e| panic!("{}: {:?}", path.display(), e.0));
        // The value's JSON Schema is a golden too: the Python tests check that it accepts
        // every valid value.
        let schema = c.props.value_schema().unwrap_or(serde_json::Value::Null);
        if update {
            v["schema"] = schema.clone();
            std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap() + "\n").unwrap();
        }
        assert_eq!(
            v["schema"],
            schema,
            "{}: the value schema changed",
            path.display()
        );
        for ok in v["valid"].as_array().unwrap() {
            let problems = c.check_value(Some(ok));
            assert!(
                problems.is_empty(),
                "{}: {ok} gave {problems:?}",
                path.display()
            );
        }
        for case in v["invalid"].as_array().unwrap() {
            let got: BTreeSet<String> = c
                .check_value(Some(&case["value"]))
                .into_iter()
                .map(|p| p.path)
                .collect();
            assert_eq!(
                got,
                paths(&case["problems"]),
                "{}: {}",
                path.display(),
                case["value"]
            );
        }
    }
}

#[test]
fn every_component_type_has_a_valid_vector() {
    let (_, v) = vectors("manifests/valid")
        .into_iter()
        .find(|(p, _)| p.ends_with("every_component.json"))
        .unwrap();
    let used: BTreeSet<&str> = v["init"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    let all: BTreeSet<&str> = feather_spec::components::TYPES.into_iter().collect();
    assert_eq!(used, all);
}

#[test]
fn inputs_are_exactly_the_components_with_a_value_schema() {
    let (_, v) = vectors("manifests/valid")
        .into_iter()
        .find(|(p, _)| p.ends_with("every_component.json"))
        .unwrap();
    let m = feather_spec::Manifest::parse(&v).unwrap();
    for c in &m.init {
        assert_eq!(c.is_input(), c.props.value_schema().is_some(), "{}", c.id);
    }
    assert!(m.init.iter().any(|c| c.is_input()) && m.init.iter().any(|c| !c.is_input()));
}

#[test]
fn requirement_lines_are_judged_as_the_sdk_judges_them() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/requirements.json");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for ok in v["valid"].as_array().unwrap() {
        let line = ok.as_str().unwrap();
        assert_eq!(feather_spec::requirement::check(line), Ok(()), "{line:?}");
    }
    for bad in v["invalid"].as_array().unwrap() {
        let line = bad["line"].as_str().unwrap();
        let reason = feather_spec::requirement::check(line).expect_err(line);
        assert_eq!(reason, bad["reason"].as_str().unwrap(), "{line:?}");
    }
}
