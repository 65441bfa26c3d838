"""`ftr.build_deployment` on scikit-learn objects: what it writes, which engine it picks and
why, the app a worker runs for the framework path, and the refusals that publish nothing."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_diabetes, load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.semi_supervised import LabelSpreading

import feather as ftr


def iris_frame() -> tuple[pd.DataFrame, Any]:
    iris = load_iris(as_frame=True)
    return iris.data, iris.target_names[iris.target]


def churn() -> tuple[Any, pd.DataFrame]:
    """A pipeline over named columns of three types, one of them text."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "tenure (months)": rng.integers(0, 60, 300),
            "plan": rng.choice(["monthly", "yearly"], 300),
            "spend": rng.random(300) * 100,
        }
    )
    leaves = (frame["plan"] == "monthly") & (frame["tenure (months)"] < 20)
    columns = ColumnTransformer(
        [
            ("numbers", StandardScaler(), ["tenure (months)", "spend"]),
            ("plan", OneHotEncoder(), ["plan"]),
        ]
    )
    model = make_pipeline(columns, LogisticRegression()).fit(
        frame, np.where(leaves, "leaves", "stays")
    )
    return model, frame


def manifest(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "manifest.json").read_text())


def members(folder: Path) -> list[str]:
    with tarfile.open(folder / "bundle.tar.gz") as tar:
        return sorted(tar.getnames())


def test_a_classifier_that_converts_is_served_natively(tmp_path: Path) -> None:
    x, y = iris_frame()
    model = LogisticRegression(max_iter=1000).fit(x, y)
    built = ftr.build_deployment(model, "iris", tmp_path, sample=x[:5], title="Iris")
    assert built.engine == "onnx"
    assert "converted by skl2onnx" in built.reason and "5 sample rows" in built.reason
    assert built.parity is not None and built.parity.max_difference < 1e-4
    m = manifest(tmp_path)
    assert m["runtime"] == {"kind": "onnx", "file": "model.onnx"}
    assert members(tmp_path) == ["model.onnx", "model.skops"], "the serialized model is kept"
    assert [c["id"] for c in m["init"]] == [
        "sepal_length_cm",
        "sepal_width_cm",
        "petal_length_cm",
        "petal_width_cm",
    ]
    assert m["init"][0]["title"] == "sepal length (cm)"
    assert m["examples"][0] == {
        "sepal_length_cm": 5.1,
        "sepal_width_cm": 3.5,
        "petal_length_cm": 1.4,
        "petal_width_cm": 0.2,
    }
    section = m["model"]
    assert section["flavor"] == "sklearn" and section["format"] == "skops"
    assert section["framework"]["name"] == "scikit-learn"
    assert section["classes"] == ["setosa", "versicolor", "virginica"]
    assert section["signature"]["inputs"][0] == {"name": "sepal length (cm)", "type": "float64"}
    assert section["served"]["parity"]["rows"] == 5
    assert m["provenance"]["packages"]["scikit-learn"] == section["framework"]["version"]


def test_the_framework_path_answers_as_the_model_does(tmp_path: Path, worker: Any) -> None:
    x, y = iris_frame()
    model = LogisticRegression(max_iter=1000).fit(x, y)
    built = ftr.build_deployment(model, "iris", tmp_path, sample=x[:5], native=False)
    assert built.engine == "python"
    assert built.reason == "asked to run with scikit-learn (native=False)"
    m = manifest(tmp_path)
    requirements = m["runtime"]["requirements"]
    assert {r.split("==")[0] for r in requirements} >= {"scikit-learn", "skops", "numpy", "pandas"}
    assert all("==" in r for r in requirements), "pinned to the versions that saved it"
    assert members(tmp_path) == ["app.py", "feather-model.json", "model.skops"]
    app = worker(tmp_path)
    assert [c.to_dict() for c in app.init] == m["init"]
    (_, predict) = app.steps[0]
    rows = x.iloc[[0, 60, 120]]
    columns = {c["id"]: list(rows[c["title"]]) for c in m["init"]}
    labels = predict(**columns)
    want = model.predict_proba(rows)
    for label, p, name in zip(labels, want, model.predict(rows), strict=True):
        assert label.label == name
        assert list(label.confidences.values()) == pytest.approx(list(p))


