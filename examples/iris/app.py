"""Iris species from four flower measurements, by a logistic regression (see train.py)."""

import pickle

import feather as ftr

files = ftr.bundle(["app.py", "model.pkl"])
model, inputs = pickle.loads((files.root / "model.pkl").read_bytes())


# batch=True: requests that queue up are classified together, one row each.
@ftr.step(title="Classify", description="How likely each species is.", batch=True)
def classify(**measurements) -> list[ftr.Label]:
    rows = model.predict_proba(list(zip(*measurements.values(), strict=True))).tolist()
    return [ftr.Label(confidences=dict(zip(model.classes_, p, strict=True))) for p in rows]


init = [ftr.Number.In(id=name, **props) for name, props in inputs.items()]
requirements = ["scikit-learn==1.9.1"]
ftr.build("iris", init, [classify], requirements=requirements, file_bundle=files)
