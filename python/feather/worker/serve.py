"""The request loop: read a frame, run the step(s) it asks for, answer `result` or `error`.

A `batch` frame carries several `run` requests; each gets its own answer frame, in order, sent
when it is ready (quick ones a few together: see `Pace`). A batching step
(`@ftr.step(batch=True)`) answers them all with one call; any other step is called once per
request.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import socket
import sys
import time
import traceback
from collections.abc import Iterator, Sequence
from typing import Any

from . import messages
from .app import App, RequestError, StepFunction
from .messages import Run, limit_of, one_line
from .outputs import encode_return
from .protocol import FrameTooLarge, Part, ProtocolError, encode, read_frame, send_file
from .values import Incoming, Scratch, scratch_base, step_arguments

EXIT_OK = 0
EXIT_PROTOCOL = 2

QUICK = 0.001
"""Seconds under which a step's answer is quick: it may wait for the batch's next answers."""
HOLD = 0.001
"""Seconds at most that quick answers wait for the next ones."""
SLOW = 0.005
"""Seconds from which a step is slow: for a while after one, no answer waits. Shorter waits
are common on a busy machine (the worker was not scheduled) and say nothing of the step."""
CAUTION = 1.0
"""Seconds after a slow answer during which no answer waits for the next."""


class StepRaised(Exception):
    """The step's own code raised: the answer carries its traceback, not the worker's, and the
    limit it met, if it met one."""

    def __init__(self, exc: BaseException) -> None:
        self.error = one_line(exc)
        super().__init__(self.error)
        self.traceback = _step_traceback(exc)
        self.limit = limit_of(exc)


def serve(sock: socket.socket, app: App, *, limit: int, output: int, since: float) -> int:
    """Answer requests until `shutdown` or the end of the connection; the exit status.
    Requests may be `limit` bytes, answers `output`."""
    incoming = Incoming(scratch_base())
    pace = Pace()
    while True:
        try:
            frame = read_frame(sock, limit)
            if frame is None or frame.type == "shutdown":
                return EXIT_OK
            if frame.type == "chunk":
                incoming.take(frame.header, frame.parts)
                continue
            if frame.type == "run":
                items = [(Run.from_header(frame.header), list(frame.parts))]
            elif frame.type == "batch":
                items = read_batch(frame.header, frame.parts)
            else:
                raise ProtocolError(f"unexpected message {frame.type!r}")
        except ProtocolError as err:
            print(f"feather worker: protocol error: {err}", file=sys.stderr, flush=True)
            return EXIT_PROTOCOL
        try:
            pace.answer(sock, app, items, since=since, incoming=incoming, output=output)
        finally:
            incoming.clear()


class Pace:
    """When answers are written. Quick answers of a batch wait a moment for the next ones, so
    that one write (and one wake-up of the server) carries several. A slow answer, the batch's
    last, and every answer for a while after a step was slow go at once: a quick answer never
    waits behind a slow neighbour twice in a row."""

    def __init__(self) -> None:
        self.slow_at = float("-inf")

    def answer(
        self,
        sock: socket.socket,
        app: App,
        items: list[tuple[Run, list[Part]]],
        *,
        since: float,
        incoming: Incoming,
        output: int,
    ) -> None:
        runs = iter(run for run, _ in items)
        held: list[tuple[Run, Answer]] = []
        left = len(items)
        held_since = last = time.monotonic()
        for group in answers(app, items, since=since, incoming=incoming):
            now = time.monotonic()
            took, last = now - last, now
            if not held:
                held_since = now
            held.extend((next(runs), a) for a in group)
            left -= len(group)
            if took >= SLOW:
                self.slow_at = now
            quick = took < QUICK and now - self.slow_at > CAUTION
            if left > 0 and quick and now - held_since < HOLD:
                continue
            self._send(sock, held, output)
            held = []
            last = time.monotonic()
        if held:
            self._send(sock, held, output)

    @staticmethod
    def _send(sock: socket.socket, held: list[tuple[Run, Answer]], output: int) -> None:
        reap_children()
        send_answers(sock, held, output)
        _flush()


def send_answers(sock: socket.socket, answers: list[tuple[Run, Answer]], output: int) -> None:
    """Send answers, each after the large files it names, in as few writes as may be."""
    pending: list[bytes] = []
    for run, (header, parts, files) in answers:
        if files:
            sock.sendall(b"".join(pending))
            pending = []
            header, parts = _send_files(sock, run, header, parts, files, output)
        pending.append(_encoded(run, header, parts, output))
    sock.sendall(pending[0] if len(pending) == 1 else b"".join(pending))


def _send_files(
    sock: socket.socket,
    run: Run,
    header: dict[str, Any],
    parts: Sequence[Part],
    files: Sequence[tuple[str, int]],
    output: int,
) -> tuple[dict[str, Any], Sequence[Part]]:
    """Stream a result's large files; the result, or the error that replaces it when they
    are over the output limit (then nothing is sent) or cannot be read."""
    total = sum(memoryview(p).nbytes for p in parts) + sum(size for _, size in files)
    if total > output:
        reason = (
            f"RequestError: the result cannot be sent: its files and parts are {total} bytes, "
            f"over the output limit of {output}"
        )
        return messages.error(run.id, reason, "", "output"), ()
    for k, (path, size) in enumerate(files):
        try:
            send_file(sock, k, path, size)
        except OSError as err:
            reason = f"RequestError: the result cannot be sent: {one_line(err)}"
            return messages.error(run.id, reason, "", limit_of(err)), ()
    return header, parts


def reap_children() -> None:
    """Waits for the children a step left behind that have exited and that nothing of the
    model will wait for. Unreaped, they stay as zombies, and each counts against the worker's
    process limit until the worker is replaced. Children still running are left alone, and so
    are exited ones a live `subprocess.Popen` or `multiprocessing` process stands for: their
    owners wait for them and read their exit status."""
    # One call says whether any child has exited unwaited; the search runs only then.
    try:
        exited = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return
    if exited is None:
        return
    zombies = _zombie_children()
    if not zombies:
        return
    for pid in zombies - _owned_children():
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def _zombie_children() -> set[int]:
    """The worker's children that have exited and not been waited for."""
    found = set()
    for pid in _children():
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses.
        fields = stat[stat.rfind(b")") + 2 :].split()
        if fields and fields[0] == b"Z":
            found.add(pid)
    return found


