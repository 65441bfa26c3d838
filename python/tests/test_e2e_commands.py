"""`feather demo` and `feather dev` driven as a person would: real processes, real workers."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
UV = ROOT / ".venv" / "bin" / "uv"


def _binary() -> str:
    binary = os.environ.get("FEATHER_BIN")
    if not binary or not Path(binary).is_file():
        pytest.fail("set FEATHER_BIN to the feather binary, e.g. target/debug/feather")
    return str(Path(binary).resolve())


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _call(url: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")
    except OSError:
        return 0, None


def _until(what: str, check: Any, timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


@contextmanager
def _running(args: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEATHER_")}
    with open(log, "ab") as out:
        p = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    try:
        yield p
    finally:
        os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def _predict(base: str, model: str, text: str) -> str | None:
    status, body = _call(f"{base}/api/v1/models/{model}/predict", {"inputs": {"text": text}})
    return body["outputs"][0]["text"] if status == 200 else None


def test_demo_publishes_the_examples_and_reuses_them(tmp_path: Path) -> None:
    examples = tmp_path / "examples"
    shutil.copytree(ROOT / "examples" / "shout", examples / "shout")
    port, log = _port(), tmp_path / "demo.log"
    args = [_binary(), "demo", "--examples", str(examples), "--python", sys.executable]
    args += ["--uv", str(UV), "--data", str(tmp_path / "data"), "--addr", f"127.0.0.1:{port}"]
    base = f"http://127.0.0.1:{port}"
    with _running(args, log):
        assert _until("the demo's answer", lambda: _predict(base, "demo/shout", "hi")) == "HI"
    assert "published demo/shout version 1" in log.read_text()
    with _running(args, log):
        assert _until("the demo's answer", lambda: _predict(base, "demo/shout", "yo")) == "YO"
    assert "demo/shout is up to date" in log.read_text(), log.read_text()


def test_dev_serves_a_folder_and_serves_each_saved_change(tmp_path: Path) -> None:
    folder = tmp_path / "shout"
    shutil.copytree(ROOT / "examples" / "shout", folder)
    port, log = _port(), tmp_path / "dev.log"
    args = [_binary(), "dev", str(folder), "--python", sys.executable, "--uv", str(UV)]
    args += ["--addr", f"127.0.0.1:{port}"]
    base = f"http://127.0.0.1:{port}"
    with _running(args, log):
        assert _until("the first answer", lambda: _predict(base, "dev/shout", "hi")) == "HI"
        app = folder / "app.py"
        app.write_text(app.read_text().replace("text.upper()", "text.lower() + '!'"))
        _until("the reloaded answer", lambda: _predict(base, "dev/shout", "HI") == "hi!")
    assert "reloaded: dev/shout version 2" in log.read_text(), log.read_text()
