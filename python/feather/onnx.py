"""Publishing a model in the ONNX format as it is: the server runs it with ONNX Runtime, no
Python, and reads its signature (and the page's fields) from the model itself."""

from __future__ import annotations

import io
import json
import os
import tarfile
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .components.base import Component
from .manifest import SCHEMA, canonical_manifest
from .provenance import capture


def build_onnx(
    model: bytes | str | os.PathLike[str],
    name: str,
    out: str | os.PathLike[str],
    *,
    title: str | None = None,
    description: str = "",
    tags: Sequence[str] = (),
    labels: Sequence[str] | None = None,
    init: Sequence[Component] = (),
) -> Path:
    """Write the `manifest.json` and `bundle.tar.gz` of an ONNX model into the folder `out`.

    `model` is the `.onnx` file's bytes or path. `labels` names a classifier's classes in the
    order of their indices; `init` gives the inputs' components (a `Number.In` or `Text.In` per
    feature, or a `Tensor.In` per tensor input, which may fix sizes the graph leaves open) when
    the ones the server derives from the graph should not be used as they are.
    """
    data = model if isinstance(model, bytes) else Path(model).read_bytes()
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    runtime: dict[str, Any] = {"kind": "onnx", "file": "model.onnx"}
    if labels is not None:
        runtime["labels"] = list(labels)
    manifest: dict[str, Any] = {
        "schema": SCHEMA,
        "name": name,
        "description": description,
        "tags": list(tags),
        "runtime": runtime,
        "init": [c.to_dict() for c in init],
        "steps": [{"name": "predict", "title": "Predict"}],
        "provenance": capture([], Path.cwd()),
    }
    if title is not None:
        manifest["title"] = title
    canonical = canonical_manifest(manifest)
    (root / "manifest.json").write_text(json.dumps(canonical, indent=2))
    with tarfile.open(root / "bundle.tar.gz", "w:gz") as tar:
        info = tarfile.TarInfo("model.onnx")
        info.size, info.mode = len(data), 0o644
        tar.addfile(info, io.BytesIO(data))
    return root


def publish_onnx(
    model: bytes | str | os.PathLike[str],
    *,
    name: str,
    server: str | None = None,
    token: str | None = None,
    private: bool | None = None,
    **about: Any,
) -> dict[str, Any]:
    """Publish an ONNX model (its bytes or path) as `name`; see `build_onnx` for `title`,
    `description`, `tags`, `labels` and `init`. Returns the server's answer, as `publish` does.

    >>> ftr.publish_onnx("model.onnx", name="churn", labels=["stays", "leaves"])  # doctest: +SKIP
    """
    from .publish import upload

    with tempfile.TemporaryDirectory() as scratch:
        build_onnx(model, name, scratch, **about)
        return upload(scratch, server=server, token=token, private=private)
