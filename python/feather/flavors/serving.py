"""The app of a model deployed to run with its framework: a worker imports the generated
`app.py`, which calls `serve`; it loads the serialized model with the framework and registers
one batching step that answers rows with the framework's own predict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SPEC = "feather-model.json"
"""The file beside the app that says how to load and call the model."""

APP = '''"""{title}: deployed from a {framework} object with ftr.deploy; the model runs with
{framework}'s own predict. {spec} says how it loads."""

from feather.flavors.serving import serve

serve(__file__)
'''


def serve(app_file: str) -> None:
    """Load the model beside `app_file` and register it (in a worker), or build it (elsewhere)."""
    import feather as ftr

    from .. import flavors
    from ..components.base import Component

    folder = Path(app_file).resolve().parent
    spec = json.loads((folder / SPEC).read_text(encoding="utf-8"))
    flavor = flavors.by_name(spec["flavor"])
    model = flavor.load(folder / spec["file"], spec.get("loader", {}))
    step = flavor.step(model, spec)
    init = [Component.from_dict(c) for c in spec["init"]]
    ftr.build(spec["name"], init, [step])


def predict_step(flavor: Any, model: Any, spec: dict[str, Any]) -> Any:
    """The step: rows of values by component id in, one output each, all rows in one call."""
    import feather as ftr

    from .table import Table

    table = Table.from_dict(spec["table"])
    names = spec.get("names")

    @ftr.step(title="Predict", batch=True, max_batch_size=64)
    def predict(**columns: list[Any]) -> list[Any]:
        out = flavor.predict(model, table.frame_of(columns))
        return outputs(spec["task"], out, spec.get("classes"), names)

    return predict


def outputs(task: str, out: Any, classes: list[Any] | None, names: list[str] | None) -> list[Any]:
    """One output component per row."""
    import feather as ftr

    def shown(c: Any) -> str:
        if names is not None and classes is not None:
            return names[[str(k) for k in classes].index(str(c))]
        return str(c.item() if hasattr(c, "item") else c)

    if out.labels is not None:
        keys = [shown(c) for c in classes] if classes is not None else None
        rows = out.probabilities if out.probabilities is not None and keys else None
        labels = []
        for i, predicted in enumerate(out.labels):
            name = shown(predicted)
            confidences = (
                dict(zip(keys, map(float, rows[i]), strict=True))
                if rows is not None and keys
                else {name: 1.0}
            )
            labels.append(ftr.Label(confidences, label=name, id="label"))
        return labels
    values = [_plain(v) for v in out.values]
    if all(isinstance(v, (int, float)) for v in values):
        return [ftr.Number.View(v, id="prediction", title="Prediction") for v in values]
    return [ftr.Json.View(v, id="prediction", title="Prediction") for v in values]


def _plain(v: Any) -> Any:
    return v.tolist() if hasattr(v, "tolist") else v
