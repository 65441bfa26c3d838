"""The frameworks `deploy` knows, in the order they are tried: one module each (`sklearn`),
on the interface of `flavor`; `table` reads a model's columns from its sample, `parity` checks
a conversion, `serving` is the app of a version run with its framework."""

from __future__ import annotations

from typing import Any

from ..errors import DeployError
from .catboost import CatBoostFlavor
from .flavor import Flavor
from .keras import KerasFlavor
from .lightgbm import LightGBMFlavor
from .mlflow import MlflowFlavor
from .sklearn import SklearnFlavor
from .torch import TorchFlavor
from .transformers import TransformersFlavor
from .xgboost import XGBoostFlavor

# The boosters' estimators are scikit-learn estimators too: they are told apart first.
FLAVORS: tuple[Flavor, ...] = (
    XGBoostFlavor(),
    LightGBMFlavor(),
    CatBoostFlavor(),
    KerasFlavor(),
    TransformersFlavor(),
    TorchFlavor(),
    MlflowFlavor(),
    SklearnFlavor(),
)


def find(obj: Any) -> Flavor:
    """The flavor of an object; a `DeployError` naming the supported kinds when none fits."""
    for flavor in FLAVORS:
        if flavor.matches(obj):
            return flavor
    kinds = ", ".join(f"{f.framework}" for f in FLAVORS[:-1]) + f" and {FLAVORS[-1].framework}"
    what = f"{type(obj).__module__}.{type(obj).__qualname__}"
    raise DeployError(f"feather cannot deploy a {what}: it deploys models of {kinds}")


def by_name(name: str) -> Flavor:
    for flavor in FLAVORS:
        if flavor.name == name:
            return flavor
    raise DeployError(f"no flavor is named {name!r}; this SDK knows {[f.name for f in FLAVORS]}")
