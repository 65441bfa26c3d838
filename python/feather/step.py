"""Steps: the functions of a model, run in order."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, overload

from ._checks import Ctx
from .errors import ManifestError, Problem
from .manifest import read_step

F = TypeVar("F", bound=Callable[..., Any])

_ATTRIBUTE = "__feather_step__"


@dataclass(frozen=True)
class StepInfo:
    """What the manifest says of a step: its name (the function's name), title, description,
    and for a batching step the most requests one call takes."""

    name: str
    title: str | None = None
    description: str = ""
    max_batch_size: int | None = None
    """Set when the function takes a list per input and returns a list of results."""

    def to_dict(self) -> dict[str, Any]:
        """The canonical JSON of the step: the title defaults to the name."""
        out: dict[str, Any] = {
            "name": self.name,
            "title": self.title or self.name,
            "description": self.description,
        }
        if self.max_batch_size is not None:
            out["batch"] = {"max_size": self.max_batch_size}
        return out


@overload
def step(fn: F, /) -> F: ...


@overload
def step(
    *,
    title: str | None = None,
    description: str = "",
    batch: bool = False,
    max_batch_size: int = 64,
) -> Callable[[F], F]: ...


def step(
    fn: F | None = None,
    /,
    *,
    title: str | None = None,
    description: str = "",
    batch: bool = False,
    max_batch_size: int = 64,
) -> F | Callable[[F], F]:
    """Mark a function as a step of a model; the step's name is the function's name.

    The function itself is returned unchanged, so it can still be called and tested directly.

    With `batch=True` (one-step models only) the requests waiting when a worker becomes free
    are answered by one call, at most `max_batch_size` of them: each argument is then a list
    with one value per request, and the function returns a list with one result per request,
    in the same order. Vectorised code (a whole matrix through `predict`) then pays its fixed
    cost once per call instead of once per request.

    >>> @step(title="Classify", description="Guess the digit.")
    ... def classify(image): ...
    >>> step_info(classify)
    StepInfo(name='classify', title='Classify', description='Guess the digit.', max_batch_size=None)
    >>> @step
    ... def explain(answer): ...
    >>> step_info(explain).title is None
    True
    """

    def mark(f: F) -> F:
        info = StepInfo(f.__name__, title, description, max_batch_size if batch else None)
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
    step: dict[str, Any] = {"name": info.name, "description": info.description}
    if info.max_batch_size is not None:
        step["batch"] = {"max_size": info.max_batch_size}
    if info.title is not None:
        step["title"] = info.title
    read_step(ctx, step, "")
    return ctx.problems


def check_call(fn: Callable[..., Any], index: int, ids: Sequence[str]) -> list[Problem]:
    """The problems of calling a step as the worker will: step 1 with one keyword argument per
    input id, a later step with `state` and the ids of the components the step before returned
    (known only at run time). A mismatch would otherwise fail every call of a published model."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return []
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params)
    named = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    required = [
        p.name
        for p in params
        if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    name = getattr(fn, "__name__", "the step")
    given = list(ids) if index == 0 else ["state"]
    extra = [] if takes_any else [i for i in given if i not in named]
    if index > 0:
        if extra:
            return [
                Problem(
                    f"/steps/{index}",
                    f"{name} does not take `state`, which every step after the first is given "
                    "(the state the step before left): add a `state` parameter",
                )
            ]
        return []
    missing = [r for r in required if r not in given]
    if not extra and not missing:
        return []
    parts = []
    if extra:
        parts.append(f"does not take the input(s) {', '.join(map(repr, extra))}")
    if missing:
        parts.append(f"asks for {', '.join(map(repr, missing))}, which no input gives")
    ids_text = ", ".join(given) or "none"
    return [
        Problem(
            f"/steps/{index}",
            f"{name} {' and '.join(parts)}: name its parameters after the inputs' ids "
            f"({ids_text}), give the others defaults, or take **inputs",
        )
    ]
