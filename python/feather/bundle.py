"""Bundles: the files of a model version, collected from a root folder into a reproducible archive.

The archive is deterministic (sorted entries, mtime 0, owner 0, no user names, gzip mtime 0), so
the same files give the same bytes and the server stores them once, by sha256.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import stat
import subprocess
import tarfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ._caller import script_folder
from .errors import BundleError
from .ignore import IgnoreRules

SKIP_DIRS = frozenset(
    {
        ".git",
        "__pycache__",
        ".venv",
        "venv",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        "node_modules",
        ".feather",
    }
)
"""Folders never bundled, wherever they are; `.feather` holds the SDK's build output."""

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class BundleFile:
    """One file of a bundle: its path in the archive and the file whose bytes it holds."""

    name: str
    source: Path
    executable: bool


class Bundle:
    """The files of a model: code and model files, named relative to a root folder.

    The root defaults to the folder of the calling script. A listed folder brings in its files,
    minus what `.gitignore` excludes and folders that are never bundled (`.git`, `__pycache__`,
    virtual environments, tool caches, `node_modules`, `.feather`). A listed file is always
    included, even when `.gitignore` excludes it (model weights often are).

    Example, in an app file::

        files = ftr.bundle(["app.py", "lib/"], model_files=["model.onnx"])
        everything = ftr.bundle.here()  # every file beside the app file
    """

    def __init__(
        self,
        code_files: Sequence[PathLike],
        model_files: Sequence[PathLike] = (),
        *,
        root: PathLike | None = None,
    ) -> None:
        if isinstance(code_files, (str, os.PathLike)) or isinstance(
            model_files, (str, os.PathLike)
        ):
            raise TypeError("code_files and model_files are lists of paths")
        self.root = Path(root if root is not None else script_folder()).absolute()
        self.code_files = [Path(p) for p in code_files]
        self.model_files = [Path(p) for p in model_files]

    @classmethod
    def here(cls, root: PathLike | None = None) -> Bundle:
        """Every file under `root` (default: the calling script's folder), minus ignored ones."""
        folder = Path(root if root is not None else script_folder())
        return cls(["."], root=folder)

    def files(self, exclude: Iterable[Path] = ()) -> list[BundleFile]:
        """The files of the bundle sorted by name, skipping anything under a folder of `exclude`."""
        if not self.root.is_dir():
            raise BundleError(f"bundle root {self.root} is not a folder")
        skip = [Path(p).absolute() for p in exclude]
        found: dict[str, BundleFile] = {}
        for listed in [*self.code_files, *self.model_files]:
            path = listed if listed.is_absolute() else self.root / listed
            rel = self._relative(path, listed)
            if path.is_dir() and not path.is_symlink():
                names = _folder_files(self.root, rel)
            elif path.exists() or path.is_symlink():
                names = [rel]
            else:
                raise BundleError(f"bundle file {listed} does not exist under {self.root}")
            for name in names:
                if any(_is_under(self.root / name, s) for s in skip):
                    continue
                if name not in found:
                    found[name] = self._entry(name)
        return [found[name] for name in sorted(found)]

    def write(self, dest: PathLike, exclude: Iterable[Path] = ()) -> str:
        """Write `bundle.tar.gz` to `dest`; return its digest `sha256:<hex>`."""
        return write_archive(self.files(exclude), Path(dest))

    def _relative(self, path: Path, listed: Path) -> str:
        for base, target in ((self.root, path.absolute()), (self.root.resolve(), path.resolve())):
            try:
                rel = Path(os.path.normpath(target)).relative_to(base).as_posix()
            except ValueError:
                continue
            if rel != ".." and not rel.startswith("../"):
                return "" if rel == "." else rel
        raise BundleError(f"bundle file {listed} is outside the bundle root {self.root}")

    def _entry(self, name: str) -> BundleFile:
        path = self.root / name
        real = path.resolve()
        if (path.is_symlink() or real != path.absolute()) and not _is_under(
            real, self.root.resolve()
        ):
            raise BundleError(f"{name} links to {real}, outside the bundle root {self.root}")
        try:
            st = real.stat()
        except OSError as err:
            raise BundleError(f"cannot read bundle file {name}: {err}") from err
        if not stat.S_ISREG(st.st_mode):
            raise BundleError(f"{name} is not a regular file")
        return BundleFile(name, real, bool(st.st_mode & 0o111))


