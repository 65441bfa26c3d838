"""The manifest: a model's name, texts, runtime, init components, steps and provenance.

`validate_manifest` reports every problem at the JSON Pointer the server reports it at;
`canonical_manifest` gives the manifest with every default filled in, as the server stores it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ._checks import Ctx, Obj, boolean, join, list_of, nonempty, string, uint, unique
from .components.base import read_component
from .components.fileref import is_relative_path
from .components.tensor import DTYPES
from .errors import ManifestError, Problem
from .manifest_model import check_examples, read_examples, read_model
from .requirements import MAX_LEN as MAX_REQUIREMENT_LEN
from .requirements import check_requirement

SCHEMA = "feather.manifest/v1"
"""The `schema` value of a version 1 manifest."""

_SLUG_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_.")
_EDGE_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789")
_PYTHON_RE = re.compile(r"3\.[0-9]{1,3}")
_STEP_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")


def is_slug(text: str, max_len: int) -> bool:
    """A model name or tag: 1 to `max_len` of `a-z 0-9 - _ .`, starting and ending with a
    letter or digit."""
    return (
        0 < len(text) <= max_len
        and text[0] in _EDGE_CHARS
        and text[-1] in _EDGE_CHARS
        and set(text) <= _SLUG_CHARS
    )


def is_step_name(text: str) -> bool:
    """A lowercase Python identifier of at most 64 characters."""
    return (
        0 < len(text) <= 64
        and (text[0] == "_" or "a" <= text[0] <= "z")
        and set(text) <= _STEP_CHARS
    )


def _slug(max_len: int) -> Any:
    def read(ctx: Ctx, value: Any, path: str) -> str | None:
        text = string(max_len)(ctx, value, path)
        if text is not None and not is_slug(text, max_len):
            rule = "a-z 0-9 - _ . starting and ending with a letter or digit"
            ctx.add(path, f"must be 1 to {max_len} of {rule}")
        return text  # type: ignore[no-any-return]

    return read


def validate_manifest(manifest: Any) -> list[Problem]:
    """Every problem of a manifest, each at a JSON Pointer; `[]` when it is valid.

    >>> [p.path for p in validate_manifest({"schema": "feather.manifest/v1", "name": "Digits"})]
    ['/name', '/runtime', '/steps', '/provenance']
    """
    ctx = Ctx()
    _read_manifest(ctx, manifest)
    return ctx.problems


def canonical_manifest(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest with every default filled in; raises `ManifestError` when it is invalid."""
    ctx = Ctx()
    out = _read_manifest(ctx, dict(manifest))
    if ctx.problems or out is None:
        raise ManifestError(ctx.problems)
    return out


def _read_manifest(ctx: Ctx, value: Any) -> dict[str, Any] | None:
    o = Obj.new(ctx, value, "")
    if o is None:
        return None
    schema = o.req(ctx, "schema", string(64))
    if schema is not None and schema != SCHEMA:
        ctx.add("/schema", f'must be "{SCHEMA}"')
    name = o.req(ctx, "name", _slug(64))
    title = o.opt(ctx, "title", nonempty(200))
    description = o.opt(ctx, "description", string(65_536))
    tags = o.opt(ctx, "tags", list_of(0, 20, _slug(32)))
    if tags is not None:
        unique(ctx, "/tags", tags, "tag")
    runtime = o.req(ctx, "runtime", _read_runtime)
    init = o.opt(ctx, "init", list_of(0, 64, read_component))
    # Repeats are found on the raw ids, so they are reported even when another item of the
    # list has problems of its own.
    _repeats(ctx, o.map, "init", "id", "component id")
    steps = o.req(ctx, "steps", list_of(1, 32, read_step))
    _repeats(ctx, o.map, "steps", "name", "step name")
    # On the raw steps too, so that it is reported beside a step's own problems.
    raw_steps = o.map.get("steps")
    if isinstance(raw_steps, list) and len(raw_steps) > 1:
        for i, step in enumerate(raw_steps):
            if isinstance(step, dict) and "batch" in step:
                reason = "only a model of one step can batch: later steps carry each run's state"
                ctx.add(f"/steps/{i}/batch", reason)
    if isinstance(runtime, dict) and runtime.get("kind") == "onnx" and isinstance(raw_steps, list):
        if len(raw_steps) != 1:
            ctx.add("/steps", "a model in the ONNX format has one step")
        if any(isinstance(step, dict) and "batch" in step for step in raw_steps):
            ctx.add("/steps/0/batch", "the server batches a model in the ONNX format itself")
    limits = o.opt(ctx, "limits", _read_limits)
    examples = o.opt(ctx, "examples", read_examples)
    model = o.opt(ctx, "model", read_model)
    provenance = o.req(ctx, "provenance", _read_provenance)
    o.finish(ctx)
    is_onnx = isinstance(runtime, dict) and runtime.get("kind") == "onnx"
    # An ONNX model's fields may come from its graph: its examples are checked once the server
    # has derived them.
    if examples is not None and init is not None and not (is_onnx and not init):
        check_examples(ctx, examples, init)
    if (
        model is not None
        and is_onnx
        and model["format"] == "onnx"
        and model["file"] != runtime["file"]  # type: ignore[index]
    ):
        ctx.add("/model/file", "a model served in the ONNX format names the runtime's file")
    if None in (schema, name, runtime, steps, provenance):
        return None
    return {
        "schema": schema,
        "name": name,
        "title": name if title is None else title,
        "description": description or "",
        "tags": tags or [],
        "runtime": runtime,
        "init": init or [],
        "steps": steps,
        **({"limits": limits} if limits else {}),
        **({"examples": examples} if examples else {}),
        **({"model": model} if model is not None else {}),
        "provenance": provenance,
    }


