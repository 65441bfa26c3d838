"""Frames: the golden vectors the Rust side writes, limits, malformed input and short reads."""

from __future__ import annotations

import json
import random
import socket
import struct
import threading
from pathlib import Path
from typing import Any

import pytest

from feather.worker import messages
from feather.worker.messages import Run
from feather.worker.protocol import (
    DEFAULT_MAX_BODY,
    MAX_HEADER,
    FrameTooLarge,
    ProtocolError,
    decode,
    encode,
    max_body,
    max_output,
    read_frame,
    write_frame,
)

VECTORS = Path(__file__).resolve().parents[2] / "tests" / "vectors" / "protocol"
GOLDEN = sorted(VECTORS.glob("*.json"))


def _golden(path: Path) -> tuple[dict[str, Any], list[bytes], bytes]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return data["header"], [bytes.fromhex(p) for p in data["parts"]], bytes.fromhex(data["frame"])


def test_golden_frames_exist() -> None:
    assert {p.stem for p in GOLDEN} >= {"hello", "fatal", "run", "result", "error", "shutdown"}


@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_golden_frame_decodes_and_encodes_exactly(path: Path) -> None:
    header, parts, frame = _golden(path)
    decoded = decode(frame)
    assert decoded.header == header
    assert list(decoded.header) == list(header)
    assert [bytes(p) for p in decoded.parts] == parts
    assert encode(header, parts) == frame


def test_message_headers_match_the_golden_frames() -> None:
    """The worker's own messages put their keys in the order the Rust side writes them."""
    hello = messages.hello("digits", ["classify"]) | {"sdk": "0.1.0", "pid": 4242}
    assert encode(hello) == _golden(VECTORS / "hello.json")[2]
    header, _, frame = _golden(VECTORS / "fatal.json")
    assert encode(messages.fatal(header["error"], header["traceback"])) == frame
    header, _, frame = _golden(VECTORS / "error.json")
    assert encode(messages.error(7, header["error"], header["traceback"])) == frame
    header, _, frame = _golden(VECTORS / "error_at_a_limit.json")
    error = messages.error(7, header["error"], header["traceback"], header["limit"])
    assert encode(error) == frame
    assert header["limit"] in messages.LIMITS
    header, parts, frame = _golden(VECTORS / "result.json")
    result = messages.result(7, header["outputs"], header["state"]["part"])
    assert encode(result, parts) == frame


def test_run_vectors_read_as_runs() -> None:
    run = Run.from_header(decode(_golden(VECTORS / "run.json")[2]).header)
    assert (run.id, run.step, run.index, run.state) == (7, "classify", 0, None)
    assert run.inputs["image"] == {"part": 0, "name": "seven.png", "type": "image/png"}
    assert run.components is not None and run.components[0]["id"] == "image"
    again = Run.from_header(decode(_golden(VECTORS / "run_with_state.json")[2]).header)
    assert (again.index, again.state, again.components) == (1, 0, [])


def test_parts_are_listed_only_when_there_are_some() -> None:
    assert json.loads(encode({"type": "shutdown"})[8:]) == {"type": "shutdown"}
    frame = encode({"type": "x", "parts": [99]}, [b"ab", memoryview(b"cde")])
    assert frame[:8] == struct.pack(">II", len(frame) - 13, 5)
    decoded = decode(frame)
    assert decoded.header == {"type": "x", "parts": [2, 3]}
    assert [bytes(p) for p in decoded.parts] == [b"ab", b"cde"]


def test_encoding_refuses_what_a_reader_would_refuse() -> None:
    with pytest.raises(FrameTooLarge):
        encode({"type": "x", "text": "a" * MAX_HEADER})
    with pytest.raises(FrameTooLarge):
        encode({"type": "x"}, [b"12345"], limit=4)
    for bad in (float("nan"), object(), "\ud800"):
        with pytest.raises(ValueError):
            encode({"type": "x", "value": bad})


