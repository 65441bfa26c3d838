"""`build`: check a model, then write its `manifest.json` and `bundle.tar.gz` into a folder."""

from __future__ import annotations

import ast
import json
import os
import re
import sys
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from . import registry
from ._caller import calling_script
from .bundle import Bundle, write_archive
from .components.base import Component
from .errors import BundleError, ManifestError, Problem
from .files import local_files
from .manifest import SCHEMA, canonical_manifest
from .manifest_model import EXAMPLE_FILES, bundle_paths
from .provenance import capture
from .step import check_call, step_info

StepFunction = Callable[..., Any]


def build(
    name: str,
    init: Sequence[Component],
    steps: StepFunction | Sequence[StepFunction],
    *,
    title: str | None = None,
    description: str | None = None,
    tags: Sequence[str] = (),
    file_bundle: Bundle | None = None,
    requirements: Sequence[str] = (),
    python: str | None = None,
    out: str | os.PathLike[str] | None = None,
    entry: str | os.PathLike[str] | None = None,
    limits: Mapping[str, Any] | None = None,
    examples: Sequence[Mapping[str, Any] | Sequence[Any]] = (),
) -> Path | None:
    """Check a model and write `manifest.json` and `bundle.tar.gz` into a folder; return it.

    - `init`: the inputs of the first step; a component without `id` gets one from its title
      (`"Max length"` -> `max_length`), else `input_1`, `input_2`, ... by position.
    - `steps`: the step functions in order (see `ftr.step`).
    - `description`: Markdown for the model's page; by default the app file's docstring.
    - `file_bundle`: the files to ship (`ftr.bundle(...)`); by default the app file alone.
    - `requirements`: pip requirement lines for the model's environment.
    - `python`: `3.N`, by default the running interpreter's.
    - `out`: the folder to write, by default `$FEATHER_BUILD_DIR`, else `.feather/build` beside
      the app file.
    - `entry`: the app file the worker imports, by default the calling script (pass it from a
      notebook, where there is none).
    - `limits`: what the model asks of the runner, within the server's caps:
      `{"step_timeout": seconds}`.
    - `examples`: inputs a page offers to fill the form with, each a dict by component id, a
      list in the order of the inputs, or (with one input) its value. A file input's example
      is a path relative to the bundle's root (`"samples/cat.png"`); the file is bundled with
      the version. Files that views show (`ftr.Image.View(images=["cat.png"])`) are bundled
      the same way.

    Inside a worker (`FEATHER_WORKER` set) nothing is written: the model is only registered
    (see `feather.registered()`) and `None` is returned.

    >>> ftr.build("digits", [ftr.Image.Upload(id="image", title="A digit")], [classify],
    ...           requirements=["scikit-learn==1.5.2"])  # doctest: +SKIP
    PosixPath('/home/me/digits/.feather/build')
    """
    components = assign_ids(init)
    _refuse_local_files(components)
    functions = [steps] if callable(steps) else list(steps)
    infos = [step_info(f) for f in functions]
    if os.environ.get("FEATHER_WORKER"):
        registry.register(registry.Registration(name, tuple(components), tuple(functions)))
        return None
    # Only when building: a version already published loads as it did.
    ids = [c.id or "" for c in components]
    problems = [p for i, f in enumerate(functions) for p in check_call(f, i, ids)]
    if problems:
        raise ManifestError(problems, "steps that would fail every call")
    script = Path(entry).absolute() if entry is not None else calling_script()
    if script is None:
        raise BundleError("cannot tell which file is the app: pass entry='app.py'")
    bundle = file_bundle if file_bundle is not None else Bundle([script], root=script.parent)
    out_dir = Path(
        out or os.environ.get("FEATHER_BUILD_DIR") or script.parent / ".feather" / "build"
    )
    out_dir = out_dir.absolute()
    files = bundle.files(exclude=[out_dir])
    entry_name = _entry_name(script, bundle.root)
    if entry_name not in {f.name for f in files}:
        raise BundleError(f"the app file {entry_name} is not among the bundle's files")
    requirement_lines = _lines(requirements)
    given = _examples(components, examples, bundle.root)
    manifest = canonical_manifest(
        {
            "schema": SCHEMA,
            "name": name,
            "title": title if title is not None else name,
            "description": description if description is not None else _docstring(script),
            "tags": _lines(tags),
            "runtime": {
                "kind": "python",
                "python": python or f"{sys.version_info.major}.{sys.version_info.minor}",
                "entry": entry_name,
                "requirements": requirement_lines,
            },
            "init": [c.to_dict() for c in components],
            "steps": [info.to_dict() for info in infos],
            **({"limits": dict(limits)} if limits is not None else {}),
            **({"examples": given} if given else {}),
            "provenance": capture(requirement_lines, bundle.root, exclude=[out_dir]),
        }
    )
    named = sorted({p for _, p in bundle_paths(manifest)} - {f.name for f in files})
    if named:
        bundle = Bundle([*bundle.code_files, *named], bundle.model_files, root=bundle.root)
        files = bundle.files(exclude=[out_dir])
    out_dir.mkdir(parents=True, exist_ok=True)
    partial = out_dir / "bundle.tar.gz.partial"
    write_archive(files, partial)
    os.replace(partial, out_dir / "bundle.tar.gz")
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    (out_dir / "manifest.json").write_text(text, encoding="utf-8")
    return out_dir


