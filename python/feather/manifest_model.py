"""The manifest's `examples` and `model` sections, as the server reads them (`crates/spec`'s
`model.rs` and `manifest.rs`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._checks import Ctx, Obj, join, kind, list_of, nonempty, number, uint
from .components.base import COMPONENT_TYPES
from .components.fileref import guess_type, is_relative_path, type_matches
from .components.tensor import DTYPES

MAX_EXAMPLES = 16
"""The most examples a manifest may give."""

TASKS = ("classification", "regression", "other")

FILE_TYPES = frozenset(
    {
        "File.Upload",
        "Image.Upload",
        "Image.WithSelectOne",
        "Image.WithSelectMulti",
        "Image.WithTextIn",
        "Document.WithTextIn",
    }
)
"""Components whose answer involves files."""

EXAMPLE_FILES = frozenset({"File.Upload", "Image.Upload"})
"""The file inputs an example may give files of the bundle to."""


def read_example(ctx: Ctx, value: Any, path: str) -> dict[str, Any] | None:
    if isinstance(value, dict):
        return dict(value)
    ctx.add(path, f"must be an object of values by component id, not {kind(value)}")
    return None


read_examples = list_of(0, MAX_EXAMPLES, read_example)


def check_examples(ctx: Ctx, examples: Sequence[dict[str, Any]], init: Sequence[Any]) -> None:
    """Each example answers step 1's inputs (canonical component dicts), as a request would.
    A file input's example names files of the bundle, by path; an example may leave a file
    input out (the person then picks one)."""
    by_id = {c["id"]: c for c in init}
    for i, example in enumerate(examples):
        at = f"/examples/{i}"
        for key in example:
            component = by_id.get(key)
            cls = COMPONENT_TYPES.get(component["type"]) if component else None
            if component is None or cls is None:
                ctx.add(join(at, key), "is not the id of one of step 1's inputs")
            elif not cls.is_input:
                ctx.add(join(at, key), "is the id of a component that takes no value")
            elif component["type"] in FILE_TYPES - EXAMPLE_FILES:
                reason = "names a component that shows files of its own: examples give it no value"
                ctx.add(join(at, key), reason)
        for component in init:
            cls = COMPONENT_TYPES[component["type"]]
            kind_ = component["type"]
            if not cls.is_input or kind_ in FILE_TYPES - EXAMPLE_FILES:
                continue
            if kind_ in EXAMPLE_FILES and component["id"] not in example:
                continue
            value = example.get(component["id"])
            problems = cls.from_dict(component).validate_value(value)
            for problem in problems:
                ctx.add(join(at, component["id"]) + problem.path, problem.reason)
            if kind_ in EXAMPLE_FILES and not problems:
                _check_example_files(
                    ctx, component.get("types", []), value, join(at, component["id"])
                )


def _check_example_files(ctx: Ctx, types: list[str], value: Any, at: str) -> None:
    """Each file of a (well-formed) example value is a file of the bundle whose name the input
    accepts: an id or a `data:` URL would not travel with the version."""
    for path, ref in _each_file(value, at):
        if "path" not in ref:
            reason = (
                "must name a file of the bundle by its path: an example travels with the version"
            )
            ctx.add(path, reason)
            continue
        name = ref.get("name") or ref["path"].rsplit("/", 1)[-1]
        known = {"name": name, "type": ref.get("type") or guess_type(name)}
        if not type_matches(types, known):
            ctx.add(path, f"must be of type {', '.join(types)}")


def bundle_paths(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    """Every file of the bundle a canonical manifest names, with where it names it: images
    its components show, files its examples give (`Manifest::bundle_paths` on the server)."""
    out = []
    for i, c in enumerate(manifest.get("init", [])):
        for field in ("images", "files"):
            for n, ref in enumerate(c.get(field) or []):
                if isinstance(ref, dict) and isinstance(ref.get("path"), str):
                    out.append((f"/init/{i}/{field}/{n}/path", ref["path"]))
    file_inputs = {c["id"] for c in manifest.get("init", []) if c["type"] in EXAMPLE_FILES}
    for i, example in enumerate(manifest.get("examples", [])):
        for key, value in example.items():
            if key in file_inputs:
                for at, ref in _each_file(value, join(f"/examples/{i}", key)):
                    if isinstance(ref, dict) and isinstance(ref.get("path"), str):
                        out.append((f"{at}/path", ref["path"]))
    return out


def _each_file(value: Any, at: str) -> list[tuple[str, Any]]:
    """The file references of a file input's value (one, or a list), each with its pointer."""
    if isinstance(value, list):
        return [(join(at, str(n)), v) for n, v in enumerate(value)]
    return [(at, value)]


