"""Trains the iris example's model and writes model.pkl beside this file.

model.pkl holds `(model, inputs)`: a logistic regression that takes the four measurements in
the order of `inputs` and predicts the species by name, and the keyword arguments of each
input's `ftr.Number.In`, its range taken from the data.
"""

import math
import pickle
from pathlib import Path

import numpy as np
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

IDS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def train() -> tuple[LogisticRegression, dict[str, dict[str, float | str]]]:
    iris = load_iris()
    species = iris.target_names[iris.target]
    x_train, x_test, y_train, y_test = train_test_split(
        iris.data, species, test_size=0.25, random_state=0, stratify=species
    )
    held_out = LogisticRegression(max_iter=1000).fit(x_train, y_train)
    print(f"accuracy on {len(y_test)} held-out flowers: {held_out.score(x_test, y_test):.3f}")
    model = LogisticRegression(max_iter=1000).fit(iris.data, species)
    inputs = {}
    for key, name, column in zip(IDS, iris.feature_names, iris.data.T, strict=True):
        # Whole centimetres around the data: measurements a little outside it still classify.
        inputs[key] = {
            "title": name.capitalize(),
            "min": float(math.floor(column.min())),
            "max": float(math.ceil(column.max())),
            "step": 0.1,
            "default": round(float(np.median(column)), 1),
        }
    return model, inputs


if __name__ == "__main__":
    out = Path(__file__).with_name("model.pkl")
    out.write_bytes(pickle.dumps(train(), protocol=pickle.HIGHEST_PROTOCOL))
    print(f"wrote {out}")
