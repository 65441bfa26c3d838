"""Manifest validation beyond the shared vectors: paths, escaping, canonical defaults."""

from __future__ import annotations

import copy
import doctest
import importlib
import pkgutil
from typing import Any

import pytest

import feather as ftr

BASE: dict[str, Any] = {
    "schema": "feather.manifest/v1",
    "name": "m",
    "runtime": {"kind": "python", "python": "3.11", "entry": "app.py"},
    "steps": [{"name": "run"}],
    "provenance": {"sdk": "0.1.0", "python": "3.11.7", "platform": "linux-x86_64"},
}


def _paths(change: Any) -> set[str]:
    manifest = copy.deepcopy(BASE)
    change(manifest)
    return {p.path for p in ftr.validate_manifest(manifest)}


def test_base_is_valid_and_gets_defaults() -> None:
    assert ftr.validate_manifest(BASE) == []
    canonical = ftr.canonical_manifest(BASE)
    assert canonical["title"] == "m"
    assert canonical["runtime"]["requirements"] == []
    assert canonical["provenance"]["packages"] == {}
    assert list(canonical) == [
        "schema", "name", "title", "description", "tags",
        "runtime", "init", "steps", "provenance",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "paths"),
    [
        (lambda m: m.update(colour="red"), {"/colour"}),
        (lambda m: m["runtime"].update(pip="x"), {"/runtime/pip"}),
        (lambda m: m["steps"][0].update(titel="x"), {"/steps/0/titel"}),
        (lambda m: m["provenance"].update(git={"commit": "c", "dirty": "no"}),
         {"/provenance/git/dirty"}),
        (lambda m: m["provenance"].update(packages={"a": ""}), {"/provenance/packages/a"}),
        (lambda m: m.update(init=[{"id": "a", "type": "Checkbox", "deafult": True}]),
         {"/init/0/deafult"}),
        (lambda m: m.update(init=[{"type": "Checkbox"}]), {"/init/0/id"}),
        (lambda m: m.update(init="x"), {"/init"}),
        (lambda m: m.update(title=""), {"/title"}),
        (lambda m: m.update(name=None), {"/name"}),
        (lambda m: m["runtime"].update(python="3"), {"/runtime/python"}),
        (lambda m: m["runtime"].update(entry="/abs/app.py"), {"/runtime/entry"}),
        (lambda m: m["runtime"].update(requirements=["a\nb", "--index-url x", ""]),
         {"/runtime/requirements/0", "/runtime/requirements/1", "/runtime/requirements/2"}),
        (lambda m: m.update(steps=[{"name": "a"}, {"name": "a"}]), {"/steps/1/name"}),
        (lambda m: m.update(init=[{"id": "x", "type": "Label", "confidences": {"a/b~c": 2}}]),
         {"/init/0/confidences/a~1b~0c"}),
    ],
)  # fmt: skip
def test_problem_paths(change: Any, paths: set[str]) -> None:
    assert _paths(change) == paths


def test_not_an_object() -> None:
    assert [p.path for p in ftr.validate_manifest([])] == [""]


def test_canonical_manifest_raises_on_problems() -> None:
    with pytest.raises(ftr.ManifestError) as err:
        ftr.canonical_manifest({**BASE, "schema": "feather.manifest/v2"})
    assert [p.path for p in err.value.problems] == ["/schema"]


def test_problem_is_readable() -> None:
    problem = ftr.Problem("/init/0/id", "is required")
    assert str(problem) == "/init/0/id: is required"
    assert str(ftr.Problem("", "expected an object")) == "/: expected an object"


def test_docstring_examples() -> None:
    modules = [
        importlib.import_module(m.name) for m in pkgutil.walk_packages(ftr.__path__, "feather.")
    ]
    attempted = 0
    for module in modules:
        result = doctest.testmod(module, extraglobs={"ftr": ftr}, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0, module.__name__
        attempted += result.attempted
    assert attempted > 20
