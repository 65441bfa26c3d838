"""Steps: the functions of a model, run in order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, overload

from ._checks import Ctx
from .errors import ManifestError, Problem
from .manifest import read_step

F = TypeVar("F", bound=Callable[..., Any])

_ATTRIBUTE = "__feather_step__"


@dataclass(frozen=True)
class StepInfo:
    """What the manifest says of a step: its name (the function's name), title and description."""

    name: str
    title: str | None = None
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The canonical JSON of the step: the title defaults to the name."""
        return {
            "name": self.name,
            "title": self.title or self.name,
            "description": self.description,
        }


@overload
def step(fn: F, /) -> F: ...


@overload
def step(*, title: str | None = None, description: str = "") -> Callable[[F], F]: ...


def step(
    fn: F | None = None, /, *, title: str | None = None, description: str = ""
) -> F | Callable[[F], F]:
    """Mark a function as a step of a model; the step's name is the function's name.

    The function itself is returned unchanged, so it can still be called and tested directly.

    >>> @step(title="Classify", description="Guess the digit.")
    ... def classify(image): ...
    >>> step_info(classify)
    StepInfo(name='classify', title='Classify', description='Guess the digit.')
    >>> @step
    ... def explain(answer): ...
    >>> step_info(explain).title is None
    True
    """

    def mark(f: F) -> F:
        info = StepInfo(f.__name__, title, description)
        problems = check_step_info(info)
        if problems:
            raise ManifestError(problems, f"invalid step {f.__name__!r}")
        setattr(f, _ATTRIBUTE, info)
        return f

    return mark(fn) if fn is not None else mark


def step_info(fn: Callable[..., Any]) -> StepInfo:
    """The step a function stands for: from `@step`, else the plain function's name."""
    info = getattr(fn, _ATTRIBUTE, None)
    if isinstance(info, StepInfo):
        return info
    name = getattr(fn, "__name__", None)
    if not isinstance(name, str):
        raise TypeError(f"a step must be a function, not {type(fn).__name__}")
    info = StepInfo(name)
    problems = check_step_info(info)
    if problems:
        raise ManifestError(problems, f"invalid step {name!r}")
    return info


def check_step_info(info: StepInfo) -> list[Problem]:
    """The problems of a step as the manifest checks it, at paths relative to the step."""
    ctx = Ctx()
    step = {"name": info.name, "description": info.description}
    if info.title is not None:
        step["title"] = info.title
    read_step(ctx, step, "")
    return ctx.problems
