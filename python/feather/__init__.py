"""feather: declare a model's inputs and outputs as components, then publish it.

>>> import feather as ftr
>>> @ftr.step(title="Classify")
... def classify(image): ...
>>> init = [ftr.Image.Upload(id="image", title="A digit")]
>>> ftr.publish("digits", init, [classify])  # doctest: +SKIP

Modules: `components` (the catalogue), `manifest` (validation, canonical form), `step`,
`bundle` (files and the archive), `provenance`, `build`, `publish`, `registry` (models a worker
imports), `files` (files at run time), `worker` (runs a model's steps for the server),
`deployment` (`deploy`: a fitted object in one call) and `flavors` (the frameworks it knows),
`library` (`load`: a published model run in this process), `models` (the store: versions,
aliases, downloads, deletes).
"""

from . import models
from ._version import __version__
from .build import build
from .bundle import Bundle
from .components import (
    Checkbox,
    Component,
    Document,
    File,
    Image,
    Json,
    Label,
    List,
    Markdown,
    Number,
    Slider,
    Table,
    Tensor,
    Text,
    file_ref,
)
from .deployment import build_deployment, deploy
from .errors import (
    BundleError,
    DeployError,
    FeatherError,
    ManifestError,
    Problem,
    PublishError,
)
from .files import LocalFile, UploadedFile
from .library import LoadedModel, LoadError, load
from .manifest import SCHEMA, canonical_manifest, validate_manifest
from .onnx import build_onnx, publish_onnx
from .publish import publish, upload
from .registry import Registration, registered
from .step import StepInfo, step

bundle = Bundle
"""`ftr.bundle(code_files, model_files=())` and `ftr.bundle.here()`: see `Bundle`."""

__all__ = [
    "SCHEMA",
    "Bundle",
    "BundleError",
    "Checkbox",
    "Component",
    "DeployError",
    "Document",
    "FeatherError",
    "File",
    "Image",
    "Json",
    "Label",
    "List",
    "LoadError",
    "LoadedModel",
    "LocalFile",
    "ManifestError",
    "Markdown",
    "Number",
    "Problem",
    "PublishError",
    "Registration",
    "Slider",
    "StepInfo",
    "Table",
    "Tensor",
    "Text",
    "UploadedFile",
    "__version__",
    "build",
    "build_deployment",
    "build_onnx",
    "bundle",
    "canonical_manifest",
    "deploy",
    "file_ref",
    "load",
    "models",
    "publish",
    "publish_onnx",
    "registered",
    "step",
    "upload",
    "validate_manifest",
]
