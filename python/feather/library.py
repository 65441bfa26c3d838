"""`load`: a published model as a library, run in the calling process with no server round
trip. The version's bundle is pulled once into a cache (checked against its digest) and run
natively with ONNX Runtime when it is in the ONNX format, else with its framework when the
version was deployed from a framework's object and this environment has what it needs.

A folder on disk loads the same way: what `feather models pull` or `ftr.models.download`
wrote (checked against the digest its `version.json` records), or a build's output.

>>> m = ftr.load("alice/churn@prod", server="http://127.0.0.1:7860")  # doctest: +SKIP
>>> m = ftr.load("churn-4")  # what `feather models pull` wrote  # doctest: +SKIP
>>> m.predict(frame)  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from importlib import metadata
from pathlib import Path
from typing import Any

from ._version import __version__
from .errors import FeatherError

_REF = re.compile(r"([a-z0-9][a-z0-9._-]*)/([a-z0-9][a-z0-9._-]*)(?:@([A-Za-z0-9._-]+))?")


class LoadError(FeatherError):
    """The model cannot be loaded here: not found, not reachable, or needing what this
    environment lacks (the message names it)."""


def load(
    ref: str | os.PathLike[str],
    *,
    server: str | None = None,
    token: str | None = None,
    cache: str | os.PathLike[str] | None = None,
) -> LoadedModel:
    """The version `owner/name[@version-or-alias]` (default: latest) as an object with
    `predict(X)` (and `predict_proba(X)` for a classifier), and `m(**inputs)` giving the
    outputs the API would.

    `server` defaults to `$FEATHER_SERVER`, `token` to `$FEATHER_TOKEN`; bundles are kept in
    `cache`, by default `$XDG_CACHE_HOME/feather/models`.

    `ref` may be a folder holding a `manifest.json` instead: one `feather models pull` or
    `ftr.models.download` wrote (its bundle checked against the digest in its
    `version.json`), unpacked or not, or what `ftr.build_deployment` wrote. No server is asked.
    """
    from .publish import DEFAULT_SERVER

    folder = _local(ref)
    if folder is not None:
        return _load_folder(folder, _cache(cache))
    match = _REF.fullmatch(str(ref))
    if match is None:
        raise LoadError(f"{ref!r} is not owner/name or owner/name@version, nor a model folder")
    owner, name, reference = match.group(1), match.group(2), match.group(3) or "latest"
    base = (server or os.environ.get("FEATHER_SERVER") or DEFAULT_SERVER).rstrip("/")
    token = token if token is not None else os.environ.get("FEATHER_TOKEN")
    api = f"{base}/api/v1/models/{owner}/{name}/versions/{urllib.parse.quote(reference)}"
    detail = json.loads(_get(api, token))
    folder = _pull(detail, f"{base}/api/v1/models/{owner}/{name}", token, _cache(cache))
    model = f"{detail['owner']}/{detail['name']}"
    return LoadedModel(detail["manifest"], folder, model, int(detail["version"]))


VERSION_FILE = "version.json"
"""What a pulled folder records of where it came from: `{"model", "version", "digest"}`."""

ARCHIVES = ("bundle.tar.gz", "bundle.tar.zst")


def _local(ref: str | os.PathLike[str]) -> Path | None:
    """The model folder `ref` names, if it names one: a path, or a text naming a folder that
    holds a `manifest.json`."""
    if not isinstance(ref, os.PathLike) and not (Path(ref) / "manifest.json").is_file():
        return None
    folder = Path(ref)
    if not (folder / "manifest.json").is_file():
        raise LoadError(f"{folder} holds no manifest.json: it is not a model folder")
    return folder


def _load_folder(folder: Path, cache: Path) -> LoadedModel:
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    origin: dict[str, Any] = {}
    if (folder / VERSION_FILE).is_file():
        origin = json.loads((folder / VERSION_FILE).read_text(encoding="utf-8"))
    archive = next((folder / n for n in ARCHIVES if (folder / n).is_file()), None)
    files = folder
    if archive is not None:
        digest = f"sha256:{_sha256(archive)}"
        if origin.get("digest", digest) != digest:
            raise LoadError(
                f"{archive} does not have the digest {origin['digest']} of "
                f"{origin.get('model')} version {origin.get('version')}: pull it again"
            )
        files = _unpacked(archive, digest, cache)
    version = origin.get("version")
    model = str(origin.get("model") or manifest["name"])
    return LoadedModel(manifest, files, model, int(version) if version is not None else None)


class LoadedModel:
    """One version run in this process."""

    def __init__(
        self, manifest: dict[str, Any], folder: Path, model: str, version: int | None
    ) -> None:
        self.version = version
        """Its number; `None` for a folder that does not say (a build's output)."""
        self.model = model
        """`owner/name`, or the manifest's name for a folder that does not say."""
        self.manifest = manifest
        self.path = folder
        section = self.manifest.get("model")
        runtime = self.manifest["runtime"]
        if section is None and runtime["kind"] != "onnx":
            raise LoadError(
                f"{self.model} is an app of its own; feather.load runs versions deployed with "
                "ftr.deploy and models in the ONNX format: call this one through the API"
            )
        onnx = runtime["kind"] == "onnx"
        self._engine = _Onnx(self.manifest, folder) if onnx else _Framework(self.manifest, folder)

    @property
    def classes(self) -> list[str] | None:
        section = self.manifest.get("model") or {}
        return section.get("classes")

    def predict(self, x: Any) -> Any:
        """The model's predictions for rows `x` (a DataFrame, an array, or a list of rows;
        for an ONNX model published as it is, a dict of input name to array)."""
        return self._engine.predict(x).labels_or_values()

    def predict_proba(self, x: Any) -> Any:
        """A classifier's probabilities, one column per class in `classes`' order."""
        out = self._engine.predict(x)
        if out.probabilities is None:
            raise LoadError(f"{self.model} gives no probabilities")
        return out.probabilities

    def __call__(self, **inputs: Any) -> list[dict[str, Any]]:
        """The outputs of one request, by the model's input ids, as the API answers them."""
        from .flavors.serving import outputs

        table = self._engine.table
        if table is None:
            return self._engine.answer(inputs)
        missing = [c.id for c in table.columns if c.id not in inputs]
        extra = [k for k in inputs if k not in {c.id for c in table.columns}]
        if missing or extra:
            raise LoadError(
                f"{self.model} takes {', '.join(c.id for c in table.columns)}"
                + (f"; missing {', '.join(missing)}" if missing else "")
                + (f"; unknown {', '.join(extra)}" if extra else "")
            )
        x = table.frame_of({k: [v] for k, v in inputs.items()})
        section = self.manifest.get("model") or {}
        shown = outputs(section.get("task", "other"), self._engine.predict(x), self.classes, None)
        return [c.to_dict() for c in shown]

    def __repr__(self) -> str:
        kind = self.manifest["runtime"]["kind"]
        version = f" version {self.version}" if self.version is not None else ""
        return f"<feather model {self.model}{version}, run with {kind}>"


class _Engine:
    table: Any

    def predict(self, x: Any) -> Any:
        raise NotImplementedError

    def answer(self, inputs: dict[str, Any]) -> list[dict[str, Any]]:
        raise NotImplementedError


class _Framework(_Engine):
    """The serialized object, loaded by its flavor, when the requirements are installed."""

    def __init__(self, manifest: dict[str, Any], folder: Path) -> None:
        from . import flavors
        from .flavors.table import Table

        _check_requirements(manifest["runtime"].get("requirements", []))
        spec = json.loads((folder / "feather-model.json").read_text(encoding="utf-8"))
        self.spec = spec
        self.flavor = flavors.by_name(spec["flavor"])
        # A pipeline (text or images in) has fields of its own, not a table's columns.
        self.table = Table.from_dict(spec["table"]) if spec.get("table") else None
        self.object = self.flavor.load(folder / spec["file"], spec.get("loader", {}))
        raw, names = spec.get("classes"), spec.get("names")
        self.names = dict(zip(raw, names, strict=True)) if raw and names else None

    def predict(self, x: Any) -> Any:
        rows = _rows(self.table, x) if self.table is not None else x
        out = _Prediction.of(self.flavor.predict(self.object, rows))
        if self.names is not None and out.labels is not None:
            out.labels = [self.names[str(_plain(v))] for v in out.labels]
        return out

    def answer(self, inputs: dict[str, Any]) -> list[dict[str, Any]]:
        """One request's outputs, for a model whose fields are its own (one text or image)."""
        ids = [c["id"] for c in self.spec["init"]]
        if sorted(inputs) != ids:
            given = ", ".join(inputs) or "nothing"
            raise LoadError(f"this model takes {', '.join(ids)}, not {given}")
        (value,) = inputs.values()
        return [c.to_dict() for c in self.flavor.answer(self.object, self.spec, [value])]


class _Onnx(_Engine):
    def __init__(self, manifest: dict[str, Any], folder: Path) -> None:
        try:
            import onnxruntime
        except ImportError:
            raise LoadError("onnxruntime is not installed here (pip install onnxruntime)") from None
        from .flavors.table import Table, feature_id

        runtime = manifest["runtime"]
        self.session = onnxruntime.InferenceSession(
            str(folder / runtime["file"]), providers=["CPUExecutionProvider"]
        )
        self.labels = runtime.get("labels")
        section = manifest.get("model")
        self.section = section
        self.table = None
        # A model of one tensor (a PyTorch module of images, say) is fed it as it is.
        self.tensor = [c for c in manifest["init"] if c["type"] == "Tensor.In"]
        if section is not None:
            from . import flavors

            self.flavor = flavors.by_name(section["flavor"])
        if section is not None and not self.tensor:
            columns = [(c["name"], c["type"]) for c in section["signature"]["inputs"]]
            ids = [c["id"] for c in manifest["init"]] or [
                feature_id(n, i) for i, (n, _) in enumerate(columns)
            ]
            described = [
                {"name": n, "type": t, "id": i} for (n, t), i in zip(columns, ids, strict=True)
            ]
            self.table = Table.from_dict({"columns": described, "frame": False})

    def predict(self, x: Any) -> Any:
        from .flavors.parity import feed

        if self.section is None:
            if not isinstance(x, dict):
                raise LoadError("an ONNX model published as it is takes input name to array")
            names = [o.name for o in self.session.get_outputs()]
            return _Prediction(values=dict(zip(names, self.session.run(None, x), strict=True)))
        if self.table is None:
            import numpy as np

            (field,) = self.tensor
            name = self.session.get_inputs()[0].name
            out = self.session.run(None, {name: np.asarray(x, dtype=field["dtype"])})
        else:
            out = self.session.run(None, feed(self.session, self.table, _rows(self.table, x)))
        classes = self.section.get("classes")
        keys = (
            None
            if classes is None
            else (list(range(len(classes))) if self.labels is not None else classes)
        )
        got = self.flavor.onnx_prediction(list(out), keys)
        if self.section["task"] != "classification":
            import numpy as np

            values = np.asarray(got.values)
            return _Prediction(values=values.reshape(len(values), -1).squeeze(-1))
        labels = got.labels or []
        if self.labels is not None:
            labels = [self.labels[int(i)] for i in labels]
        return _Prediction(labels=labels, probabilities=got.probabilities)

    def answer(self, inputs: dict[str, Any]) -> list[dict[str, Any]]:
        """One request's outputs, for a model of one tensor."""
        from .flavors.serving import outputs

        (field,) = self.tensor
        if list(inputs) != [field["id"]]:
            given = ", ".join(inputs) or "nothing"
            raise LoadError(f"this model takes {field['id']}, not {given}")
        section = self.section or {}
        out = self.predict([inputs[field["id"]]])
        shown = outputs(section.get("task", "other"), out, section.get("classes"), None)
        return [c.to_dict() for c in shown]


class _Prediction:
    def __init__(self, labels: Any = None, probabilities: Any = None, values: Any = None) -> None:
        self.labels, self.probabilities, self.values = labels, probabilities, values

    @classmethod
    def of(cls, p: Any) -> _Prediction:
        return cls(p.labels, p.probabilities, p.values)

    def labels_or_values(self) -> Any:
        import numpy as np

        if self.labels is not None:
            return np.asarray([_plain(v) for v in self.labels])
        return self.values


def _plain(v: Any) -> Any:
    v = v.item() if hasattr(v, "item") else v
    return v.decode() if isinstance(v, bytes) else v


def _rows(table: Any, x: Any) -> Any:
    """Rows as the model takes them: a DataFrame with the fitted columns, or a 2-D array."""
    import numpy as np

    if type(x).__name__ == "DataFrame":
        missing = [n for n in table.names if n not in x.columns]
        if missing:
            raise LoadError(f"the rows lack the columns {', '.join(missing)}")
        x = x[table.names]
        return x if table.frame else x.to_numpy()
    if isinstance(x, dict):
        return table.frame_of({c.id: list(x[c.name]) for c in table.columns})
    text = any(c.dtype == "string" for c in table.columns)
    array = np.asarray(x, dtype=object if text else None)
    if array.ndim == 1:
        array = array.reshape(1, -1)
    if array.shape[1] != len(table.columns):
        raise LoadError(f"each row must have {len(table.columns)} values, not {array.shape[1]}")
    return table.frame_of({c.id: list(array[:, i]) for i, c in enumerate(table.columns)})


def _check_requirements(lines: list[str]) -> None:
    """Each pinned requirement installed here; the first missing one is named with the line
    that installs them all."""
    from .provenance import requirement_name

    missing = []
    for line in lines:
        name = requirement_name(line)
        if name is None:
            continue
        try:
            metadata.version(name)
        except metadata.PackageNotFoundError:
            missing.append(line)
    if missing:
        raise LoadError(
            f"this environment lacks {', '.join(missing)}: pip install {' '.join(missing)}"
        )


def _cache(cache: str | os.PathLike[str] | None) -> Path:
    if cache is not None:
        return Path(cache)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "feather" / "models"


def _pull(detail: dict[str, Any], model_url: str, token: str | None, cache: Path) -> Path:
    """The version's unpacked bundle, pulled once per digest; a bundle whose bytes do not have
    the version's digest is refused."""
    digest = str(detail["digest"])
    folder = cache / digest.replace(":", "-")
    if (folder / ".complete").is_file():
        return folder
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix=".pull-") as scratch:
        url = f"{model_url}/versions/{detail['version']}/bundle"
        with _open(url, token) as response:
            zstd = response.headers.get("Content-Type") == "application/zstd"
            archive = Path(scratch) / ARCHIVES[1 if zstd else 0]
            got = write_body(response, archive)
        if got != digest:
            raise LoadError(f"the bundle of {url} does not have the version's digest {digest}")
        return _unpacked(archive, digest, cache)


