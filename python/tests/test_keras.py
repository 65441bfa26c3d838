"""Keras 3 models deployed in one call (on the PyTorch backend here): exported with Keras' own
ONNX export and served natively when the export answers the sample as Keras does, else run
with Keras from its `.keras` file; through REST, the Open Inference Protocol and `ftr.load`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_iris

import feather as ftr

from .server_support import Server, request, serve
from .test_deploy import assert_refused, manifest, members, network_refusals
from .test_onnx import library

NAMES = ["setosa", "versicolor", "virginica"]


def trained(*, softmax: bool = True) -> tuple[Any, np.ndarray]:
    x, y = load_iris(return_X_y=True)
    x = x.astype(np.float32)
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(3, activation="softmax" if softmax else None),
        ]
    )
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=not softmax)
    model.compile(keras.optimizers.Adam(0.05), loss)
    model.fit(x, y, epochs=60, batch_size=32, verbose=0)
    return model, x


def probabilities(model: Any, x: np.ndarray) -> np.ndarray:
    return np.asarray(model.predict(x, verbose=0))


def test_a_softmax_model_is_a_classifier_exported_natively(tmp_path: Path, worker: Any) -> None:
    model, x = trained()
    built = ftr.build_deployment(model, "iris", tmp_path / "n", sample=x[:5], labels=NAMES)
    assert built.engine == "onnx", built.reason
    assert "converted by keras" in built.reason
    m = manifest(tmp_path / "n")
    assert m["model"]["flavor"] == "keras" and m["model"]["format"] == "keras"
    assert m["model"]["classes"] == NAMES
    assert members(tmp_path / "n") == ["model.keras", "model.onnx"]
    ftr.build_deployment(model, "iris", tmp_path / "p", sample=x[:5], labels=NAMES, native=False)
    requirements = manifest(tmp_path / "p")["runtime"]["requirements"]
    assert any(r.startswith("keras==") for r in requirements)
    assert any(r.startswith("torch==") for r in requirements), "the backend it ran on"
    (_, predict) = worker(tmp_path / "p").steps[0]
    rows = x[[0, 60, 120]]
    labels = predict(**{f"x{i}": list(map(float, rows[:, i])) for i in range(4)})
    for label, p in zip(labels, probabilities(model, rows), strict=True):
        assert label.label == NAMES[int(p.argmax())]
        assert list(label.confidences.values()) == pytest.approx(list(p), abs=1e-6)


def test_logits_get_a_softmax_when_the_classes_are_named(tmp_path: Path, worker: Any) -> None:
    model, x = trained(softmax=False)
    built = ftr.build_deployment(model, "iris", tmp_path / "n", sample=x[:5], labels=NAMES)
    assert built.engine == "onnx", built.reason
    ftr.build_deployment(model, "iris", tmp_path / "p", sample=x[:5], labels=NAMES, native=False)
    (_, predict) = worker(tmp_path / "p").steps[0]
    rows = x[[0, 60, 120]]
    logits = probabilities(model, rows)
    want = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = predict(**{f"x{i}": list(map(float, rows[:, i])) for i in range(4)})
    for label, p in zip(labels, want, strict=True):
        assert list(label.confidences.values()) == pytest.approx(list(p), abs=1e-6)
    m = ftr.build_deployment(model, "plain", tmp_path / "r", sample=x[:5])
    assert manifest(m.folder)["model"]["task"] == "other", "three numbers a row, unnamed"


def test_what_a_model_cannot_be_deployed_with_is_named(tmp_path: Path) -> None:
    model, x = trained()
    assert_refused(model, tmp_path / "out", network_refusals(x, NAMES))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve(tmp_path_factory.mktemp("keras"), "--onnxruntime", str(library())) as running:
        yield running


@pytest.mark.parametrize("native", [True, False], ids=["native", "framework"])
def test_a_model_answers_through_rest_v2_and_as_a_library(
    server: Server, tmp_path: Path, native: bool
) -> None:
    model, x = trained()
    name = f"iris-keras-{'native' if native else 'framework'}"
    answer = ftr.deploy(
        model,
        name=name,
        sample=x[:5],
        labels=NAMES,
        native=native,
        server=server.url,
        token=server.token,
    )
    assert answer["engine"]["kind"] == ("onnx" if native else "python"), answer["engine"]
    want = probabilities(model, x[120:121])[0]
    status, out = request(
        "POST",
        server.api(f"/models/alice/{name}/predict"),
        body={"inputs": {f"x{i}": float(v) for i, v in enumerate(x[120])}},
        token=server.token,
        timeout=300,
    )
    assert status == 200, out
    assert out["outputs"][0]["label"] == NAMES[int(want.argmax())]
    assert [out["outputs"][0]["confidences"][n] for n in NAMES] == pytest.approx(want, abs=1e-4)
    status, out = request(
        "POST",
        f"{server.url}/v2/models/alice/{name}/infer",
        body={"inputs": v2_inputs(server, name, x[118:121])},
        token=server.token,
    )
    assert status == 200, out
    want = probabilities(model, x[118:121])
    # Both engines answer with the probabilities; workers with the label as well.
    tensors = {t["name"]: t for t in out["outputs"]}
    assert sorted(tensors) == (["probabilities"] if native else ["label", "probabilities"])
    assert tensors["probabilities"]["shape"] == [3, 3]
    assert tensors["probabilities"]["data"] == pytest.approx(want.ravel(), abs=1e-4)
    if not native:
        assert tensors["label"]["datatype"] == "BYTES"
        assert tensors["label"]["data"] == [NAMES[i] for i in want.argmax(1)]
    m = ftr.load(f"alice/{name}", server=server.url, token=server.token, cache=tmp_path)
    assert list(m.predict(x[:30])) == [NAMES[i] for i in probabilities(model, x[:30]).argmax(1)]
    assert m.predict_proba(x[:30]) == pytest.approx(probabilities(model, x[:30]), abs=1e-4)


def v2_inputs(server: Server, name: str, rows: np.ndarray) -> list[dict[str, Any]]:
    """The model's inputs as its `/v2` metadata names them: one tensor of rows, or a tensor a
    column."""
    status, meta = request("GET", f"{server.url}/v2/models/alice/{name}", token=server.token)
    assert status == 200, meta
    inputs = meta["inputs"]
    if len(inputs) == 1:
        (one,) = inputs
        data = rows.astype(np.float32 if one["datatype"] == "FP32" else np.float64)
        return [{**one, "shape": list(rows.shape), "data": data.ravel().tolist()}]
    return [
        {**t, "shape": [len(rows)], "data": [float(v) for v in rows[:, i]]}
        for i, t in enumerate(inputs)
    ]


def test_a_regression_model_shows_a_number(server: Server) -> None:
    x = load_diabetes().data.astype(np.float32)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(1)])
    for native in (True, False):
        name = f"diabetes-keras-{native}".lower()
        answer = ftr.deploy(
            model, name=name, sample=x[:5], native=native, server=server.url, token=server.token
        )
        assert answer["engine"]["kind"] == ("onnx" if native else "python"), answer["engine"]
        status, out = request(
            "POST",
            server.api(f"/models/alice/{name}/predict"),
            body={"inputs": {f"x{i}": float(v) for i, v in enumerate(x[3])}},
            token=server.token,
            timeout=300,
        )
        assert status == 200, out
        want = float(probabilities(model, x[3:4])[0, 0])
        assert out["outputs"][0]["type"] == "Number.View"
        assert out["outputs"][0]["value"] == pytest.approx(want, abs=1e-4)
        status, out = request(
            "POST",
            f"{server.url}/v2/models/alice/{name}/infer",
            body={"inputs": v2_inputs(server, name, x[:4])},
            token=server.token,
        )
        assert status == 200, out
        (values,) = out["outputs"]
        assert values["data"] == pytest.approx(probabilities(model, x[:4]).ravel(), abs=1e-4)
