"""Provenance: versions, platform, installed packages and the git state of the bundle root."""

from __future__ import annotations

import platform
import sys
from importlib import metadata
from pathlib import Path

import feather as ftr
from feather.provenance import capture, git_state, installed_versions, requirement_name

from .conftest import git, write


def test_versions_and_platform(tmp_path: Path) -> None:
    got = capture([], tmp_path)
    assert got == {
        "sdk": ftr.__version__,
        "python": platform.python_version(),
        "platform": f"{sys.platform}-{platform.machine()}",
        "packages": {},
    }


def test_requirement_names() -> None:
    assert requirement_name("numpy") == "numpy"
    assert requirement_name("scikit-learn==1.5.2") == "scikit-learn"
    assert requirement_name("Scikit_Learn[all] >= 1") == "scikit-learn"
    assert requirement_name("zope.interface; python_version > '3'") == "zope-interface"
    assert requirement_name("torch @ https://example.invalid/torch.whl") == "torch"
    assert requirement_name("==1.0") is None


def test_installed_versions_skip_missing_packages() -> None:
    got = installed_versions(["PyTest>=7", "surely-not-installed-pkg==1", "pytest"])
    assert got == {"pytest": metadata.version("pytest")}


def test_outside_git(tmp_path: Path) -> None:
    assert git_state(tmp_path) is None
    assert "git" not in capture([], tmp_path)


def _dirty(root: Path, exclude: list[Path] | None = None) -> bool:
    state = git_state(root, exclude or [])
    assert state is not None
    return bool(state["dirty"])


def test_git_commit_branch_and_dirty(git_repo: Path) -> None:
    write(git_repo, {"app.py": "A = 1\n", ".gitignore": "*.bin\n"})
    assert git_state(git_repo) is None, "no commit yet"
    git(git_repo, "add", ".")
    git(git_repo, "commit", "-qm", "first")
    head = git(git_repo, "rev-parse", "HEAD")
    assert git_state(git_repo) == {"commit": head, "branch": "main", "dirty": False}

    (git_repo / "weights.bin").write_text("ignored files do not count")
    (git_repo / "build").mkdir()
    (git_repo / "build/manifest.json").write_text("{}")
    assert _dirty(git_repo, [git_repo / "build"]) is False

    (git_repo / "new.py").write_text("")
    assert _dirty(git_repo) is True, "an untracked file makes it dirty"
    (git_repo / "new.py").unlink()
    (git_repo / "app.py").write_text("A = 2\n")
    assert _dirty(git_repo) is True, "a changed file makes it dirty"

    git(git_repo, "checkout", "-q", "-b", "feature")
    assert (git_state(git_repo) or {}).get("branch") == "feature"


def test_detached_head_has_no_branch(git_repo: Path) -> None:
    write(git_repo, {"app.py": ""})
    git(git_repo, "add", ".")
    git(git_repo, "commit", "-qm", "first")
    git(git_repo, "checkout", "-q", "--detach")
    state = git_state(git_repo)
    assert state is not None and "branch" not in state
    assert state["commit"] == git(git_repo, "rev-parse", "HEAD")


def test_subfolder_of_a_repository(git_repo: Path) -> None:
    write(git_repo, {"models/digits/app.py": "", "other/x.py": ""})
    git(git_repo, "add", ".")
    git(git_repo, "commit", "-qm", "first")
    (git_repo / "other/x.py").write_text("changed elsewhere")
    state = capture(["pytest"], git_repo / "models/digits")
    assert state["git"]["dirty"] is False, "only the bundle root's folder counts"
    assert state["packages"] == {"pytest": metadata.version("pytest")}