def _children() -> set[int]:
    """The worker's child processes, from each of its threads' `children` list in /proc."""
    out: set[int] = set()
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            with open(f"/proc/self/task/{tid}/children") as f:
                out.update(int(p) for p in f.read().split())
        except OSError:
            continue
    return out


def _owned_children() -> set[int]:
    """Children that a live object of the model's will wait for."""
    import gc
    import multiprocessing
    import subprocess

    owned = {p.pid for p in multiprocessing.active_children() if p.pid is not None}
    owned |= {
        o.pid for o in gc.get_objects() if isinstance(o, subprocess.Popen) and o.returncode is None
    }
    return owned


def _encoded(run: Run, header: dict[str, Any], parts: Sequence[Part], limit: int) -> bytes:
    try:
        return encode(header, parts, limit)
    except (FrameTooLarge, ValueError) as err:
        # Say why instead of leaving the server waiting.
        reason = f"RequestError: the result cannot be sent: {err}"
        met = "output" if isinstance(err, FrameTooLarge) else None
        return encode(messages.error(run.id, reason, "", met), (), limit)


Answer = tuple[dict[str, Any], list[bytes], list[tuple[str, int]]]
"""A header, its parts, and the large files (path, size) streamed ahead of it."""


def read_batch(header: dict[str, Any], parts: Sequence[Part]) -> list[tuple[Run, list[Part]]]:
    """The requests of a `batch`: each item is a `run` header whose `part_count` parts follow
    the previous item's, its `{"part": N}` counted from its own first part."""
    items = header.get("items")
    if not isinstance(items, list) or not items:
        raise ProtocolError("a batch's items must be a non-empty array")
    out = []
    start = 0
    for item in items:
        if not isinstance(item, dict) or item.get("type") != "run":
            raise ProtocolError("each item of a batch must be a run")
        count = item.get("part_count")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise ProtocolError("each item of a batch needs a part_count")
        out.append((Run.from_header(item), list(parts[start : start + count])))
        start += count
    if start != len(parts):
        raise ProtocolError(f"a batch's items count {start} parts, but the frame has {len(parts)}")
    return out


def answers(
    app: App, items: list[tuple[Run, list[Part]]], *, since: float, incoming: Incoming
) -> Iterator[list[Answer]]:
    """The answers to the requests, in order, in groups as they become ready: one group for
    a batching step's call, else one answer at a time."""
    if app.batch_size(items[0][0]) is not None:
        yield answer_together(app, items, since=since, incoming=incoming)
        return
    for run, parts in items:
        yield [answer(app, run, parts, since=since, incoming=incoming)]


