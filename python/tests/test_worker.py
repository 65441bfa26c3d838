"""A real worker process: start-up, requests, state, files, errors and protocol failures."""

from __future__ import annotations

import os
import pickle
import select
import struct
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import feather as ftr
from feather.worker.protocol import CHUNK, STREAM_AT, encode

from .worker_support import WorkerProcess, write_app

ECHO = """
    import feather as ftr

    def echo(text, times, loud):
        print("echo called with", repr(text))
        shown = text.upper() if loud else text
        seen = ftr.Json.View({"times": times, "loud": loud})
        return ftr.Text.View(shown * times, id="echo"), seen

    init = [ftr.Text.In(id="text"), ftr.Number.In(id="times", integer=True),
            ftr.Checkbox(id="loud", required=False)]
    ftr.build("echo", init, [echo])
"""

TWO_STEPS = """
    from dataclasses import dataclass

    import feather as ftr

    @dataclass
    class Tally:
        words: list
        secret: str

    @ftr.step(title="Count")
    def count(text):
        words = text.split()
        choose = ftr.List.SelectOne(id="word", items=words, title="Pick a word")
        return ftr.Markdown.View(f"{len(words)} words"), choose, Tally(words, "s3cret"), len(words)

    @ftr.step
    def pick(word, state):
        tally, n = state
        return ftr.Json.View({"word": word, "at": tally.words.index(word), "of": n,
                              "secret": tally.secret})

    ftr.build("words", [ftr.Text.In(id="text")], [count, pick])
"""

FILES = """
    import os

    import feather as ftr

    def convert(docs, photo):
        os.makedirs("made", exist_ok=True)
        out = os.path.abspath("made/upper.txt")
        with open(out, "w") as f:
            f.write(docs[0].read().decode().upper())
        with open("written.txt", "w") as f:
            f.write("made now")
        files = [out, ftr.LocalFile(b"raw", name="raw.dat"), b"\\x00\\x01",
                 ftr.file_ref("written.txt", name="written.txt"),
                 ftr.file_ref("bundled.txt", name="bundled.txt")]
        seen = [{"name": d.name, "type": d.type, "in_scratch": d.path.startswith(
            os.environ["FEATHER_SCRATCH"])} for d in docs]
        return (ftr.File.Download(id="out", files=files), ftr.Image.View(id="back", images=[photo]),
                ftr.Json.View(seen, id="seen"), [d.path for d in docs] + [photo.path])

    init = [ftr.File.Upload(id="docs", max_files=2), ftr.Image.Upload(id="photo")]
    ftr.build("files", init, [convert])
"""

FAILING = """
    import feather as ftr

    def ratio(a, b):
        return ftr.Text.View(str(divide(a, b)))

    def divide(a, b):
        return a / b

    ftr.build("ratio", [ftr.Number.In(id="a"), ftr.Number.In(id="b")], [ratio])
"""


Start = Callable[..., WorkerProcess]


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Start]:
    """Start a worker on an app source; every worker is stopped at the end of the test."""
    workers: list[WorkerProcess] = []

    def start(source: str, env: dict[str, str] | None = None) -> WorkerProcess:
        write_app(tmp_path, source)
        worker = WorkerProcess(tmp_path, env=env)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.close()


def test_hello_names_the_model_and_its_steps(start: Start) -> None:
    worker = start(TWO_STEPS)
    hello = worker.hello()
    assert hello == {
        "type": "hello",
        "protocol": 2,
        "sdk": ftr.__version__,
        "pid": worker.proc.pid,
        "model": "words",
        "steps": ["count", "pick"],
    }
    worker.send({"type": "shutdown"})
    assert worker.wait()[0] == 0


