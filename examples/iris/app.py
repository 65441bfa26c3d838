"""Iris species from four flower measurements, by a logistic regression (see train.py)."""

import pickle

import feather as ftr

files = ftr.bundle(["app.py", "model.pkl"])
model, inputs = pickle.loads((files.root / "model.pkl").read_bytes())


@ftr.step(title="Classify", description="How likely each of the three species is.")
def classify(sepal_length, sepal_width, petal_length, petal_width) -> ftr.Label:
    p = model.predict_proba([[sepal_length, sepal_width, petal_length, petal_width]])[0]
    return ftr.Label(confidences=dict(zip(model.classes_.tolist(), p.tolist(), strict=True)))


init = [ftr.Number.In(id=name, **props) for name, props in inputs.items()]
requirements = ["scikit-learn==1.9.1"]
ftr.build(
    "iris", init, [classify], description=__doc__, requirements=requirements, file_bundle=files
)
