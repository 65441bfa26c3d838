"""MLflow models published as they are: a directory `mlflow.sklearn.save_model` wrote is
deployed in one call, served natively (its estimator converted) or with `mlflow.pyfunc` in a
worker, and answers MLflow's own scoring client at `/invocations` as
`mlflow.pyfunc.load_model(path).predict` does."""

from __future__ import annotations

import json
import shutil
import tarfile
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
    built = ftr.build_deployment(path, "iris", tmp_path / "framework", native=False)
    assert built.engine == "python" and "native=False" in built.reason
    manifest = json.loads((tmp_path / "framework/manifest.json").read_text())
    requirements = manifest["runtime"]["requirements"]
    assert any(r.startswith("mlflow-skinny==") for r in requirements), requirements
    assert not any(r.startswith("mlflow==") for r in requirements)
    assert manifest["model"]["flavor"] == "mlflow"
    assert manifest["model"]["file"] == "mlflow_model/MLmodel"
    assert manifest["model"]["task"] == "classification", "as the estimator inside is"
    assert manifest["model"]["classes"] == ["setosa", "versicolor", "virginica"]
    assert manifest["init"][0]["title"] == "sepal length (cm)", "from the signature's columns"
    assert len(manifest["examples"]) == 3, "from the saved input example"


def test_a_scikit_learn_model_inside_is_served_natively(
    saved: tuple[Path, Any], tmp_path: Path
) -> None:
    path, _ = saved
    built = ftr.build_deployment(path, "iris", tmp_path)
    assert built.engine == "onnx", built.reason
    assert "skl2onnx" in built.reason and "answers as mlflow does" in built.reason
    assert built.parity is not None and built.parity.rows == 3
    with tarfile.open(tmp_path / "bundle.tar.gz") as tar:
        members = tar.getnames()
    assert "model.onnx" in members and "mlflow_model/MLmodel" in members


def test_a_python_model_runs_with_mlflow(tmp_path: Path) -> None:
    class Doubled(mlflow.pyfunc.PythonModel):
        def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
            return model_input * 2

    x = load_iris(as_frame=True).data
    mlflow.pyfunc.save_model(str(tmp_path / "doubled"), python_model=Doubled(), input_example=x[:3])
    built = ftr.build_deployment(tmp_path / "doubled", "doubled", tmp_path / "out")
    assert built.engine == "python"
    assert "runs with mlflow.pyfunc" in built.reason, built.reason
    with pytest.raises(ftr.DeployError, match="cannot serve it natively"):
        ftr.build_deployment(tmp_path / "doubled", "doubled", tmp_path / "refused", native=True)


def test_python_env_yaml_gives_the_python_and_the_dependencies(
    saved: tuple[Path, Any], tmp_path: Path
) -> None:
    path, _ = saved
    copy = tmp_path / "model"
    shutil.copytree(path, copy)
    (copy / "extra.txt").write_text("tabulate==0.9.0  # a comment\n")
    (copy / "python_env.yaml").write_text(
        "python: 3.10.4\nbuild_dependencies:\n- pip\n"
        "dependencies:\n- -r requirements.txt\n- -r extra.txt\n- packaging==24.2\n"
    )
    ftr.build_deployment(copy, "iris", tmp_path / "out", native=False)
    runtime = json.loads((tmp_path / "out/manifest.json").read_text())["runtime"]
    assert runtime["python"] == "3.10"
    assert runtime["requirements"][-2:] == ["tabulate==0.9.0", "packaging==24.2"]
    assert any(r.startswith("mlflow-skinny==") for r in runtime["requirements"])
    (copy / "python_env.yaml").write_text("python: 3.11.4\ndependencies:\n- -r ../outside.txt\n")
    with pytest.raises(ftr.DeployError, match=r"has no \.\./outside\.txt"):
        ftr.build_deployment(copy, "iris", tmp_path / "refused", native=False)
    assert not (tmp_path / "refused/manifest.json").exists()


@pytest.fixture(scope="module")
def deployed(server: Server, saved: tuple[Path, Any]) -> dict[str, str]:
    """The saved model deployed natively and with MLflow; their names by engine."""
    names = {"onnx": "iris-mlflow", "python": "iris-mlflow-pyfunc"}
    for engine, name in names.items():
        native = engine == "onnx"
        answer = ftr.deploy(saved[0], name=name, native=native, **_auth(server))
        assert answer["engine"]["kind"] == engine, answer["engine"]
    return names


def _auth(server: Server) -> dict[str, str]:
    return {"server": server.url, "token": server.token}


@pytest.mark.parametrize("engine", ["onnx", "python"])
def test_mlflow_s_client_scores_it_as_mlflow_does(
    server: Server, saved: tuple[Path, Any], deployed: dict[str, str], engine: str
) -> None:
    path, x = saved
    name = deployed[engine]
    want = list(mlflow.pyfunc.load_model(str(path)).predict(x[:25]))
    client = ScoringServerClient("unused", 0)
    client.url_prefix = server.api(f"/models/alice/{name}")
    got = client.invoke(x[:25]).get_predictions()
    assert list(got.iloc[:, 0] if hasattr(got, "iloc") else got) == want
    ids = ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"]
    status, out = request(
        "POST",
        server.api(f"/models/alice/{name}/predict"),
        body={"inputs": {c: float(v) for c, v in zip(ids, x.iloc[0], strict=True)}},
        token=server.token,
    )
    assert status == 200, out
    (label,) = out["outputs"]
    assert label["label"] == want[0]
    estimator = mlflow.sklearn.load_model(str(path))
    confidences = [label["confidences"][c] for c in estimator.classes_]
    assert confidences == pytest.approx(estimator.predict_proba(x[:1])[0], abs=1e-4)
    m = ftr.load(f"alice/{name}", cache=server.data.parent / "cache", **_auth(server))
    assert list(m.predict(x[:25])) == want


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
    server: Server, saved: tuple[Path, Any], deployed: dict[str, str]
) -> None:
    path, x = saved
    want = list(mlflow.pyfunc.load_model(str(path)).predict(x[:10]))
    # As pandas writes a DataFrame: with its index (a column with no name), or without.
    for body in (x[:10].to_csv(), x[:10].to_csv(index=False)):
        status, out = _post_csv(server, deployed["onnx"], body.encode())
        assert status == 200, out
        assert out["predictions"] == want
    status, out = _post_csv(server, deployed["onnx"], b"colour\n1\n")
    assert status == 400 and out["error_code"] == "BAD_REQUEST", out
    assert "no column" in out["message"] and "colour" in out["message"]
    status, out = _post_csv(
        server, deployed["onnx"], x[:2].to_csv(index=False).replace("5.1", "tall").encode()
    )
    assert status == 422, out
