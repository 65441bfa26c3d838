"""`batch` frames: several requests in one frame, one answer frame each, in order."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

import feather as ftr
from feather.step import step_info
from feather.worker.protocol import Frame

from .worker_support import WorkerProcess, write_app

SIZES = """
    import feather as ftr

    def sizes(docs, word):
        if word == "raise":
            raise KeyError("no such word")
        lengths = ",".join(str(len(d.read())) for d in docs or [])
        return ftr.Text.View(f"{lengths} {word}", id="out")

    ftr.build("sizes", [ftr.File.Upload(id="docs", required=False), ftr.Text.In(id="word")],
              [sizes])
"""

DOUBLE = """
    import feather as ftr

    @ftr.step(batch=True, max_batch_size=4)
    def double(x):
        if 13 in x:
            raise ValueError("unlucky")
        if 7 in x:
            return [ftr.Text.View("only one")]
        return [ftr.Text.View(f"{v * 2} of {len(x)}", id="out") for v in x]

    ftr.build("double", [ftr.Number.In(id="x", integer=True)], [double])
"""

Start = Callable[[str], WorkerProcess]


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Start]:
    workers: list[WorkerProcess] = []

    def start(source: str) -> WorkerProcess:
        write_app(tmp_path, source)
        worker = WorkerProcess(tmp_path)
        workers.append(worker)
        worker.hello()
        return worker

    yield start
    for worker in workers:
        worker.close()


def batch(worker: WorkerProcess, step: str, items: Sequence[tuple[dict[str, Any], list[bytes]]]):
    """Send one `batch` of runs numbered from 1 and read one answer per item."""
    headers = []
    parts: list[bytes] = []
    for i, (inputs, own) in enumerate(items, start=1):
        run = {"type": "run", "id": i, "step": step, "index": 0, "inputs": inputs, "state": None}
        headers.append(run | {"part_count": len(own)})
        parts += own
    worker.send({"type": "batch", "items": headers}, parts)
    return [worker.read() for _ in items]


def texts(answers: list[Frame]) -> list[Any]:
    return [
        a.header["outputs"][0]["text"] if a.type == "result" else a.header["error"] for a in answers
    ]


def test_each_request_of_a_batch_gets_its_own_answer_and_parts(start: Start) -> None:
    worker = start(SIZES)
    answers = batch(
        worker,
        "sizes",
        [
            ({"docs": [{"part": 0}], "word": "a"}, [b"abc"]),
            ({"docs": [{"part": 0}, {"part": 1}], "word": "b"}, [b"hello", b"xy"]),
            ({"word": "raise"}, []),
            ({"word": "c"}, []),
        ],
    )
    assert [a.header["id"] for a in answers] == [1, 2, 3, 4]
    assert texts(answers) == ["3 a", "5,2 b", "KeyError: 'no such word'", " c"]
    # The worker goes on serving plain runs afterwards.
    assert worker.run("sizes", {"word": "d"}, request=9).header["outputs"][0]["text"] == " d"


def test_a_batching_step_answers_a_batch_with_one_call(start: Start) -> None:
    worker = start(DOUBLE)
    answers = batch(worker, "double", [({"x": n}, []) for n in (1, 2, 3)])
    assert texts(answers) == ["2 of 3", "4 of 3", "6 of 3"]
    # A lone request is a list of one.
    assert worker.run("double", {"x": 5}).header["outputs"][0]["text"] == "10 of 1"


def test_a_request_that_cannot_be_converted_fails_alone(start: Start) -> None:
    worker = start(DOUBLE)
    answers = batch(worker, "double", [({"x": 1}, []), ({"x": "two"}, []), ({"x": 3}, [])])
    assert texts(answers) == ["2 of 2", "RequestError: input 'x' must be a number", "6 of 2"]


def test_when_the_call_fails_every_request_in_it_fails(start: Start) -> None:
    worker = start(DOUBLE)
    raised = batch(worker, "double", [({"x": 1}, []), ({"x": 13}, [])])
    assert texts(raised) == ["ValueError: unlucky"] * 2
    assert "raise ValueError" in raised[0].header["traceback"]
    short = batch(worker, "double", [({"x": 7}, []), ({"x": 1}, [])])
    reason = (
        "RequestError: a batching step must return a list with one result per request: "
        "got 1 results for 2 requests"
    )
    assert texts(short) == [reason] * 2


@pytest.mark.parametrize(
    "items, part_count",
    [([], None), ([{"type": "shutdown"}], None), ([{"type": "run"}], 0), ("x", None)],
    ids=["empty", "not-a-run", "bad-run", "not-a-list"],
)
def test_a_malformed_batch_exits_2(start: Start, items: Any, part_count: Any) -> None:
    worker = start(SIZES)
    if part_count is not None:
        items = [item | {"part_count": part_count} for item in items]
    worker.send({"type": "batch", "items": items})
    code, _, err = worker.wait()
    assert code == 2 and "protocol error" in err


def test_parts_that_do_not_add_up_exit_2(start: Start) -> None:
    worker = start(SIZES)
    run = {"type": "run", "id": 1, "step": "sizes", "index": 0, "inputs": {}, "state": None}
    worker.send({"type": "batch", "items": [run | {"part_count": 2}]}, [b"x"])
    code, _, err = worker.wait()
    assert code == 2 and "parts" in err


def test_the_step_marks_its_batch_size() -> None:
    @ftr.step(batch=True, max_batch_size=16)
    def f(x: list[int]) -> list[Any]:
        return x

    assert step_info(f).to_dict()["batch"] == {"max_size": 16}
    with pytest.raises(ftr.ManifestError, match="between 1 and 1024"):
        ftr.step(batch=True, max_batch_size=0)(f)


BIG = """
    import feather as ftr

    def make(size):
        return ftr.File.Download(id="out", files=[ftr.LocalFile(b"x" * int(size), name="f.bin")])

    ftr.build("big", [ftr.Number.In(id="size", integer=True)], [make])