def _repeats(ctx: Ctx, obj: dict[str, Any], list_key: str, key: str, what: str) -> None:
    """Record each item of the array `obj[list_key]` whose `key` repeats an earlier item's."""
    items = obj.get(list_key)
    if not isinstance(items, list):
        return
    keys = [
        x.get(key) if isinstance(x, dict) and isinstance(x.get(key), str) else None for x in items
    ]
    for i, k in enumerate(keys):
        if k is not None and k in keys[:i]:
            ctx.add(f"/{list_key}/{i}/{key}", f"repeats {what} {k!r}")


def _read_runtime(ctx: Ctx, value: Any, path: str) -> dict[str, Any] | None:
    o = Obj.new(ctx, value, path)
    if o is None:
        return None
    kind = o.req(ctx, "kind", string(32))
    if kind == "python":
        return _read_python(ctx, o, path)
    if kind == "onnx":
        onnx = _read_onnx(ctx, o, path)
        o.finish(ctx)
        return onnx
    if kind is not None:
        ctx.add(join(path, "kind"), 'must be "python" or "onnx"')
    return None


def _read_python(ctx: Ctx, o: Obj, path: str) -> dict[str, Any] | None:
    python = o.req(ctx, "python", string(16))
    if python is not None and _PYTHON_RE.fullmatch(python) is None:
        ctx.add(join(path, "python"), 'must be a Python version such as "3.11"')
    entry = o.req(ctx, "entry", string(1024))
    if entry is not None and not (is_relative_path(entry) and entry.endswith(".py")):
        ctx.add(join(path, "entry"), "must be a relative path to a .py file inside the bundle")

    def requirement(ctx: Ctx, value: Any, p: str) -> str | None:
        line = nonempty(MAX_REQUIREMENT_LEN)(ctx, value, p)
        reason = None if line is None else check_requirement(line)
        if reason is not None:
            ctx.add(p, reason)
            return None
        return line  # type: ignore[no-any-return]

    requirements = o.opt(ctx, "requirements", list_of(0, 200, requirement))
    o.finish(ctx)
    if python is None or entry is None:
        return None
    return {"kind": "python", "python": python, "entry": entry, "requirements": requirements or []}


# Halves are a graph's element types that no input value fills (a `Tensor.In` takes the rest).
ELEMENT_TYPES = [*DTYPES[:2], "float16", "bfloat16", *DTYPES[2:]]
"""The element types a tensor of an ONNX model's signature may have."""


def _read_onnx(ctx: Ctx, o: Obj, path: str) -> dict[str, Any] | None:
    file = o.req(ctx, "file", string(1024))
    if file is not None and not (is_relative_path(file) and file.endswith(".onnx")):
        ctx.add(join(path, "file"), "must be a relative path to a .onnx file inside the bundle")
    signature = o.opt(ctx, "signature", _read_signature)
    labels = o.opt(ctx, "labels", list_of(1, 10_000, nonempty(200)))
    if file is None:
        return None
    out: dict[str, Any] = {"kind": "onnx", "file": file}
    if signature is not None:
        out["signature"] = signature
    if labels is not None:
        out["labels"] = labels
    return out


def _read_signature(ctx: Ctx, value: Any, path: str) -> dict[str, Any] | None:
    o = Obj.new(ctx, value, path)
    if o is None:
        return None
    inputs = o.req(ctx, "inputs", list_of(1, 64, _read_tensor))
    outputs = o.req(ctx, "outputs", list_of(1, 64, _read_tensor))
    o.finish(ctx)
    if inputs is None or outputs is None:
        return None
    return {"inputs": inputs, "outputs": outputs}


_MAP_RE = re.compile(r"seq\(map\((\w+),(\w+)\)\)")


