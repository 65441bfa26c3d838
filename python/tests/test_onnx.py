"""`ftr.publish_onnx`: an ONNX model published as it is to the real server (`FEATHER_BIN`), run
there by ONNX Runtime with no Python, its signature and fields read from the model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
from skl2onnx import to_onnx
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import feather as ftr

from .server_support import Server, get, request, serve


def library() -> Path:
    capi = Path(onnxruntime.__file__).parent / "capi"
    return next(p for p in capi.iterdir() if p.name.startswith("libonnxruntime.so"))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with serve(tmp_path, "--onnxruntime", str(library())) as running:
        yield running


def iris_model() -> bytes:
    iris = load_iris()
    x = iris.data.astype(np.float32)
    model = LogisticRegression(max_iter=1000).fit(x, iris.target)
    onx = to_onnx(model, x[:1], target_opset=17)
    entry = onx.metadata_props.add()
    entry.key, entry.value = "feature_names", ",".join(iris.feature_names)
    return onx.SerializeToString()


def test_an_onnx_model_is_published_from_its_bytes_and_runs_in_the_server(server: Server) -> None:
    answer = ftr.publish_onnx(
        iris_model(),
        name="iris-native",
        title="Iris, natively",
        labels=["setosa", "versicolor", "virginica"],
        server=server.url,
        token=server.token,
    )
    assert (answer["model"], answer["version"]) == ("alice/iris-native", 1)
    status, version = get(f"{server.url}/api/v1/models/alice/iris-native/versions/1")
    assert status == 200
    manifest = version["manifest"]
    assert manifest["runtime"]["signature"]["inputs"][0]["shape"] == [-1, 4]
    assert manifest["init"][0]["id"] == "sepal_length_cm"
    assert "python" not in manifest["runtime"]
    status, out = request(
        "POST",
        f"{server.url}/api/v1/models/alice/iris-native/predict",
        body={
            "inputs": {
                "sepal_length_cm": 5.1,
                "sepal_width_cm": 3.5,
                "petal_length_cm": 1.4,
                "petal_width_cm": 0.2,
            }
        },
        timeout=30,
    )
    assert status == 200, out
    assert out["outputs"][0]["label"] == "setosa"


def test_a_bad_model_is_refused_with_the_server_s_reason(server: Server) -> None:
    with pytest.raises(ftr.PublishError) as refused:
        ftr.publish_onnx(b"not a model", name="junk", server=server.url, token=server.token)
    assert refused.value.status == 422
    assert refused.value.code == "invalid_manifest"
    assert "ONNX Runtime cannot load the model" in str(refused.value)


def test_a_bad_name_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    with pytest.raises(ftr.ManifestError):
        ftr.build_onnx(b"", "Not A Name", tmp_path)


def test_deploy_takes_an_onnx_file_as_it_is(server: Server, tmp_path: Path) -> None:
    path = tmp_path / "iris.onnx"
    path.write_bytes(iris_model())
    names = ["setosa", "versicolor", "virginica"]
    for bad, message in [({"sample": [[1.0] * 4]}, "sample="), ({"native": False}, "native=False")]:
        with pytest.raises(ftr.DeployError, match=message):
            ftr.deploy(path, name="iris-file", server=server.url, token=server.token, **bad)
    with pytest.raises(ftr.DeployError, match="no ONNX model at"):
        ftr.deploy(tmp_path / "none.onnx", name="x", server=server.url, token=server.token)
    answer = ftr.deploy(path, name="iris-file", labels=names, server=server.url, token=server.token)
    assert answer["engine"]["kind"] == "onnx"
    import onnx

    again = ftr.deploy(
        onnx.load(path), name="iris-file", labels=names, server=server.url, token=server.token
    )
    assert again["version"] == 2
    status, out = request(
        "POST",
        f"{server.url}/api/v1/models/alice/iris-file/predict",
        body={
            "inputs": {
                "sepal_length_cm": 6.7,
                "sepal_width_cm": 3.0,
                "petal_length_cm": 5.2,
                "petal_width_cm": 2.3,
            }
        },
        timeout=30,
    )
    assert status == 200, out
    assert out["outputs"][0]["label"] == "virginica"
