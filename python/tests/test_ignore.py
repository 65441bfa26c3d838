"""The stdlib `.gitignore` matcher, checked against git itself on the same tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from feather.bundle import Bundle
from feather.ignore import IgnoreRules, parse

from .conftest import git, write


def _ignored(text: str, path: str, is_dir: bool = False) -> bool:
    return IgnoreRules(parse(text)).ignored(path, is_dir)


@pytest.mark.parametrize(
    ("pattern", "path", "is_dir", "ignored"),
    [
        ("*.log", "a.log", False, True),
        ("*.log", "deep/er/a.log", False, True),
        ("*.log", "a.logs", False, False),
        ("/build", "build", True, True),
        ("/build", "src/build", True, False),
        ("build/", "src/build", True, True),
        ("build/", "build", False, False),
        ("doc/*.txt", "doc/a.txt", False, True),
        ("doc/*.txt", "doc/sub/a.txt", False, False),
        ("**/cache", "a/b/cache", True, True),
        ("a/**/z", "a/z", False, True),
        ("a/**/z", "a/b/c/z", False, True),
        ("logs/**", "logs/x/y", False, True),
        ("file?.py", "file1.py", False, True),
        ("file[0-9].py", "filex.py", False, False),
        ("file[!0-9].py", "filex.py", False, True),
        ("\\#hash", "#hash", False, True),
        ("# comment", "# comment", False, False),
        ("trailing   ", "trailing", False, True),
    ],
)
def test_patterns(pattern: str, path: str, is_dir: bool, ignored: bool) -> None:
    assert _ignored(pattern, path, is_dir) is ignored


def test_negation_and_order() -> None:
    rules = "*.txt\n!keep.txt\n"
    assert _ignored(rules, "a.txt")
    assert not _ignored(rules, "keep.txt")
    assert _ignored("!keep.txt\n*.txt\n", "keep.txt")


def test_nested_gitignore_is_relative_to_its_folder(tmp_path: Path) -> None:
    write(tmp_path, {"sub/.gitignore": "/local.txt\n", "sub/local.txt": "", "local.txt": ""})
    rules = IgnoreRules().descend(tmp_path, "").descend(tmp_path / "sub", "sub")
    assert rules.ignored("sub/local.txt", False)
    assert not rules.ignored("local.txt", False)


TREE = {
    ".gitignore": "*.log\n/build/\ndata/**/*.bin\n!data/keep/*.bin\nsecret*\n",
    "app.py": "",
    "run.log": "",
    "build/out.txt": "",
    "lib/build/mod.py": "",
    "lib/.gitignore": "*.tmp\n!important.tmp\n",
    "lib/x.tmp": "",
    "lib/important.tmp": "",
    "data/a/b.bin": "",
    "data/keep/c.bin": "",
    "data/d.bin": "",
    "secrets/key": "",
    "notes/secret.md": "",
    "notes/public.md": "",
}


def test_walker_agrees_with_git(tmp_path: Path, git_repo: Path) -> None:
    plain = tmp_path / "plain"
    write(plain, TREE)
    write(git_repo, TREE)
    walked = [f.name for f in Bundle.here(plain).files()]
    listed = sorted(git(git_repo, "ls-files", "--others", "--exclude-standard").splitlines())
    assert walked == listed
    assert [f.name for f in Bundle.here(git_repo).files()] == listed