def read_model(ctx: Ctx, value: Any, path: str) -> dict[str, Any] | None:
    o = Obj.new(ctx, value, path)
    if o is None:
        return None
    flavor = o.req(ctx, "flavor", nonempty(32))
    framework = o.req(ctx, "framework", _read_framework)
    file = o.req(ctx, "file", nonempty(1024))
    if file is not None and not is_relative_path(file):
        ctx.add(join(path, "file"), "must be a relative path to a file inside the bundle")
    format_ = o.req(ctx, "format", nonempty(32))
    task = o.req(ctx, "task", _read_task)
    classes = o.opt(ctx, "classes", list_of(1, 1024, nonempty(200)))
    if classes is not None and task is not None and task != "classification":
        ctx.add(join(path, "classes"), "only a classifier has classes")
    signature = o.req(ctx, "signature", _read_signature)
    served = o.req(ctx, "served", _read_served)
    o.finish(ctx)
    if None in (flavor, framework, file, format_, task, signature, served):
        return None
    out: dict[str, Any] = {
        "flavor": flavor,
        "framework": framework,
        "file": file,
        "format": format_,
        "task": task,
    }
    if classes is not None:
        out["classes"] = classes
    out["signature"] = signature
    out["served"] = served
    return out


def _read_framework(ctx: Ctx, value: Any, path: str) -> dict[str, Any] | None:
    o = Obj.new(ctx, value, path)
    if o is None:
        return None
    name = o.req(ctx, "name", nonempty(64))
    version = o.req(ctx, "version", nonempty(64))
    o.finish(ctx)
    return None if name is None or version is None else {"name": name, "version": version}


def _read_task(ctx: Ctx, value: Any, path: str) -> str | None:
    if value in TASKS:
        return value  # type: ignore[no-any-return]
    ctx.add(path, 'must be "classification", "regression" or "other"')
    return None


def _read_signature(ctx: Ctx, value: Any, path: str) -> dict[str, Any] | None:
    o = Obj.new(ctx, value, path)
    if o is None:
        return None
    inputs = o.req(ctx, "inputs", list_of(1, 4096, _read_feature))
    outputs = o.req(ctx, "outputs", list_of(0, 64, _read_feature))
    o.finish(ctx)
    return None if inputs is None or outputs is None else {"inputs": inputs, "outputs": outputs}


def _read_feature(ctx: Ctx, value: Any, path: str) -> dict[str, Any] | None:
    o = Obj.new(ctx, value, path)
    if o is None:
        return None
    name = o.req(ctx, "name", nonempty(200))

    def dtype(ctx: Ctx, value: Any, p: str) -> str | None:
        if isinstance(value, str) and value in DTYPES:
            return value
        ctx.add(p, f"must be one of {', '.join(DTYPES)}")
        return None

    kind_ = o.req(ctx, "type", dtype)
    o.finish(ctx)
    return None if name is None or kind_ is None else {"name": name, "type": kind_}


def _read_served(ctx: Ctx, value: Any, path: str) -> dict[str, Any] | None:
    o = Obj.new(ctx, value, path)
    if o is None:
        return None
    reason = o.req(ctx, "reason", nonempty(4096))
    parity = o.opt(ctx, "parity", _read_parity)
    o.finish(ctx)
    if reason is None:
        return None
    return {"reason": reason, **({} if parity is None else {"parity": parity})}


def _share(ctx: Ctx, value: Any, path: str) -> float | None:
    n = number(ctx, value, path)
    if n is None:
        return None
    if not 0 <= n <= 1e9:
        ctx.add(path, "must be a number from 0")
        return None
    return n


def _read_parity(ctx: Ctx, value: Any, path: str) -> dict[str, Any] | None:
    o = Obj.new(ctx, value, path)
    if o is None:
        return None
    rows = o.req(ctx, "rows", uint(1, 1 << 20))
    tolerance = o.req(ctx, "tolerance", _share)
    max_difference = o.req(ctx, "max_difference", _share)
    o.finish(ctx)
    if None in (rows, tolerance, max_difference):
        return None
    return {"rows": rows, "tolerance": tolerance, "max_difference": max_difference}
