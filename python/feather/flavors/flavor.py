"""What `deploy` needs of a framework: telling its objects apart, predicting with them, saving
them in the format the framework's authors recommend, loading them back in a worker, and
converting them to ONNX where a converter exists. One module per framework implements it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from ..errors import DeployError
from .table import Table


class Unconvertible(Exception):
    """The object has no ONNX form feather can serve; the message says why, for a person."""


@dataclass
class Prediction:
    """A model's answer for rows: a classifier's labels (and probabilities, one column per
    class), or values (one per row, or a row of values each)."""

    labels: list[Any] | None = None
    probabilities: Any = None
    values: Any = None


@dataclass(frozen=True)
class Saved:
    """A serialized model: its file in the bundle, the file's format, what a worker needs
    installed to load it, and how to load it (read back by `Flavor.load`)."""

    file: str
    format: str
    requirements: tuple[str, ...]
    loader: dict[str, Any] = field(default_factory=dict)
    files: tuple[str, ...] = ()
    """Every file written, when the model is more than `file` (a folder)."""

    @property
    def written(self) -> tuple[str, ...]:
        return self.files or (self.file,)


@dataclass(frozen=True)
class Interface:
    """What a version of a model that is not rows of columns takes and shows: its fields, its
    examples (values by field id), its signature's features (`{"name", "type"}`), and the
    files its examples name."""

    init: list[Any]
    examples: list[dict[str, Any]]
    inputs: list[dict[str, str]]
    outputs: list[dict[str, str]]
    files: dict[str, bytes] = field(default_factory=dict)
    """Files the examples name (`{"path": ...}`), by their path in the bundle."""


class Flavor:
    """One framework's objects."""

    name: ClassVar[str]
    """The manifest's `model.flavor`."""
    framework: ClassVar[str]
    """The distribution on PyPI that makes the objects."""

    def matches(self, obj: Any) -> bool:
        raise NotImplementedError

    def prepare(self, obj: Any, *, labels: Any = None, sample: Any = None) -> Any:
        """The object as the other methods take it (a path read, a module wrapped), given the
        class names and sample the developer gave."""
        return obj

    def interface(self, obj: Any, sample: Any) -> Interface | None:
        """The fields of a model that does not read rows of columns; `None` for one that does
        (its fields are then its sample's columns)."""
        return None

    def sample_rows(self, obj: Any, sample: Any) -> Any:
        """The sample as `predict` takes it, for a model with an `interface`."""
        return sample

    def native_reason(self) -> str:
        """Why a model with an `interface` runs with its framework."""
        return f"feather has no ONNX converter for {self.framework}"

    def step(self, model: Any, spec: dict[str, Any]) -> Any:
        """The step a worker serves the loaded model with: rows of its columns in, one output
        each (see `serving.predict_step`)."""
        from .serving import predict_step

        return predict_step(self, model, spec)

    def default_sample(self, obj: Any) -> Any:
        """Rows to use when the developer gives no sample: an example saved with the model."""
        return None

    def python(self, obj: Any) -> str | None:
        """The `3.N` a worker runs the model with, when it is not this interpreter's."""
        return None

    def task(self, obj: Any) -> str:
        """`classification`, `regression` or `other`."""
        raise NotImplementedError

    def classes(self, obj: Any) -> list[Any] | None:
        """A classifier's classes in the order of its probabilities' columns."""
        return None

    def fitted_names(self, obj: Any) -> list[str] | None:
        """The names of the columns the object was fitted on, as a DataFrame gave them."""
        fitted = getattr(obj, "feature_names_in_", None)
        return [str(n) for n in fitted] if fitted is not None else None

    def predict(self, obj: Any, x: Any) -> Prediction:
        raise NotImplementedError

    def save(self, obj: Any, folder: Path) -> Saved:
        raise NotImplementedError

    def load(self, path: Path, loader: dict[str, Any]) -> Any:
        raise NotImplementedError

    def tensors(self, obj: Any) -> bool:
        """Whether a model with an `interface` takes one tensor, as its ONNX form does: it is
        then converted (`to_onnx` with no table) and checked on its sample too."""
        return False

    def to_onnx(self, obj: Any, table: Table | None) -> tuple[bytes, str]:
        """The model in the ONNX format and the converter that wrote it (`skl2onnx 1.20.0`);
        raises `Unconvertible`. `table` is `None` for a model of `tensors`."""
        raise Unconvertible(f"feather has no ONNX converter for {self.framework}")

    def onnx_prediction(self, outputs: list[Any], classes: list[Any] | None) -> Prediction:
        """What the converted model's outputs say: a classifier's label tensor and its
        probabilities (a matrix, or a map a row as skl2onnx's ZipMap gives them), else the
        first output's values."""
        import numpy as np

        from .parity import probability_matrix

        if classes is None:
            return Prediction(values=np.asarray(outputs[0]))
        probabilities = None
        if len(outputs) > 1:
            probabilities = np.asarray(probability_matrix(outputs[1], classes), dtype="float64")
        return Prediction(labels=list(np.asarray(outputs[0]).ravel()), probabilities=probabilities)

    def installed(self) -> tuple[str, str]:
        """The distribution that made the object, as installed here, and its version."""
        return self.framework, version_of(self.framework)


