"""Trains the iris classifier and writes it as model.onnx beside this file.

The logistic regression is converted with skl2onnx, ZipMap included (the probabilities come
out as one map of class to probability per flower), and the four measurements' names are
kept in the model's metadata (`feature_names`), which the server reads to name the page's
fields. Classes are indices 0 to 2; model.json names them.
"""

from pathlib import Path

import numpy as np
from skl2onnx import to_onnx
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split


def main() -> None:
    iris = load_iris()
    x = iris.data.astype(np.float32)
    x_train, x_test, y_train, y_test = train_test_split(
        x, iris.target, test_size=0.25, random_state=0, stratify=iris.target
    )
    held_out = LogisticRegression(max_iter=1000).fit(x_train, y_train)
    print(f"accuracy on {len(y_test)} held-out flowers: {held_out.score(x_test, y_test):.3f}")
    model = LogisticRegression(max_iter=1000).fit(x, iris.target)
    onx = to_onnx(model, x[:1], target_opset=17)
    entry = onx.metadata_props.add()
    entry.key, entry.value = "feature_names", ",".join(iris.feature_names)
    out = Path(__file__).with_name("model.onnx")
    out.write_bytes(onx.SerializeToString())
    print(f"wrote {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
