"""The JSON Schemas the server publishes agree with the validators: they accept every
canonical manifest and every valid value in the shared vectors.

The manifest schema comes from the binary (`FEATHER_BIN schema manifest`), the value schemas
from the vectors, whose `schema` field the Rust tests keep equal to what the server generates.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

VECTORS = Path(__file__).resolve().parents[2] / "tests" / "vectors"


@pytest.fixture(scope="module")
def manifest_schema() -> dict[str, Any]:
    binary = os.environ.get("FEATHER_BIN")
    if not binary:
        pytest.fail("set FEATHER_BIN to the feather binary, e.g. target/debug/feather")
    out = subprocess.run(
        [binary, "schema", "manifest"], capture_output=True, text=True, check=True, timeout=60
    )
    schema: dict[str, Any] = json.loads(out.stdout)
    Draft202012Validator.check_schema(schema)
    return schema


def _first_error(validator: Draft202012Validator, doc: Any) -> str | None:
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    if not errors:
        return None
    e = errors[0]
    return f"{e.message} at /{'/'.join(map(str, e.absolute_path))}"


def test_every_canonical_manifest_matches_the_manifest_schema(
    manifest_schema: dict[str, Any],
) -> None:
    files = sorted((VECTORS / "manifests" / "valid").glob("*.canonical.json"))
    assert len(files) >= 3
    validator = Draft202012Validator(manifest_schema)
    for f in files:
        error = _first_error(validator, json.loads(f.read_text()))
        assert error is None, f"{f.name}: {error}"


def test_the_manifest_schema_refuses_structural_mistakes(manifest_schema: dict[str, Any]) -> None:
    validator = Draft202012Validator(manifest_schema)
    for name in ["missing_fields", "wrong_types", "unknown_component_type"]:
        bad = json.loads((VECTORS / "manifests" / "invalid" / f"{name}.json").read_text())
        assert not validator.is_valid(bad["manifest"]), name


def test_value_schemas_accept_every_valid_value(manifest_schema: dict[str, Any]) -> None:
    defs = manifest_schema["$defs"]
    files = sorted((VECTORS / "values").glob("*.json"))
    checked = 0
    for f in files:
        vector = json.loads(f.read_text())
        if vector["schema"] is None:
            continue  # a view takes no value
        # Value schemas point at shared types as an OpenAPI document would.
        root = {**vector["schema"], "components": {"schemas": defs}, "$defs": defs}
        Draft202012Validator.check_schema(root)
        validator = Draft202012Validator(root)
        for value in vector["valid"]:
            if value is None:
                continue  # leaving an optional input out is the request's business
            error = _first_error(validator, value)
            assert error is None, f"{f.name}: {json.dumps(value)}: {error}"
        rejected = [c["value"] for c in vector["invalid"] if not validator.is_valid(c["value"])]
        assert rejected, f"{f.name}: the schema accepts every invalid value"
        checked += 1
    assert checked >= 10
