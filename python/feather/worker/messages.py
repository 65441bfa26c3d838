"""The messages of the worker protocol as frame headers, keys in the documented order."""

from __future__ import annotations

import errno
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .._version import __version__
from .protocol import PROTOCOL, ProtocolError


def hello(model: str, steps: Sequence[str]) -> dict[str, Any]:
    """The worker loaded its model and waits for requests."""
    return {
        "type": "hello",
        "protocol": PROTOCOL,
        "sdk": __version__,
        "pid": os.getpid(),
        "model": model,
        "steps": list(steps),
    }


MAX_ERROR = 2_000
"""The most characters of an error line: a message may hold a huge repr."""
MAX_TRACEBACK = 256_000
"""The most characters of a traceback, well within the header limit."""


def fatal(error: str, traceback: str) -> dict[str, Any]:
    """The worker could not start; it exits after sending this."""
    return {"type": "fatal", "error": _clip(error, MAX_ERROR), "traceback": _clip(traceback)}


def result(request: int, outputs: list[dict[str, Any]], state: int | None) -> dict[str, Any]:
    """A step's outputs, and the part holding its pickled state (or none)."""
    return {
        "type": "result",
        "id": request,
        "outputs": outputs,
        "state": None if state is None else {"part": state},
    }


def error(request: int, error: str, traceback: str, limit: str | None = None) -> dict[str, Any]:
    """A request failed: the step raised, or its inputs or outputs could not be converted.
    `limit` names the resource limit the failure met, when it met one (see `limit_of`)."""
    header = {
        "type": "error",
        "id": request,
        "error": _clip(error, MAX_ERROR),
        "traceback": _clip(traceback),
    }
    if limit is not None:
        header["limit"] = limit
    return header


LIMITS = ("memory", "file_size", "processes", "open_files", "scratch", "output")
"""The limits an `error` may name, as `limits.<name>_mb` / `limits.<name>` say in a manifest."""

_ERRNO_LIMITS = {
    errno.EFBIG: "file_size",
    errno.EAGAIN: "processes",
    errno.EMFILE: "open_files",
    errno.ENOSPC: "scratch",
}


def limit_of(exc: BaseException) -> str | None:
    """Which of the worker's resource limits an exception is how a step met: the worker knows
    what its own errors mean, so the server never guesses from a message."""
    if isinstance(exc, MemoryError):
        return "memory"
    if isinstance(exc, OSError) and exc.errno in _ERRNO_LIMITS:
        return _ERRNO_LIMITS[exc.errno]
    if isinstance(exc, RuntimeError) and "can't start new thread" in str(exc):
        return "processes"
    return None


def one_line(exc: BaseException) -> str:
    """`Type: message`, its lines joined into one: a reason that spans lines (a
    `ManifestError`'s problems, say) is kept whole, with the limit it names."""
    name = type(exc).__name__
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return f"{name}: {' '.join(lines)}" if lines else name


@dataclass(frozen=True)
class Run:
    """A `run` request: call step `step` (number `index`, from 0) with `inputs`."""

    id: int
    step: str
    index: int
    inputs: dict[str, Any]
    """Component id to the value answered; files as `{"part": N, "name"?, "type"?}`."""
    components: list[Any] | None
    """The canonical dicts of the input components the values answer; `None` when absent."""
    state: int | None
    """The part holding the pickled state, or `None`."""

    @classmethod
    def from_header(cls, header: dict[str, Any]) -> Run:
        """Read a `run` header; a field of the wrong kind is a `ProtocolError`."""
        request = header.get("id")
        step = header.get("step")
        index = header.get("index")
        inputs = header.get("inputs")
        components = header.get("components")
        state = header.get("state")
        if not _is_int(request) or not isinstance(step, str) or not _is_int(index):
            raise ProtocolError("a run needs an integer id, a step name and an integer index")
        if not isinstance(inputs, dict):
            raise ProtocolError("a run's inputs must be an object")
        if components is not None and not isinstance(components, list):
            raise ProtocolError("a run's components must be an array")
        if state is not None and not (isinstance(state, dict) and _is_int(state.get("part"))):
            raise ProtocolError('a run\'s state must be {"part": N} or null')
        part = None if state is None else int(state["part"])
        return cls(int(request), step, int(index), inputs, components, part)


def _clip(text: str, limit: int = MAX_TRACEBACK) -> str:
    """`text`, its middle cut out when longer than `limit` (the end of a traceback matters)."""
    if len(text) <= limit:
        return text
    keep = limit // 2
    return f"{text[:keep]}\n... {len(text) - 2 * keep} characters cut ...\n{text[-keep:]}"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
