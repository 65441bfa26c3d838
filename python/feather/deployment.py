"""`deploy`: one call from a fitted model object to a published version with a page and an API.

The object is saved in its framework's recommended format and, where it converts to ONNX and
the conversion answers the sample as the framework does, served natively by the server; else
with the framework's own predict in Python workers. The manifest's `model` section says which,
and why.

>>> ftr.deploy(pipeline, name="churn", sample=X[:5], server=..., token=...)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import flavors
from ._caller import script_folder
from .bundle import BundleFile, write_archive
from .errors import DeployError
from .flavors import serving
from .flavors.flavor import Flavor, Interface, Prediction, Unconvertible, pinned
from .flavors.parity import Parity, Unchecked, compare, run_onnx
from .flavors.table import Table, read_table
from .manifest import SCHEMA, canonical_manifest
from .onnx import build_onnx
from .provenance import capture

__all__ = ["Deployment", "build_deployment", "deploy"]

TOLERANCE = 1e-4
"""How far a converted model's numbers may be from the framework's, relative to the value."""


@dataclass(frozen=True)
class Deployment:
    """What `build_deployment` wrote: the folder with `manifest.json` and `bundle.tar.gz`, the
    engine the version runs on (`onnx` or `python`) and why."""

    folder: Path
    engine: str
    reason: str
    parity: Parity | None

    def engine_info(self) -> dict[str, str]:
        """What `deploy` answers of the engine: `{"kind", "reason"}`."""
        return {"kind": self.engine, "reason": self.reason}


def deploy(
    model: Any,
    *,
    name: str,
    server: str | None = None,
    token: str | None = None,
    private: bool | None = None,
    wait: bool = True,
    **options: Any,
) -> dict[str, Any]:
    """Deploy a fitted model object as a new version of `name` and return the server's answer
    with `engine` (`{"kind": "onnx" | "python", "reason": ...}`).

    Options are `build_deployment`'s. With `wait` (the default) the call returns once the
    version can answer: its environment built (a `PublishError` says so when it failed).

    With `FEATHER_BUILD_DIR` set (as `feather publish` and `feather demo` set it when they run
    a `deploy.py`), the version is only written there, as `ftr.build` does, and the answer is
    `{"build": folder, "engine": ...}`.
    """
    from .publish import upload, wait_until_ready

    build_dir = os.environ.get("FEATHER_BUILD_DIR")
    if build_dir:
        built = build_deployment(model, name, build_dir, **options)
        return {"build": str(built.folder), "engine": built.engine_info()}
    with tempfile.TemporaryDirectory(prefix="feather-deploy-") as scratch:
        built = build_deployment(model, name, scratch, **options)
        answer = upload(built.folder, server=server, token=token, private=private)
    answer["engine"] = built.engine_info()
    if wait and built.engine == "python":
        wait_until_ready(answer, server=server, token=token)
    return answer


def build_deployment(
    model: Any,
    name: str,
    out: str | os.PathLike[str],
    *,
    sample: Any = None,
    native: bool | None = None,
    title: str | None = None,
    description: str = "",
    tags: Sequence[str] = (),
    labels: Sequence[str] | None = None,
    requirements: Sequence[str] = (),
    tolerance: float = TOLERANCE,
) -> Deployment:
    """Write the manifest and bundle of a model object into the folder `out`.

    - `sample`: a few rows the model takes (a DataFrame, an array, a list of rows): it names
      and types the fields, checks a conversion, and its first rows become the examples.
    - `native`: `None` serves natively where the conversion holds, `True` requires it (else a
      `DeployError`), `False` always runs the framework.
    - `labels`: names of a classifier's classes 0, 1, ... in order.
    - `requirements`: more pip requirement lines for a version run with its framework.

    A model already in the ONNX format (a `.onnx` file's path, or an `onnx.ModelProto`) is
    published as it is, as `build_onnx` does: its fields come from its graph.
    """
    onnx = _onnx_model(model)
    if onnx is not None:
        if sample is not None or native is False or requirements:
            raise DeployError(
                "an ONNX model runs as it is, natively, and names its fields itself: "
                "sample=, native=False and requirements= are for a framework's objects"
            )
        folder = build_onnx(
            onnx, name, out, title=title, description=description, tags=tags, labels=labels
        )
        return Deployment(folder, "onnx", "an ONNX model, run as it is by the server", None)
    flavor = flavors.find(model)
    model = flavor.prepare(model, labels=labels, sample=sample)
    check = getattr(flavor, "check", None)
    if check is not None:
        check(model)
    if sample is None:
        sample = flavor.default_sample(model)
    custom = flavor.interface(model, sample)
    table = None if custom is not None else read_table(model, sample, flavor.fitted_names(model))
    rows = table.sample if table is not None else flavor.sample_rows(model, sample)
    expected = _predict(flavor, model, rows) if rows is not None else None
    task = flavor.task(model)
    classes = flavor.classes(model) if task == "classification" else None
    names = _names(labels, classes)
    io = custom or _table_interface(table, task, classes)
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix="stage-", dir=root))
    try:
        return _write(
            flavor,
            model,
            name,
            root,
            stage,
            table,
            rows,
            io,
            expected,
            task,
            classes,
            names,
            native=native,
            tolerance=tolerance,
            title=title,
            description=description,
            tags=tags,
            requirements=requirements,
        )
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _write(
    flavor: Flavor,
    model: Any,
    name: str,
    root: Path,
    stage: Path,
    table: Table | None,
    rows: Any,
    io: Interface,
    expected: Prediction | None,
    task: str,
    classes: list[Any] | None,
    names: list[str] | None,
    *,
    native: bool | None,
    tolerance: float,
    title: str | None,
    description: str,
    tags: Sequence[str],
    requirements: Sequence[str],
) -> Deployment:
    saved = flavor.save(model, stage)
    if table is None and not flavor.tensors(model):
        framework = flavor.framework
        asked = f"asked to run with {framework} (native=False)"
        onnx, reason, parity = None, asked if native is False else flavor.native_reason(), None
    else:
        onnx, reason, parity = _convert(
            flavor, model, table, rows, expected, classes, native, tolerance
        )
    if native and onnx is None:
        raise DeployError(f"cannot serve it natively: {reason}")
    section: dict[str, Any] = {
        "flavor": flavor.name,
        "framework": dict(zip(("name", "version"), flavor.installed(), strict=True)),
        "file": saved.file,
        "format": saved.format,
        "task": task,
    }
    if classes is not None:
        section["classes"] = names if names is not None else [_text(c) for c in classes]
    section["signature"] = {"inputs": io.inputs, "outputs": io.outputs}
    section["served"] = {"reason": reason, **({"parity": parity.to_dict()} if parity else {})}
    files = list(saved.written)
    for path, data in io.files.items():
        (stage / path).parent.mkdir(parents=True, exist_ok=True)
        (stage / path).write_bytes(data)
        files.append(path)
    if onnx is not None:
        (stage / "model.onnx").write_bytes(onnx)
        files.append("model.onnx")
        runtime: dict[str, Any] = {"kind": "onnx", "file": "model.onnx"}
        if names is not None:
            runtime["labels"] = names
        lines: list[str] = []
    else:
        lines = _unique(
            [
                *saved.requirements,
                *(pinned("pandas") if table is not None and table.frame else ()),
                *requirements,
            ]
        )
        spec = {
            "name": name,
            "flavor": flavor.name,
            "file": saved.file,
            "loader": saved.loader,
            "task": task,
            "classes": [_text(c) for c in classes] if classes is not None else None,
            "names": names,
            "table": table.to_dict() if table is not None else None,
            "init": [c.to_dict() for c in io.init],
        }
        (stage / serving.SPEC).write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")
        app = serving.APP.format(title=title or name, framework=flavor.framework, spec=serving.SPEC)
        (stage / "app.py").write_text(app, encoding="utf-8")
        files += [serving.SPEC, "app.py"]
        runtime = {
            "kind": "python",
            "python": flavor.python(model) or f"{sys.version_info.major}.{sys.version_info.minor}",
            "entry": "app.py",
            "requirements": lines,
        }
    manifest = canonical_manifest(
        {
            "schema": SCHEMA,
            "name": name,
            "title": title if title is not None else name,
            "description": description,
            "tags": list(tags),
            "runtime": runtime,
            "init": [c.to_dict() for c in io.init],
            "steps": [{"name": "predict", "title": "Predict"}],
            "examples": io.examples,
            "model": section,
            "provenance": _provenance(flavor, lines),
        }
    )
    bundle = [BundleFile(f, stage / f, False) for f in files]
    write_archive(bundle, root / "bundle.tar.gz")
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    (root / "manifest.json").write_text(text, encoding="utf-8")
    return Deployment(root, runtime["kind"], reason, parity)


def _onnx_model(model: Any) -> bytes | str | None:
    """An ONNX model's path or bytes, when `model` is one."""
    if isinstance(model, (str, os.PathLike)) and str(model).endswith(".onnx"):
        if not Path(model).is_file():
            raise DeployError(f"there is no ONNX model at {model}")
        return str(model)
    proto = getattr(sys.modules.get("onnx"), "ModelProto", None)
    if proto is not None and isinstance(model, proto):
        return bytes(model.SerializeToString())
    return None


def _predict(flavor: Flavor, model: Any, rows: Any) -> Prediction:
    try:
        return flavor.predict(model, rows)
    except Exception as err:
        raise DeployError(f"the model cannot predict on the sample: {err}") from None


def _convert(
    flavor: Flavor,
    model: Any,
    table: Table | None,
    rows: Any,
    expected: Prediction | None,
    classes: list[Any] | None,
    native: bool | None,
    tolerance: float,
) -> tuple[bytes | None, str, Parity | None]:
    """The ONNX form to serve, or none, and why, for a person."""
    framework = flavor.framework
    if native is False:
        return None, f"asked to run with {framework} (native=False)", None
    if expected is None:
        return None, "no sample to check a conversion against (give sample=X[:5])", None
    if table is not None and any(c.dtype == "bool" for c in table.columns):
        return None, "the native engine takes no true/false columns", None
    try:
        onnx, converter = flavor.to_onnx(model, table)
        got = flavor.onnx_prediction(run_onnx(onnx, table, rows), classes)
        parity = compare(expected, got, tolerance)
    except (Unconvertible, Unchecked) as err:
        return None, str(err), None
    if parity.mismatch is not None:
        return None, f"converted by {converter}, but {parity.mismatch}", parity
    return (
        onnx,
        f"converted by {converter}; on the {parity.rows} sample rows it answers as {framework} "
        f"does (labels equal, numbers within {tolerance:g})",
        parity,
    )


def _names(labels: Sequence[str] | None, classes: list[Any] | None) -> list[str] | None:
    if labels is None:
        return None
    if classes is None:
        raise DeployError("labels name a classifier's classes; this model is not a classifier")
    if [_text(c) for c in classes] != [str(i) for i in range(len(classes))]:
        shown = ", ".join(_text(c) for c in classes)
        raise DeployError(f"labels name classes 0, 1, ...; this model's classes are {shown}")
    if len(labels) != len(classes):
        raise DeployError(f"{len(labels)} labels for {len(classes)} classes")
    return [str(label) for label in labels]


def _table_interface(table: Table, task: str, classes: list[Any] | None) -> Interface:
    """The fields of a model of rows: one a column."""
    inputs = [{"name": c.name, "type": c.dtype} for c in table.columns]
    return Interface(table.init(), table.examples(), inputs, _outputs(task, classes))


def _outputs(task: str, classes: list[Any] | None) -> list[dict[str, str]]:
    if task == "classification":
        kind = "string" if classes and isinstance(classes[0], str) else "int64"
        return [{"name": "label", "type": kind}]
    return [{"name": "prediction", "type": "float64"}] if task == "regression" else []


def _text(c: Any) -> str:
    return str(c.item() if hasattr(c, "item") else c)


def _unique(lines: list[str]) -> list[str]:
    """Requirement lines with each distribution once: the first line naming it stays."""
    from .provenance import requirement_name

    seen: set[str] = set()
    out = []
    for line in lines:
        name = requirement_name(line) or line
        if name not in seen:
            seen.add(name)
            out.append(line)
    return out


def _provenance(flavor: Flavor, lines: list[str]) -> dict[str, Any]:
    wanted = [flavor.installed()[0], *lines]
    return capture(wanted, script_folder())


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m feather.deployment PATH --name NAME`: deploy a saved model (an MLflow model
    directory) as `deploy` does; `feather publish PATH` runs it with FEATHER_BUILD_DIR set."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m feather.deployment")
    parser.add_argument("path", help="a saved model: an MLflow model directory")
    parser.add_argument("--name", help="the model's name (default: the folder's name)")
    parser.add_argument("--title")
    args = parser.parse_args(argv)
    name = args.name or Path(args.path).resolve().name.lower().replace("_", "-")
    answer = deploy(args.path, name=name, **({"title": args.title} if args.title else {}))
    print(answer["engine"]["kind"], "-", answer["engine"]["reason"])


if __name__ == "__main__":
    main()
