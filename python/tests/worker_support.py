"""A real worker process behind a Unix socket the test binds, as the server would."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from feather.worker.protocol import DEFAULT_MAX_BODY, Frame, encode, read_frame

TIMEOUT = 10.0


def write_app(folder: Path, source: str, name: str = "app.py") -> Path:
    """Write an app file (dedented) into `folder`."""
    path = folder / name
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


class WorkerProcess:
    """`python -m feather.worker` started in `folder` against a freshly bound socket.

    The socket lives in a short temporary folder: Unix socket paths are limited to ~100 bytes.
    """

    def __init__(self, folder: Path, entry: str = "app.py", env: dict[str, str] | None = None):
        self.socket_dir = tempfile.mkdtemp(prefix="fw-")
        self.socket_path = os.path.join(self.socket_dir, "w.sock")
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.socket_path)
        self.listener.listen(1)
        self.listener.settimeout(TIMEOUT)
        self.conn: socket.socket | None = None
        command = [sys.executable, "-m", "feather.worker"]
        command += ["--socket", self.socket_path, "--entry", entry]
        self.proc = subprocess.Popen(
            command,
            cwd=folder,
            env={**os.environ, "FEATHER_WORKER": "1", **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def accept(self) -> socket.socket:
        if self.conn is None:
            self.conn, _ = self.listener.accept()
            self.conn.settimeout(TIMEOUT)
        return self.conn

    def read(self) -> Frame:
        frame = read_frame(self.accept(), DEFAULT_MAX_BODY)
        assert frame is not None, "the worker closed the connection"
        return frame

    def hello(self) -> dict[str, Any]:
        frame = self.read()
        assert frame.type == "hello", frame.header
        return frame.header

    def send(self, header: dict[str, Any], parts: Sequence[bytes] = ()) -> None:
        self.accept().sendall(encode(header, parts))

    def run(
        self,
        step: str,
        inputs: dict[str, Any],
        *,
        request: int = 1,
        index: int = 0,
        components: list[dict[str, Any]] | None = None,
        state: bytes | None = None,
        parts: Sequence[bytes] = (),
    ) -> Frame:
        """Send a `run` and read the answer; the state, when given, is the last part."""
        parts = list(parts)
        header: dict[str, Any] = {
            "type": "run",
            "id": request,
            "step": step,
            "index": index,
            "inputs": inputs,
            "components": components,
            "state": None,
        }
        if state is not None:
            header["state"] = {"part": len(parts)}
            parts.append(state)
        self.send(header, parts)
        answer = self.read()
        assert answer.header["id"] == request
        return answer

    def wait(self) -> tuple[int, str, str]:
        """The exit status, stdout and stderr once the worker ends."""
        out, err = self.proc.communicate(timeout=TIMEOUT)
        return self.proc.returncode, out, err

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.listener.close()
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()
        shutil.rmtree(self.socket_dir, ignore_errors=True)