def test_echo_converts_values_and_prints_reach_stdout(start: Start) -> None:
    worker = start(ECHO)
    worker.hello()
    answer = worker.run("echo", {"text": "ab", "times": 3.0})
    assert answer.header == {
        "type": "result",
        "id": 1,
        "outputs": [
            {"id": "echo", "type": "Text.View", "required": True, "text": "ababab"},
            {
                "id": "output_2",
                "type": "Json.View",
                "required": True,
                "data": {"times": 3, "loud": None},
            },
        ],
        "state": None,
    }
    assert answer.parts == []
    # Line-buffered: the print is readable while the worker still runs.
    assert select.select([worker.proc.stdout], [], [], 5)[0]
    assert worker.proc.stdout.readline() == "echo called with 'ab'\n"
    loud = worker.run("echo", {"text": "x", "times": 2, "loud": True}, request=2)
    assert loud.header["outputs"][0]["text"] == "XX"
    worker.accept().close()
    code, _, err = worker.wait()
    assert code == 0, err


def test_state_is_carried_to_the_next_step_and_never_shown(start: Start) -> None:
    worker = start(TWO_STEPS)
    worker.hello()
    first = worker.run("count", {"text": "to be or not"})
    outputs = first.header["outputs"]
    assert [o["type"] for o in outputs] == ["Markdown.View", "List.SelectOne"]
    assert outputs[1]["id"] == "word" and outputs[1]["items"] == ["to", "be", "or", "not"]
    assert first.header["state"] == {"part": 0}
    state = bytes(first.parts[0])
    assert b"s3cret" in state
    assert "s3cret" not in repr(first.header)
    second = worker.run(
        "pick", {"word": "or"}, request=2, index=1, components=[outputs[1]], state=state
    )
    assert second.header["type"] == "result", second.header
    assert second.header["outputs"][0]["data"] == {
        "word": "or",
        "at": 2,
        "of": 4,
        "secret": "s3cret",
    }
    assert second.header["state"] is None
    worker.send({"type": "shutdown"})
    assert worker.wait()[0] == 0


