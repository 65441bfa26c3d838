"""scikit-learn estimators and pipelines: saved with skops (no pickle on load: only the types
recorded at save are trusted), converted to ONNX with skl2onnx."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ..errors import DeployError
from .flavor import (
    Flavor,
    Prediction,
    Saved,
    Unconvertible,
    one_line,
    pinned,
    version_of,
    with_feature_names,
)
from .table import Table

OPSET = 17
"""The ONNX opset converted models target: every ONNX Runtime since 1.12 runs it."""

FILE = "model.skops"


class SklearnFlavor(Flavor):
    name = "sklearn"
    framework = "scikit-learn"

    def matches(self, obj: Any) -> bool:
        base = sys.modules.get("sklearn.base")
        return base is not None and isinstance(obj, base.BaseEstimator)

    def check(self, obj: Any) -> None:
        from sklearn.exceptions import NotFittedError
        from sklearn.utils.validation import check_is_fitted

        if not hasattr(obj, "predict"):
            raise DeployError(f"a {type(obj).__name__} has no predict method: deploy a model")
        try:
            check_is_fitted(obj)
        except NotFittedError:
            raise DeployError(f"the {type(obj).__name__} is not fitted: call fit first") from None

    def task(self, obj: Any) -> str:
        from sklearn.base import is_classifier, is_regressor

        if is_classifier(obj):
            return "classification"
        return "regression" if is_regressor(obj) else "other"

    def classes(self, obj: Any) -> list[Any] | None:
        classes = getattr(obj, "classes_", None)
        return None if classes is None else list(classes)

    def predict(self, obj: Any, x: Any) -> Prediction:
        if self.task(obj) == "classification":
            proba = getattr(obj, "predict_proba", None)
            return Prediction(
                labels=list(obj.predict(x)), probabilities=proba(x) if proba else None
            )
        return Prediction(values=obj.predict(x))

    def save(self, obj: Any, folder: Path) -> Saved:
        import skops.io as sio

        path = folder / FILE
        sio.dump(obj, path)
        untrusted = sio.get_untrusted_types(file=path)
        local = [t for t in untrusted if t.startswith("__main__.")]
        if local:
            raise DeployError(
                f"the model uses {', '.join(local)}, defined in the script itself: a worker "
                "cannot import it; move it into a module of its own"
            )
        return Saved(
            FILE,
            "skops",
            pinned("scikit-learn", "skops", "numpy", "scipy"),
            {"trusted": sorted(untrusted)},
        )

    def load(self, path: Path, loader: dict[str, Any]) -> Any:
        import skops.io as sio

        return sio.load(path, trusted=list(loader.get("trusted", [])))

    def to_onnx(self, obj: Any, table: Table) -> tuple[bytes, str]:
        try:
            import skl2onnx
            from skl2onnx.common import data_types as t
        except ImportError:
            raise Unconvertible("skl2onnx is not installed here (pip install skl2onnx)") from None
        import numpy as np

        converter = f"skl2onnx {version_of('skl2onnx')}"
        errors: list[str] = []
        if all(c.is_number for c in table.columns) and table.columns:
            width = len(table.columns)
            try:
                onx = skl2onnx.to_onnx(
                    obj, np.zeros((1, width), dtype=np.float32), target_opset=OPSET
                )
            except Exception as err:
                errors.append(one_line(err))
            else:
                return with_feature_names(onx, table.names), converter
        if table.frame or not errors:
            kinds = {
                "float32": t.FloatTensorType,
                "float64": t.FloatTensorType,
                "int64": t.Int64TensorType,
                "string": t.StringTensorType,
                "bool": t.BooleanTensorType,
            }
            types = [(c.name, kinds[c.dtype]([None, 1])) for c in table.columns]
            try:
                onx = skl2onnx.convert_sklearn(obj, initial_types=types, target_opset=OPSET)
            except Exception as err:
                errors.append(one_line(err))
            else:
                return onx.SerializeToString(), converter
        raise Unconvertible(f"{converter} cannot convert it: {errors[-1]}")
