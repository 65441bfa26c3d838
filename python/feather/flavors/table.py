"""A model's input columns, read from the sample a developer gives (a pandas DataFrame, a NumPy
array or a list of rows) and checked against what the model was fitted on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..components.base import Component
from ..errors import DeployError

MAX_EXAMPLES = 3
"""Sample rows kept as the version's examples."""


@dataclass(frozen=True)
class Column:
    name: str
    """As the model knows it: a DataFrame's column, else `x0`, `x1`, ..."""
    dtype: str
    """`float64`, `float32`, `int64`, `bool` or `string`."""
    id: str
    """The component id of its field."""

    @property
    def is_number(self) -> bool:
        return self.dtype in ("float32", "float64", "int64")


@dataclass(frozen=True)
class Table:
    """The columns a model reads, and the sample's rows in them."""

    columns: tuple[Column, ...]
    frame: bool
    """The model was fitted on a DataFrame: it is given one (column names may matter)."""
    sample: Any
    """The sample as the model takes it (a DataFrame when `frame`, else a 2-D array); `None`
    when none was given."""

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def init(self) -> list[Component]:
        """A field per column: a number (whole for integers), a checkbox, or a text."""
        from ..components import Checkbox, Number, Text

        out: list[Component] = []
        for c in self.columns:
            if c.dtype == "bool":
                out.append(Checkbox(id=c.id, title=c.name))
            elif c.dtype == "string":
                out.append(Text.In(id=c.id, title=c.name))
            elif c.dtype == "int64":
                out.append(Number.In(id=c.id, title=c.name, integer=True))
            else:
                out.append(Number.In(id=c.id, title=c.name))
        return out

    def examples(self) -> list[dict[str, Any]]:
        """The sample's first rows as values by component id."""
        if self.sample is None:
            return []
        rows = _rows(self.sample)[:MAX_EXAMPLES]
        return [
            {c.id: _plain(v, c.dtype) for c, v in zip(self.columns, row, strict=True)}
            for row in rows
        ]

    def frame_of(self, columns: dict[str, list[Any]]) -> Any:
        """The model's input for values by component id, one list per column."""
        import numpy as np

        if self.frame:
            import pandas as pd

            return pd.DataFrame(
                {c.name: np.asarray(columns[c.id], dtype=_numpy(c.dtype)) for c in self.columns}
            )
        dtype = _common(self.columns)
        return np.column_stack([np.asarray(columns[c.id], dtype=dtype) for c in self.columns])

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": [{"name": c.name, "type": c.dtype, "id": c.id} for c in self.columns],
            "frame": self.frame,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Table:
        columns = tuple(Column(c["name"], c["type"], c["id"]) for c in data["columns"])
        return cls(columns, bool(data["frame"]), None)


def read_table(model: Any, sample: Any, fitted_names: list[str] | None) -> Table:
    """The columns of `model` from its sample (or, without one, from the names it was fitted
    on, when its flavor knows them), checked against each other."""
    width = getattr(model, "n_features_in_", None)
    if sample is None:
        if width is None:
            raise DeployError(
                "give a sample (sample=X[:5]): the model does not say how many features it takes"
            )
        names = fitted_names or [f"x{i}" for i in range(int(width))]
        return Table(_columns(names, ["float64"] * len(names)), fitted_names is not None, None)
    if _is_frame(sample):
        names = [str(n) for n in sample.columns]
        if fitted_names is not None and names != fitted_names:
            missing = [n for n in fitted_names if n not in names]
            extra = [n for n in names if n not in fitted_names]
            raise DeployError(
                "the sample's columns are not the ones the model was fitted on"
                + (f"; missing: {', '.join(missing)}" if missing else "")
                + (f"; not fitted on: {', '.join(extra)}" if extra else "")
                + ("" if missing or extra else "; they are in another order")
            )
        dtypes = [_dtype(sample[n].dtype) for n in sample.columns]
        _check_width(len(names), width)
        return Table(_columns(names, dtypes), True, sample.iloc[:, :])
    import numpy as np

    array = np.asarray(sample)
    if array.ndim != 2:
        raise DeployError(
            f"the sample must be rows of features (2-D), not of shape {array.shape}: "
            "pass X[:5], or [row] for one row"
        )
    _check_width(array.shape[1], width)
    if array.dtype.kind == "O":
        dtypes = [_object_column(array[:, i]) for i in range(array.shape[1])]
    else:
        dtypes = [_dtype(array.dtype)] * array.shape[1]
    names = fitted_names or [f"x{i}" for i in range(array.shape[1])]
    if fitted_names is not None:
        import pandas as pd

        frame = pd.DataFrame(array, columns=names).astype(
            {n: _numpy(d) for n, d in zip(names, dtypes, strict=True)}
        )
        return Table(_columns(names, dtypes), True, frame)
    return Table(_columns(names, dtypes), False, array)


def feature_id(name: str, index: int) -> str:
    """A component id made of a column's name, as the server makes one from an ONNX model's
    feature names: lowercase `[a-z0-9_]`, runs of other characters one `_`, starting with a
    letter, else `x<index>`.

    >>> feature_id("sepal length (cm)", 0), feature_id("2nd", 1)
    ('sepal_length_cm', 'x1')
    """
    out: list[str] = []
    for ch in name:
        if ch.isascii() and ch.isalnum():
            out.append(ch.lower())
        elif not out or out[-1] != "_":
            out.append("_")
    text = "".join(out).strip("_")[:64]
    return text if text[:1].isascii() and text[:1].isalpha() else f"x{index}"


def _columns(names: list[str], dtypes: list[str]) -> tuple[Column, ...]:
    out: list[Column] = []
    taken: set[str] = set()
    for i, (name, dtype) in enumerate(zip(names, dtypes, strict=True)):
        id_ = feature_id(name, i)
        if id_ in taken:
            id_ = f"x{i}"
        taken.add(id_)
        out.append(Column(name, dtype, id_))
    return tuple(out)


def _check_width(got: int, width: Any) -> None:
    if width is not None and got != int(width):
        raise DeployError(f"the sample has {got} columns; the model was fitted on {int(width)}")


def _is_frame(sample: Any) -> bool:
    return type(sample).__name__ == "DataFrame" and hasattr(sample, "columns")


def _dtype(dtype: Any) -> str:
    kind = getattr(dtype, "kind", "O")
    if kind == "f":
        return "float32" if getattr(dtype, "itemsize", 8) == 4 else "float64"
    if kind in "iu":
        return "int64"
    if kind == "b":
        return "bool"
    return "string"


def _object_column(values: Any) -> str:
    if all(isinstance(v, str) for v in values):
        return "string"
    if all(isinstance(v, bool) for v in values):
        return "bool"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "int64"
    return "float64"


def _numpy(dtype: str) -> Any:
    return {"string": object}.get(dtype, dtype)


def _common(columns: tuple[Column, ...]) -> Any:
    kinds = {c.dtype for c in columns}
    if kinds <= {"float32"}:
        return "float32"
    if kinds <= {"float32", "float64", "int64", "bool"}:
        return "float64" if kinds - {"int64"} else "int64"
    return object


def _rows(sample: Any) -> list[list[Any]]:
    if _is_frame(sample):
        return [list(r) for r in sample.itertuples(index=False, name=None)]
    return [list(r) for r in sample]


def _plain(value: Any, dtype: str) -> Any:
    """A JSON value of a sample's cell."""
    if dtype == "string":
        return str(value)
    if dtype == "bool":
        return bool(value)
    if dtype == "int64":
        return int(value)
    return float(value)