def test_files_arrive_as_uploads_and_leave_as_parts(start: Start, tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    (tmp_path / "bundled.txt").write_text("shipped")
    os.utime(tmp_path / "bundled.txt", (0, 0))  # as unpacked from a bundle archive
    worker = start(FILES, env={"FEATHER_SCRATCH": str(scratch)})
    worker.hello()
    inputs = {
        "docs": [{"part": 0, "name": "notes.txt"}, {"part": 1, "name": "../../etc/x.csv"}],
        "photo": {"part": 2, "name": "dot.png", "type": "image/png"},
    }
    answer = worker.run("convert", inputs, parts=[b"hello", b"a,b", b"\x89PNG"])
    assert answer.header["type"] == "result", answer.header
    download, image, seen = answer.header["outputs"]
    assert download["files"] == [
        {"part": 0, "name": "upper.txt", "type": "text/plain"},
        {"part": 1, "name": "raw.dat", "type": "application/octet-stream"},
        {"part": 2, "name": "file-2.bin", "type": "application/octet-stream"},
        {"part": 3, "name": "written.txt", "type": "text/plain"},
        {"path": "bundled.txt", "name": "bundled.txt"},
    ]
    assert image["images"] == [{"part": 4, "name": "dot.png", "type": "image/png"}]
    assert seen["data"] == [
        {"name": "notes.txt", "type": "text/plain", "in_scratch": True},
        {"name": "x.csv", "type": "text/csv", "in_scratch": True},
    ]
    parts = [bytes(p) for p in answer.parts]
    assert parts[:5] == [b"HELLO", b"raw", b"\x00\x01", b"made now", b"\x89PNG"]
    uploaded = pickle.loads(parts[answer.header["state"]["part"]])
    assert uploaded and not any(os.path.exists(p) for p in uploaded)
    assert list(scratch.iterdir()) == []
    worker.send({"type": "shutdown"})
    assert worker.wait()[0] == 0


def test_an_exception_is_answered_and_the_worker_keeps_serving(start: Start) -> None:
    worker = start(FAILING)
    worker.hello()
    failed = worker.run("ratio", {"a": 1, "b": 0})
    assert failed.header["type"] == "error"
    assert failed.header["error"] == "ZeroDivisionError: float division by zero"
    traceback = failed.header["traceback"]
    assert "in divide" in traceback and "app.py" in traceback and "return a / b" in traceback
    assert "feather/worker" not in traceback
    ok = worker.run("ratio", {"a": 1, "b": 4}, request=2)
    assert ok.header["outputs"][0]["text"] == "0.25"
    bad_step = worker.run("nope", {}, request=3)
    assert bad_step.header["type"] == "error" and "'nope'" in bad_step.header["error"]
    worker.send({"type": "shutdown"})
    assert worker.wait()[0] == 0


ZOMBIES = """
    import os
    import time

    import feather as ftr

    def spawn(n):
        for _ in range(int(n)):
            if os.fork() == 0:
                os._exit(0)
        time.sleep(0.3)
        return ftr.Text.View("spawned")

    ftr.build("zombies", [ftr.Number.In(id="n")], [spawn])
"""


def _zombie_children(pid: int) -> int:
    count = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as f:
                status = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        if status.get("PPid", "").strip() == str(pid) and status["State"].strip().startswith("Z"):
            count += 1
    return count


KEEPS_A_CHILD = """
    import subprocess
    import time

    import feather as ftr

    KEPT = []

    def begin(n):
        KEPT.append(subprocess.Popen(["sh", "-c", "exit 3"]))
        time.sleep(0.3)  # it has exited, unwaited, when the step returns
        return ftr.Text.In(id="go")

    def finish(go, state):
        return ftr.Text.View(str(KEPT[0].wait()))

    ftr.build("keeper", [ftr.Number.In(id="n")], [begin, finish])
"""


def test_a_child_the_model_keeps_is_left_for_it_to_wait_for(start: Start) -> None:
    worker = start(KEEPS_A_CHILD)
    worker.hello()
    first = worker.run("begin", {"n": 1})
    assert first.header["type"] == "result", first.header
    # The child exited while the model still holds it; answering the first step must not
    # have taken its exit status.
    asks = first.header["outputs"]
    second = worker.run("finish", {"go": "x"}, request=2, index=1, components=asks)
    assert second.header["outputs"][0]["text"] == "3", second.header


def test_children_a_step_leaves_behind_are_reaped_before_it_answers(start: Start) -> None:
    worker = start(ZOMBIES)
    worker.hello()
    answer = worker.run("spawn", {"n": 20})
    assert answer.header["type"] == "result", answer.header
    assert _zombie_children(worker.proc.pid) == 0


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("import feather\nraise RuntimeError('no weights')\n", "RuntimeError: no weights"),
        ("import feather\n", "the app registered no model"),
    ],
)
def test_a_failed_start_sends_fatal_and_exits_1(start: Start, source: str, error: str) -> None:
    worker = start(source)
    fatal = worker.read()
    assert fatal.type == "fatal"
    assert fatal.header["error"].startswith(error)
    if "RuntimeError" in error:
        assert "app.py" in fatal.header["traceback"]
    code, _, err = worker.wait()
    assert code == 1 and error in err


def _raw(header: bytes, body: bytes = b"", *, h: int | None = None, b: int | None = None) -> bytes:
    """A frame with the given lengths, true or not."""
    return struct.pack(">II", len(header) if h is None else h, len(body) if b is None else b) + (
        header + body
    )


@pytest.mark.parametrize(
    "frame",
    [
        _raw(b"not json"),
        _raw(b"{}", b"abc"),
        _raw(b'{"type":"shutdown"}', b"x"),
        _raw(b"", h=2 << 20, b=0),
        _raw(b'{"type":"run","parts":[200]}', b"x" * 200),
    ],
    ids=["not-json", "no-type", "parts-do-not-add-up", "header-too-large", "body-over-limit"],
)
def test_a_malformed_frame_exits_2(start: Start, frame: bytes) -> None:
    worker = start(ECHO, env={"FEATHER_MAX_FRAME": "100"})
    worker.hello()
    worker.accept().sendall(frame)
    code, _, err = worker.wait()
    assert code == 2 and "protocol error" in err


