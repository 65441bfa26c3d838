"""PyTorch modules of rows of numbers: saved as a `torch.export` program (the format PyTorch
recommends over TorchScript), converted with `torch.onnx.export`. A module's output is a
classifier's logits when the developer names its classes (`labels=`: a softmax is appended,
so that what is served are probabilities), a regressor's value when it is one number a row,
else the row of numbers it gives."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .flavor import (
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
        rows, out = self.tried(TorchModel(module, 0, False), sample, "module")
        classify = labels is not None
        import torch

        example = torch.as_tensor(np.concatenate([rows, rows])[: max(2, len(rows))])
        return TorchModel(_wrapped(module, classify), int(out.shape[1]), classify, example)

    def predict(self, obj: Any, x: Any) -> Prediction:
        out = obj(x) if isinstance(obj, TorchModel) else TorchModel(obj, 0, False)(x)
        return rows_prediction(out, isinstance(obj, TorchModel) and obj.classify)

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
            {"classify": obj.classify, "width": obj.width},
        )

    def load(self, path: Path, loader: dict[str, Any]) -> Any:
        import torch

        module = torch.export.load(str(path)).module()
        return TorchModel(module, int(loader["width"]), bool(loader["classify"]))

    def to_onnx(self, obj: TorchModel, table: Table) -> tuple[bytes, str]:
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
                input_names=["x"],
                output_names=["probabilities" if obj.classify else "y"],
                opset_version=OPSET,
                verbose=False,
            )
        except Exception as err:
            raise Unconvertible(f"{converter} cannot convert it: {one_line(err)}") from None
        return with_feature_names(exported.model_proto, table.names), converter

    def installed(self) -> tuple[str, str]:
        return "torch", version_of("torch")