def test_named_columns_of_several_types_convert_one_input_each(tmp_path: Path) -> None:
    model, frame = churn()
    built = ftr.build_deployment(model, "churn", tmp_path, sample=frame[:8])
    assert built.engine == "onnx", built.reason
    m = manifest(tmp_path)
    assert [(c["id"], c["type"]) for c in m["init"]] == [
        ("tenure_months", "Number.In"),
        ("plan", "Text.In"),
        ("spend", "Number.In"),
    ]
    assert m["init"][0]["integer"] is True
    assert isinstance(m["examples"][0]["plan"], str)


def test_a_regressor_and_its_framework_path(tmp_path: Path, worker: Any) -> None:
    data = load_diabetes(as_frame=True)
    model = Ridge().fit(data.data, data.target)
    native = ftr.build_deployment(model, "diabetes", tmp_path / "n", sample=data.data[:5])
    assert native.engine == "onnx", native.reason
    assert manifest(tmp_path / "n")["model"]["task"] == "regression"
    ftr.build_deployment(model, "diabetes", tmp_path / "p", sample=data.data[:5], native=False)
    (_, predict) = worker(tmp_path / "p").steps[0]
    rows = data.data[:4]
    shown = predict(**{k: list(rows[k]) for k in rows.columns})
    assert [v.type for v in shown] == ["Number.View"] * 4
    assert [v.value for v in shown] == pytest.approx(list(model.predict(rows)))


def test_a_conversion_that_answers_otherwise_is_not_served(tmp_path: Path) -> None:
    # float32 inside the converted graph cannot tell 1000000.1 from 1000000.125.
    rng = np.random.default_rng(0)
    x = 1e6 + rng.random((50, 1))
    model = LinearRegression().fit(x, (x[:, 0] - 1e6) * 1000)
    built = ftr.build_deployment(model, "precise", tmp_path / "a", sample=x[:5])
    assert built.engine == "python"
    assert "converted by skl2onnx" in built.reason and "differ" in built.reason
    assert built.parity is not None and built.parity.max_difference > 1e-4
    assert manifest(tmp_path / "a")["model"]["served"]["parity"]["rows"] == 5
    with pytest.raises(ftr.DeployError, match="cannot serve it natively: converted by"):
        ftr.build_deployment(model, "precise", tmp_path / "b", sample=x[:5], native=True)
    assert not (tmp_path / "b" / "manifest.json").exists()
    assert list((tmp_path / "b").iterdir()) == [], "no staged files are left behind"


def test_a_model_with_no_converter_runs_with_its_framework(tmp_path: Path) -> None:
    x, y = load_iris(return_X_y=True)
    model = LabelSpreading().fit(x, y)
    built = ftr.build_deployment(model, "spread", tmp_path, sample=x[:5])
    assert built.engine == "python"
    assert "cannot convert" in built.reason and "LabelSpreading" in built.reason


def test_class_names_for_class_indices(tmp_path: Path, worker: Any) -> None:
    x, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=1000).fit(x, y)
    names = ["setosa", "versicolor", "virginica"]
    ftr.build_deployment(model, "iris", tmp_path / "n", sample=x[:3], labels=names)
    assert manifest(tmp_path / "n")["runtime"]["labels"] == names
    ftr.build_deployment(model, "iris", tmp_path / "p", sample=x[:3], labels=names, native=False)
    (_, predict) = worker(tmp_path / "p").steps[0]
    (label,) = predict(x0=[5.1], x1=[3.5], x2=[1.4], x3=[0.2])
    assert label.label == "setosa" and set(label.confidences) == set(names)
    with pytest.raises(ftr.DeployError, match="2 labels for 3 classes"):
        ftr.build_deployment(model, "iris", tmp_path / "x", sample=x[:3], labels=names[:2])


