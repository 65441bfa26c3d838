"""Trains the digits example's classifier and writes model.pkl beside this file.

The model is a support vector machine whose scores are calibrated into probabilities. It learns
from the dataset's digits drawn as pictures and read back by `digits.features`, the path every
request takes, so an upload and a training example look alike to it.
"""

import pickle
from pathlib import Path

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.svm import SVC

from digits import features, render


def dataset() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 digits as the app sees them, and their labels "0" to "9"."""
    data = load_digits()
    return np.array([features(render(grid)) for grid in data.images]), data.target.astype(str)


def classifier() -> CalibratedClassifierCV:
    return CalibratedClassifierCV(SVC(C=10, gamma=0.001), ensemble=False)


def train() -> CalibratedClassifierCV:
    x, y = dataset()
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.25, random_state=0, stratify=y
    )
    held_out = classifier().fit(x_train, y_train).score(x_test, y_test)
    print(f"accuracy on {len(y_test)} held-out digits: {held_out:.3f}")
    return classifier().fit(x, y)


if __name__ == "__main__":
    out = Path(__file__).with_name("model.pkl")
    out.write_bytes(pickle.dumps(train(), protocol=pickle.HIGHEST_PROTOCOL))
    print(f"wrote {out}")
