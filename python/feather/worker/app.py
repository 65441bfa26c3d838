"""Loading a model's app file, and finding the step and input components of a request."""

from __future__ import annotations

import os
import runpy
import sys
import traceback
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .. import registry
from ..components.base import Component
from ..errors import ManifestError
from ..step import step_info
from .messages import Run, one_line

APP_MODULE = "__feather_app__"
"""The module name the app file runs as: not `__main__`, so `if __name__ == "__main__":` blocks
(a local server, a publish call) stay out of the worker."""

StepFunction = Callable[..., Any]


class LoadError(Exception):
    """The app file could not be imported, or did not register exactly one model."""

    def __init__(self, error: str, traceback: str = "") -> None:
        super().__init__(error)
        self.error = error
        self.traceback = traceback


class RequestError(Exception):
    """A request the worker cannot serve as asked: an unknown step, a malformed input, outputs
    that cannot be sent. The worker answers `error` and keeps serving."""


@dataclass(frozen=True)
class App:
    """The model an app file registered: its name, step 1's inputs and its steps in order."""

    name: str
    init: tuple[Component, ...]
    steps: tuple[tuple[str, StepFunction], ...]

    @property
    def step_names(self) -> list[str]:
        return [name for name, _ in self.steps]

    def batch_size(self, run: Run) -> int | None:
        """The most requests the run's step takes in one call, or `None` when it takes one."""
        if run.index != 0 or run.index >= len(self.steps):
            return None
        return step_info(self.steps[run.index][1]).max_batch_size

    def resolve(self, run: Run) -> tuple[StepFunction, Sequence[Component]]:
        """The function of the run's step and the input components its values answer."""
        if run.index >= len(self.steps) or self.steps[run.index][0] != run.step:
            names = ", ".join(self.step_names)
            raise RequestError(f"{run.step!r} is not step {run.index} of this model ({names})")
        function = self.steps[run.index][1]
        if run.index == 0:
            return function, self.init
        if run.components is None:
            raise RequestError("a run after the first step needs the input components it answers")
        components = []
        for i, data in enumerate(run.components):
            try:
                components.append(Component.from_dict(data if isinstance(data, dict) else {}))
            except ManifestError as err:
                raise RequestError(f"component {i} of the run is invalid: {err}") from None
        return function, components


def load_app(entry: str) -> App:
    """Run the app file as module `__feather_app__`, then read the model it registered.

    The app's folder goes first on `sys.path`, as when Python runs a script, so the bundle's
    own modules import.
    """
    path = os.path.abspath(entry)
    sys.path.insert(0, os.path.dirname(path))
    sys.argv = [path]
    try:
        namespace = runpy.run_path(path, run_name=APP_MODULE)
    except (Exception, SystemExit) as exc:
        raise LoadError(one_line(exc), traceback.format_exc()) from None
    # runpy drops its temporary module afterwards; without one in `sys.modules`, objects of
    # classes the app defines could not be pickled into the state or out of it.
    module = types.ModuleType(APP_MODULE)
    module.__dict__.update(namespace)
    sys.modules[APP_MODULE] = module
    return _the_model(registry.registered())


def _the_model(models: dict[str, registry.Registration]) -> App:
    if not models:
        raise LoadError(
            "the app registered no model: call ftr.build(...) or ftr.publish(...) when the file "
            'is imported, not only under `if __name__ == "__main__":`'
        )
    if len(models) > 1:
        names = ", ".join(sorted(models))
        raise LoadError(f"the app registered {len(models)} models ({names}); a worker serves one")
    registration = next(iter(models.values()))
    steps = tuple((step_info(f).name, f) for f in registration.steps)
    names = [name for name, _ in steps]
    if len(set(names)) != len(names):
        raise LoadError(f"the model's step names repeat: {', '.join(names)}")
    return App(registration.name, registration.init, steps)