def _is_under(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _folder_files(root: Path, rel: str) -> list[str]:
    """The files to bundle under `root/rel`, as paths relative to `root`."""
    folder = root / rel if rel else root
    listed = _git_files(folder)
    if listed is None:
        names = _walk(root, rel)
    else:
        prefix = f"{rel}/" if rel else ""
        names = [prefix + name for name in listed]
    return [name for name in names if _keep(root, name)]


def _git_files(folder: Path) -> list[str] | None:
    """Tracked and untracked, not ignored files under `folder`; `None` outside a git work tree."""
    try:
        inside = subprocess.run(
            ["git", "rev-parse", "--is-inside-work-tree"],
            cwd=folder,
            capture_output=True,
            text=True,
            check=False,
        )
        if inside.returncode != 0 or inside.stdout.strip() != "true":
            return None
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "."],
            cwd=folder,
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    names = {os.fsdecode(n) for n in out.split(b"\0") if n}
    return sorted(n for n in names if (folder / n).is_file() or (folder / n).is_symlink())


def _walk(root: Path, rel: str) -> list[str]:
    rules = IgnoreRules()
    parts = rel.split("/") if rel else []
    for depth in range(len(parts) + 1):
        sub = "/".join(parts[:depth])
        rules = rules.descend(root / sub if sub else root, sub)
    out: list[str] = []
    _walk_into(root, rel, rules, out)
    return out


def _walk_into(root: Path, rel: str, rules: IgnoreRules, out: list[str]) -> None:
    folder = root / rel if rel else root
    with os.scandir(folder) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            name = f"{rel}/{entry.name}" if rel else entry.name
            if entry.is_dir(follow_symlinks=False):
                if _skipped_folder(Path(entry.path)) or rules.ignored(name, is_dir=True):
                    continue
                _walk_into(root, name, rules.descend(Path(entry.path), name), out)
            elif entry.is_symlink() and Path(entry.path).is_dir():
                if not rules.ignored(name, is_dir=True):
                    out.append(name)
            elif not rules.ignored(name, is_dir=False):
                out.append(name)


def _skipped_folder(folder: Path) -> bool:
    return folder.name in SKIP_DIRS or (folder / "pyvenv.cfg").is_file()


def _keep(root: Path, name: str) -> bool:
    """False for files in a folder that is never bundled (git may list them)."""
    parts = name.split("/")
    folder = root
    for part in parts[:-1]:
        folder = folder / part
        if _skipped_folder(folder):
            return False
    path = root / name
    if path.is_symlink() and path.is_dir():
        if not _is_under(path.resolve(), root.resolve()):
            raise BundleError(f"{name} links to {path.resolve()}, outside the bundle root {root}")
        return False  # its target is bundled under its own name when it is selected
    return parts[-1] != ".git"


def write_archive(files: Sequence[BundleFile], dest: Path) -> str:
    """Write a deterministic `tar.gz` of `files` to `dest`; return `sha256:<hex>` of its bytes."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with (
        open(dest, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for file in sorted(files, key=lambda f: f.name):
            with open(file.source, "rb") as fh:
                info = tarfile.TarInfo(file.name)
                info.size = os.fstat(fh.fileno()).st_size
                info.mtime = 0
                info.mode = 0o755 if file.executable else 0o644
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                info.type = tarfile.REGTYPE
                tar.addfile(info, fh)
    return file_digest(dest)


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return "sha256:" + digest.hexdigest()
