"""File references (`FileRef`) and the `types` filters of upload components.

A `FileRef` is an object with exactly one source, `data` (a `data:` URL), `id` (a stored file),
`path` (a relative path inside the bundle) or `part` (file part N of the same multipart
request), plus what is known of the file: `name`, `type`
(its MIME type) and `size` in bytes.
"""

from __future__ import annotations

import os
from typing import Any, overload

from .._checks import Ctx, Obj, join, list_of, string, uint
from ..files import LocalFile

_MAX_DATA_URL = 1 << 31
_MAX_PARTS = 1 << 16
_TOKEN_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$&^_.+-")
_ID_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


@overload
def file_ref(
    source: str | os.PathLike[str] | None = None,
    *,
    data: bytes | bytearray | memoryview,
    id: str | None = None,
    path: str | None = None,
    name: str | None = None,
    type: str | None = None,
    size: int | None = None,
) -> LocalFile: ...


@overload
def file_ref(
    source: str | os.PathLike[str] | None = None,
    *,
    data: str | None = None,
    id: str | None = None,
    path: str | None = None,
    name: str | None = None,
    type: str | None = None,
    size: int | None = None,
) -> dict[str, Any]: ...


def file_ref(
    source: str | os.PathLike[str] | None = None,
    *,
    data: str | bytes | bytearray | memoryview | None = None,
    id: str | None = None,
    path: str | None = None,
    name: str | None = None,
    type: str | None = None,
    size: int | None = None,
) -> dict[str, Any] | LocalFile:
    """A `FileRef` dict; a bare `source` is a path inside the bundle.

    In a step's outputs, `data` may be the file's bytes and `source` an absolute path the step
    wrote: the result is then a `LocalFile` with that name and type, sent with the result.

    >>> file_ref("examples/cat.png", name="cat.png")
    {'path': 'examples/cat.png', 'name': 'cat.png'}
    >>> file_ref(data=b"a,b\\n", name="report.csv")
    LocalFile(<4 bytes>, name='report.csv')
    """
    if isinstance(data, (bytes, bytearray, memoryview)):
        return LocalFile(data, name=name, type=type)
    if source is not None:
        path = os.fspath(source)
    if path is not None and os.path.isabs(path):
        return LocalFile(path, name=name, type=type)
    fields = {"data": data, "id": id, "path": path, "name": name, "type": type, "size": size}
    return {key: value for key, value in fields.items() if value is not None}


def read_file_ref(ctx: Ctx, value: Any, path: str) -> dict[str, Any] | None:
    """Read one `FileRef`; its canonical dict (source, name, type, size) or `None`."""
    o = Obj.new(ctx, value, path)
    if o is None:
        return None
    before = len(ctx.problems)
    sources: list[tuple[str, Any]] = []
    data = o.opt(ctx, "data", string(_MAX_DATA_URL))
    if data is not None:
        if not data.startswith("data:") or "," not in data:
            ctx.add(join(path, "data"), "must be a data: URL")
        sources.append(("data", data))
    file_id = o.opt(ctx, "id", string(128))
    if file_id is not None:
        if not file_id or not set(file_id) <= _ID_CHARS:
            ctx.add(join(path, "id"), "must be 1 to 128 of A-Z a-z 0-9 _ -")
        sources.append(("id", file_id))
    rel = o.opt(ctx, "path", string(1024))
    if rel is not None:
        if not is_relative_path(rel):
            ctx.add(join(path, "path"), "must be a relative path inside the bundle")
        sources.append(("path", rel))
    part = o.opt(ctx, "part", uint(0, _MAX_PARTS))
    if part is not None:
        sources.append(("part", part))
    name = o.opt(ctx, "name", string(255))
    if name is not None and (not name or "/" in name or name in (".", "..")):
        ctx.add(join(path, "name"), "must be a file name without folders")
    mime = o.opt(ctx, "type", string(255))
    if mime is not None and not is_mime(mime):
        ctx.add(join(path, "type"), "must be a MIME type such as image/png")
    size = o.opt(ctx, "size", uint(0, 2**64 - 1))
    o.finish(ctx)
    if len(sources) != 1:
        ctx.add(path, "must have exactly one of data, id, path or part")
    if len(ctx.problems) != before:
        return None
    out = dict(sources)
    for key, known in (("name", name), ("type", mime), ("size", size)):
        if known is not None:
            out[key] = known
    return out


