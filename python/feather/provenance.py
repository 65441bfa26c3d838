"""Provenance: where a build came from (SDK, Python, platform, package versions, git state)."""

from __future__ import annotations

import platform
import re
import subprocess
import sys
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

from ._version import __version__

_NAME_RE = re.compile(r"\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)")


def capture(
    requirements: Iterable[str], root: Path, exclude: Iterable[Path] = ()
) -> dict[str, Any]:
    """The `provenance` of a manifest built from the bundle folder `root`.

    `exclude` names folders (the build output) whose changes do not make the work tree dirty.
    """
    out: dict[str, Any] = {
        "sdk": __version__,
        "python": platform.python_version(),
        "platform": f"{sys.platform}-{platform.machine()}",
        "packages": installed_versions(requirements),
    }
    git = git_state(root, exclude)
    if git is not None:
        out["git"] = git
    return out


def requirement_name(requirement: str) -> str | None:
    """The distribution name of a requirement line, normalised as PEP 503 says.

    >>> requirement_name("Scikit_Learn[alldeps]>=1.5 ; python_version >= '3.10'")
    'scikit-learn'
    """
    match = _NAME_RE.match(requirement)
    if match is None:
        return None
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def installed_versions(requirements: Iterable[str]) -> dict[str, str]:
    """The installed version of each requirement's distribution; missing ones are left out."""
    out: dict[str, str] = {}
    for requirement in requirements:
        name = requirement_name(requirement)
        if name is None or name in out:
            continue
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return dict(sorted(out.items()))


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    except OSError:
        return None
    return done.stdout if done.returncode == 0 else None


def git_state(root: Path, exclude: Iterable[Path] = ()) -> dict[str, Any] | None:
    """`{commit, branch?, dirty}` when `root` is in a git work tree with a commit, else `None`.

    Dirty means the folder `root` differs from the commit: a tracked file changed, or an
    untracked file that `.gitignore` does not exclude, as `git status` reports them.
    """
    if (_git(root, "rev-parse", "--is-inside-work-tree") or "").strip() != "true":
        return None
    commit = (_git(root, "rev-parse", "--verify", "-q", "HEAD") or "").strip()
    if not commit:
        return None
    state: dict[str, Any] = {"commit": commit}
    branch = (_git(root, "symbolic-ref", "--short", "-q", "HEAD") or "").strip()
    if branch:
        state["branch"] = branch
    pathspec = ["."]
    for folder in exclude:
        try:
            rel = Path(folder).absolute().relative_to(root.absolute())
        except ValueError:
            continue
        pathspec.append(f":(exclude,literal){rel.as_posix()}")
    status = _git(root, "status", "--porcelain", "-z", "--untracked-files=all", "--", *pathspec)
    state["dirty"] = bool(status) if status is not None else True
    return state
