"""PyTorch modules of rows of numbers, or of tensors of any shape (images, sequences): saved as
a `torch.export` program (the format PyTorch recommends over TorchScript), converted with
`torch.onnx.export`. A module of rows has a field a column; a module of tensors one `Tensor.In`
of an item's shape (the sample's without its batch). A module's output is a classifier's
logits when the developer names its classes (`labels=`: a softmax is appended, so that what
is served are probabilities), a regressor's value when it is one number a row, else the row
of numbers it gives."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .flavor import (
    Interface,
    NetworkFlavor,
    Prediction,
    Saved,
    Unconvertible,
    one_line,
    pinned,
    rows_prediction,
    version_of,
    with_feature_names,
)
from .table import Table

FILE = "model.pt2"
FIELD = "x"
"""The id of a tensor module's one field, and its graph input's name."""
EXAMPLE_SIZE = 4096
"""Items of at most this many numbers are kept as examples (a page shows them)."""
OPSET = 18
"""What torch.onnx's exporter writes; every ONNX Runtime since 1.14 runs it."""


@dataclass
class TorchModel:
    """A module in eval mode, with a softmax after it when it classifies."""

    module: Any
    width: int
    """Numbers a row it gives."""
    classify: bool
    example: Any = None
    """Rows to trace it with (two at least, so that the batch stays of any size)."""
    shape: tuple[int, ...] = ()
    """An item's shape, when it takes tensors rather than rows of numbers."""

    def __call__(self, x: Any) -> Any:
        import numpy as np
        import torch

        with torch.no_grad():
            out = self.module(torch.as_tensor(np.asarray(x, dtype="float32")))
        return out.detach().cpu().numpy()


def _wrapped(module: Any, classify: bool) -> Any:
    import torch

    return torch.nn.Sequential(module, torch.nn.Softmax(dim=1)).eval() if classify else module


class TorchFlavor(NetworkFlavor):
    name = "pytorch"
    framework = "torch"

    def matches(self, obj: Any) -> bool:
        torch = sys.modules.get("torch")
        return torch is not None and isinstance(obj, (torch.nn.Module, TorchModel))

    def prepare(self, obj: Any, *, labels: Any = None, sample: Any = None) -> Any:
        if isinstance(obj, TorchModel):
            return obj
        import numpy as np

        module = obj.eval()
        run = TorchModel(module, 0, False)
        rows, out = self.tried(run, sample, "module", tensors=True)
        classify = labels is not None
        import torch

        example = torch.as_tensor(np.concatenate([rows, rows])[: max(2, len(rows))])
        shape = tuple(int(d) for d in rows.shape[1:]) if rows.ndim > 2 else ()
        return TorchModel(_wrapped(module, classify), int(out.shape[1]), classify, example, shape)

    def interface(self, obj: TorchModel, sample: Any) -> Interface | None:
        """One `Tensor.In` of an item's shape, for a module of tensors."""
        if not obj.shape:
            return None
        import numpy as np

        from ..components import Tensor

        field = Tensor.In(id=FIELD, title="Input", dtype="float32", shape=list(obj.shape))
        items = np.asarray(sample, dtype="float32")
        small = int(np.prod(obj.shape)) <= EXAMPLE_SIZE
        examples = [{FIELD: item.tolist()} for item in items[:3]] if small else []
        task = self.task(obj)
        outputs = {
            "classification": [{"name": "label", "type": "int64"}],
            "regression": [{"name": "prediction", "type": "float64"}],
        }.get(task, [])
        return Interface([field], examples, [{"name": FIELD, "type": "float32"}], outputs)

    def sample_rows(self, obj: TorchModel, sample: Any) -> Any:
        import numpy as np

        return np.asarray(sample, dtype="float32")

    def predict(self, obj: Any, x: Any) -> Prediction:
        out = obj(x) if isinstance(obj, TorchModel) else TorchModel(obj, 0, False)(x)
        return rows_prediction(out, isinstance(obj, TorchModel) and obj.classify)

    def answer(self, model: TorchModel, spec: dict[str, Any], items: list[Any]) -> list[Any]:
        """One output component an item (a tensor of the module's item shape)."""
        import numpy as np

        from .serving import outputs

        out = self.predict(model, np.stack([np.asarray(i, dtype="float32") for i in items]))
        return outputs(spec["task"], out, spec.get("classes"), spec.get("names"))

    def step(self, model: TorchModel, spec: dict[str, Any]) -> Any:
        if not model.shape:
            return super().step(model, spec)
        import feather as ftr

        @ftr.step(title="Predict", batch=True, max_batch_size=64)
        def predict(x: list[Any]) -> list[Any]:
            return self.answer(model, spec, x)

        return predict

    def save(self, obj: TorchModel, folder: Path) -> Saved:
        import torch

        program = torch.export.export(
            obj.module, (obj.example,), dynamic_shapes=({0: torch.export.Dim("batch")},)
        )
        torch.export.save(program, folder / FILE)
        return Saved(
            FILE,
            "torch-export",
            pinned("torch", "numpy"),
            {"classify": obj.classify, "width": obj.width, "shape": list(obj.shape)},
        )

    def load(self, path: Path, loader: dict[str, Any]) -> Any:
        import torch

        module = torch.export.load(str(path)).module()
        shape = tuple(int(d) for d in loader.get("shape", ()))
        return TorchModel(module, int(loader["width"]), bool(loader["classify"]), shape=shape)

    def tensors(self, obj: TorchModel) -> bool:
        return bool(obj.shape)

    def to_onnx(self, obj: TorchModel, table: Table | None) -> tuple[bytes, str]:
        import torch

        try:
            import onnxscript  # noqa: F401
        except ImportError:
            raise Unconvertible(
                "onnxscript is not installed here (pip install onnxscript)"
            ) from None
        converter = f"torch.onnx {version_of('torch').split('+')[0]}"
        try:
            exported = torch.onnx.export(
                obj.module,
                (obj.example,),
                dynamo=True,
                dynamic_shapes=({0: torch.export.Dim("batch")},),
                input_names=[FIELD],
                output_names=["probabilities" if obj.classify else "y"],
                opset_version=OPSET,
                verbose=False,
            )
        except Exception as err:
            raise Unconvertible(f"{converter} cannot convert it: {one_line(err)}") from None
        if table is None:
            return bytes(exported.model_proto.SerializeToString()), converter
        return with_feature_names(exported.model_proto, table.names), converter

    def installed(self) -> tuple[str, str]:
        return "torch", version_of("torch")
