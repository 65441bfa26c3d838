"""Frames of the worker protocol (docs/worker-protocol.md): lengths, a JSON header, raw parts.

```
u32 big-endian H | u32 big-endian B | H bytes of JSON header | B bytes of parts, back to back
```

The header lists the parts' lengths in `"parts"` (left out when there are none), so file
bytes and pickled state never travel as base64. Reads are exact: a frame may arrive in any
number of pieces.
"""

from __future__ import annotations

import json
import os
import socket
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

PROTOCOL = 2
"""The protocol version the worker announces in `hello`."""
MAX_HEADER = 1 << 20
"""The largest header: it holds metadata only."""
DEFAULT_MAX_BODY = 64 << 20
"""The largest body unless `FEATHER_MAX_FRAME` sets another."""

CHUNK = 1 << 20
"""The most bytes of a large file in one `chunk` frame."""
STREAM_AT = 8 << 20
"""Files larger than this travel as `chunk` frames, not as parts ("Large files")."""

Part = bytes | bytearray | memoryview
_LENGTHS = struct.Struct(">II")


class ProtocolError(Exception):
    """A frame breaks the protocol: the connection cannot be trusted any more."""


class FrameTooLarge(ValueError):
    """A frame to send is over a limit; the reader would refuse it."""


@dataclass
class Frame:
    """One message: its header (with `"parts"` when there are any) and its parts."""

    header: dict[str, Any]
    parts: list[Part] = field(default_factory=list)

    @property
    def type(self) -> str:
        return str(self.header["type"])


def max_body() -> int:
    """The body limit: `FEATHER_MAX_FRAME` bytes when set, else 64 MiB."""
    return _limit("FEATHER_MAX_FRAME", DEFAULT_MAX_BODY)


def max_output() -> int:
    """The body limit of answers, the model's output limit: `FEATHER_MAX_OUTPUT` bytes when
    set, else the body limit."""
    return _limit("FEATHER_MAX_OUTPUT", max_body())


def _limit(variable: str, default: int) -> int:
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    try:
        limit = int(text)
    except ValueError:
        raise ValueError(f"{variable} must be a number of bytes, not {text!r}") from None
    if not 0 < limit < 1 << 32:
        raise ValueError(f"{variable} must be between 1 and 2^32 - 1, not {limit}")
    return limit


