"""Input values as steps receive them: from the wire's JSON and parts to Python objects.

The conversion follows each value's component (docs/worker-protocol.md, "Calling a step"):
numbers become `int` or `float`, uploads become `ftr.UploadedFile`s written to a scratch
folder, a tensor becomes a numpy array when the environment has numpy, everything else is the
JSON value itself (str, bool, lists).
"""

from __future__ import annotations

import contextlib
import mimetypes
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any, BinaryIO

from .._checks import is_number
from ..components.base import Component
from ..files import UploadedFile
from .app import RequestError
from .protocol import Part, ProtocolError

MAX_NAME_BYTES = 200
"""Longer names are shortened on disk (file systems allow 255 bytes); the step still sees the
uploaded name."""


def scratch_base() -> str | None:
    """Where requests' files go: `$FEATHER_SCRATCH` when set, else the temporary folder."""
    return os.environ.get("FEATHER_SCRATCH") or None


class Incoming:
    """The large files of the next request, streamed ahead of it as `chunk` frames and
    written to the scratch folder as they come; numbered from 0, one after another.

    A file that cannot be written (the scratch folder is full) is read to its end all the
    same, so the frames stay in step, and the request that names it fails with the error."""

    def __init__(self, base: str | None = None) -> None:
        self.base = base
        self.paths: list[str] = []
        self.errors: dict[int, OSError] = {}
        self.later: list[str] = []
        """Request folders kept until their answers' files are sent."""
        self._open: BinaryIO | None = None
        self._path = ""

    def take(self, header: Mapping[str, Any], parts: Sequence[Part]) -> None:
        """One `chunk` frame."""
        file, end = header.get("file"), header.get("end", False)
        if file != len(self.paths) or isinstance(file, bool) or not isinstance(end, bool):
            raise ProtocolError(f"a chunk of file {file!r} where file {len(self.paths)} was due")
        if self._open is None and file not in self.errors:
            try:
                if self.base is not None:
                    os.makedirs(self.base, exist_ok=True)
                fd, self._path = tempfile.mkstemp(prefix="in-", dir=self.base)
                self._open = os.fdopen(fd, "wb")
            except OSError as err:
                self.errors[file] = err
        if self._open is not None and file not in self.errors:
            try:
                for part in parts:
                    self._open.write(part)
            except OSError as err:
                self.errors[file] = err
        if end:
            if self._open is not None:
                try:
                    self._open.close()
                except OSError as err:
                    self.errors.setdefault(file, err)
            self._open = None
            self.paths.append(self._path)
            self._path = ""

    def path(self, file: int) -> str:
        """Where file `file` was written; the error it met, raised."""
        if file in self.errors:
            raise self.errors[file]
        return self.paths[file]

    def clear(self) -> None:
        """Forget every file (those no step took are removed), and remove the request folders
        kept for sending."""
        for path in self.paths:
            if path:
                with contextlib.suppress(OSError):
                    os.remove(path)
        for folder in self.later:
            shutil.rmtree(folder, ignore_errors=True)
        self.paths.clear()
        self.errors.clear()
        self.later.clear()


class Scratch:
    """The folder of one request's uploaded files, made when the first file arrives and removed
    with everything in it afterwards. It lies in `$FEATHER_SCRATCH` when set. Large files
    streamed ahead of the request are `incoming`."""

    def __init__(self, base: str | None = None, incoming: Incoming | None = None) -> None:
        self.base = base if base is not None else scratch_base()
        self.incoming = incoming if incoming is not None else Incoming(self.base)
        self.path: str | None = None
        self.count = 0

    def _folder(self) -> str:
        """A new folder for one file, so uploads with the same name coexist."""
        if self.path is None:
            if self.base is not None:
                os.makedirs(self.base, exist_ok=True)
            self.path = tempfile.mkdtemp(prefix="run-", dir=self.base)
        folder = os.path.join(self.path, str(self.count))
        self.count += 1
        os.mkdir(folder)
        return folder

    def write(self, name: str, data: Part) -> str:
        """Write one file."""
        path = os.path.join(self._folder(), name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def adopt(self, name: str, file: int) -> str:
        """Move streamed file `file` in under `name` (a rename: no copy)."""
        path = os.path.join(self._folder(), name)
        os.replace(self.incoming.path(file), path)
        return path

    def keep(self) -> None:
        """Leave the folder when the request ends: its answer streams files from it. It goes
        with the next `Incoming.clear()`."""
        if self.path is not None:
            self.incoming.later.append(self.path)
            self.path = None

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
    """Write the part a file value points at into the scratch folder, or move the streamed
    file it names there."""
    n = ref.get("part") if isinstance(ref, dict) else None
    k = ref.get("file") if isinstance(ref, dict) and n is None else None
    streamed = len(scratch.incoming.paths)
    if k is not None:
        if not isinstance(k, int) or isinstance(k, bool) or not 0 <= k < streamed:
            raise RequestError(
                f'input {component.id!r}: {{"file": K}} must name one of the {streamed} '
                "file(s) streamed before the request"
            )
    elif not isinstance(n, int) or isinstance(n, bool) or not 0 <= n < len(parts):
        raise RequestError(
            f'input {component.id!r}: a file must be {{"part": N}} with N one of the '
            f"{len(parts)} part(s)"
        )
    declared = ref.get("type")
    mime = declared if isinstance(declared, str) and declared else None
    number = n if k is None else k
    name = file_name(ref.get("name"), number, mime)
    mime = mime or mimetypes.guess_type(name)[0] or "application/octet-stream"
    if k is not None:
        return UploadedFile(name, mime, scratch.adopt(disk_name(name, k), k))
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
