"""The review example's use of the digits model: the likeliest labels of each image, and the
summary of what the person confirmed."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

import numpy as np

import feather as ftr
from digits import load_model


def top_labels(x: Sequence[np.ndarray], k: int = 3) -> list[list[str]]:
    """The model's `k` likeliest labels for each image's features, likeliest first."""
    model = load_model()
    order = np.argsort(-model.predict_proba(np.asarray(x)), axis=1, kind="stable")[:, :k]
    return model.classes_[order].tolist()


def summary(x: Sequence[np.ndarray], labels: Sequence[str]) -> list[ftr.Component]:
    """A table of the model's guess against the confirmed label of each image, and a CSV of the
    labels with the images' 64 inputs: corrected examples, ready to train on."""
    guesses = [best for best, *_ in top_labels(x, 1)]
    rows = [
        [i, guess, label, guess == label]
        for i, (guess, label) in enumerate(zip(guesses, labels, strict=True), start=1)
    ]
    agreed = sum(row[3] for row in rows)
    table = ftr.Table.View(
        id="summary",
        title=f"The model was right about {agreed} of {len(rows)}",
        columns=["image", "model guess", "confirmed label", "agreed"],
        rows=rows,
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["image", "model_guess", "label", *(f"pixel_{i}" for i in range(64))])
    for row, features in zip(rows, x, strict=True):
        writer.writerow([*row[:3], *(round(float(v), 2) for v in features)])
    labels_csv = ftr.file_ref(data=out.getvalue().encode(), name="labels.csv", type="text/csv")
    return [table, ftr.File.Download(id="labels_csv", title="Labels (CSV)", files=[labels_csv])]
