"""The second baseline: the benchmark's two models served by mosec, with feather's routes,
request bodies and answers, so the same wrk run drives every server.

    python bench/mosec_server.py --port 8000                    # plain: one request a call
    BENCH_MOSEC_BATCH=32 python bench/mosec_server.py --port 8000  # dynamic batching

Each model gets 2 worker processes, as feather's get in the benchmark. With BENCH_MOSEC_BATCH
above 1 a worker takes up to that many requests at once, waiting at most BENCH_MOSEC_WAIT_MS
(default 5) for a batch to fill: mosec's dynamic batching. Inputs are checked as feather checks
them (types, ranges, no unknown ids); a refusal is mosec's 422.
"""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path
from typing import Any

from mosec import Server, Worker
from mosec.errors import ValidationError

ROOT = Path(__file__).resolve().parent.parent
IRIS_MODEL = Path(os.environ.get("BENCH_IRIS_MODEL", ROOT / "examples" / "iris" / "model.pkl"))
ECHO_MAX_CHARS = 1_000_000  # examples/echo's Text.In
BATCH = int(os.environ.get("BENCH_MOSEC_BATCH", "1"))
WAIT_MS = int(os.environ.get("BENCH_MOSEC_WAIT_MS", "5"))


def prediction(model: str, output: dict[str, Any]) -> dict[str, Any]:
    """feather's answer to a one-step predict of bench/MODEL version 1 (see baseline.py)."""
    return {"model": f"bench/{model}", "version": 1, "outputs": [{"required": True, **output}]}


def inputs_of(request: Any, names: set[str]) -> dict[str, Any]:
    if not isinstance(request, dict) or set(request) != {"inputs"}:
        raise ValidationError('the body must be {"inputs": {...}}')
    inputs = request["inputs"]
    if not isinstance(inputs, dict) or set(inputs) != names:
        raise ValidationError(f"inputs must be exactly {sorted(names)}")
    return inputs


def echo_one(request: Any) -> dict[str, Any]:
    text = inputs_of(request, {"text"})["text"]
    if not isinstance(text, str) or len(text) > ECHO_MAX_CHARS:
        raise ValidationError(f"text must be a string of at most {ECHO_MAX_CHARS} characters")
    return prediction("echo", {"id": "echo", "type": "Text.View", "text": text})


class Compact(Worker):
    """Answers as compact JSON (mosec's default writes it indented): the leaner bytes."""

    def serialize(self, data: Any) -> bytes:
        return json.dumps(data, separators=(",", ":")).encode()


class Echo(Compact):
    def forward(self, data: Any) -> Any:
        return [echo_one(d) for d in data] if BATCH > 1 else echo_one(data)


class Iris(Compact):
    def __init__(self) -> None:
        super().__init__()
        # model.pkl holds (classifier, {input id: Number.In's keyword arguments}).
        self.classifier, self.inputs = pickle.loads(IRIS_MODEL.read_bytes())
        self.names = [str(c) for c in self.classifier.classes_]

    def row(self, request: Any) -> list[float]:
        inputs = inputs_of(request, set(self.inputs))
        row = []
        for name, props in self.inputs.items():
            x = inputs[name]
            if isinstance(x, bool) or not isinstance(x, int | float):
                raise ValidationError(f"{name} must be a number")
            if not props["min"] <= x <= props["max"]:
                raise ValidationError(f"{name} must be within [{props['min']}, {props['max']}]")
            row.append(float(x))
        return row

    def answer(self, probabilities: Any) -> dict[str, Any]:
        confidences = dict(zip(self.names, map(float, probabilities), strict=True))
        return prediction("iris", {"id": "output_1", "type": "Label", "confidences": confidences})

    def forward(self, data: Any) -> Any:
        if BATCH == 1:
            return self.answer(self.classifier.predict_proba([self.row(data)])[0])
        # One call for the whole batch: what dynamic batching is for.
        rows = [self.row(d) for d in data]
        return [self.answer(p) for p in self.classifier.predict_proba(rows)]


if __name__ == "__main__":
    server = Server()
    batching = {"max_batch_size": BATCH, "max_wait_time": WAIT_MS} if BATCH > 1 else {}
    server.append_worker(Echo, num=2, route="/api/v1/models/bench/echo/predict", **batching)
    server.append_worker(Iris, num=2, route="/api/v1/models/bench/iris/predict", **batching)
    server.run()