def read_prop_file(ctx: Ctx, value: Any, path: str) -> dict[str, Any] | LocalFile | None:
    """Read one file of a component's props: a `FileRef`, or a `LocalFile` made at run time
    (Python objects only: JSON never holds one, and a manifest refuses one)."""
    if not isinstance(value, LocalFile):
        return read_file_ref(ctx, value, path)
    before = len(ctx.problems)
    if value.name is not None and (
        not value.name or len(value.name) > 255 or "/" in value.name or value.name in (".", "..")
    ):
        ctx.add(join(path, "name"), "must be a file name without folders")
    if value.type is not None and not is_mime(value.type):
        ctx.add(join(path, "type"), "must be a MIME type such as image/png")
    return value if len(ctx.problems) == before else None


def read_file_refs(lo: int, hi: int) -> Any:
    return list_of(lo, hi, read_prop_file)


def media_type(ref: dict[str, Any]) -> str | None:
    """The MIME type: the declared one, else the one of a `data:` URL."""
    if ref.get("type") is not None:
        return str(ref["type"])
    data = ref.get("data")
    if isinstance(data, str) and data.startswith("data:"):
        head = data[len("data:") :].split(",", 1)[0]
        mime = head.split(";", 1)[0]
        return mime or None
    return None


_MEDIA_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "csv": "text/csv",
    "txt": "text/plain",
    "json": "application/json",
    "pdf": "application/pdf",
    "svg": "image/svg+xml",
    "md": "text/markdown",
}


def guess_type(name: str | None) -> str:
    """The media type a file name suggests, as the server guesses it (`file_ref.rs`)."""
    ext = name.rpartition(".")[2].lower() if name and "." in name else ""
    return _MEDIA_TYPES.get(ext, "application/octet-stream")


def is_mime(text: str) -> bool:
    """`type/subtype`, each part a non-empty token."""
    major, sep, minor = text.partition("/")
    return bool(sep) and all(part and set(part) <= _TOKEN_CHARS for part in (major, minor))


def is_relative_path(path: str) -> bool:
    """A path that stays inside the folder it is relative to."""
    return (
        bool(path)
        and not path.startswith("/")
        and "\\" not in path
        and "\0" not in path
        and all(part not in ("", ".", "..") for part in path.split("/"))
    )


def is_type_filter(entry: str) -> bool:
    """An entry of `types`: an extension (`.csv`), `type/*` or `type/subtype`."""
    if entry.startswith(".") and len(entry) > 1 and "/" not in entry:
        return True
    if entry.endswith("/*") and is_mime(entry[:-2] + "/x"):
        return True
    return is_mime(entry)


def read_types(ctx: Ctx, o: Obj, default: list[str]) -> list[str]:
    """Read `types`, lowercased; the default when absent or unreadable."""

    def one(ctx: Ctx, value: Any, path: str) -> str | None:
        entry = string(255)(ctx, value, path)
        if entry is None:
            return None
        if not is_type_filter(entry):
            ctx.add(path, "must be an extension such as .csv or a MIME type such as image/*")
        return _ascii_lower(entry)

    types = o.opt(ctx, "types", list_of(0, 100, one))
    return list(default) if types is None else types


def type_matches(types: list[str], ref: dict[str, Any]) -> bool:
    """Whether a file's name or type matches one of `types` (an empty list accepts any file,
    and so does a file whose name and type are both unknown)."""
    if not types:
        return True
    name = _ascii_lower(ref["name"]) if ref.get("name") is not None else None
    mime = media_type(ref)
    mime = _ascii_lower(mime) if mime is not None else None
    if name is None and mime is None:
        return True
    for entry in types:
        if entry.startswith("."):
            if name is not None and name.endswith(entry):
                return True
        elif entry.endswith("/*"):
            if mime is not None and mime.split("/", 1)[0] == entry[:-2]:
                return True
        elif mime == entry:
            return True
    return False


def check_file(ctx: Ctx, types: list[str], max_size: int, value: Any, path: str) -> None:
    """Check one uploaded file against a `types` filter and a size limit."""
    ref = read_file_ref(ctx, value, path)
    if ref is None:
        return
    if ref.get("size") is not None and ref["size"] > max_size:
        ctx.add(join(path, "size"), f"is over the limit of {max_size} bytes")
    if not type_matches(types, ref):
        ctx.add(path, f"must be of type {', '.join(types)}")


def _ascii_lower(text: str) -> str:
    return "".join(c.lower() if c.isascii() else c for c in text)
