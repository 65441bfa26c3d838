"""MLflow model directories, as `mlflow.<flavor>.save_model` or `mlflow.pyfunc.save_model`
writes them: published as they are and run with `mlflow.pyfunc.load_model(...).predict`, their
input example the sample, their `python_env.yaml` (or `requirements.txt`) the environment
(MLflow itself as `mlflow-skinny`, which loads and predicts without the tracking server's
dependencies) and its Python. A scikit-learn model inside (MLflow's `sklearn` flavor) is a
classifier or regressor as the estimator is, converted with skl2onnx and served natively when
the conversion answers the sample as `predict` does."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DeployError
from .flavor import Flavor, Prediction, Saved, Unconvertible
from .sklearn import SklearnFlavor

SKLEARN = SklearnFlavor()

FOLDER = "mlflow_model"
"""Where the model directory goes in the bundle."""


@dataclass
class MlflowModel:
    """A model directory and what its `MLmodel` file says."""

    path: Path
    meta: dict[str, Any]
    _pyfunc: Any = field(default=None, repr=False)

    @property
    def pyfunc(self) -> Any:
        if self._pyfunc is None:
            import mlflow.pyfunc

            self._pyfunc = mlflow.pyfunc.load_model(str(self.path))
        return self._pyfunc


class MlflowFlavor(Flavor):
    name = "mlflow"
    framework = "mlflow"

    def matches(self, obj: Any) -> bool:
        if isinstance(obj, MlflowModel):
            return True
        return isinstance(obj, (str, os.PathLike)) and (Path(obj) / "MLmodel").is_file()

    def prepare(self, obj: Any, *, labels: Any = None, sample: Any = None) -> Any:
        if isinstance(obj, MlflowModel):
            return obj
        if "mlflow" not in sys.modules:
            try:
                import mlflow  # noqa: F401
            except ImportError:
                raise DeployError(
                    "an MLflow model is read with MLflow: pip install mlflow-skinny"
                ) from None
        import yaml

        path = Path(obj)
        meta = yaml.safe_load((path / "MLmodel").read_text(encoding="utf-8")) or {}
        if "python_function" not in meta.get("flavors", {}):
            raise DeployError(f"{path} has no python_function flavor: MLflow cannot load it here")
        return MlflowModel(path, meta)

    def task(self, obj: Any) -> str:
        estimator = _estimator(obj)
        return SKLEARN.task(estimator) if estimator is not None else "other"

    def classes(self, obj: Any) -> list[Any] | None:
        estimator = _estimator(obj)
        return SKLEARN.classes(estimator) if estimator is not None else None

    def default_sample(self, obj: MlflowModel) -> Any:
        """The model's saved input example, as a DataFrame, if it has one."""
        info = obj.meta.get("saved_input_example_info") or {}
        example = obj.path / str(info.get("artifact_path", "input_example.json"))
        if not example.is_file():
            return None
        import pandas as pd

        data = json.loads(example.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "columns" in data and "data" in data:
            return pd.DataFrame(data["data"], columns=data["columns"])
        if isinstance(data, list) and data and isinstance(data[0], dict):
            return pd.DataFrame(data)
        return None

    def fitted_names(self, obj: Any) -> list[str] | None:
        signature = (obj.meta.get("signature") or {}).get("inputs")
        if not signature:
            return None
        names = [c.get("name") for c in json.loads(signature)]
        return names if all(isinstance(n, str) for n in names) else None

    def predict(self, obj: Any, x: Any) -> Prediction:
        """What `predict` of the pyfunc model gives; a classifier's probabilities from the
        estimator inside, which MLflow's `predict` does not give."""
        model = obj.pyfunc if isinstance(obj, MlflowModel) else obj
        rows = _rows(model.predict(x))
        task = self.task(obj)
        if task == "classification":
            proba = getattr(_estimator(obj), "predict_proba", None)
            return Prediction(labels=list(rows), probabilities=proba(x) if proba else None)
        if task == "regression":
            import numpy as np

            return Prediction(values=np.asarray(rows, dtype="float64"))
        return Prediction(values=rows)

    def save(self, obj: MlflowModel, folder: Path) -> Saved:
        target = folder / FOLDER
        shutil.copytree(obj.path, target, ignore=shutil.ignore_patterns("__pycache__"))
        files = tuple(
            sorted(p.relative_to(folder).as_posix() for p in target.rglob("*") if p.is_file())
        )
        return Saved(f"{FOLDER}/MLmodel", "mlflow", _requirements(obj.path), {}, files=files)

    def load(self, path: Path, loader: dict[str, Any]) -> Any:
        import mlflow.pyfunc

        return mlflow.pyfunc.load_model(str(path.parent))

    def installed(self) -> tuple[str, str]:
        return "mlflow", str(self._meta_version())

    def _meta_version(self) -> str:
        from importlib import metadata

        for distribution in ("mlflow", "mlflow-skinny"):
            try:
                return metadata.version(distribution)
            except metadata.PackageNotFoundError:
                continue
        return "unknown"

    def python(self, obj: MlflowModel) -> str | None:
        """The `3.N` the model was saved with: its `python_env.yaml`'s, else its `MLmodel`'s."""
        pyfunc = obj.meta.get("flavors", {}).get("python_function", {})
        for given in (_python_env(obj.path).get("python"), pyfunc.get("python_version")):
            match = re.match(r"3\.\d+", str(given or ""))
            if match:
                return match.group(0)
        return None

    def to_onnx(self, obj: Any, table: Any) -> tuple[bytes, str]:
        estimator = _estimator(obj)
        if estimator is None:
            kinds = ", ".join(sorted(set(obj.meta.get("flavors", {})) - {"python_function"}))
            raise Unconvertible(
                f"an MLflow model of {kinds or 'python_function'} runs with mlflow.pyfunc, as "
                "MLflow serves it (feather converts MLflow's sklearn flavor)"
            )
        return SKLEARN.to_onnx(estimator, table)


def _estimator(obj: Any) -> Any:
    """The scikit-learn estimator an MLflow model of the `sklearn` flavor holds, else `None`;
    `obj` a model directory read, or the pyfunc model a worker loaded."""
    if isinstance(obj, MlflowModel):
        if "sklearn" not in obj.meta.get("flavors", {}):
            return None
        obj = obj.pyfunc
    try:
        raw = obj.get_raw_model()
    except (AttributeError, NotImplementedError):
        return None
    base = sys.modules.get("sklearn.base")
    return raw if base is not None and isinstance(raw, base.BaseEstimator) else None


def _python_env(path: Path) -> dict[str, Any]:
    """The model's `python_env.yaml` (MLflow 2 writes one), or nothing."""
    file = path / "python_env.yaml"
    if not file.is_file():
        return {}
    import yaml

    data = yaml.safe_load(file.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def _requirements(path: Path) -> tuple[str, ...]:
    """The model's dependencies as `python_env.yaml` lists them (a `-r FILE` line read from
    the model's directory), else its `requirements.txt`; MLflow itself as `mlflow-skinny` of
    the same version."""
    listed = _python_env(path).get("dependencies") or ["-r requirements.txt"]
    lines: list[str] = []
    for entry in map(str, listed):
        entry = entry.strip()
        if not entry.startswith("-r"):
            lines.append(entry)
            continue
        name = entry[2:].strip()
        file = path / name
        if not file.is_file() or not file.resolve().is_relative_to(path.resolve()):
            raise DeployError(f"{path} has no {name}: save it with MLflow 2 or later")
        for raw in file.read_text(encoding="utf-8").splitlines():
            line = raw.split("#", 1)[0].strip()
            if line:
                lines.append(line)
    return tuple(re.sub(r"^mlflow(?=[=<>!~ ;\[]|$)", "mlflow-skinny", line) for line in lines)


def _rows(out: Any) -> Any:
    """Predictions one a row: a DataFrame's rows as records, arrays as lists."""
    if type(out).__name__ == "DataFrame":
        columns = list(out.columns)
        if len(columns) == 1:
            return out[columns[0]].tolist()
        return out.to_dict("records")
    return out.tolist() if hasattr(out, "tolist") else list(out)
