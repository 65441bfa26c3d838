"""Helpers shared by the tests: temporary git repositories and app scripts run in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Keras 3 picks its backend when first imported: PyTorch is the one these tests install.
os.environ.setdefault("KERAS_BACKEND", "torch")

from feather import registry
from feather.worker.app import load_app

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str) -> str:
    """Run git in `repo` with a fixed identity and no user configuration."""
    env = {**os.environ, **GIT_ENV}
    done = subprocess.run(
        ["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@pytest.fixture
def git_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty git work tree on branch `main`; git in the SDK sees the same configuration."""
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    return repo


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.fixture
def run_app() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run a Python file with this interpreter; fail the test with its output if it fails."""

    def run(script: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, str(script)],
            cwd=script.parent,
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"{script} failed:\n{done.stdout}\n{done.stderr}"
        return done

    return run


@pytest.fixture
def worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Loads a built bundle's app as a worker does, and gives its step."""
    monkeypatch.setenv("FEATHER_WORKER", "1")
    monkeypatch.setattr(registry, "_registered", {})

    def load(folder: Path) -> Any:
        unpacked = tmp_path / "unpacked"
        with tarfile.open(folder / "bundle.tar.gz") as tar:
            tar.extractall(unpacked, filter="data")
        return load_app(str(unpacked / "app.py"))

    yield load
