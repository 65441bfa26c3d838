"""The shared test vectors in `tests/vectors/`: the server's validator passes the same ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import feather as ftr
from feather.components import COMPONENT_TYPES, Component
from feather.requirements import check_requirement

VECTORS = Path(__file__).resolve().parents[2] / "tests" / "vectors"
VALID = VECTORS / "manifests" / "valid"
INVALID = VECTORS / "manifests" / "invalid"
VALUES = VECTORS / "values"


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _files(folder: Path, *, canonical: bool = False) -> list[Path]:
    return sorted(
        p for p in folder.glob("*.json") if p.name.endswith(".canonical.json") == canonical
    )


def _ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


VALID_FILES = _files(VALID)
INVALID_FILES = _files(INVALID)
VALUE_FILES = _files(VALUES)


def test_vector_folders_are_not_empty() -> None:
    assert VALID_FILES, f"no valid manifests in {VALID}"
    assert INVALID_FILES, f"no invalid manifests in {INVALID}"
    assert VALUE_FILES, f"no value vectors in {VALUES}"
    for path in VALID_FILES:
        assert path.with_name(path.stem + ".canonical.json").is_file(), (
            f"{path.name} lacks canonical"
        )


@pytest.mark.parametrize("path", VALID_FILES, ids=_ids(VALID_FILES))
def test_valid_manifest(path: Path) -> None:
    manifest = _load(path)
    canonical = _load(path.with_name(path.stem + ".canonical.json"))
    assert ftr.validate_manifest(manifest) == []
    assert ftr.canonical_manifest(manifest) == canonical
    assert ftr.canonical_manifest(canonical) == canonical, "the canonical form is a fixed point"
    init = [Component.from_dict(c).to_dict() for c in manifest.get("init", [])]
    assert init == canonical["init"]


def test_every_component_type_has_a_valid_vector() -> None:
    used = {c["type"] for c in _load(VALID / "every_component.json")["init"]}
    assert used == set(COMPONENT_TYPES)


@pytest.mark.parametrize("path", INVALID_FILES, ids=_ids(INVALID_FILES))
def test_invalid_manifest(path: Path) -> None:
    vector = _load(path)
    problems = ftr.validate_manifest(vector["manifest"])
    assert problems, vector["about"]
    assert {p.path for p in problems} == set(vector["problems"]), vector["about"]


@pytest.mark.parametrize("path", VALUE_FILES, ids=_ids(VALUE_FILES))
def test_values(path: Path) -> None:
    vector = _load(path)
    component = Component.from_dict(vector["component"])
    assert vector["valid"] or vector["invalid"], "a value vector without values"
    for value in vector["valid"]:
        assert component.validate_value(value) == [], value
    for case in vector["invalid"]:
        problems = component.validate_value(case["value"])
        assert {p.path for p in problems} == set(case["problems"]), case["value"]


REQUIREMENTS = _load(VECTORS / "requirements.json")


@pytest.mark.parametrize("line", REQUIREMENTS["valid"])
def test_valid_requirement(line: str) -> None:
    assert check_requirement(line) is None


@pytest.mark.parametrize("case", REQUIREMENTS["invalid"], ids=lambda c: repr(c["line"]))
def test_invalid_requirement(case: dict[str, str]) -> None:
    assert check_requirement(case["line"]) == case["reason"]
