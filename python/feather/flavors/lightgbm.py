"""LightGBM's scikit-learn estimators (`LGBMClassifier`, `LGBMRegressor`): the booster saved in
LightGBM's own text format (the classes beside it), converted to ONNX with onnxmltools."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ..errors import DeployError
from .flavor import Flavor, Prediction, Saved, numeric_onnx, pinned
from .table import Table

FILE = "model.txt"
OPSET = 15
"""The highest opset onnxmltools' LightGBM converter writes."""


class Loaded:
    """A saved booster with its estimator's classes: what a worker predicts with."""

    def __init__(self, booster: Any, classes: list[Any] | None) -> None:
        self.booster, self.classes_ = booster, classes

    def predict_proba(self, x: Any) -> Any:
        import numpy as np

        p = np.asarray(self.booster.predict(x))
        # A binary booster gives the second class's probability alone.
        return np.column_stack([1 - p, p]) if p.ndim == 1 else p

    def predict(self, x: Any) -> Any:
        import numpy as np

        if self.classes_ is None:
            return self.booster.predict(x)
        return np.asarray(self.classes_, dtype=object)[self.predict_proba(x).argmax(axis=1)]


class LightGBMFlavor(Flavor):
    name = "lightgbm"
    framework = "lightgbm"

    def matches(self, obj: Any) -> bool:
        lgb = sys.modules.get("lightgbm")
        return lgb is not None and isinstance(obj, (lgb.LGBMClassifier, lgb.LGBMRegressor, Loaded))

    def check(self, obj: Any) -> None:
        if not getattr(obj, "fitted_", False):
            raise DeployError(f"the {type(obj).__name__} is not fitted: call fit first")

    def task(self, obj: Any) -> str:
        import lightgbm as lgb

        if isinstance(obj, Loaded):
            return "classification" if obj.classes_ is not None else "regression"
        return "classification" if isinstance(obj, lgb.LGBMClassifier) else "regression"

    def classes(self, obj: Any) -> list[Any] | None:
        classes = getattr(obj, "classes_", None)
        return None if classes is None else list(classes)

    def fitted_names(self, obj: Any) -> list[str] | None:
        # LightGBM keeps names with spaces and brackets replaced: not the DataFrame's own. It
        # takes the DataFrame's columns by position.
        return None

    def predict(self, obj: Any, x: Any) -> Prediction:
        if self.task(obj) == "classification":
            return Prediction(labels=list(obj.predict(x)), probabilities=obj.predict_proba(x))
        return Prediction(values=obj.predict(x))

    def save(self, obj: Any, folder: Path) -> Saved:
        obj.booster_.save_model(folder / FILE)
        classes = self.classes(obj)
        loader = {"classes": [_json(c) for c in classes] if classes is not None else None}
        return Saved(FILE, "lightgbm-text", pinned("lightgbm", "numpy", "scipy"), loader)

    def load(self, path: Path, loader: dict[str, Any]) -> Any:
        import lightgbm as lgb

        return Loaded(lgb.Booster(model_file=str(path)), loader.get("classes"))

    def to_onnx(self, obj: Any, table: Table) -> tuple[bytes, str]:
        return numeric_onnx(obj, table, "convert_lightgbm", OPSET)


def _json(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v