"""


def test_an_answer_over_the_frame_limit_becomes_an_error_and_the_next_goes_out(
    tmp_path: Path,
) -> None:
    write_app(tmp_path, BIG)
    worker = WorkerProcess(tmp_path, env={"FEATHER_MAX_FRAME": "100"})
    try:
        worker.hello()
        answers = batch(worker, "make", [({"size": 1000}, []), ({"size": 10}, [])])
        assert answers[0].type == "error"
        assert "cannot be sent" in answers[0].header["error"]
        assert "over the limit of 100" in answers[0].header["error"]
        assert answers[1].type == "result" and answers[1].parts == [b"x" * 10]
    finally:
        worker.close()


NAP = """
    import time

    import feather as ftr

    def nap(word):
        if word == "slow":
            time.sleep(0.5)
        if word == "nap":
            time.sleep(0.002)
        return ftr.Text.View(word, id="out")

    ftr.build("nap", [ftr.Text.In(id="word")], [nap])
"""


def test_a_quick_answer_waits_behind_a_slow_neighbour_at_most_once(start: Start) -> None:
    worker = start(NAP)

    def arrivals(words: list[str]) -> list[float]:
        headers = [
            {
                "type": "run",
                "id": i,
                "step": "nap",
                "index": 0,
                "inputs": {"word": w},
                "state": None,
                "part_count": 0,
            }
            for i, w in enumerate(words, start=1)
        ]
        sent = time.monotonic()
        worker.send({"type": "batch", "items": headers})
        out = []
        for w in words:
            answer = worker.read()
            assert answer.header["outputs"][0]["text"] == w, answer.header
            out.append(time.monotonic() - sent)
        return out

    # Quick answers are held a moment for the ones after them; the first time a step is slow,
    # the quick answer before it waited for it.
    assert arrivals(["a", "b", "c"])[-1] < 0.4
    # An answer that is not quick goes with those held before it, and those after it follow.
    assert len(arrivals(["a", "nap", "c", "d"])) == 4
    assert arrivals(["a", "slow"])[0] >= 0.5
    # From then on a quick answer goes at once.
    quick, slow = arrivals(["a", "slow"])
    assert quick < 0.3 <= 0.5 <= slow, (quick, slow)