def _frame(header: bytes, body: bytes = b"", h: int | None = None, b: int | None = None) -> bytes:
    lengths = struct.pack(">II", len(header) if h is None else h, len(body) if b is None else b)
    return lengths + header + body


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (b"\x00\x00", "shorter"),
        (_frame(b'{"type":"x"}', h=99), "do not match"),
        (_frame(b"{nope"), "not UTF-8 JSON"),
        (_frame(b"\xff"), "not UTF-8 JSON"),
        (_frame(b"[1]"), "string type"),
        (_frame(b'{"type":1}'), "string type"),
        (_frame(b'{"type":"x","parts":[-1]}'), "list of lengths"),
        (_frame(b'{"type":"x","parts":[true]}'), "list of lengths"),
        (_frame(b'{"type":"x","parts":[2]}', b"abc"), "add up"),
        (_frame(b'{"type":"x"}', b"abc"), "add up"),
        (_frame(b"", h=MAX_HEADER + 1, b=0), "header of"),
        (_frame(b'{"type":"x","parts":[5]}', b"12345"), "body of"),
    ],
)
def test_malformed_frames_are_protocol_errors(frame: bytes, reason: str) -> None:
    with pytest.raises(ProtocolError, match=reason):
        decode(frame, limit=4)


def test_the_body_limit_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FEATHER_MAX_FRAME", raising=False)
    assert max_body() == DEFAULT_MAX_BODY == 64 << 20
    monkeypatch.setenv("FEATHER_MAX_FRAME", "1000")
    assert max_body() == 1000
    for bad in ("lots", "0", str(1 << 32)):
        monkeypatch.setenv("FEATHER_MAX_FRAME", bad)
        with pytest.raises(ValueError, match="FEATHER_MAX_FRAME"):
            max_body()


def test_the_output_limit_defaults_to_the_body_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEATHER_MAX_FRAME", "1000")
    monkeypatch.delenv("FEATHER_MAX_OUTPUT", raising=False)
    assert max_output() == 1000
    monkeypatch.setenv("FEATHER_MAX_OUTPUT", "10")
    assert max_output() == 10
    monkeypatch.setenv("FEATHER_MAX_OUTPUT", "ten")
    with pytest.raises(ValueError, match="FEATHER_MAX_OUTPUT"):
        max_output()


def test_frames_read_whole_from_pieces_of_any_size() -> None:
    frames = [
        ({"type": "run", "id": 1, "inputs": {"t": "é" * 50}}, [b"x" * 3000, b""]),
        ({"type": "shutdown"}, []),
        ({"type": "result", "id": 2}, [bytes(range(256)) * 40]),
    ]
    data = b"".join(encode(h, p) for h, p in frames)
    reader, writer = socket.socketpair()
    rng = random.Random(7)

    def send() -> None:
        at = 0
        while at < len(data):
            n = rng.choice([1, 2, 3, 7, 100, 5000])
            writer.sendall(data[at : at + n])
            at += n
        writer.close()

    thread = threading.Thread(target=send)
    thread.start()
    reader.settimeout(5)
    try:
        for header, parts in frames:
            frame = read_frame(reader, DEFAULT_MAX_BODY)
            assert frame is not None
            assert {k: v for k, v in frame.header.items() if k != "parts"} == header
            assert [bytes(p) for p in frame.parts] == [p for p in parts]
        assert read_frame(reader, DEFAULT_MAX_BODY) is None
    finally:
        thread.join()
        reader.close()


def test_a_connection_closed_inside_a_frame_is_a_protocol_error() -> None:
    reader, writer = socket.socketpair()
    with reader, writer:
        write_frame(writer, {"type": "x"}, [b"abcdef"])
        frame = encode({"type": "x"}, [b"abcdef"])
        writer.sendall(frame[:-2])
        writer.shutdown(socket.SHUT_WR)
        assert read_frame(reader, DEFAULT_MAX_BODY) is not None
        with pytest.raises(ProtocolError, match="closed inside a frame"):
            read_frame(reader, DEFAULT_MAX_BODY)
