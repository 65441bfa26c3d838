"""End to end: publish twice to the real server binary (`FEATHER_BIN`) and read the versions back.

Run with `FEATHER_BIN=target/debug/feather pytest python/tests/test_e2e_publish.py`.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import feather as ftr

from .server_support import Server, clean_env, get, serve

NAME = "e2e-digits"

APP = """
import json
import feather as ftr

@ftr.step(title="Classify")
def classify(a_digit, threshold):
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


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with serve(tmp_path) as running:
        yield running


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

    status, model = get(f"{server.url}/api/v1/models/alice/{NAME}", server.token)
    assert status == 200, model
    status, listing = get(f"{server.url}/api/v1/models/alice/{NAME}/versions", server.token)
    assert status == 200, listing
    versions = {v["version"]: v["digest"] for v in listing["versions"]}
    assert versions == {1: first["digest"], 2: first["digest"]}

    with pytest.raises(ftr.PublishError) as err:
        ftr.upload(build, server=server.url, token="not-a-token")
    assert err.value.status == 401, str(err.value)

    # Private: the owner sees it; anonymous callers are told it does not exist.
    third = ftr.upload(build, server=server.url, token=server.token, private=True)
    assert third["version"] == 3
    status, _ = get(f"{server.url}/api/v1/models/alice/{NAME}")
    assert status == 404
    status, model = get(f"{server.url}/api/v1/models/alice/{NAME}", server.token)
    assert (status, model["visibility"]) == (200, "private")
    ftr.upload(build, server=server.url, token=server.token, private=False)
    status, model = get(f"{server.url}/api/v1/models/alice/{NAME}")
    assert (status, model["visibility"]) == (200, "public")


def test_feather_publish_builds_an_example_with_its_app_file(
    server: Server, tmp_path: Path
) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "shout"
    env = clean_env()
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
    status, version = get(f"{server.url}/api/v1/models/alice/shout/versions/latest")
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


BROKEN = """
import json
import sys

import feather as ftr

@ftr.step
def echo(text):
    return ftr.Text.View(text)

inputs = [ftr.Text.In(id="text")]
requirements = ["feather-no-such-package==0.0.1"]
print(json.dumps(ftr.publish("broken", inputs, [echo], requirements=requirements, wait=False)))
try:
    ftr.publish("broken", inputs, [echo], requirements=requirements)
except ftr.PublishError as err:
    print(json.dumps({"code": err.code, "message": err.message}))
    sys.exit(3)
"""


def test_publish_waits_for_the_environment_and_raises_when_it_fails(tmp_path: Path) -> None:
    # An index with no packages: the build fails at once, and nothing is fetched.
    index = tmp_path / "index"
    index.mkdir()
    with serve(tmp_path / "server", "--package-index", f"file://{index}") as server:
        project = tmp_path / "project"
        project.mkdir()
        (project / "app.py").write_text(BROKEN)
        env = {**clean_env(), "FEATHER_SERVER": server.url, "FEATHER_TOKEN": server.token}
        done = subprocess.run(
            [sys.executable, "app.py"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 3, done.stdout + done.stderr
    quick, failed = (json.loads(line) for line in done.stdout.strip().splitlines()[-2:])
    assert quick["version"] == 1, "wait=False returns once the version is stored"
    assert failed["code"] == "environment_failed", failed
    assert "feather-no-such-package" in failed["message"], failed
