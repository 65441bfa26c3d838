"""End to end: publish twice to the real server binary (`FEATHER_BIN`) and read the versions back.

Run with `FEATHER_BIN=target/debug/feather pytest python/tests/test_e2e_publish.py`.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import feather as ftr

NAME = "e2e-digits"

APP = """
import json
import feather as ftr

@ftr.step(title="Classify")
def classify(image, threshold):
    return [ftr.Label({"seven": 0.9, "one": 0.1})]

results = [
    ftr.publish(
        "MODEL_NAME",
        [ftr.Image.Upload(title="A digit"), ftr.Slider(min=0, max=1, step=0.1, id="threshold")],
        [classify],
        title="Digits, end to end",
        file_bundle=ftr.bundle(["app.py", "weights.bin"]),
    )
    for _ in range(2)
]
print(json.dumps(results))
""".replace("MODEL_NAME", NAME)


@dataclass
class Server:
    url: str
    token: str
    log: Path
    data: Path
    binary: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _binary() -> str:
    binary = os.environ.get("FEATHER_BIN")
    if not binary:
        pytest.fail("set FEATHER_BIN to the feather server binary, e.g. target/debug/feather")
    if not Path(binary).is_file():
        pytest.fail(f"FEATHER_BIN={binary} is not a file")
    return str(Path(binary).resolve())


def _get(url: str, token: str | None = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, None


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    binary = _binary()
    data = tmp_path / "data"
    data.mkdir()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEATHER_")}
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [binary, "serve", "--data", str(data), "--addr", f"127.0.0.1:{port}"],
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
                if _get(f"{url}/healthz")[0] == 200:
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
        _stop(process)


def test_publish_twice_then_list_versions(server: Server, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "app.py").write_text(APP)
    (project / "weights.bin").write_bytes(bytes(range(256)) * 4)
    env = {**os.environ, "FEATHER_SERVER": server.url, "FEATHER_TOKEN": server.token}
    env.pop("FEATHER_WORKER", None)
    env.pop("FEATHER_BUILD_DIR", None)
    done = subprocess.run(
        [sys.executable, "app.py"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, (
        f"app.py failed:\n{done.stderr}\nserver log:\n{server.log.read_text()}"
    )
    first, second = json.loads(done.stdout.strip().splitlines()[-1])

    assert first["model"] == second["model"] == f"alice/{NAME}"
    assert (first["version"], second["version"]) == (1, 2)
    assert first["digest"].startswith("sha256:")
    assert first["digest"] == second["digest"], "the same files give the same bundle"
    assert second["deduplicated"] is True
    blobs = [p for p in (server.data / "blobs").rglob("*") if p.is_file()]
    assert len(blobs) == 1, f"the bundle is stored once: {blobs}"
    build = project / ".feather" / "build"
    archive = hashlib.sha256((build / "bundle.tar.gz").read_bytes()).hexdigest()
    assert first["digest"] == f"sha256:{archive}", "the digest is the archive's sha256"

    status, model = _get(f"{server.url}/api/v1/models/alice/{NAME}", server.token)
    assert status == 200, model
    status, listing = _get(f"{server.url}/api/v1/models/alice/{NAME}/versions", server.token)
    assert status == 200, listing
    versions = {v["version"]: v["digest"] for v in listing["versions"]}
    assert versions == {1: first["digest"], 2: first["digest"]}

    with pytest.raises(ftr.PublishError) as err:
        ftr.upload(build, server=server.url, token="not-a-token")
    assert err.value.status == 401, str(err.value)


def test_feather_publish_builds_an_example_with_its_app_file(
    server: Server, tmp_path: Path
) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "shout"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEATHER_")}
    # As the README has it: a Python given relative to where `feather publish` is typed, which
    # is not the app's folder.
    wrapper = tmp_path / "bin" / "python"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    wrapper.chmod(0o755)
    python = "bin/python"
    done = subprocess.run(
        [
            server.binary,
            "publish",
            str(example),
            "--server",
            server.url,
            "--token",
            server.token,
            "--python",
            python,
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    assert done.stdout.startswith("published alice/shout version 1"), done.stdout
    status, version = _get(f"{server.url}/api/v1/models/alice/shout/versions/latest")
    assert status == 200, version
    manifest = version["manifest"]
    assert manifest["runtime"]["entry"] == "app.py"
    assert [c["id"] for c in manifest["init"]] == ["text"]
    assert manifest["steps"][0] == {
        "name": "shout",
        "title": "Shout",
        "description": "Returns your text in capitals.",
    }
    assert manifest["provenance"]["sdk"] == ftr.__version__
    assert not (example / ".feather").exists(), "publishing builds in a scratch folder"