def assign_ids(init: Sequence[Component]) -> list[Component]:
    """Copies of `init` where each component has an id; repeated ids are a `ManifestError`."""
    if isinstance(init, Component):
        init = [init]
    out: list[Component] = []
    for i, component in enumerate(init):
        if not isinstance(component, Component):
            raise TypeError(f"init[{i}] must be a component, not {type(component).__name__}")
        if component.id is None:
            component = component.with_id(slug_id(component.title) or f"input_{i + 1}")
        out.append(component)
    problems = []
    seen: set[str] = set()
    for i, component in enumerate(out):
        if component.id in seen:
            problems.append(Problem(f"/init/{i}/id", f"repeats component id {component.id!r}"))
        seen.add(component.id or "")
    if problems:
        raise ManifestError(problems, "repeated component ids (set id= on each)")
    return out


def _docstring(script: Path) -> str:
    """The app file's docstring, read without running the file."""
    try:
        return ast.get_docstring(ast.parse(script.read_text(encoding="utf-8"))) or ""
    except (OSError, SyntaxError, UnicodeDecodeError):
        return ""


def _examples(
    components: Sequence[Component],
    examples: Sequence[Mapping[str, Any] | Sequence[Any]],
    root: Path,
) -> list[dict[str, Any]]:
    """The examples as the manifest gives them: values by id, files as paths in the bundle."""
    inputs = [c for c in components if c.is_input]
    by_id = {c.id: c for c in inputs}
    out = []
    for i, example in enumerate(examples):
        if isinstance(example, Mapping):
            values = dict(example)
        elif len(inputs) == 1 and (
            isinstance(example, (str, os.PathLike)) or not isinstance(example, Sequence)
        ):
            values = {inputs[0].id: example}
        elif isinstance(example, Sequence) and not isinstance(example, (str, bytes)):
            if len(example) > len(inputs):
                reason = f"gives {len(example)} values for {len(inputs)} inputs"
                raise ManifestError([Problem(f"/examples/{i}", reason)], "examples")
            values = {c.id: v for c, v in zip(inputs, example, strict=False)}
        else:
            reason = "must be a dict of values by component id, or a list in the inputs' order"
            raise ManifestError([Problem(f"/examples/{i}", reason)], "examples")
        for key, value in values.items():
            c = by_id.get(key)
            if c is not None and c.to_dict()["type"] in EXAMPLE_FILES:
                values[key] = _example_files(value, root)
        out.append(values)
    return out


def _example_files(value: Any, root: Path) -> Any:
    """A file input's example: each path (relative to the bundle's root, or absolute inside
    it) as a reference to the bundled file."""
    if isinstance(value, list):
        return [_example_files(v, root) for v in value]
    if not isinstance(value, (str, os.PathLike)):
        return value
    path = Path(value)
    if not path.is_absolute():
        return {"path": path.as_posix()}
    try:
        return {"path": path.absolute().relative_to(root).as_posix()}
    except ValueError:
        raise BundleError(f"example file {path} is outside the bundle root {root}") from None


def _refuse_local_files(components: Sequence[Component]) -> None:
    for i, component in enumerate(components):
        for pointer, local in local_files(component.props):
            raise BundleError(
                f"init[{i}]{pointer} is a file made at run time ({local!r}); a manifest can "
                "only name files in the bundle, by a path relative to its root"
            )


def slug_id(title: str | None) -> str | None:
    """A component id made from a title, or `None` when the title gives none.

    >>> slug_id("Max. length (chars)")
    'max_length_chars'
    """
    if not title:
        return None
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_title.lower()).strip("_")[:64].rstrip("_")
    return slug if slug[:1].isalpha() else None


def _lines(value: str | Sequence[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _entry_name(script: Path, root: Path) -> str:
    for base, target in ((root, script.absolute()), (root.resolve(), script.resolve())):
        try:
            return target.relative_to(base).as_posix()
        except ValueError:
            continue
    raise BundleError(f"the app file {script} is outside the bundle root {root}")
