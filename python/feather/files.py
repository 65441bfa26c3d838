"""Files at run time: `UploadedFile` (what a step receives) and `LocalFile` (what it makes).

A manifest can only name files in the bundle. A step's outputs can also show files made while
it ran: a component given an absolute path, `bytes`, a PIL image or an `UploadedFile` holds a
`LocalFile`, and the worker sends its bytes with the step's result.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._checks import join


@dataclass(frozen=True)
class UploadedFile:
    """A file a step receives from a `File.Upload` or `Image.Upload` input.

    `path` is a file in the worker's scratch folder, removed once the step returns: read it or
    copy it to keep it. An `UploadedFile` is path-like, so `open(upload)` works.

    >>> @ftr.step
    ... def describe(image: ftr.UploadedFile):
    ...     return ftr.Text.View(f"{image.name} ({image.type}): {len(image.read())} bytes")
    """

    name: str
    """The file's name as uploaded, without folders."""
    type: str
    """Its MIME type: as declared by the client, else guessed from the name."""
    path: str
    """Where the bytes are while the step runs."""

    def read(self) -> bytes:
        """The file's bytes."""
        return Path(self.path).read_bytes()

    def __fspath__(self) -> str:
        return self.path


@dataclass(frozen=True, eq=True)
class LocalFile:
    """A file a step made, to show in one of its output components.

    `source` is an absolute path the step wrote, `bytes`, or a PIL image (sent as PNG). `name`
    defaults to the path's name (`file-N.bin` for bytes, `image-N.png` for an image) and `type`
    to the MIME type that name suggests. Components wrap such values themselves; construct one
    to name bytes:

    >>> scores = ftr.LocalFile(b"a,b\\n1,2\\n", name="scores.csv")
    >>> ftr.File.Download(files=[scores])  # doctest: +SKIP
    """

    source: Any
    name: str | None = None
    type: str | None = None

    def __post_init__(self) -> None:
        source = self.source
        if isinstance(source, (bytearray, memoryview)):
            object.__setattr__(self, "source", bytes(source))
        elif isinstance(source, os.PathLike):
            object.__setattr__(self, "source", os.fspath(source))
        elif not isinstance(source, (bytes, str)) and not is_pil_image(source):
            raise TypeError(
                f"a run-time file is a path, bytes or a PIL image, not {type(source).__name__}"
            )

    def __deepcopy__(self, memo: dict[int, Any]) -> LocalFile:
        # Immutable apart from a PIL image, which would be slow to copy and is never changed.
        return self

    def __repr__(self) -> str:
        source = self.source
        shown = f"<{len(source)} bytes>" if isinstance(source, bytes) else repr(source)
        if is_pil_image(source):
            shown = f"<PIL image {source.size[0]}x{source.size[1]}>"
        known = (("name", self.name), ("type", self.type))
        extra = "".join(f", {key}={value!r}" for key, value in known if value)
        return f"LocalFile({shown}{extra})"


def is_pil_image(value: Any) -> bool:
    """Whether `value` is a PIL image; PIL is never imported (an image implies it already is)."""
    pil = sys.modules.get("PIL.Image")
    return pil is not None and isinstance(value, pil.Image)


def local_file(value: Any) -> LocalFile | None:
    """The `LocalFile` that a component's file entry stands for, or `None` when it names a file
    the manifest can hold (a `FileRef` dict, a relative path inside the bundle)."""
    if isinstance(value, LocalFile):
        return value
    if isinstance(value, UploadedFile):
        return LocalFile(value.path, name=value.name, type=value.type)
    if isinstance(value, (bytes, bytearray, memoryview)) or is_pil_image(value):
        return LocalFile(value)
    if isinstance(value, (str, os.PathLike)) and os.path.isabs(os.fspath(value)):
        return LocalFile(value)
    return None


def local_files(value: Any, path: str = "") -> Iterator[tuple[str, LocalFile]]:
    """Every `LocalFile` inside `value` (dicts and lists), with its JSON Pointer."""
    if isinstance(value, LocalFile):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from local_files(item, join(path, key))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from local_files(item, join(path, i))
