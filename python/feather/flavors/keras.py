"""Keras 3 models of rows of numbers: saved in the `.keras` format (loaded back in safe mode:
no code travels with it), converted with Keras' own ONNX export. A model is a classifier when
its last layer is a softmax (classes 0, 1, ...) or when the developer names its classes
(`labels=`: a softmax is appended to logits), a regressor when it gives one number a row.

Keras runs on a backend: the one it ran on here (`keras.backend.backend()`) is pinned for the
worker, which selects it with `KERAS_BACKEND` before importing Keras."""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .flavor import (
    NetworkFlavor,
    Prediction,
    Saved,
    Unconvertible,
    one_line,
    pinned,
    rows_prediction,
    version_of,
    with_feature_names,
)
from .table import Table

FILE = "model.keras"
BACKENDS = {"torch": "torch", "tensorflow": "tensorflow", "jax": "jax"}
"""A backend's distribution on PyPI."""


@dataclass
class KerasModel:
    """A model with a softmax after it when its classes were named and it gives logits."""

    model: Any
    width: int
    """Numbers a row it gives."""
    classify: bool

    def __call__(self, x: Any) -> Any:
        import numpy as np

        return np.asarray(self.model.predict(np.asarray(x, dtype="float32"), verbose=0))


class KerasFlavor(NetworkFlavor):
    name = "keras"
    framework = "keras"

    def matches(self, obj: Any) -> bool:
        keras = sys.modules.get("keras")
        return isinstance(obj, KerasModel) or (keras is not None and isinstance(obj, keras.Model))

    def prepare(self, obj: Any, *, labels: Any = None, sample: Any = None) -> Any:
        if isinstance(obj, KerasModel):
            return obj
        rows, out = self.tried(KerasModel(obj, 0, False), sample, "model")
        softmax = _ends_in_softmax(obj)
        if labels is not None and not softmax:
            import keras

            obj = keras.Sequential([keras.Input((rows.shape[1],)), obj, keras.layers.Softmax()])
        return KerasModel(obj, int(out.shape[1]), softmax or labels is not None)

    def predict(self, obj: KerasModel, x: Any) -> Prediction:
        out = obj(x)
        return rows_prediction(out, obj.classify)

    def save(self, obj: KerasModel, folder: Path) -> Saved:
        import keras

        obj.model.save(folder / FILE)
        backend = keras.backend.backend()
        requirements = pinned("keras", *((BACKENDS[backend],) if backend in BACKENDS else ()))
        loader = {"backend": backend, "classify": obj.classify, "width": obj.width}
        return Saved(FILE, "keras", (*requirements, *pinned("numpy")), loader)

    def load(self, path: Path, loader: dict[str, Any]) -> Any:
        # The backend is chosen once, when Keras is first imported.
        os.environ.setdefault("KERAS_BACKEND", str(loader["backend"]))
        import keras

        model = keras.saving.load_model(path, safe_mode=True)
        return KerasModel(model, int(loader["width"]), bool(loader["classify"]))

    def to_onnx(self, obj: KerasModel, table: Table) -> tuple[bytes, str]:
        import keras

        converter = f"keras {version_of('keras')} ({keras.backend.backend()})"
        with tempfile.TemporaryDirectory(prefix="feather-keras-") as scratch:
            path = Path(scratch) / "model.onnx"
            try:
                obj.model.export(str(path), format="onnx", verbose=False)
            except Exception as err:
                raise Unconvertible(f"{converter} cannot convert it: {one_line(err)}") from None
            data = path.read_bytes()
        return _named(data, table.names, "probabilities" if obj.classify else "y"), converter

    def installed(self) -> tuple[str, str]:
        return "keras", version_of("keras")


def _ends_in_softmax(model: Any) -> bool:
    layers = getattr(model, "layers", None) or []
    if not layers:
        return False
    last = layers[-1]
    activation = getattr(last, "activation", None)
    return type(last).__name__ == "Softmax" or getattr(activation, "__name__", "") == "softmax"


def _named(model: bytes, names: list[str], output: str) -> bytes:
    """The exported model with its output named for what it is (the exporter numbers it) and
    its features' names in its metadata."""
    import onnx

    onx = onnx.load_model_from_string(model)
    old = onx.graph.output[0].name
    for node in onx.graph.node:
        for names_ in (node.input, node.output):
            for i, name in enumerate(names_):
                if name == old:
                    names_[i] = output
    onx.graph.output[0].name = output
    return with_feature_names(onx, names)