def test_a_frame_sent_byte_by_byte_is_read_whole(start: Start) -> None:
    worker = start(ECHO)
    worker.hello()
    frame = encode(
        {"type": "run", "id": 9, "step": "echo", "index": 0, "inputs": {"text": "é", "times": 2}}
        | {"state": None}
    )
    conn = worker.accept()
    for i in range(len(frame)):
        conn.sendall(frame[i : i + 1])
        if i % 16 == 0:
            time.sleep(0.002)
    answer = worker.read()
    assert answer.header["id"] == 9 and answer.header["outputs"][0]["text"] == "éé"
    worker.send({"type": "shutdown"})
    assert worker.wait()[0] == 0


LARGE = """
    import os
    import shutil

    import feather as ftr

    def copy(docs, extra):
        # The upload (streamed in) goes back out as it is, and a copy of it written here.
        out = os.path.join(os.path.dirname(docs[0].path), "copy.bin")
        shutil.copyfile(docs[0].path, out)
        return ftr.File.Download(id="out", files=[docs[0], out, b"small"])

    init = [ftr.File.Upload(id="docs"), ftr.Text.In(id="extra", required=False)]
    ftr.build("large", init, [copy])
"""


def test_large_files_stream_in_and_out_as_chunks(start: Start, tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    worker = start(LARGE, env={"FEATHER_SCRATCH": str(scratch)})
    worker.hello()
    data = os.urandom(STREAM_AT + 12345)
    for at in range(0, len(data), CHUNK):
        worker.send({"type": "chunk", "file": 0, "end": False}, [data[at : at + CHUNK]])
    worker.send({"type": "chunk", "file": 0, "end": True})
    worker.send(
        {
            "type": "run",
            "id": 1,
            "step": "copy",
            "index": 0,
            "inputs": {"docs": [{"file": 0, "name": "big.bin"}]},
            "state": None,
        }
    )
    got: dict[int, bytearray] = {}
    ended = []
    while (frame := worker.read()).type == "chunk":
        assert len(frame.parts) <= 1 and all(len(p) <= CHUNK for p in frame.parts)
        file = frame.header["file"]
        assert file == len(ended), "files come one after another"
        got.setdefault(file, bytearray()).extend(b"".join(bytes(p) for p in frame.parts))
        if frame.header["end"]:
            ended.append(file)
    assert frame.type == "result", frame.header
    files = frame.header["outputs"][0]["files"]
    assert files == [
        {"file": 0, "name": "big.bin", "type": "application/octet-stream"},
        {"file": 1, "name": "copy.bin", "type": "application/octet-stream"},
        {"part": 0, "name": "file-0.bin", "type": "application/octet-stream"},
    ]
    assert got[0] == data and got[1] == data and [bytes(p) for p in frame.parts] == [b"small"]
    worker.send({"type": "shutdown"})
    assert worker.wait()[0] == 0
    # Everything the request wrote is gone before the worker reads its next message: the
    # answer itself is written first, so right after it the folder may still be there.
    assert list(scratch.iterdir()) == []


def test_large_files_over_the_output_limit_are_not_sent(start: Start, tmp_path: Path) -> None:
    worker = start(LARGE, env={"FEATHER_MAX_OUTPUT": str(STREAM_AT + 1000)})
    worker.hello()
    data = b"x" * (STREAM_AT + 10)
    worker.send({"type": "chunk", "file": 0, "end": False}, [data])
    worker.send({"type": "chunk", "file": 0, "end": True})
    answer = worker.run("copy", {"docs": [{"file": 0}]})
    assert answer.header["type"] == "error" and answer.header["limit"] == "output"
    assert "over the output limit" in answer.header["error"]
    # A file that was never streamed is refused; the worker keeps serving.
    missing = worker.run("copy", {"docs": [{"file": 0}]}, request=2)
    assert missing.header["type"] == "error" and "streamed" in missing.header["error"]
    worker.send({"type": "shutdown"})
    assert worker.wait()[0] == 0


def test_a_chunk_out_of_order_is_a_protocol_error(start: Start) -> None:
    worker = start(LARGE)
    worker.hello()
    worker.send({"type": "chunk", "file": 1, "end": True})
    status, _, err = worker.wait()
    assert status == 2 and "file 0 was due" in err
