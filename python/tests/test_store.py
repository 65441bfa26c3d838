"""`ftr.models`: the store's API from Python against the real server (`FEATHER_BIN`): versions
listed, read by number and alias, downloaded, aliased and deleted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import feather as ftr

from .server_support import Server, serve
from .test_onnx import library


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve(tmp_path_factory.mktemp("store"), "--onnxruntime", str(library())) as running:
        yield running


def test_the_store_from_python(server: Server, tmp_path: Path) -> None:
    auth = {"server": server.url, "token": server.token}
    x, y = load_iris(return_X_y=True)
    for c in (1.0, 0.1):
        model = LogisticRegression(C=c, max_iter=1000).fit(x, y)
        ftr.deploy(model, name="iris", sample=x[:3], tags=["flowers"], **auth)
    found = ftr.models.list("iris", **auth)
    assert [(m["owner"], m["name"], m["latest_version"]) for m in found] == [("alice", "iris", 2)]
    assert ftr.models.list(tag="nothing", **auth) == []
    assert [v["version"] for v in ftr.models.versions("alice/iris", **auth)] == [2, 1]

    ftr.models.set_alias("alice/iris", "prod", 1, **auth)
    prod = ftr.models.get("alice/iris@prod", **auth)
    assert prod["version"] == 1 and prod["manifest"]["model"]["flavor"] == "sklearn"
    assert ftr.models.get("alice/iris", **auth)["version"] == 2, "latest by default"

    folder = ftr.models.download("alice/iris@prod", tmp_path / "packed", **auth)
    assert sorted(p.name for p in folder.iterdir()) == [
        "bundle.tar.gz",
        "manifest.json",
        "version.json",
    ]
    assert json.loads((folder / "manifest.json").read_text())["name"] == "iris"
    files = ftr.models.download("alice/iris@1", tmp_path / "files", unpack=True, **auth)
    assert sorted(p.name for p in files.iterdir()) == [
        "manifest.json",
        "model.onnx",
        "model.skops",
        "version.json",
    ]

    ftr.models.delete("alice/iris@1", **auth)
    assert [v["version"] for v in ftr.models.versions("alice/iris", **auth)] == [2]
    with pytest.raises(ftr.models.StoreError) as gone:
        ftr.models.get("alice/iris@prod", **auth)
    assert gone.value.status == 404
    ftr.models.delete("alice/iris", **auth)
    assert ftr.models.list(**auth) == []


def test_refusals_are_named(server: Server) -> None:
    auth = {"server": server.url, "token": server.token}
    with pytest.raises(ftr.models.StoreError, match="not owner/name"):
        ftr.models.get("no slash", **auth)
    with pytest.raises(ftr.models.StoreError, match="by its number"):
        ftr.models.delete("alice/iris@prod", **auth)
    with pytest.raises(ftr.models.StoreError) as missing:
        ftr.models.versions("alice/absent", **auth)
    assert (missing.value.status, missing.value.code) == (404, "not_found")
    with pytest.raises(ftr.models.StoreError) as anonymous:
        ftr.models.delete("alice/absent", server=server.url, token="")
    assert anonymous.value.status == 401
