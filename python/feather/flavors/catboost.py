"""CatBoost's estimators (`CatBoostClassifier`, `CatBoostRegressor`): saved in CatBoost's own
binary format (`.cbm`), converted to ONNX by CatBoost itself when every feature is a number."""

from __future__ import annotations

import sys
import tempfile
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

FILE = "model.cbm"


class CatBoostFlavor(Flavor):
    name = "catboost"
    framework = "catboost"

    def matches(self, obj: Any) -> bool:
        cb = sys.modules.get("catboost")
        return cb is not None and isinstance(obj, (cb.CatBoostClassifier, cb.CatBoostRegressor))

    def check(self, obj: Any) -> None:
        if not obj.is_fitted():
            raise DeployError(f"the {type(obj).__name__} is not fitted: call fit first")

    def task(self, obj: Any) -> str:
        import catboost as cb

        return "classification" if isinstance(obj, cb.CatBoostClassifier) else "regression"

    def classes(self, obj: Any) -> list[Any] | None:
        classes = getattr(obj, "classes_", None)
        return None if classes is None else list(classes)

    def fitted_names(self, obj: Any) -> list[str] | None:
        # Fitted on an array, CatBoost names the features "0", "1", ...: no names at all.
        names = [str(n) for n in obj.feature_names_ or []]
        return None if names == [str(i) for i in range(len(names))] else names

    def predict(self, obj: Any, x: Any) -> Prediction:
        import numpy as np

        if self.task(obj) == "classification":
            # A classifier's labels come as a column: one a row.
            labels = list(np.asarray(obj.predict(x)).reshape(-1))
            return Prediction(labels=labels, probabilities=obj.predict_proba(x))
        return Prediction(values=np.asarray(obj.predict(x)).reshape(-1))

    def save(self, obj: Any, folder: Path) -> Saved:
        obj.save_model(str(folder / FILE))
        return Saved(
            FILE, "catboost-cbm", pinned("catboost", "numpy"), {"class": type(obj).__name__}
        )

    def load(self, path: Path, loader: dict[str, Any]) -> Any:
        import catboost as cb

        kind = {
            "CatBoostClassifier": cb.CatBoostClassifier,
            "CatBoostRegressor": cb.CatBoostRegressor,
        }
        model = kind[loader["class"]]()
        model.load_model(str(path))
        return model

    def to_onnx(self, obj: Any, table: Table) -> tuple[bytes, str]:
        converter = f"catboost {version_of('catboost')}"
        if obj.get_cat_feature_indices() or not all(c.is_number for c in table.columns):
            raise Unconvertible(f"{converter} exports to ONNX models of numeric features only")
        with tempfile.TemporaryDirectory(prefix="feather-catboost-") as scratch:
            path = Path(scratch) / "model.onnx"
            try:
                obj.save_model(str(path), format="onnx")
            except Exception as err:
                raise Unconvertible(f"{converter} cannot convert it: {one_line(err)}") from None
            data = path.read_bytes()
        return _with_names(data, table.names), converter

    def onnx_prediction(self, outputs: list[Any], classes: list[Any] | None) -> Prediction:
        import numpy as np

        if classes is None:
            # Declared one number a row; ONNX Runtime gives a column.
            return Prediction(values=np.asarray(outputs[0]).reshape(-1))
        return super().onnx_prediction(outputs, classes)


def _with_names(model: bytes, names: list[str]) -> bytes:
    """The model with its features' names in its metadata, where the server reads them."""
    import onnx

    return with_feature_names(onnx.load_model_from_string(model), names)