class NetworkFlavor(Flavor):
    """A framework of networks over rows of numbers (PyTorch, Keras), whose prepared objects
    say how many numbers a row they give (`width`) and whether those are a classifier's
    probabilities (`classify`)."""

    def tried(self, run: Any, sample: Any, what: str, *, tensors: bool = False) -> tuple[Any, Any]:
        """The sample as float32 rows (or, with `tensors`, a batch of tensors of any shape),
        and what `run` gives for its first item: refused with a `DeployError` when there is no
        sample, it is not rows, or the answer is not rows."""
        if sample is None:
            raise DeployError(f"give a sample (sample=X[:5]): a {what} does not say what it takes")
        import numpy as np

        rows = np.asarray(sample, dtype="float32")
        if rows.ndim != 2 and not (tensors and rows.ndim > 2):
            kinds = "rows of numbers (2-D)" + (" or batches of tensors" if tensors else "")
            raise DeployError(f"feather deploys {what}s of {kinds}, not of shape {rows.shape}")
        try:
            out = run(rows[:1])
        except Exception as err:
            raise DeployError(f"the {what} cannot run on the sample: {one_line(err)}") from None
        if out.ndim != 2:
            raise DeployError(f"the {what} gives {out.ndim}-D answers; feather serves 2-D ones")
        return rows, out

    def task(self, obj: Any) -> str:
        if obj.classify:
            return "classification"
        return "regression" if obj.width == 1 else "other"

    def classes(self, obj: Any) -> list[Any] | None:
        return list(range(obj.width)) if obj.classify else None

    def fitted_names(self, obj: Any) -> list[str] | None:
        return None

    def onnx_prediction(self, outputs: list[Any], classes: list[Any] | None) -> Prediction:
        import numpy as np

        return rows_prediction(np.asarray(outputs[0]), classes is not None)


def rows_prediction(out: Any, classify: bool) -> Prediction:
    """What a network's rows of numbers say: a classifier's probabilities (its labels the
    columns' indices), one value a row, or rows of values."""
    import numpy as np

    if classify:
        return Prediction(labels=[int(i) for i in np.argmax(out, axis=1)], probabilities=out)
    return Prediction(values=out[:, 0] if out.shape[1] == 1 else out)


def version_of(distribution: str) -> str:
    from importlib import metadata

    return metadata.version(distribution)


def pinned(*distributions: str) -> tuple[str, ...]:
    """`name==version` of each installed distribution: a worker loads the model with the very
    versions that saved it."""
    return tuple(f"{d}=={version_of(d)}" for d in distributions)


def distribution_of(module: str) -> str:
    """The installed distribution that provides an import name: `xgboost` may come from
    `xgboost` or from `xgboost-cpu`."""
    from importlib import metadata

    names = metadata.packages_distributions().get(module) or [module]
    return names[0]


def numeric_onnx(obj: Any, table: Table, function: str, opset: int) -> tuple[bytes, str]:
    """A booster's ONNX form through onnxmltools' `function` (`convert_xgboost`, ...): one
    float tensor of every column, the columns' names in the model's metadata."""
    try:
        import onnxmltools
        from onnxmltools.convert.common.data_types import FloatTensorType
    except ImportError:
        raise Unconvertible("onnxmltools is not installed here (pip install onnxmltools)") from None
    converter = f"onnxmltools {version_of('onnxmltools')}"
    convert = getattr(onnxmltools, function)
    if not table.columns or not all(c.is_number for c in table.columns):
        raise Unconvertible(f"{converter} converts models of numeric columns only")
    types = [("X", FloatTensorType([None, len(table.columns)]))]
    try:
        onx = convert(obj, initial_types=types, target_opset=opset)
    except Exception as err:
        raise Unconvertible(f"{converter} cannot convert it: {one_line(err)}") from None
    return with_feature_names(onx, table.names), converter


def with_feature_names(onx: Any, names: list[str]) -> bytes:
    """A converted model's bytes with its columns' names in its metadata (`feature_names`),
    where the server reads the fields' names and ids; unless a name holds the separator, or
    the converter wrote them already."""
    written = any(p.key == "feature_names" for p in onx.metadata_props)
    if not written and not any("," in n for n in names):
        entry = onx.metadata_props.add()
        entry.key, entry.value = "feature_names", ",".join(names)
    return bytes(onx.SerializeToString())


def one_line(err: BaseException) -> str:
    """An error's message on one line, cut at 300 characters."""
    text = " ".join(str(err).split())
    return (text[:300] + "...") if len(text) > 300 else text or type(err).__name__
