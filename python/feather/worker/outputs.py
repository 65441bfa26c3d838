"""What a step returns, as the `result` message carries it: output components and state.

A step returns a component, or a list or tuple of components (shown, in order) and other
objects: the run's state, pickled for the next step (one object as is, several as a tuple).
Files made at run time inside the components travel as parts.
"""

from __future__ import annotations

import copy
import io
import itertools
import mimetypes
import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..build import slug_id
from ..components.base import Component
from ..files import LocalFile, is_pil_image
from .app import RequestError
from .messages import one_line
from .protocol import STREAM_AT

FILE_PROPS = {
    "File.Download": "files",
    "Image.View": "images",
    "Image.WithSelectOne": "images",
    "Image.WithSelectMulti": "images",
    "Image.WithTextIn": "images",
}
"""The prop of each component type that holds `FileRef`s."""


@dataclass
class Encoded:
    """A step's return value ready to send: output dicts, their parts, the state's part, and
    the large files (path, size) streamed ahead of the answer."""

    outputs: list[dict[str, Any]] = field(default_factory=list)
    parts: list[bytes] = field(default_factory=list)
    state: int | None = None
    files: list[tuple[str, int]] = field(default_factory=list)


def split_return(value: Any) -> tuple[list[Component], list[Any]]:
    """The components a step returned, and the other objects (its state)."""
    if isinstance(value, Component):
        return [value], []
    if value is None:
        return [], []
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    components = [v for v in items if isinstance(v, Component)]
    return components, [v for v in items if not isinstance(v, Component)]


def encode_return(value: Any, *, since: float) -> Encoded:
    """Encode a step's return value; `RequestError` when it cannot be sent as it is.

    `since` is when the worker started: a bundle path to a file changed after it is a file
    the step wrote, and travels as a part (a bundle file unchanged stays a path).
    """
    components, others = split_return(value)
    out = Encoded()
    # The props are not checked again here: the server checks every output it receives.
    for component in with_ids(components):
        out.outputs.append(encode_component(component, out, since))
    state = others[0] if len(others) == 1 else tuple(others) if others else None
    if state is not None:
        try:
            pickled = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as err:
            what = type(state).__name__
            raise RequestError(
                f"the step's state (a {what}: what it returned beside components) cannot be "
                f"pickled: {one_line(err)}"
            ) from err
        out.state = len(out.parts)
        out.parts.append(pickled)
    return out


def with_ids(components: Sequence[Component]) -> list[Component]:
    """Give each component without an id one, from its title or else `output_N` by position:
    the next step receives input values by id."""
    given = [c.id for c in components if c.id is not None]
    repeated = sorted({cid for cid in given if given.count(cid) > 1})
    if repeated:
        raise RequestError(f"the step returned several components with id {repeated[0]!r}")
    taken = set(given)
    out = []
    for i, component in enumerate(components):
        if component.id is None:
            cid = slug_id(component.title)
            if cid is None or cid in taken:
                base = f"output_{i + 1}"
                suffixes = ("" if k == 0 else f"_{k}" for k in itertools.count())
                cid = next(base + s for s in suffixes if base + s not in taken)
            taken.add(cid)
            # A shallow copy: the id is valid by construction, and nothing else changes.
            component = copy.copy(component)
            component.id = cid
        out.append(component)
    return out


def encode_component(component: Component, out: Encoded, since: float) -> dict[str, Any]:
    """The component's canonical dict, its run-time files replaced by `{"part": N, ...}` (or
    by `{"file": K, ...}` when large)."""
    data = component.to_dict(copy=False)
    key = FILE_PROPS.get(component.type)
    if key is not None and isinstance(data.get(key), list):
        data[key] = [
            encode_file(entry, out, since, f"output {component.id!r} {key}[{j}]")
            for j, entry in enumerate(data[key])
        ]
    return data


def encode_file(entry: Any, out: Encoded, since: float, where: str) -> Any:
    n = len(out.parts)
    if isinstance(entry, LocalFile) and isinstance(entry.source, str):
        path = Path(entry.source)
        name = entry.name or path.name or f"file-{n}.bin"
        mime = entry.type or _guess(name, entry.source)
    elif isinstance(entry, LocalFile):
        data, name, mime = local_bytes(entry, n, where)
        out.parts.append(data)
        return {"part": n, "name": name, "type": mime}
    elif isinstance(entry, dict) and isinstance(entry.get("path"), str):
        path = Path(entry["path"])
        if not written_since(path, since):
            return entry
        name = entry.get("name") or path.name
        mime = entry.get("type") or _guess(name, path.name)
    else:
        return entry
    size = _size(path, where)
    if size > STREAM_AT:
        # Read a chunk at a time as it is sent, never whole.
        out.files.append((str(path), size))
        return {"file": len(out.files) - 1, "name": name, "type": mime}
    out.parts.append(_read(path, where))
    return {"part": n, "name": name, "type": mime}


def local_bytes(local: LocalFile, n: int, where: str) -> tuple[bytes, str, str]:
    """The bytes, name and MIME type of a file made at run time in memory, part `n` of the
    result."""
    source = local.source
    if isinstance(source, bytes):
        name = local.name or f"file-{n}.bin"
        return source, name, local.type or _guess(name)
    if is_pil_image(source):
        buffer = io.BytesIO()
        source.save(buffer, format="PNG")
        return buffer.getvalue(), local.name or f"image-{n}.png", local.type or "image/png"
    raise RequestError(f"{where}: cannot send a {type(source).__name__} as a file")


def written_since(path: Path, since: float) -> bool:
    """Whether a file exists and changed after `since` (bundles unpack with old times)."""
    try:
        return path.is_file() and path.stat().st_mtime >= since
    except OSError:
        return False


def _size(path: Path, where: str) -> int:
    try:
        return path.stat().st_size
    except OSError as err:
        raise RequestError(f"{where}: cannot read {path}: {err.strerror or err}") from None


def _read(path: Path, where: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise RequestError(f"{where}: cannot read {path}: {err.strerror or err}") from None


def _guess(*names: str) -> str:
    """The MIME type the first telling name suggests."""
    for name in names:
        mime = mimetypes.guess_type(name)[0]
        if mime is not None:
            return mime
    return "application/octet-stream"
