"""A real `feather serve` (the binary in `FEATHER_BIN`) on a free port with its own data folder,
and the little HTTP the tests need to talk to it."""

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@dataclass
class Server:
    url: str
    token: str
    log: Path
    data: Path
    binary: str

    def api(self, path: str) -> str:
        return f"{self.url}/api/v1{path}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def feather_binary() -> str:
    """`FEATHER_BIN`, resolved; the test fails (it is not skipped) when it is missing."""
    binary = os.environ.get("FEATHER_BIN")
    if not binary:
        pytest.fail("set FEATHER_BIN to the feather server binary, e.g. target/debug/feather")
    if not Path(binary).is_file():
        pytest.fail(f"FEATHER_BIN={binary} is not a file")
    return str(Path(binary).resolve())


def uv_binary() -> str:
    """The uv that builds models' environments: the one beside this Python (the repository's
    .venv has it), else the first on PATH."""
    beside = Path(sys.executable).with_name("uv")
    return str(beside) if beside.is_file() else (shutil.which("uv") or "uv")


def clean_env() -> dict[str, str]:
    """This process's environment without `FEATHER_*` settings, which would override flags."""
    return {k: v for k, v in os.environ.items() if not k.startswith("FEATHER_")}


def request(
    method: str,
    url: str,
    body: Any = None,
    token: str | None = None,
    timeout: float = 60,
) -> tuple[int, Any]:
    """An HTTP request with an optional JSON body; the status and the decoded JSON answer
    (error answers too, so a failing assertion can show them)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as err:
        raw = err.read()
        try:
            return err.code, json.loads(raw or b"null")
        except ValueError:
            return err.code, raw.decode(errors="replace")


def request_files(
    url: str,
    files: dict[str, tuple[str, bytes, str]],
    token: str | None = None,
    timeout: float = 60,
) -> tuple[int, Any]:
    """A POST of files as multipart/form-data parts named after their inputs (`{id: (file
    name, bytes, type)}`); the status and the decoded JSON answer."""
    from feather.publish import encode_multipart

    body, content_type = encode_multipart(
        [(id_, name, kind, data) for id_, (name, data, kind) in files.items()]
    )
    headers = {
        "Content-Type": content_type,
        **({"Authorization": f"Bearer {token}"} if token else {}),
    }
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def get(url: str, token: str | None = None) -> tuple[int, Any]:
    return request("GET", url, token=token, timeout=5)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    # The server's own process group: its workers and uv go with it.
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@contextmanager
def serve(folder: Path, *extra: str) -> Iterator[Server]:
    """Start `feather serve` with its data folder and log in `folder`, wait for `/healthz`,
    create a token for user `alice`; stop the server (and its workers) afterwards. `extra`
    adds flags; environments are built with `uv_binary()`."""
    binary = feather_binary()
    data = folder / "data"
    data.mkdir(parents=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = folder / "server.log"
    env = clean_env()
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [
                binary,
                "serve",
                "--data",
                str(data),
                "--addr",
                f"127.0.0.1:{port}",
                "--uv",
                uv_binary(),
                *extra,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server exited with {process.returncode}:\n{log.read_text()}")
            try:
                if get(f"{url}/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"GET /healthz did not answer 200 within 20 s:\n{log.read_text()}")
            time.sleep(0.1)
        created = subprocess.run(
            [binary, "token", "create", "--user", "alice", "--data", str(data)],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
        assert created.returncode == 0, f"token create failed:\n{created.stdout}\n{created.stderr}"
        token = created.stdout.strip().splitlines()[-1].strip()
        assert token, "token create printed no token"
        yield Server(url, token, log, data, binary)
    finally:
        stop(process)


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_deploy_script(server: Server, example: str) -> str:
    """Runs `examples/<example>/deploy.py` against the server as its docstring says; its
    output, once it succeeded."""
    env = {**clean_env(), "FEATHER_SERVER": server.url, "FEATHER_TOKEN": server.token}
    done = subprocess.run(
        [sys.executable, "deploy.py"],
        cwd=EXAMPLES / example,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def feather_publish(server: Server, path: Path, *extra: str) -> str:
    """`feather publish PATH` against the server as its owner, with this Python; its output,
    once it succeeded."""
    done = subprocess.run(
        [server.binary, "publish", str(path), "--python", sys.executable, *extra],
        env={**clean_env(), "FEATHER_SERVER": server.url, "FEATHER_TOKEN": server.token},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout
