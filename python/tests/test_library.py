"""`ftr.load`: a version deployed to the real server (`FEATHER_BIN`), pulled and run in this
process, answers as the fitted object itself does, natively or with its framework."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes, load_iris
from sklearn.linear_model import LogisticRegression, Ridge

import feather as ftr

from .server_support import Server, serve
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