def write_body(response: Any, path: Path) -> str:
    """Write an answer's body into `path` a chunk at a time; its `sha256:` digest."""
    hasher = hashlib.sha256()
    with open(path, "wb") as out:
        for chunk in iter(lambda: response.read(1 << 20), b""):
            hasher.update(chunk)
            out.write(chunk)
    return f"sha256:{hasher.hexdigest()}"


def _sha256(path: Path) -> str:
    hasher = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def _unpacked(archive: Path, digest: str, cache: Path) -> Path:
    """The archive of that digest unpacked into the cache, once: a folder named after it."""
    folder = cache / digest.replace(":", "-")
    if (folder / ".complete").is_file():
        return folder
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix=".unpack-") as scratch:
        unpacked = Path(scratch) / "unpacked"
        extract(archive, unpacked)
        (unpacked / ".complete").write_text(digest)
        try:
            unpacked.rename(folder)
        except OSError:
            # Another process unpacked it meanwhile: the same bytes.
            shutil.rmtree(unpacked, ignore_errors=True)
    return folder


def extract(archive: Path, into: Path) -> None:
    """Unpack a bundle (`.tar.gz`, or `.tar.zst` when `zstandard` is installed) into a folder;
    no member may land outside it."""
    if archive.name.endswith(".zst"):
        try:
            import zstandard
        except ImportError:
            raise LoadError(
                f"{archive.name} is compressed with zstd: pip install zstandard to read it"
            ) from None
        with (
            open(archive, "rb") as raw,
            zstandard.ZstdDecompressor().stream_reader(raw) as z,
            tarfile.open(fileobj=z, mode="r|") as tar,
        ):
            tar.extractall(into, filter="data")
        return
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")


def _open(url: str, token: str | None) -> Any:
    headers = {"User-Agent": f"feather-sdk/{__version__}"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=120)
    except urllib.error.HTTPError as err:
        from .publish import error_from_response

        raise LoadError(str(error_from_response(err.code, err.read(), err.reason))) from None
    except (urllib.error.URLError, OSError) as err:
        raise LoadError(f"cannot reach {url}: {getattr(err, 'reason', err)}") from None


def _get(url: str, token: str | None) -> bytes:
    with _open(url, token) as response:
        return bytes(response.read())
