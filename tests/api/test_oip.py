"""The Open Inference Protocol (v2, REST) with Triton's own client, `tritonclient[http]`:
health, metadata, readiness, inference on the native ONNX engine and on Python workers, and
refusals. scripts/api-fuzz.sh runs it against `feather demo` (FEATHER_OIP_URL=host:port)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

URL = os.environ.get("FEATHER_OIP_URL", "127.0.0.1:7860")


@pytest.fixture(scope="module")
def client() -> httpclient.InferenceServerClient:
    c = httpclient.InferenceServerClient(url=URL, network_timeout=120)
    # The demo's Python environments build in the background: wait for the models used here.
    deadline = time.monotonic() + 600
    for model in ("demo/iris-onnx", "demo/iris", "demo/shout", "demo/text-direction"):
        while not c.is_model_ready(model):
            assert time.monotonic() < deadline, f"{model} was not ready in 600 s"
            time.sleep(1)
    return c


def flowers() -> np.ndarray:
    return np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]], dtype=np.float32)


def test_the_server_is_live_and_ready(client: httpclient.InferenceServerClient) -> None:
    assert client.is_server_live()
    assert client.is_server_ready()
    assert client.get_server_metadata()["name"] == "feather"


def test_an_onnx_model_s_metadata_is_its_graph(client: httpclient.InferenceServerClient) -> None:
    meta = client.get_model_metadata("demo/iris-onnx")
    assert meta["platform"] == "onnxruntime_onnx"
    assert meta["inputs"] == [{"name": "X", "datatype": "FP32", "shape": [-1, 4]}]
    assert [o["name"] for o in meta["outputs"]] == ["output_label", "output_probability"]
    assert client.is_model_ready("demo/iris-onnx", "1")
    assert client.get_model_metadata("demo/iris-onnx", "1")["versions"] == ["1"]


def test_a_native_model_answers_a_batch(client: httpclient.InferenceServerClient) -> None:
    x = httpclient.InferInput("X", [2, 4], "FP32")
    x.set_data_from_numpy(flowers(), binary_data=False)
    wanted = [
        httpclient.InferRequestedOutput("output_label", binary_data=False),
        httpclient.InferRequestedOutput("output_probability", binary_data=False),
    ]
    result = client.infer("demo/iris-onnx", [x], outputs=wanted, request_id="flowers-1")
    assert result.get_response()["id"] == "flowers-1"
    labels = [v.decode() if isinstance(v, bytes) else v for v in result.as_numpy("output_label")]
    assert labels == ["setosa", "virginica"]
    p = result.as_numpy("output_probability")
    assert p.shape == (2, 3)
    assert np.allclose(p.sum(axis=1), 1.0, atol=1e-4)


def test_binary_tensors_go_both_ways_as_the_client_sends_them_by_default(
    client: httpclient.InferenceServerClient,
) -> None:
    x = httpclient.InferInput("X", [2, 4], "FP32")
    x.set_data_from_numpy(flowers())  # binary, Triton's extension
    result = client.infer("demo/iris-onnx", [x])  # outputs asked for as binary too
    labels = [v.decode() for v in result.as_numpy("output_label")]
    assert labels == ["setosa", "virginica"]
    assert result.as_numpy("output_probability").dtype == np.float32
    assert result.as_numpy("output_probability").shape == (2, 3)

    text = httpclient.InferInput("text", [2], "BYTES")
    text.set_data_from_numpy(np.array([b"hi", "h\u00e9".encode()], dtype=object))
    wanted = [httpclient.InferRequestedOutput("output_1", binary_data=True)]
    shouted = client.infer("demo/shout", [text], outputs=wanted)
    assert shouted.as_numpy("output_1")[0].decode().startswith("HI")


def test_an_image_shaped_tensor_of_a_pretrained_model(
    client: httpclient.InferenceServerClient,
) -> None:
    meta = client.get_model_metadata("demo/text-direction")
    # The graph leaves height and width open; the example's manifest fixes them.
    assert meta["inputs"] == [{"name": "x", "datatype": "FP32", "shape": [-1, 3, 48, 192]}]
    (output,) = meta["outputs"]
    samples = Path(__file__).resolve().parents[2] / "examples" / "text-direction" / "samples"
    lines = np.stack([np.load(samples / f"{n}.npy") for n in ("upright", "upside_down")])
    x = httpclient.InferInput("x", list(lines.shape), "FP32")
    x.set_data_from_numpy(lines.astype(np.float32))
    p = client.infer("demo/text-direction", [x]).as_numpy(output["name"])
    assert p.shape == (2, 2)
    assert list(p.argmax(axis=1)) == [0, 1]

    narrow = httpclient.InferInput("x", [1, 3, 48, 100], "FP32")
    narrow.set_data_from_numpy(np.zeros((1, 3, 48, 100), dtype=np.float32))
    with pytest.raises(InferenceServerException) as refused:
        client.infer("demo/text-direction", [narrow])
    assert refused.value.status() == "400"
    assert "192" in refused.value.message()


def test_a_python_model_answers_with_its_components_as_tensors(
    client: httpclient.InferenceServerClient,
) -> None:
    meta = client.get_model_metadata("demo/iris")
    names = [i["name"] for i in meta["inputs"]]
    assert names == ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    inputs = []
    for k, name in enumerate(names):
        t = httpclient.InferInput(name, [2], "FP64")
        t.set_data_from_numpy(flowers()[:, k].astype(np.float64), binary_data=False)
        inputs.append(t)
    wanted = [httpclient.InferRequestedOutput("output_1", binary_data=False)]
    result = client.infer("demo/iris", inputs, outputs=wanted)
    outputs = result.get_response()["outputs"]
    assert [o["datatype"] for o in outputs] == ["BYTES"]
    assert outputs[0]["data"] == ["setosa", "virginica"]

    text = httpclient.InferInput("text", [1], "BYTES")
    text.set_data_from_numpy(np.array(["hello"], dtype=object), binary_data=False)
    shouted = client.infer("demo/shout", [text])
    assert shouted.get_output("output_1")["datatype"] == "BYTES"
    assert shouted.as_numpy("output_1")[0].decode() == "HELLO"


def test_bad_requests_are_refused_in_the_protocol_s_shape(
    client: httpclient.InferenceServerClient,
) -> None:
    wrong = httpclient.InferInput("X", [2, 2], "FP32")
    wrong.set_data_from_numpy(np.zeros((2, 2), dtype=np.float32), binary_data=False)
    with pytest.raises(InferenceServerException) as refused:
        client.infer("demo/iris-onnx", [wrong])
    assert refused.value.status() == "400"
    assert "[batch, 4]" in refused.value.message()

    with pytest.raises(InferenceServerException) as missing:
        client.get_model_metadata("demo/no-such-model")
    assert missing.value.status() == "404"
    assert not client.is_model_ready("demo/no-such-model")
