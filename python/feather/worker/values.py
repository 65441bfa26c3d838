"""Input values as steps receive them: from the wire's JSON and parts to Python objects.

The conversion follows each value's component (docs/worker-protocol.md, "Calling a step"):
numbers become `int` or `float`, uploads become `ftr.UploadedFile`s written to a scratch
folder, a tensor becomes a numpy array when the environment has numpy, everything else is the
JSON value itself (str, bool, lists).
"""

from __future__ import annotations

import mimetypes
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any

from .._checks import is_number
from ..components.base import Component
from ..files import UploadedFile
from .app import RequestError
from .protocol import Part

MAX_NAME_BYTES = 200
"""Longer names are shortened on disk (file systems allow 255 bytes); the step still sees the
uploaded name."""


class Scratch:
    """The folder of one request's uploaded files, made when the first file arrives and removed
    with everything in it afterwards. It lies in `$FEATHER_SCRATCH` when set."""

    def __init__(self, base: str | None = None) -> None:
        self.base = base if base is not None else os.environ.get("FEATHER_SCRATCH") or None
        self.path: str | None = None
        self.count = 0

    def write(self, name: str, data: Part) -> str:
        """Write one file; each gets its own folder, so uploads with the same name coexist."""
        if self.path is None:
            if self.base is not None:
                os.makedirs(self.base, exist_ok=True)
            self.path = tempfile.mkdtemp(prefix="run-", dir=self.base)
        folder = os.path.join(self.path, str(self.count))
        self.count += 1
        os.mkdir(folder)
        path = os.path.join(folder, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def __enter__(self) -> Scratch:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            self.path = None


def step_arguments(
    components: Sequence[Component],
    inputs: Mapping[str, Any],
    parts: Sequence[Part],
    scratch: Scratch,
) -> dict[str, Any]:
    """Keyword arguments for a step: one per input component, `None` when not answered."""
    by_id = {c.id: c for c in components if c.is_input and c.id is not None}
    unknown = [key for key, value in inputs.items() if key not in by_id and value is not None]
    if unknown:
        raise RequestError(f"inputs {', '.join(map(repr, unknown))} answer no input component")
    return {cid: to_python(c, inputs.get(cid), parts, scratch) for cid, c in by_id.items()}


def to_python(component: Component, value: Any, parts: Sequence[Part], scratch: Scratch) -> Any:
    """One value as the step receives it."""
    if value is None:
        return None
    kind = component.type
    if kind in ("Number.In", "Slider"):
        if not is_number(value):
            raise RequestError(f"input {component.id!r} must be a number")
        return int(value) if kind == "Number.In" and component.integer else float(value)
    if kind == "File.Upload":
        if not isinstance(value, list):
            raise RequestError(f"input {component.id!r} must be an array of files")
        return [uploaded(component, v, parts, scratch) for v in value]
    if kind == "Image.Upload":
        return uploaded(component, value, parts, scratch)
    if kind == "Tensor.In":
        return tensor(component.dtype, value)
    return value


def tensor(dtype: str, value: Any) -> Any:
    """A tensor's nested lists as a numpy array of its dtype, when the step's environment has
    numpy; else the lists themselves."""
    try:
        import numpy as np
    except ImportError:
        return value
    return np.asarray(value, dtype=np.str_ if dtype == "string" else np.dtype(dtype))


def uploaded(
    component: Component, ref: Any, parts: Sequence[Part], scratch: Scratch
) -> UploadedFile:
    """Write the part a file value points at into the scratch folder."""
    n = ref.get("part") if isinstance(ref, dict) else None
    if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n < len(parts):
        raise RequestError(
            f'input {component.id!r}: a file must be {{"part": N}} with N one of the '
            f"{len(parts)} part(s)"
        )
    declared = ref.get("type")
    mime = declared if isinstance(declared, str) and declared else None
    name = file_name(ref.get("name"), n, mime)
    mime = mime or mimetypes.guess_type(name)[0] or "application/octet-stream"
    return UploadedFile(name, mime, scratch.write(disk_name(name, n), parts[n]))


def file_name(name: Any, n: int, mime: str | None) -> str:
    """The uploaded name without folders, else `file-N` with the type's extension."""
    if isinstance(name, str):
        base = PurePosixPath(name.replace("\\", "/").replace("\0", "")).name
        if base not in ("", ".", ".."):
            return base
    return f"file-{n}{(mime and mimetypes.guess_extension(mime)) or ''}"


def disk_name(name: str, n: int) -> str:
    if len(name.encode("utf-8", "surrogatepass")) <= MAX_NAME_BYTES:
        return name
    suffix = PurePosixPath(name).suffix
    return f"file-{n}{suffix if len(suffix) <= 20 else ''}"
