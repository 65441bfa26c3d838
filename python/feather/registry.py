"""Models registered by `build` inside a worker process, where nothing is written or uploaded.

A worker (`FEATHER_WORKER` set) imports a model's app file; the app's `build` or `publish` call
then only records the model here, for the worker to read through `registered()`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .components.base import Component


@dataclass(frozen=True)
class Registration:
    """A model as the app file declares it: components with their ids, and step functions."""

    name: str
    init: tuple[Component, ...]
    steps: tuple[Callable[..., Any], ...]


_registered: dict[str, Registration] = {}


def register(registration: Registration) -> None:
    _registered[registration.name] = registration


def registered() -> dict[str, Registration]:
    """The models registered in this process so far, by name (a copy)."""
    return dict(_registered)
