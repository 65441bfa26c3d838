"""PyTorch modules deployed in one call: exported with torch.onnx and served natively when the
export answers the sample as the module does, else run with torch from a `torch.export`
program; through REST and through `ftr.load`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from sklearn.datasets import load_diabetes, load_iris

import feather as ftr

from .server_support import Server, request, run_deploy_script, serve
from .test_deploy import assert_refused, manifest, members, network_refusals
from .test_onnx import library

NAMES = ["setosa", "versicolor", "virginica"]


def trained() -> tuple[torch.nn.Module, np.ndarray, np.ndarray]:
    x, y = load_iris(return_X_y=True)
    x = x.astype(np.float32)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    opt = torch.optim.Adam(net.parameters(), lr=0.05)
    for _ in range(150):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        opt.step()
    return net.eval(), x, y


def probabilities(net: torch.nn.Module, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return torch.softmax(net(torch.from_numpy(x)), dim=1).numpy()


def test_a_classifier_module_is_exported_and_its_framework_path_answers_alike(
    tmp_path: Path, worker: Any
) -> None:
    net, x, _ = trained()
    built = ftr.build_deployment(net, "iris", tmp_path / "n", sample=x[:5], labels=NAMES)
    assert built.engine == "onnx", built.reason
    assert "torch.onnx" in built.reason
    m = manifest(tmp_path / "n")
    assert m["model"]["format"] == "torch-export" and m["model"]["classes"] == NAMES
    assert members(tmp_path / "n") == ["model.onnx", "model.pt2"]
    ftr.build_deployment(net, "iris", tmp_path / "p", sample=x[:5], labels=NAMES, native=False)
    (_, predict) = worker(tmp_path / "p").steps[0]
    rows = x[[0, 60, 120]]
    labels = predict(**{f"x{i}": list(map(float, rows[:, i])) for i in range(4)})
    for label, p in zip(labels, probabilities(net, rows), strict=True):
        assert label.label == NAMES[int(p.argmax())]
        assert list(label.confidences.values()) == pytest.approx(list(p), abs=1e-6)


def test_what_a_module_cannot_be_deployed_with_is_named(tmp_path: Path) -> None:
    net, x, _ = trained()
    assert_refused(net, tmp_path / "out", network_refusals(x, NAMES))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve(tmp_path_factory.mktemp("torch"), "--onnxruntime", str(library())) as running:
        yield running


@pytest.mark.parametrize("native", [True, False], ids=["native", "framework"])
def test_a_module_answers_through_rest_and_as_a_library(
    server: Server, tmp_path: Path, native: bool
) -> None:
    net, x, _ = trained()
    name = f"iris-torch-{'native' if native else 'framework'}"
    answer = ftr.deploy(
        net,
        name=name,
        sample=x[:5],
        labels=NAMES,
        native=native,
        server=server.url,
        token=server.token,
    )
    assert answer["engine"]["kind"] == ("onnx" if native else "python"), answer["engine"]
    row = x[120]
    status, out = request(
        "POST",
        server.api(f"/models/alice/{name}/predict"),
        body={"inputs": {f"x{i}": float(v) for i, v in enumerate(row)}},
        token=server.token,
        timeout=300,
    )
    assert status == 200, out
    want = probabilities(net, x[120:121])[0]
    assert out["outputs"][0]["label"] == NAMES[int(want.argmax())]
    assert [out["outputs"][0]["confidences"][n] for n in NAMES] == pytest.approx(want, abs=1e-4)
    m = ftr.load(f"alice/{name}", server=server.url, token=server.token, cache=tmp_path)
    assert list(m.predict(x[:30])) == [NAMES[i] for i in probabilities(net, x[:30]).argmax(1)]
    assert m.predict_proba(x[:30]) == pytest.approx(probabilities(net, x[:30]), abs=1e-4)


def test_a_regression_module_shows_a_number(server: Server) -> None:
    data = load_diabetes()
    x = data.data.astype(np.float32)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(10, 1)).eval()
    answer = ftr.deploy(
        net, name="diabetes-torch", sample=x[:5], server=server.url, token=server.token
    )
    assert answer["engine"]["kind"] == "onnx", answer["engine"]
    status, out = request(
        "POST",
        server.api("/models/alice/diabetes-torch/predict"),
        body={"inputs": {f"x{i}": float(v) for i, v in enumerate(x[3])}},
        token=server.token,
    )
    assert status == 200, out
    with torch.no_grad():
        want = float(net(torch.from_numpy(x[3:4]))[0, 0])
    assert out["outputs"][0]["type"] == "Number.View"
    assert out["outputs"][0]["value"] == pytest.approx(want, abs=1e-4)


def test_the_iris_torch_example_deploys_its_module(server: Server) -> None:
    out = run_deploy_script(server, "iris-torch")
    assert "'kind': 'onnx'" in out and "converted by torch.onnx" in out
    status, out = request(
        "POST",
        server.api("/models/alice/iris-torch/predict"),
        body={"inputs": {"x0": 6.7, "x1": 3.0, "x2": 5.2, "x3": 2.3}},
        token=server.token,
    )
    assert status == 200, out
    assert out["outputs"][0]["label"] == "virginica"
