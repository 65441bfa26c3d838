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
from sklearn.datasets import load_diabetes, load_digits, load_iris

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
    assert_refused(net, tmp_path / "out", network_refusals(x, NAMES, tensors=True))


def digits_net() -> tuple[torch.nn.Module, np.ndarray]:
    """A small convolutional network of 8x8 digit images, one channel, trained on the spot."""
    data = load_digits()
    x = (data.images / 16.0).astype(np.float32)[:, None]
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(8 * 4 * 4, 10),
    )
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    for _ in range(60):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(
            net(torch.from_numpy(x)), torch.from_numpy(data.target)
        )
        loss.backward()
        opt.step()
    return net.eval(), x


DIGITS = [str(d) for d in range(10)]


@pytest.mark.parametrize("native", [True, False], ids=["native", "framework"])
def test_a_module_of_images_takes_a_tensor_everywhere(
    server: Server, tmp_path: Path, native: bool
) -> None:
    net, x = digits_net()
    name = f"digits-torch-{'native' if native else 'framework'}"
    answer = ftr.deploy(net, name=name, sample=x[:4], labels=DIGITS, native=native, **_auth(server))
    assert answer["engine"]["kind"] == ("onnx" if native else "python"), answer["engine"]
    if native:
        assert "converted by torch.onnx" in answer["engine"]["reason"]
    want = probabilities(net, x[:30])

    status, out = request(
        "POST",
        server.api(f"/models/alice/{name}/predict"),
        body={"inputs": {"x": x[7].tolist()}},
        token=server.token,
        timeout=300,
    )
    assert status == 200, out
    (label,) = out["outputs"]
    assert label["label"] == DIGITS[int(want[7].argmax())]
    assert [label["confidences"][d] for d in DIGITS] == pytest.approx(want[7], abs=1e-4)

    status, meta = request("GET", f"{server.url}/v2/models/alice/{name}", token=server.token)
    assert status == 200, meta
    assert [(t["name"], t["datatype"], t["shape"]) for t in meta["inputs"]] == [
        ("x", "FP32", [-1, 1, 8, 8])
    ]
    batch = {"name": "x", "datatype": "FP32", "shape": [3, 1, 8, 8], "data": x[:3].ravel().tolist()}

    def infer(tensor: dict[str, Any]) -> tuple[int, Any]:
        url = f"{server.url}/v2/models/alice/{name}/infer"
        return request("POST", url, body={"inputs": [tensor]}, token=server.token)

    status, out = infer(batch)
    assert status == 200, out
    tensors = {t["name"]: t for t in out["outputs"]}
    assert tensors["probabilities"]["shape"] == [3, 10]
    assert tensors["probabilities"]["data"] == pytest.approx(want[:3].ravel(), abs=1e-4)
    if not native:
        assert tensors["label"]["data"] == [DIGITS[i] for i in want[:3].argmax(1)]
    wrong = {**batch, "shape": [3, 1, 8, 7], "data": batch["data"][: 3 * 56]}
    status, out = infer(wrong)
    assert status == 400, out

    m = ftr.load(f"alice/{name}", cache=tmp_path, **_auth(server))
    assert list(m.predict(x[:30])) == [DIGITS[i] for i in want.argmax(1)]
    assert m.predict_proba(x[:30]) == pytest.approx(want, abs=1e-4)
    (shown,) = m(x=x[7])
    assert shown["label"] == DIGITS[int(want[7].argmax())]


def test_a_module_of_images_shows_its_examples(tmp_path: Path) -> None:
    net, x = digits_net()
    built = ftr.build_deployment(net, "digits", tmp_path, sample=x[:5], labels=DIGITS)
    assert built.engine == "onnx", built.reason
    m = manifest(tmp_path)
    (field,) = m["init"]
    assert (field["type"], field["id"], field["shape"]) == ("Tensor.In", "x", [1, 8, 8])
    assert len(m["examples"]) == 3
    assert np.asarray(m["examples"][0]["x"]) == pytest.approx(x[0])


def _auth(server: Server) -> dict[str, str]:
    return {"server": server.url, "token": server.token}


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
