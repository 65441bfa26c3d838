"""XGBoost's scikit-learn estimators (`XGBClassifier`, `XGBRegressor`): saved in XGBoost's own
UBJSON format, converted to ONNX with onnxmltools."""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

from ..errors import DeployError
from .flavor import Flavor, Prediction, Saved, distribution_of, numeric_onnx, pinned, version_of
from .table import Table

FILE = "model.ubj"
OPSET = 15
"""The highest opset onnxmltools' XGBoost converter writes."""


class XGBoostFlavor(Flavor):
    name = "xgboost"
    framework = "xgboost"

    def matches(self, obj: Any) -> bool:
        xgb = sys.modules.get("xgboost")
        return xgb is not None and isinstance(obj, (xgb.XGBClassifier, xgb.XGBRegressor))

    def check(self, obj: Any) -> None:
        try:
            obj.get_booster()
        except Exception:
            raise DeployError(f"the {type(obj).__name__} is not fitted: call fit first") from None

    def task(self, obj: Any) -> str:
        import xgboost as xgb

        return "classification" if isinstance(obj, xgb.XGBClassifier) else "regression"

    def classes(self, obj: Any) -> list[Any] | None:
        classes = getattr(obj, "classes_", None)
        return None if classes is None else list(classes)

    def predict(self, obj: Any, x: Any) -> Prediction:
        if self.task(obj) == "classification":
            return Prediction(labels=list(obj.predict(x)), probabilities=obj.predict_proba(x))
        return Prediction(values=obj.predict(x))

    def save(self, obj: Any, folder: Path) -> Saved:
        obj.save_model(folder / FILE)
        requirements = pinned(distribution_of("xgboost"), "scikit-learn", "numpy", "scipy")
        return Saved(FILE, "xgboost-ubj", requirements, {"class": type(obj).__name__})

    def load(self, path: Path, loader: dict[str, Any]) -> Any:
        import xgboost as xgb

        model = {"XGBClassifier": xgb.XGBClassifier, "XGBRegressor": xgb.XGBRegressor}[
            loader["class"]
        ]()
        model.load_model(path)
        return model

    def to_onnx(self, obj: Any, table: Table) -> tuple[bytes, str]:
        # The converter reads features by position (`f0`, `f1`, ...), not by the names a
        # DataFrame gave them: a copy without names converts.
        unnamed = copy.deepcopy(obj)
        unnamed.get_booster().feature_names = None
        return numeric_onnx(unnamed, table, "convert_xgboost", OPSET)

    def installed(self) -> tuple[str, str]:
        # The CPU-only wheel is another distribution of the same module.
        distribution = distribution_of("xgboost")
        return distribution, version_of(distribution)