def _read_tensor(ctx: Ctx, value: Any, path: str) -> dict[str, Any] | None:
    o = Obj.new(ctx, value, path)
    if o is None:
        return None
    name = o.req(ctx, "name", nonempty(256))
    kind = o.req(ctx, "type", nonempty(64))

    def dim(ctx: Ctx, value: Any, p: str) -> int | None:
        if isinstance(value, int) and not isinstance(value, bool) and value >= -1:
            return value
        ctx.add(p, "must be a size, or -1 for any size")
        return None

    shape = o.opt(ctx, "shape", list_of(0, 16, dim))
    o.finish(ctx)
    if name is None or kind is None:
        return None
    m = _MAP_RE.fullmatch(kind)
    known = kind in ELEMENT_TYPES or (
        m is not None and m.group(1) in ELEMENT_TYPES and m.group(2) in ELEMENT_TYPES
    )
    if not known:
        ctx.add(join(path, "type"), f"must be one of {', '.join(ELEMENT_TYPES)} or seq(map(K,V))")
        return None
    return {"name": name, "type": kind, **({} if shape is None else {"shape": shape})}


def read_step(ctx: Ctx, value: Any, path: str) -> dict[str, Any] | None:
    o = Obj.new(ctx, value, path)
    if o is None:
        return None
    name = o.req(ctx, "name", string(64))
    if name is not None and not is_step_name(name):
        ctx.add(
            join(path, "name"),
            "must be a Python function name: a-z 0-9 _, not starting with a digit",
        )
    title = o.opt(ctx, "title", nonempty(200))
    description = o.opt(ctx, "description", string(65_536))
    batch = o.opt(ctx, "batch", _read_batch)
    o.finish(ctx)
    if name is None:
        return None
    out = {
        "name": name,
        "title": name if title is None else title,
        "description": description or "",
    }
    if batch is not None:
        out["batch"] = batch
    return out


MAX_BATCH = 1024
"""The most requests a batching step may take in one call."""
MAX_STEP_TIMEOUT = 86_400
"""The longest a model may ask a step to run, in seconds: one day."""


def _read_batch(ctx: Ctx, value: Any, path: str) -> dict[str, Any] | None:
    o = Obj.new(ctx, value, path)
    if o is None:
        return None
    max_size = o.req(ctx, "max_size", uint(1, MAX_BATCH))
    o.finish(ctx)
    return None if max_size is None else {"max_size": max_size}


def _read_limits(ctx: Ctx, value: Any, path: str) -> dict[str, Any] | None:
    o = Obj.new(ctx, value, path)
    if o is None:
        return None
    ranges = {
        "step_timeout": (1, MAX_STEP_TIMEOUT),
        "memory_mb": (64, 1 << 20),
        "open_files": (16, 1 << 20),
        "file_size_mb": (1, 1 << 20),
        "processes": (8, 1 << 16),
        "scratch_mb": (1, 1 << 20),
        "cpu_seconds": (1, MAX_STEP_TIMEOUT),
        "output_mb": (1, 4095),
    }
    got = {key: o.opt(ctx, key, uint(lo, hi)) for key, (lo, hi) in ranges.items()}
    o.finish(ctx)
    return {key: value for key, value in got.items() if value is not None}


def _read_provenance(ctx: Ctx, value: Any, path: str) -> dict[str, Any] | None:
    o = Obj.new(ctx, value, path)
    if o is None:
        return None
    sdk = o.req(ctx, "sdk", nonempty(64))
    python = o.opt(ctx, "python", nonempty(64))
    platform = o.req(ctx, "platform", nonempty(128))

    def read_packages(ctx: Ctx, value: Any, p: str) -> dict[str, str] | None:
        po = Obj.new(ctx, value, p)
        if po is None:
            return None
        out = {key: po.req(ctx, key, nonempty(128)) for key in list(po.map)}
        po.finish(ctx)
        return {key: out[key] for key in sorted(out) if out[key] is not None}

    def read_git(ctx: Ctx, value: Any, p: str) -> dict[str, Any] | None:
        g = Obj.new(ctx, value, p)
        if g is None:
            return None
        commit = g.req(ctx, "commit", nonempty(64))
        branch = g.opt(ctx, "branch", nonempty(255))
        dirty = g.req(ctx, "dirty", boolean)
        g.finish(ctx)
        if commit is None or dirty is None:
            return None
        return {"commit": commit, **({} if branch is None else {"branch": branch}), "dirty": dirty}

    packages = o.opt(ctx, "packages", read_packages)
    git = o.opt(ctx, "git", read_git)
    o.finish(ctx)
    if sdk is None or platform is None:
        return None
    out: dict[str, Any] = {"sdk": sdk, **({} if python is None else {"python": python})}
    out["platform"] = platform
    out["packages"] = packages or {}
    if git is not None:
        out["git"] = git
    return out
