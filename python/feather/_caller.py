"""Finding the user's script: the first frame on the stack outside this package."""

from __future__ import annotations

import sys
from pathlib import Path
from types import FrameType

_PACKAGE = Path(__file__).resolve().parent


def calling_script() -> Path | None:
    """The file of the nearest caller outside the SDK, or `None` (a notebook, a REPL)."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith("<"):
            path = Path(filename).resolve()
            if _PACKAGE not in path.parents and path.is_file():
                return path
            if _PACKAGE not in path.parents:
                return None
        frame = frame.f_back
    return None


def script_folder() -> Path:
    """The calling script's folder, else the current folder."""
    script = calling_script()
    return script.parent if script is not None else Path.cwd()