def encode_head(
    header: dict[str, Any], parts: Sequence[Part], limit: int = DEFAULT_MAX_BODY
) -> bytes:
    """The lengths and the header of a frame; the parts follow them on the wire.

    `header` gets `"parts"` last when there are parts. Raises `FrameTooLarge` over a limit and
    `ValueError` when the header is not JSON (NaN, a lone surrogate, a Python object).
    """
    fields = {k: v for k, v in header.items() if k != "parts"}
    if parts:
        fields["parts"] = [memoryview(p).nbytes for p in parts]
    try:
        text = json.dumps(fields, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        data = text.encode("utf-8")
    except (TypeError, UnicodeEncodeError) as err:
        raise ValueError(str(err)) from err
    body = sum(fields.get("parts", ()))
    if len(data) > MAX_HEADER:
        raise FrameTooLarge(f"the header is {len(data)} bytes, over the limit of {MAX_HEADER}")
    if body > limit:
        raise FrameTooLarge(f"the parts are {body} bytes, over the limit of {limit}")
    return _LENGTHS.pack(len(data), body) + data


def encode(
    header: dict[str, Any], parts: Sequence[Part] = (), limit: int = DEFAULT_MAX_BODY
) -> bytes:
    """A whole frame's bytes."""
    return encode_head(header, parts, limit) + b"".join(bytes(p) for p in parts)


def decode(data: bytes, limit: int = DEFAULT_MAX_BODY) -> Frame:
    """The frame held in `data`, which must be exactly one frame."""
    if len(data) < _LENGTHS.size:
        raise ProtocolError("the frame is shorter than its lengths")
    h, b = _check_lengths(data[: _LENGTHS.size], limit)
    if len(data) != _LENGTHS.size + h + b:
        raise ProtocolError("the lengths do not match the frame")
    body = memoryview(data)[_LENGTHS.size + h :]
    return parse(data[_LENGTHS.size : _LENGTHS.size + h], body)


def read_frame(sock: socket.socket, limit: int) -> Frame | None:
    """Read one whole frame, or `None` when the peer closed the connection between frames."""
    lengths = bytearray(_LENGTHS.size)
    got = _fill(sock, memoryview(lengths))
    if got == 0:
        return None
    if got < len(lengths):
        raise ProtocolError(f"the connection closed inside a frame ({got} of 8 bytes)")
    h, b = _check_lengths(lengths, limit)
    header = _recv_exact(sock, h)
    body = _recv_exact(sock, b)
    return parse(header, memoryview(body))


def write_frame(
    sock: socket.socket,
    header: dict[str, Any],
    parts: Sequence[Part] = (),
    limit: int = DEFAULT_MAX_BODY,
) -> None:
    """Send one frame; nothing is sent when it cannot be encoded (see `encode_head`)."""
    sock.sendall(encode_head(header, parts, limit))
    for part in parts:
        sock.sendall(part)


def parse(header: bytes | bytearray, body: memoryview) -> Frame:
    """Check a frame's header against its body and split the body into parts."""
    try:
        fields = json.loads(bytes(header).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ProtocolError(f"the header is not UTF-8 JSON: {err}") from None
    if not isinstance(fields, dict) or not isinstance(fields.get("type"), str):
        raise ProtocolError("the header is not a JSON object with a string type")
    lengths = fields.get("parts", [])
    if not isinstance(lengths, list) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in lengths
    ):
        raise ProtocolError("the header's parts are not a list of lengths")
    if sum(lengths) != len(body):
        raise ProtocolError(f"the parts' lengths add up to {sum(lengths)}, the body is {len(body)}")
    parts: list[Part] = []
    at = 0
    for n in lengths:
        parts.append(body[at : at + n])
        at += n
    return Frame(fields, parts)


def _check_lengths(lengths: bytes | bytearray, limit: int) -> tuple[int, int]:
    h, b = _LENGTHS.unpack(bytes(lengths))
    if h > MAX_HEADER:
        raise ProtocolError(f"frame too large: a header of {h} bytes (limit {MAX_HEADER})")
    if b > limit:
        raise ProtocolError(f"frame too large: a body of {b} bytes (limit {limit})")
    return h, b


def _recv_exact(sock: socket.socket, n: int) -> bytearray:
    buf = bytearray(n)
    got = _fill(sock, memoryview(buf))
    if got < n:
        raise ProtocolError(f"the connection closed inside a frame ({got} of {n} bytes)")
    return buf


def _fill(sock: socket.socket, view: memoryview) -> int:
    """Fill `view` from the socket; fewer bytes only at the end of the connection.

    One `recv` may return any part of what was sent, so keep reading until the view is full.
    """
    got = 0
    while got < len(view):
        count = sock.recv_into(view[got:])
        if count == 0:
            break
        got += count
    return got


def send_file(sock: socket.socket, file: int, path: str, size: int) -> None:
    """Send the first `size` bytes of a file as `chunk` frames of file number `file`, the last
    one marked `end`. `OSError` when it cannot be read: the file is ended where it stopped, so
    the frames stay whole and the answer that follows can say why."""
    try:
        with open(path, "rb") as f:
            left = size
            while left > 0:
                data = f.read(min(CHUNK, left))
                if not data:
                    raise OSError(f"{path} is shorter than its {size} bytes")
                write_frame(sock, {"type": "chunk", "file": file, "end": False}, [data], CHUNK)
                left -= len(data)
    finally:
        write_frame(sock, {"type": "chunk", "file": file, "end": True})