@pytest.mark.parametrize(
    ("model", "sample", "message"),
    [
        (
            object(),
            None,
            "cannot deploy a builtins.object: it deploys models of xgboost, lightgbm",
        ),
        (LogisticRegression(), None, "not fitted"),
        (StandardScaler().fit([[1.0], [2.0]]), [[1.0]], "has no predict method"),
        ("fitted", [[1.0, 2.0, 3.0]], "the sample has 3 columns; the model was fitted on 4"),
        ("fitted", [1.0, 2.0, 3.0, 4.0], "must be rows of features"),
        ("frame", "reordered", "another order"),
        ("frame", "short", r"missing: petal width \(cm\)"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(
    tmp_path: Path, model: Any, sample: Any, message: str
) -> None:
    x, y = iris_frame()
    if model == "fitted":
        model = LogisticRegression(max_iter=1000).fit(x.values, y)
    elif model == "frame":
        model = LogisticRegression(max_iter=1000).fit(x, y)
        sample = x[list(reversed(x.columns))] if sample == "reordered" else x.iloc[:, :3]
    with pytest.raises(ftr.DeployError, match=message):
        ftr.build_deployment(model, "m", tmp_path / "out", sample=sample)
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_a_sample_the_model_cannot_predict_on_is_named(tmp_path: Path) -> None:
    x, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=1000).fit(x, y)
    with pytest.raises(ftr.DeployError, match="cannot predict on the sample"):
        ftr.build_deployment(model, "m", tmp_path, sample=[["a", "b", "c", "d"]])


def network_refusals(
    x: Any, names: list[str], *, tensors: bool = False
) -> list[tuple[dict[str, Any], str]]:
    """What a network of rows of numbers (three classes, four features) is refused with, and
    what each refusal says; `tensors` for a framework whose networks may take tensors."""
    return [
        ({"sample": None}, "give a sample"),
        ({"sample": x[0]}, "rows of numbers"),
        ({"sample": x[:2].reshape(2, 2, 2)}, "cannot run" if tensors else "rows of numbers"),
        ({"sample": x[:2, :3]}, "cannot run on the sample"),
        ({"sample": x[:2], "labels": names[:2]}, "2 labels for 3 classes"),
    ]


def assert_refused(model: Any, out: Path, cases: list[tuple[dict[str, Any], str]]) -> None:
    """Each set of options refused with a `DeployError` saying so, and nothing written."""
    for options, message in cases:
        with pytest.raises(ftr.DeployError, match=message):
            ftr.build_deployment(model, "m", out, **options)
        assert not (out / "manifest.json").exists()


def boosters() -> list[tuple[str, Any, Any]]:
    import catboost
    import lightgbm
    import xgboost

    return [
        ("xgboost", xgboost.XGBClassifier(n_estimators=20, max_depth=3), xgboost.XGBRegressor()),
        (
            "lightgbm",
            lightgbm.LGBMClassifier(n_estimators=20, verbose=-1),
            lightgbm.LGBMRegressor(n_estimators=20, verbose=-1),
        ),
        (
            "catboost",
            catboost.CatBoostClassifier(**CATBOOST),
            catboost.CatBoostRegressor(**CATBOOST),
        ),
    ]


CATBOOST = {"iterations": 20, "depth": 3, "verbose": False, "allow_writing_files": False}
"""Small, quiet, and writing no `catboost_info` folder where the tests run."""


@pytest.mark.parametrize(
    ("flavor", "classifier", "regressor"), boosters(), ids=lambda v: str(v)[:8]
)
def test_boosters_are_saved_in_their_own_format_and_served_natively(
    tmp_path: Path, worker: Any, flavor: str, classifier: Any, regressor: Any
) -> None:
    x, y = load_iris(return_X_y=True, as_frame=True)
    classifier.fit(x, y)
    built = ftr.build_deployment(classifier, "iris", tmp_path / "n", sample=x[:8])
    assert built.engine == "onnx", built.reason
    assert ("catboost" if flavor == "catboost" else "onnxmltools") in built.reason
    m = manifest(tmp_path / "n")
    assert m["model"]["flavor"] == flavor
    assert m["model"]["format"] in ("xgboost-ubj", "lightgbm-text", "catboost-cbm")
    assert m["model"]["framework"]["name"] in ("xgboost-cpu", "xgboost", "lightgbm", "catboost")
    ftr.build_deployment(classifier, "iris", tmp_path / "p", sample=x[:8], native=False)
    (_, predict) = worker(tmp_path / "p").steps[0]
    rows = x.iloc[[0, 70, 140]]
    labels = predict(**{c["id"]: list(rows[c["title"]]) for c in m["init"]})
    for label, want, p in zip(
        labels, np.ravel(classifier.predict(rows)), classifier.predict_proba(rows), strict=True
    ):
        assert label.label == str(want)
        assert list(label.confidences.values()) == pytest.approx(list(p), abs=1e-6)
    data = load_diabetes(as_frame=True)
    regressor.fit(data.data, data.target)
    built = ftr.build_deployment(regressor, "diabetes", tmp_path / "r", sample=data.data[:8])
    assert built.engine == "onnx", built.reason
    assert manifest(tmp_path / "r")["model"]["task"] == "regression"


def test_an_unfitted_booster_is_refused(tmp_path: Path) -> None:
    for _, classifier, _ in boosters():
        with pytest.raises(ftr.DeployError, match="not fitted"):
            ftr.build_deployment(classifier, "m", tmp_path, sample=[[1.0, 2.0]])
