"""The request loop: read a frame, run the step it asks for, answer `result` or `error`."""

from __future__ import annotations

import contextlib
import pickle
import socket
import sys
import traceback
from collections.abc import Sequence
from typing import Any

from . import messages
from .app import App, RequestError
from .messages import Run, one_line
from .outputs import encode_return
from .protocol import FrameTooLarge, Part, ProtocolError, read_frame, write_frame
from .values import Scratch, step_arguments

EXIT_OK = 0
EXIT_PROTOCOL = 2


class StepRaised(Exception):
    """The step's own code raised: the answer carries its traceback, not the worker's."""

    def __init__(self, error: str, traceback: str) -> None:
        super().__init__(error)
        self.error = error
        self.traceback = traceback


def serve(sock: socket.socket, app: App, *, limit: int, since: float) -> int:
    """Answer requests until `shutdown` or the end of the connection; the exit status."""
    while True:
        try:
            frame = read_frame(sock, limit)
            if frame is None or frame.type == "shutdown":
                return EXIT_OK
            if frame.type != "run":
                raise ProtocolError(f"unexpected message {frame.type!r}")
            run = Run.from_header(frame.header)
        except ProtocolError as err:
            print(f"feather worker: protocol error: {err}", file=sys.stderr, flush=True)
            return EXIT_PROTOCOL
        header, parts = answer(app, run, frame.parts, since=since)
        try:
            write_frame(sock, header, parts, limit)
        except (FrameTooLarge, ValueError) as err:
            # Nothing was sent: say why instead of leaving the server waiting.
            reason = f"RequestError: the result cannot be sent: {err}"
            write_frame(sock, messages.error(run.id, reason, ""), (), limit)
        _flush()


def answer(
    app: App, run: Run, parts: Sequence[Part], *, since: float
) -> tuple[dict[str, Any], list[bytes]]:
    """The answer to one run: `result` with its parts, or `error`."""
    try:
        with Scratch() as scratch:
            function, components = app.resolve(run)
            kwargs = step_arguments(components, run.inputs, parts, scratch)
            if run.index > 0:
                if "state" in kwargs:
                    raise RequestError("an input component's id is 'state', the name of the state")
                kwargs["state"] = load_state(run.state, parts)
            try:
                value = function(**kwargs)
            except (Exception, SystemExit) as exc:
                raise StepRaised(one_line(exc), _step_traceback(exc)) from None
            # Inside the scratch folder's lifetime: an output may show an uploaded file.
            encoded = encode_return(value, since=since)
    except StepRaised as raised:
        return messages.error(run.id, raised.error, raised.traceback), []
    except RequestError as err:
        cause = err.__cause__
        detail = "".join(traceback.format_exception(cause)) if cause is not None else ""
        return messages.error(run.id, f"{type(err).__name__}: {err}", detail), []
    except Exception as err:
        return messages.error(run.id, one_line(err), traceback.format_exc()), []
    return messages.result(run.id, encoded.outputs, encoded.state), encoded.parts


def load_state(part: int | None, parts: Sequence[Part]) -> Any:
    """The state the previous step left, unpickled (the server stored it and nothing else
    wrote it), or `None`."""
    if part is None:
        return None
    if not 0 <= part < len(parts):
        raise RequestError(f"the state is part {part}, but the run has {len(parts)} part(s)")
    try:
        return pickle.loads(parts[part])
    except Exception as err:
        raise RequestError(f"the state cannot be unpickled: {one_line(err)}") from err


def _step_traceback(exc: BaseException) -> str:
    """The traceback from the step's own frame down (the worker's frame is left out)."""
    tb = exc.__traceback__
    tb = tb.tb_next if tb is not None and tb.tb_next is not None else tb
    return "".join(traceback.format_exception(type(exc), exc, tb))


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
