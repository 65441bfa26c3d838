"""Whether a converted model answers as the framework does: the same labels on every sample row,
and numbers within a tolerance, relative to the value (absolute below 1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .flavor import Prediction
from .table import Table


@dataclass(frozen=True)
class Parity:
    rows: int
    tolerance: float
    max_difference: float
    mismatch: str | None
    """Why the two disagree, for a person; `None` when they agree."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "tolerance": self.tolerance,
            "max_difference": self.max_difference,
        }


class Unchecked(Exception):
    """The conversion cannot be run here; the message says why."""


_NUMPY = {
    "tensor(float)": "float32",
    "tensor(double)": "float64",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
    "tensor(string)": object,
    "tensor(bool)": "bool",
}


def run_onnx(model: bytes, table: Table | None, tensors: Any = None) -> list[Any]:
    """The converted model's outputs on the table's sample, or, for a model of one tensor
    (no table), on `tensors` (a batch of them)."""
    try:
        import onnxruntime
    except ImportError:
        raise Unchecked("onnxruntime is not installed here (pip install onnxruntime)") from None
    try:
        options = onnxruntime.SessionOptions()
        # Errors only: a converter's declared shapes may be narrower than what it computes.
        options.log_severity_level = 3
        session = onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    except Exception as err:
        raise Unchecked(f"ONNX Runtime cannot load the conversion: {err}") from None
    if table is None:
        import numpy as np

        feeds = {session.get_inputs()[0].name: np.asarray(tensors, dtype="float32")}
    else:
        feeds = feed(session, table, table.sample)
    try:
        return list(session.run(None, feeds))
    except Exception as err:
        raise Unchecked(f"ONNX Runtime cannot run the conversion on the sample: {err}") from None


def feed(session: Any, table: Table, rows: Any) -> dict[str, Any]:
    """A session's inputs for rows (a DataFrame when the table is a frame, else a 2-D array):
    one tensor of every column, or one tensor a column, as the graph takes them."""
    import numpy as np

    inputs = session.get_inputs()
    columns = [
        np.asarray(rows[c.name] if table.frame else rows[:, i]) for i, c in enumerate(table.columns)
    ]
    if len(inputs) == 1 and len(columns) >= 1 and len(inputs[0].shape) == 2:
        dtype = _NUMPY.get(inputs[0].type, "float32")
        return {inputs[0].name: np.column_stack(columns).astype(dtype)}
    if len(inputs) == len(columns):
        return {
            i.name: col.reshape(-1, 1).astype(_NUMPY.get(i.type, "float32"))
            for i, col in zip(inputs, columns, strict=True)
        }
    raise Unchecked(f"the converted model has {len(inputs)} inputs for {len(columns)} columns")


def compare(expected: Prediction, got: Prediction, tolerance: float) -> Parity:
    """How the converted model's answer (read by its flavor) matches the framework's."""
    import numpy as np

    def gap(a: Any, b: Any) -> float:
        a, b = np.asarray(a, dtype="float64"), np.asarray(b, dtype="float64")
        if a.size != b.size:
            return float("inf")
        if a.size == 0:
            return 0.0
        a, b = a.ravel(), b.ravel()
        return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b))))

    if expected.labels is not None:
        rows = len(expected.labels)
        converted = [_plain(v) for v in (got.labels or [])]
        want = [_plain(v) for v in expected.labels]
        for i, (g, w) in enumerate(zip(converted, want, strict=False)):
            if g != w:
                return Parity(
                    rows,
                    tolerance,
                    float("inf"),
                    f"on sample row {i} the conversion says {g!r} and the model {w!r}",
                )
        if len(converted) != len(want):
            return Parity(rows, tolerance, float("inf"), "the conversion gave another row count")
        difference = 0.0
        if expected.probabilities is not None and got.probabilities is not None:
            difference = gap(got.probabilities, expected.probabilities)
    else:
        values = np.asarray(expected.values)
        rows = int(values.shape[0]) if values.ndim else 1
        difference = gap(got.values, values)
    if difference > tolerance:
        return Parity(
            rows,
            tolerance,
            difference,
            f"the conversion's numbers differ from the model's by up to {difference:.3g} "
            f"(relative; tolerance {tolerance:g})",
        )
    return Parity(rows, tolerance, difference, None)


def probability_matrix(probabilities: Any, classes: list[Any]) -> Any:
    """Probabilities as rows of one column per class: skl2onnx's ZipMap gives a dict a row."""
    if isinstance(probabilities, list) and probabilities and isinstance(probabilities[0], dict):
        return [[row[_key(c, row)] for c in classes] for row in probabilities]
    return probabilities


def _key(c: Any, row: dict[Any, Any]) -> Any:
    # A class named as text (as a manifest keeps it) finds its key of any type.
    plain = str(_plain(c))
    return next((k for k in row if str(_plain(k)) == plain), c)


def _plain(v: Any) -> Any:
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, bytes):
        return v.decode()
    return v
