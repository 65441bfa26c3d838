"""`ftr.load`: a version deployed to the real server (`FEATHER_BIN`), pulled and run in this
process, answers as the fitted object itself does, natively or with its framework."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes, load_iris
from sklearn.linear_model import LogisticRegression, Ridge

import feather as ftr

from .server_support import Server, clean_env, serve
from .test_deploy import churn
from .test_onnx import library


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve(tmp_path_factory.mktemp("library"), "--onnxruntime", str(library())) as running:
        yield running


def test_a_native_version_runs_here_as_the_object_does(server: Server, tmp_path: Path) -> None:
    model, frame = churn()
    ftr.deploy(model, name="churn", sample=frame[:5], server=server.url, token=server.token)
    m = ftr.load("alice/churn", server=server.url, token=server.token, cache=tmp_path)
    assert m.manifest["runtime"]["kind"] == "onnx" and m.version == 1
    rows = frame[:40]
    assert list(m.predict(rows)) == list(model.predict(rows))
    assert m.predict_proba(rows) == pytest.approx(model.predict_proba(rows), abs=1e-4)
    (label,) = m(tenure_months=3, plan="monthly", spend=20.0)
    assert label["type"] == "Label"
    one = pd.DataFrame({"tenure (months)": [3], "plan": ["monthly"], "spend": [20.0]})
    assert label["label"] == model.predict(one)[0]
    again = ftr.load("alice/churn@1", server=server.url, token=server.token, cache=tmp_path)
    assert again.path == m.path, "pulled once per bundle digest"


def test_a_framework_version_runs_with_the_framework(server: Server, tmp_path: Path) -> None:
    data = load_diabetes(as_frame=True)
    model = Ridge().fit(data.data, data.target)
    ftr.deploy(
        model,
        name="diabetes",
        sample=data.data[:5],
        native=False,
        server=server.url,
        token=server.token,
    )
    m = ftr.load("alice/diabetes", server=server.url, token=server.token, cache=tmp_path)
    assert m.manifest["runtime"]["kind"] == "python"
    assert m.predict(data.data[:10]) == pytest.approx(model.predict(data.data[:10]))
    (shown,) = m(**{c: float(v) for c, v in data.data.iloc[0].items()})
    assert shown["type"] == "Number.View"
    assert shown["value"] == pytest.approx(float(model.predict(data.data[:1])[0]))


def test_class_indices_come_back_by_name(server: Server, tmp_path: Path) -> None:
    x, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=1000).fit(x, y)
    names = np.array(["setosa", "versicolor", "virginica"])
    for native in (True, False):
        ftr.deploy(
            model,
            name=f"iris-{native}".lower(),
            sample=x[:5],
            labels=list(names),
            native=native,
            server=server.url,
            token=server.token,
        )
        m = ftr.load(
            f"alice/iris-{native}".lower(), server=server.url, token=server.token, cache=tmp_path
        )
        assert list(m.predict(x[:20])) == list(names[model.predict(x[:20])]), native
        assert m.classes == list(names)


def test_what_cannot_run_here_is_named(server: Server, tmp_path: Path) -> None:
    x, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=1000).fit(x, y)
    ftr.deploy(
        model,
        name="needs",
        sample=x[:5],
        native=False,
        requirements=["feather-absent==1.0"],
        server=server.url,
        token=server.token,
        wait=False,
    )
    with pytest.raises(ftr.LoadError, match=r"lacks feather-absent==1\.0"):
        ftr.load("alice/needs", server=server.url, token=server.token, cache=tmp_path)
    with pytest.raises(ftr.LoadError, match="not found"):
        ftr.load("alice/nothing", server=server.url, token=server.token, cache=tmp_path)
    with pytest.raises(ftr.LoadError, match="is not owner/name"):
        ftr.load("Not a ref", server=server.url)


def _pull(server: Server, ref: str, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [server.binary, "models", "pull", ref, "-o", str(out)],
        env={**clean_env(), "FEATHER_SERVER": server.url, "FEATHER_TOKEN": server.token},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_pulled_folder_runs_here_without_the_server(server: Server, tmp_path: Path) -> None:
    model, frame = churn()
    auth = {"server": server.url, "token": server.token}
    ftr.deploy(model, name="pulled", sample=frame[:5], **auth)
    rows = frame[:30]
    want = list(model.predict(rows))
    done = _pull(server, "alice/pulled@1", tmp_path / "cli")
    assert done.returncode == 0, done.stderr
    folders = {
        "cli": tmp_path / "cli",
        "python": ftr.models.download("alice/pulled", tmp_path / "py", **auth),
        "unpacked": ftr.models.download("alice/pulled", tmp_path / "up", unpack=True, **auth),
    }
    origin = json.loads((tmp_path / "cli/version.json").read_text())
    assert origin == json.loads((tmp_path / "py/version.json").read_text())
    assert origin["model"] == "alice/pulled" and origin["version"] == 1
    for how, folder in folders.items():
        m = ftr.load(folder, cache=tmp_path / "cache")
        assert (m.model, m.version) == ("alice/pulled", 1), how
        assert list(m.predict(rows)) == want, how
    again = ftr.load(str(tmp_path / "cli"), cache=tmp_path / "cache")
    assert again.path == ftr.load(tmp_path / "py", cache=tmp_path / "cache").path, "one digest"


def test_a_build_folder_runs_with_its_framework(tmp_path: Path) -> None:
    data = load_diabetes(as_frame=True)
    model = Ridge().fit(data.data, data.target)
    ftr.build_deployment(model, "diabetes", tmp_path / "built", sample=data.data[:5], native=False)
    m = ftr.load(tmp_path / "built", cache=tmp_path / "cache")
    assert (m.model, m.version) == ("diabetes", None)
    assert m.predict(data.data[:10]) == pytest.approx(model.predict(data.data[:10]))
    if importlib.util.find_spec("zstandard") is None:
        # A bundle compressed with zstd (as `feather publish` takes one) needs zstandard here.
        (tmp_path / "built/bundle.tar.gz").rename(tmp_path / "built/bundle.tar.zst")
        with pytest.raises(ftr.LoadError, match="pip install zstandard"):
            ftr.load(tmp_path / "built", cache=tmp_path / "cache2")


def test_a_bundle_that_is_not_the_version_s_is_refused(server: Server, tmp_path: Path) -> None:
    x, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=1000).fit(x, y)
    auth = {"server": server.url, "token": server.token}
    answer = ftr.deploy(model, name="tampered", sample=x[:5], **auth)
    folder = ftr.models.download("alice/tampered", tmp_path / "py", **auth)
    with open(folder / "bundle.tar.gz", "ab") as f:
        f.write(b"\0")
    with pytest.raises(ftr.LoadError, match="does not have the digest"):
        ftr.load(folder, cache=tmp_path / "cache")
    with pytest.raises(ftr.LoadError, match=r"holds no manifest\.json"):
        ftr.load(tmp_path, cache=tmp_path / "cache")

    # The server's copy goes bad on its disk: pulling it is refused, and nothing is written.
    hex_digest = answer["digest"].removeprefix("sha256:")
    blob = server.data / "blobs/sha256" / hex_digest[:2] / hex_digest
    blob.write_bytes(blob.read_bytes() + b"\0")
    done = _pull(server, "alice/tampered", tmp_path / "cli")
    assert done.returncode != 0 and "digest" in done.stderr, done.stderr
    assert not (tmp_path / "cli/bundle.tar.gz").exists()
    with pytest.raises(ftr.models.StoreError, match="not the version's"):
        ftr.models.download("alice/tampered", tmp_path / "again", **auth)
    assert not (tmp_path / "again/bundle.tar.gz").exists()
