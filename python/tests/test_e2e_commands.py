"""`feather demo` and `feather dev` driven as a person would: real processes, real workers."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from .server_support import clean_env, feather_binary, free_port, request, stop, uv_binary

ROOT = Path(__file__).resolve().parents[2]


def _until(what: str, check: Callable[[], Any], timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


@contextmanager
def _running(args: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with open(log, "ab") as out:
        p = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, env=clean_env(), start_new_session=True
        )
    try:
        yield p
    finally:
        stop(p)


def _predict(base: str, model: str, text: str) -> str | None:
    try:
        status, body = request(
            "POST", f"{base}/api/v1/models/{model}/predict", {"inputs": {"text": text}}
        )
    except OSError:
        return None  # not listening yet
    return body["outputs"][0]["text"] if status == 200 else None


def test_demo_publishes_the_examples_and_reuses_them(tmp_path: Path) -> None:
    examples = tmp_path / "examples"
    shutil.copytree(ROOT / "examples" / "shout", examples / "shout")
    port, log = free_port(), tmp_path / "demo.log"
    args = [feather_binary(), "demo", "--examples", str(examples), "--python", sys.executable]
    args += ["--uv", uv_binary(), "--data", str(tmp_path / "data"), "--addr", f"127.0.0.1:{port}"]
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
    port, log = free_port(), tmp_path / "dev.log"
    args = [feather_binary(), "dev", str(folder), "--python", sys.executable]
    args += ["--uv", uv_binary(), "--addr", f"127.0.0.1:{port}"]
    base = f"http://127.0.0.1:{port}"
    with _running(args, log):
        assert _until("the first answer", lambda: _predict(base, "dev/shout", "hi")) == "HI"
        app = folder / "app.py"
        app.write_text(app.read_text().replace("text.upper()", "text.lower() + '!'"))
        _until("the reloaded answer", lambda: _predict(base, "dev/shout", "HI") == "hi!")
    assert "reloaded: dev/shout version 2" in log.read_text(), log.read_text()
