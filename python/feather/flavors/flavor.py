"""What `deploy` needs of a framework: telling its objects apart, predicting with them, saving
them in the format the framework's authors recommend, loading them back in a worker, and
converting them to ONNX where a converter exists. One module per framework implements it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from .table import Table


class Unconvertible(Exception):
    """The object has no ONNX form feather can serve; the message says why, for a person."""


@dataclass
class Prediction:
    """A model's answer for rows: a classifier's labels (and probabilities, one column per
    class), or values (one per row, or a row of values each)."""

    labels: list[Any] | None = None
    probabilities: Any = None
    values: Any = None


@dataclass(frozen=True)
class Saved:
    """A serialized model: its file in the bundle, the file's format, what a worker needs
    installed to load it, and how to load it (read back by `Flavor.load`)."""

    file: str
    format: str
    requirements: tuple[str, ...]
    loader: dict[str, Any] = field(default_factory=dict)


class Flavor:
    """One framework's objects."""

    name: ClassVar[str]
    """The manifest's `model.flavor`."""
    framework: ClassVar[str]
    """The distribution on PyPI that makes the objects."""

    def matches(self, obj: Any) -> bool:
        raise NotImplementedError

    def task(self, obj: Any) -> str:
        """`classification`, `regression` or `other`."""
        raise NotImplementedError

    def classes(self, obj: Any) -> list[Any] | None:
        """A classifier's classes in the order of its probabilities' columns."""
        return None

    def predict(self, obj: Any, x: Any) -> Prediction:
        raise NotImplementedError

    def save(self, obj: Any, folder: Path) -> Saved:
        raise NotImplementedError

    def load(self, path: Path, loader: dict[str, Any]) -> Any:
        raise NotImplementedError

    def to_onnx(self, obj: Any, table: Table) -> tuple[bytes, str]:
        """The model in the ONNX format and the converter that wrote it (`skl2onnx 1.20.0`);
        raises `Unconvertible`."""
        raise Unconvertible(f"feather has no ONNX converter for {self.framework}")


def version_of(distribution: str) -> str:
    from importlib import metadata

    return metadata.version(distribution)


def pinned(*distributions: str) -> tuple[str, ...]:
    """`name==version` of each installed distribution: a worker loads the model with the very
    versions that saved it."""
    return tuple(f"{d}=={version_of(d)}" for d in distributions)