def answer(
    app: App,
    run: Run,
    parts: Sequence[Part],
    *,
    since: float,
    incoming: Incoming | None = None,
) -> Answer:
    """The answer to one run: `result` with its parts and files, or `error`. Large input
    files streamed ahead of it are `incoming`."""
    try:
        with Scratch(incoming=incoming) as scratch:
            function, components = app.resolve(run)
            kwargs = step_arguments(components, run.inputs, parts, scratch)
            if run.index > 0:
                if "state" in kwargs:
                    raise RequestError("an input component's id is 'state', the name of the state")
                kwargs["state"] = load_state(run.state, parts)
            try:
                value = function(**kwargs)
            except (Exception, SystemExit) as exc:
                raise StepRaised(exc) from None
            # Inside the scratch folder's lifetime: an output may show an uploaded file.
            encoded = encode_return(value, since=since)
            result = messages.result(run.id, encoded.outputs, encoded.state)
            if not encoded.files:
                return result, encoded.parts, []
            # Files the step made in the scratch folder are streamed from it: they go before
            # it does.
            scratch.keep()
            return result, encoded.parts, encoded.files
    except StepRaised as raised:
        return messages.error(run.id, raised.error, raised.traceback, raised.limit), [], []
    except RequestError as err:
        return _request_error(run, err)
    except Exception as err:
        error = messages.error(run.id, one_line(err), traceback.format_exc(), limit_of(err))
        return error, [], []


def answer_together(
    app: App,
    items: list[tuple[Run, list[Part]]],
    *,
    since: float,
    incoming: Incoming | None = None,
) -> list[Answer]:
    """The answers to requests for one batching step, from one call: each argument a list with
    a value per request, the return value a list with a result per request. A request whose
    inputs cannot be converted fails alone; when the call raises, every request in it fails."""
    out: list[Answer | None] = [None] * len(items)
    with Scratch(incoming=incoming) as scratch:
        calls: list[tuple[int, dict[str, Any]]] = []
        function = None
        for i, (run, parts) in enumerate(items):
            try:
                function, components = app.resolve(run)
                if app.batch_size(run) is None:
                    raise RequestError(f"step {run.step!r} does not batch")
                calls.append((i, step_arguments(components, run.inputs, parts, scratch)))
            except RequestError as err:
                out[i] = _request_error(run, err)
            except Exception as err:
                tb = traceback.format_exc()
                out[i] = messages.error(run.id, one_line(err), tb, limit_of(err)), [], []
        if calls and function is not None:
            for i, answer in _call_together(
                function, calls, [items[i][0] for i, _ in calls], since
            ):
                out[i] = answer
        if any(a is not None and a[2] for a in out):
            scratch.keep()
    return [a for a in out if a is not None]


def _call_together(
    function: StepFunction,
    calls: list[tuple[int, dict[str, Any]]],
    runs: list[Run],
    since: float,
) -> Iterator[tuple[int, Answer]]:
    kwargs = {key: [args[key] for _, args in calls] for key in calls[0][1]}
    try:
        try:
            values = function(**kwargs)
        except (Exception, SystemExit) as exc:
            raise StepRaised(exc) from None
        if not isinstance(values, (list, tuple)) or len(values) != len(calls):
            got = (
                f"{len(values)} results"
                if isinstance(values, (list, tuple))
                else type(values).__name__
            )
            raise RequestError(
                f"a batching step must return a list with one result per request: "
                f"got {got} for {len(calls)} requests"
            )
    except StepRaised as raised:
        for (i, _), run in zip(calls, runs, strict=True):
            yield i, (messages.error(run.id, raised.error, raised.traceback, raised.limit), [], [])
        return
    except RequestError as err:
        for (i, _), run in zip(calls, runs, strict=True):
            yield i, _request_error(run, err)
        return
    for (i, _), run, value in zip(calls, runs, values, strict=True):
        try:
            encoded = encode_return(value, since=since)
        except RequestError as err:
            yield i, _request_error(run, err)
            continue
        except Exception as err:
            error = messages.error(run.id, one_line(err), traceback.format_exc(), limit_of(err))
            yield i, (error, [], [])
            continue
        result = messages.result(run.id, encoded.outputs, encoded.state)
        yield i, (result, encoded.parts, encoded.files)


def _request_error(run: Run, err: RequestError) -> Answer:
    cause = err.__cause__
    detail = "".join(traceback.format_exception(cause)) if cause is not None else ""
    return messages.error(run.id, f"{type(err).__name__}: {err}", detail), [], []


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
