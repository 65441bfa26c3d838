"""The baseline: the benchmark's two models served by FastAPI + uvicorn, with feather's routes,
request bodies and answers, so the same wrk run drives both servers.

    uvicorn bench.baseline:app --workers 2      # from the repository's root

- echo: `{"inputs": {"text": ...}}` gives back the text as a `Text.View`;
- iris: the four measurements give the class probabilities of `examples/iris/model.pkl`
  (`BENCH_IRIS_MODEL` to load another file) as a `Label`.

Inputs are validated as feather validates them (types, ranges, no unknown ids) with pydantic models,
the usual FastAPI way. The handlers are `async def`, so they run on the event loop and not in a
thread pool: the fastest way to serve a short CPU-bound step with FastAPI.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field, create_model

ROOT = Path(__file__).resolve().parent.parent
IRIS_MODEL = Path(os.environ.get("BENCH_IRIS_MODEL", ROOT / "examples" / "iris" / "model.pkl"))

OWNER = "bench"
ECHO_MAX_CHARS = 1_000_000  # examples/echo's Text.In


class Inputs(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EchoInputs(Inputs):
    text: str = Field(max_length=ECHO_MAX_CHARS)


class EchoRequest(Inputs):
    inputs: EchoInputs


# model.pkl holds (classifier, {input id: Number.In's keyword arguments}), as train.py writes it.
classifier, iris_inputs = pickle.loads(IRIS_MODEL.read_bytes())
class_names = [str(c) for c in classifier.classes_]
IrisInputs = create_model(
    "IrisInputs",
    __base__=Inputs,
    **{
        name: (float, Field(ge=props["min"], le=props["max"]))
        for name, props in iris_inputs.items()
    },
)
IrisRequest = create_model("IrisRequest", __base__=Inputs, inputs=(IrisInputs, ...))


def prediction(model: str, output: dict[str, Any]) -> dict[str, Any]:
    """feather's answer to a one-step predict: version 1 of OWNER/model with one output. The
    output ids are those the examples give (run.sh warns when the two servers' answers differ)."""
    return {
        "model": f"{OWNER}/{model}",
        "version": 1,
        "outputs": [{"required": True, **output}],
    }


app = FastAPI(title="feather benchmark baseline")


@app.post("/api/v1/models/bench/echo/predict")
async def echo(request: EchoRequest) -> dict[str, Any]:
    text = request.inputs.text
    return prediction("echo", {"id": "echo", "type": "Text.View", "text": text})


@app.post("/api/v1/models/bench/iris/predict")
async def iris(request: IrisRequest) -> dict[str, Any]:  # type: ignore[valid-type]
    row = [[getattr(request.inputs, name) for name in iris_inputs]]
    probabilities = classifier.predict_proba(row)[0]
    confidences = dict(zip(class_names, map(float, probabilities), strict=True))
    return prediction("iris", {"id": "output_1", "type": "Label", "confidences": confidences})
