"""MLflow models published as they are: a directory `mlflow.sklearn.save_model` wrote is
deployed in one call, runs with `mlflow.pyfunc` in a worker, and answers MLflow's own scoring
client at `/invocations` as `mlflow.pyfunc.load_model(path).predict` does."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mlflow.pyfunc
import mlflow.sklearn
import pytest
from mlflow.models import infer_signature
from mlflow.pyfunc.scoring_server.client import ScoringServerClient
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import feather as ftr

from .server_support import Server, feather_publish, request, serve


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    x, y = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=500).fit(x, load_iris().target_names[y])
    path = tmp_path_factory.mktemp("mlflow") / "iris_model"
    mlflow.sklearn.save_model(
        model, str(path), signature=infer_signature(x, model.predict(x)), input_example=x[:3]
    )
    return path, x


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve(tmp_path_factory.mktemp("server")) as running:
        yield running


def test_a_model_directory_is_built_as_it_is(saved: tuple[Path, Any], tmp_path: Path) -> None:
    path, _ = saved
    built = ftr.build_deployment(path, "iris", tmp_path)
    assert built.engine == "python" and "mlflow.pyfunc" in built.reason
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    requirements = manifest["runtime"]["requirements"]
    assert any(r.startswith("mlflow-skinny==") for r in requirements), requirements
    assert not any(r.startswith("mlflow==") for r in requirements)
    assert manifest["model"]["flavor"] == "mlflow"
    assert manifest["model"]["file"] == "mlflow_model/MLmodel"
    assert manifest["init"][0]["title"] == "sepal length (cm)", "from the signature's columns"
    assert len(manifest["examples"]) == 3, "from the saved input example"


@pytest.fixture(scope="module")
def deployed(server: Server, saved: tuple[Path, Any]) -> str:
    """The saved model deployed as it is; its name."""
    answer = ftr.deploy(saved[0], name="iris-mlflow", server=server.url, token=server.token)
    assert answer["engine"]["kind"] == "python"
    return "iris-mlflow"


def test_mlflow_s_client_scores_it_as_mlflow_does(
    server: Server, saved: tuple[Path, Any], deployed: str
) -> None:
    path, x = saved
    want = list(mlflow.pyfunc.load_model(str(path)).predict(x[:25]))
    client = ScoringServerClient("unused", 0)
    client.url_prefix = server.api("/models/alice/iris-mlflow")
    got = client.invoke(x[:25]).get_predictions()
    assert list(got.iloc[:, 0] if hasattr(got, "iloc") else got) == want
    status, out = request(
        "POST",
        server.api("/models/alice/iris-mlflow/predict"),
        body={
            "inputs": {
                c: float(v)
                for c, v in zip(
                    ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"],
                    x.iloc[0],
                    strict=True,
                )
            }
        },
        token=server.token,
    )
    assert status == 200, out
    assert out["outputs"][0]["data"] == want[0]


def test_feather_publish_takes_a_model_directory(server: Server, saved: tuple[Path, Any]) -> None:
    path, _ = saved
    out = feather_publish(server, path, "--no-wait")
    assert "published alice/iris-model version 1" in out, out


def _post_csv(server: Server, name: str, body: bytes) -> tuple[int, Any]:
    url = server.api(f"/models/alice/{name}/invocations")
    headers = {"Content-Type": "text/csv", "Authorization": f"Bearer {server.token}"}
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_csv_rows_score_as_mlflow_s_server_takes_them(
    server: Server, saved: tuple[Path, Any], deployed: str
) -> None:
    path, x = saved
    want = list(mlflow.pyfunc.load_model(str(path)).predict(x[:10]))
    # As pandas writes a DataFrame: with its index (a column with no name), or without.
    for body in (x[:10].to_csv(), x[:10].to_csv(index=False)):
        status, out = _post_csv(server, deployed, body.encode())
        assert status == 200, out
        assert out["predictions"] == want
    status, out = _post_csv(server, deployed, b"colour\n1\n")
    assert status == 400 and out["error_code"] == "BAD_REQUEST", out
    assert "no column" in out["message"] and "colour" in out["message"]
    status, out = _post_csv(
        server, deployed, x[:2].to_csv(index=False).replace("5.1", "tall").encode()
    )
    assert status == 422, out
