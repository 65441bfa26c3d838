"""Bundles: which files go in, and an archive that is the same bytes for the same files."""

from __future__ import annotations

import gzip
import hashlib
import os
import tarfile
from pathlib import Path

import pytest

import feather as ftr
from feather.bundle import Bundle

from .conftest import git, write

APP = {"app.py": "print('hi')\n", "lib/util.py": "X = 1\n", "model/weights.bin": "\0\1\2"}


def _names(bundle: Bundle) -> list[str]:
    return [f.name for f in bundle.files()]


def _archive(bundle: Bundle, dest: Path) -> bytes:
    bundle.write(dest)
    return dest.read_bytes()


def test_same_files_give_the_same_bytes(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    write(first, APP)
    for name in reversed(list(APP)):  # created in another order, at other times
        write(second, {name: APP[name]})
    os.utime(second / "app.py", (1_000_000, 1_000_000))
    a = _archive(Bundle.here(first), tmp_path / "a.tar.gz")
    b = _archive(Bundle.here(second), tmp_path / "b.tar.gz")
    assert a == b
    digest = Bundle.here(first).write(tmp_path / "c.tar.gz")
    assert digest == "sha256:" + hashlib.sha256(a).hexdigest()
    (second / "lib/util.py").write_text("X = 2\n")
    assert _archive(Bundle.here(second), tmp_path / "d.tar.gz") != a


def test_archive_entries_are_normalised(tmp_path: Path) -> None:
    write(tmp_path / "src", APP)
    (tmp_path / "src/lib/util.py").chmod(0o775)
    (tmp_path / "src/app.py").chmod(0o600)
    dest = tmp_path / "bundle.tar.gz"
    Bundle.here(tmp_path / "src").write(dest)
    raw = dest.read_bytes()
    assert raw[:2] == b"\x1f\x8b" and raw[4:8] == b"\0\0\0\0", "gzip mtime 0"
    assert raw[3] & 0x08 == 0, "no file name in the gzip header"
    with tarfile.open(dest) as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == sorted(APP)
        for m in members:
            assert m.isreg()
            assert (m.mtime, m.uid, m.gid, m.uname, m.gname) == (0, 0, 0, "", "")
        modes = {m.name: m.mode for m in members}
        fh = tar.extractfile("model/weights.bin")
        assert fh is not None and fh.read() == b"\0\1\2"
    assert modes == {"app.py": 0o644, "lib/util.py": 0o755, "model/weights.bin": 0o644}
    assert gzip.decompress(raw)  # a plain gzip stream


def test_skips_caches_and_virtual_environments(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            **APP,
            "__pycache__/app.cpython-311.pyc": "",
            "lib/__pycache__/util.pyc": "",
            ".venv/pyvenv.cfg": "",
            ".venv/lib/site.py": "",
            "venv/bin/python": "",
            "env311/pyvenv.cfg": "",
            "env311/lib/x.py": "",
            ".mypy_cache/x": "",
            ".pytest_cache/x": "",
            ".ruff_cache/x": "",
            "web/node_modules/pkg/index.js": "",
            ".feather/build/manifest.json": "",
            ".git/HEAD": "",
        },
    )
    assert _names(Bundle.here(tmp_path)) == sorted(APP)


def test_gitignore_outside_git(tmp_path: Path) -> None:
    write(tmp_path, {**APP, ".gitignore": "*.bin\n", "debug.log": ""})
    (tmp_path / ".gitignore").write_text("*.bin\n*.log\n")
    assert _names(Bundle.here(tmp_path)) == [".gitignore", "app.py", "lib/util.py"]


def test_listed_files_are_kept_even_when_ignored(tmp_path: Path) -> None:
    write(tmp_path, {**APP, ".gitignore": "*.bin\n"})
    bundle = ftr.bundle(["app.py", "lib"], model_files=["model/weights.bin"], root=tmp_path)
    assert _names(bundle) == ["app.py", "lib/util.py", "model/weights.bin"]
    absolute = ftr.bundle([tmp_path / "app.py"], root=tmp_path)
    assert _names(absolute) == ["app.py"]


def test_inside_git_uses_git_ls_files(git_repo: Path) -> None:
    write(git_repo, {**APP, ".gitignore": "*.bin\n", "gone.py": ""})
    git(git_repo, "add", ".")
    git(git_repo, "commit", "-qm", "first")
    (git_repo / "gone.py").unlink()
    write(
        git_repo, {"new.py": "", "trace.bin": "", "tools/env/pyvenv.cfg": "", "tools/env/x.py": ""}
    )
    assert _names(Bundle.here(git_repo)) == [".gitignore", "app.py", "lib/util.py", "new.py"]
    assert _names(Bundle.here(git_repo / "lib")) == ["util.py"]


def test_symlinks(tmp_path: Path) -> None:
    root = tmp_path / "root"
    write(root, APP)
    (root / "alias.py").symlink_to("lib/util.py")
    (root / "lib_link").symlink_to("lib", target_is_directory=True)
    files = {f.name: f for f in Bundle.here(root).files()}
    assert sorted(files) == ["alias.py", *sorted(APP)]
    assert files["alias.py"].source == (root / "lib/util.py").resolve()
    dest = tmp_path / "b.tar.gz"
    Bundle.here(root).write(dest)
    with tarfile.open(dest) as tar:
        alias = tar.getmember("alias.py")
        assert alias.isreg() and alias.size == len("X = 1\n")
    (tmp_path / "outside.txt").write_text("secret")
    (root / "leak.txt").symlink_to(tmp_path / "outside.txt")
    with pytest.raises(ftr.BundleError, match="outside the bundle root"):
        Bundle.here(root).files()


def test_errors(tmp_path: Path) -> None:
    write(tmp_path / "root", APP)
    (tmp_path / "other.py").write_text("")
    with pytest.raises(ftr.BundleError, match="does not exist"):
        ftr.bundle(["missing.py"], root=tmp_path / "root").files()
    with pytest.raises(ftr.BundleError, match="outside the bundle root"):
        ftr.bundle(["../other.py"], root=tmp_path / "root").files()
    with pytest.raises(TypeError):
        ftr.bundle("app.py", root=tmp_path / "root")  # type: ignore[arg-type]


def test_exclude_skips_the_build_folder(tmp_path: Path) -> None:
    write(tmp_path, {**APP, "out/manifest.json": "{}"})
    files = Bundle.here(tmp_path).files(exclude=[tmp_path / "out"])
    assert [f.name for f in files] == sorted(APP)


def test_default_root_is_the_calling_script_folder() -> None:
    assert Bundle.here().root == Path(__file__).resolve().parent
    assert ftr.bundle(["test_bundle.py"]).root == Path(__file__).resolve().parent
