"""`ftr.deploy` against the real server (`FEATHER_BIN`): scikit-learn objects deployed in one
call answer through REST as the objects themselves do, natively (ONNX Runtime in the server)
or with scikit-learn in a worker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_iris
from sklearn.linear_model import LogisticRegression, Ridge

import feather as ftr

from .server_support import (
    EXAMPLES,
    Server,
    feather_publish,
    get,
    request,
    run_deploy_script,
    serve,
)
from .test_deploy import boosters, churn
from .test_onnx import library


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve(tmp_path_factory.mktemp("deploy"), "--onnxruntime", str(library())) as running:
        yield running


def predict(server: Server, model: str, inputs: dict[str, Any]) -> list[dict[str, Any]]:
    status, out = request(
        "POST",
        f"{server.url}/api/v1/models/{model}/predict",
        body={"inputs": inputs},
        token=server.token,
        timeout=120,
    )
    assert status == 200, out
    return list(out["outputs"])


def test_a_fitted_pipeline_is_deployed_natively_and_answers_as_it_does(server: Server) -> None:
    model, frame = churn()
    answer = ftr.deploy(
        model, name="churn", sample=frame[:5], server=server.url, token=server.token
    )
    assert answer["model"] == "alice/churn"
    assert answer["engine"]["kind"] == "onnx", answer["engine"]
    status, version = get(f"{server.url}/api/v1/models/alice/churn/versions/1", server.token)
    assert status == 200
    kept = version["manifest"]
    assert kept["model"]["served"]["parity"]["rows"] == 5
    assert kept["examples"][0]["plan"] in ("monthly", "yearly")
    rows = frame.iloc[[0, 1, 2, 3]]
    for (_, row), want, p in zip(
        rows.iterrows(), model.predict(rows), model.predict_proba(rows), strict=True
    ):
        inputs = {"tenure_months": int(row["tenure (months)"]), "plan": row["plan"]}
        inputs["spend"] = float(row["spend"])
        (label,) = predict(server, "alice/churn", inputs)
        assert label["label"] == want
        assert [label["confidences"][c] for c in model.classes_] == pytest.approx(p, abs=1e-4)


def test_a_regressor_runs_with_scikit_learn_when_asked(server: Server) -> None:
    data = load_diabetes(as_frame=True)
    model = Ridge().fit(data.data, data.target)
    answer = ftr.deploy(
        model,
        name="diabetes",
        sample=data.data[:5],
        native=False,
        server=server.url,
        token=server.token,
    )
    assert answer["engine"]["kind"] == "python"
    row = data.data.iloc[7]
    (shown,) = predict(server, "alice/diabetes", {k: float(v) for k, v in row.items()})
    assert shown["type"] == "Number.View"
    assert shown["value"] == pytest.approx(float(model.predict(data.data.iloc[[7]])[0]))


def test_class_indices_are_shown_by_name(server: Server, tmp_path: Path) -> None:
    x, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=1000).fit(x, y)
    names = ["setosa", "versicolor", "virginica"]
    answer = ftr.deploy(
        model, name="iris", sample=x[:5], labels=names, server=server.url, token=server.token
    )
    assert answer["engine"]["kind"] == "onnx"
    (label,) = predict(server, "alice/iris", {"x0": 6.7, "x1": 3.0, "x2": 5.2, "x3": 2.3})
    assert label["label"] == names[int(model.predict([[6.7, 3.0, 5.2, 2.3]])[0])]


def test_the_wine_example_deploys_its_fitted_pipeline(server: Server) -> None:
    out = run_deploy_script(server, "wine")
    assert out.startswith("onnx - converted by skl2onnx"), out
    status, version = get(f"{server.url}/api/v1/models/alice/wine/versions/1", server.token)
    assert status == 200
    example_row = version["manifest"]["examples"][0]
    (label,) = predict(server, "alice/wine", example_row)
    assert label["label"] == "cultivar 1", "the first wine of the dataset is of the first"


def test_feather_publish_runs_a_deploy_script(server: Server) -> None:
    out = feather_publish(server, EXAMPLES / "wine")
    assert "published alice/wine version" in out, out
    assert f"page:    {server.url}/m/alice/wine" in out


@pytest.mark.parametrize(("flavor", "classifier", "_"), boosters(), ids=["xgb", "lgbm", "cb"])
@pytest.mark.parametrize("native", [True, False], ids=["native", "framework"])
def test_a_booster_answers_through_rest_and_as_a_library(
    server: Server, tmp_path: Path, flavor: str, classifier: Any, _: Any, native: bool
) -> None:
    x, y = load_iris(return_X_y=True, as_frame=True)
    classifier.fit(x, y)
    name = f"{flavor}-{'native' if native else 'framework'}"
    answer = ftr.deploy(
        classifier,
        name=name,
        sample=x[:5],
        native=native,
        server=server.url,
        token=server.token,
    )
    assert answer["engine"]["kind"] == ("onnx" if native else "python"), answer["engine"]
    row = x.iloc[120]
    inputs = {"sepal_length_cm": row.iloc[0], "sepal_width_cm": row.iloc[1]}
    inputs |= {"petal_length_cm": row.iloc[2], "petal_width_cm": row.iloc[3]}
    (label,) = predict(server, f"alice/{name}", {k: float(v) for k, v in inputs.items()})
    assert label["label"] == str(np.ravel(classifier.predict(x.iloc[[120]]))[0])
    want = classifier.predict_proba(x.iloc[[120]])[0]
    assert [label["confidences"][str(c)] for c in classifier.classes_] == pytest.approx(
        want, abs=1e-4
    )
    m = ftr.load(f"alice/{name}", server=server.url, token=server.token, cache=tmp_path)
    want_labels = np.ravel(classifier.predict(x[:30]))
    assert [str(v) for v in m.predict(x[:30])] == [str(v) for v in want_labels]
    assert m.predict_proba(x[:30]) == pytest.approx(classifier.predict_proba(x[:30]), abs=1e-4)
