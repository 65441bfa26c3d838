"""MLflow model directories, as `mlflow.<flavor>.save_model` or `mlflow.pyfunc.save_model`
writes them: published as they are and run with `mlflow.pyfunc.load_model(...).predict`, their
input example the sample, their `requirements.txt` the environment (MLflow itself as
`mlflow-skinny`, which loads and predicts without the tracking server's dependencies)."""

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
        return "other"

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
        model = obj.pyfunc if isinstance(obj, MlflowModel) else obj
        return Prediction(values=_rows(model.predict(x)))

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
        """The `3.N` the model was saved with."""
        pyfunc = obj.meta.get("flavors", {}).get("python_function", {})
        match = re.match(r"3\.\d+", str(pyfunc.get("python_version", "")))
        return match.group(0) if match else None

    def to_onnx(self, obj: Any, table: Any) -> tuple[bytes, str]:
        raise Unconvertible("an MLflow model runs with mlflow.pyfunc, as MLflow serves it")


def _requirements(path: Path) -> tuple[str, ...]:
    """The model's `requirements.txt`, MLflow itself as `mlflow-skinny` of the same version."""
    file = path / "requirements.txt"
    if not file.is_file():
        raise DeployError(f"{path} has no requirements.txt: save it with MLflow 2 or later")
    lines = []
    for raw in file.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        lines.append(re.sub(r"^mlflow(?=[=<>!~ ;\[]|$)", "mlflow-skinny", line))
    return tuple(lines)


def _rows(out: Any) -> Any:
    """Predictions one a row: a DataFrame's rows as records, arrays as lists."""
    if type(out).__name__ == "DataFrame":
        columns = list(out.columns)
        if len(columns) == 1:
            return out[columns[0]].tolist()
        return out.to_dict("records")
    return out.tolist() if hasattr(out, "tolist") else list(out)
