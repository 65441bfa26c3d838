"""A reader over untrusted JSON that records every problem it meets instead of stopping at the
first, mirroring the server's reader so both report the same problems at the same paths.

Readers take `(ctx, value, path)` and return the value read, or `None` after recording why not;
they are never handed a JSON `null`: an object's `null` field counts as absent.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any, TypeVar

from .errors import Problem

T = TypeVar("T")
Reader = Callable[["Ctx", Any, str], Any]

COMPONENT_ID_RE = re.compile(r"[a-z][a-z0-9_]{0,63}")


def join(path: str, key: str | int) -> str:
    """Extend the JSON Pointer `path` by `key`, escaping `~` and `/` as RFC 6901 says."""
    return path + "/" + str(key).replace("~", "~0").replace("/", "~1")


def is_int(value: Any) -> bool:
    """A JSON integer (a bool is not one, a float with no fraction is not one either)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return is_int(value) or (isinstance(value, float) and math.isfinite(value))


def kind(value: Any) -> str:
    """The JSON type of a value, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if is_number(value):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return f"a Python {type(value).__name__}"


class Ctx:
    """Collects problems while a document is read."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str, reason: str) -> None:
        self.problems.append(Problem(path, reason))


class Obj:
    """Reads the fields of one JSON object; fields never asked for are reported as unknown by
    `finish`, so a misspelt prop cannot pass silently."""

    def __init__(self, mapping: dict[str, Any], path: str) -> None:
        self.map = mapping
        self.path = path
        self.used: set[str] = set()

    @staticmethod
    def new(ctx: Ctx, value: Any, path: str) -> Obj | None:
        """Start reading `value`, or record that it is not an object."""
        if isinstance(value, dict):
            return Obj(value, path)
        ctx.add(path, f"expected an object, found {kind(value)}")
        return None

    def get(self, key: str) -> tuple[Any, str] | None:
        """Mark `key` as known; give its value and path unless absent or null."""
        if key not in self.map:
            return None
        self.used.add(key)
        value = self.map[key]
        return None if value is None else (value, join(self.path, key))

    def skip(self, key: str) -> None:
        if key in self.map:
            self.used.add(key)

    def has(self, key: str) -> bool:
        return self.map.get(key) is not None

    def finish(self, ctx: Ctx) -> None:
        """Record every field that no one asked for."""
        for key in self.map:
            if key not in self.used:
                ctx.add(join(self.path, key), "unknown field")

    def req(self, ctx: Ctx, key: str, read: Reader) -> Any:
        """A required field: its absence is a problem."""
        got = self.get(key)
        if got is None:
            ctx.add(join(self.path, key), "is required")
            return None
        return read(ctx, *got)

    def opt(self, ctx: Ctx, key: str, read: Reader) -> Any:
        """An optional field: `None` when absent or unreadable (the problem is recorded)."""
        got = self.get(key)
        return None if got is None else read(ctx, *got)


def string(max_chars: int) -> Reader:
    """A string of at most `max_chars` characters."""

    def read(ctx: Ctx, value: Any, path: str) -> str | None:
        if not isinstance(value, str):
            ctx.add(path, f"expected a string, found {kind(value)}")
            return None
        if len(value) > max_chars:
            ctx.add(path, f"must be at most {max_chars} characters")
            return None
        return value

    return read


def nonempty(max_chars: int) -> Reader:
    """A non-empty string of at most `max_chars` characters."""
    inner = string(max_chars)

    def read(ctx: Ctx, value: Any, path: str) -> str | None:
        text = inner(ctx, value, path)
        if text == "":
            ctx.add(path, "must not be empty")
            return None
        return text  # type: ignore[no-any-return]

    return read


def boolean(ctx: Ctx, value: Any, path: str) -> bool | None:
    if isinstance(value, bool):
        return value
    ctx.add(path, f"expected a boolean, found {kind(value)}")
    return None


def number(ctx: Ctx, value: Any, path: str) -> int | float | None:
    if is_number(value):
        return value  # type: ignore[no-any-return]
    ctx.add(path, f"expected a number, found {kind(value)}")
    return None


def uint(lo: int, hi: int) -> Reader:
    """A whole number within `lo..=hi`."""

    def read(ctx: Ctx, value: Any, path: str) -> int | None:
        if is_int(value):
            if lo <= value <= hi:
                return value  # type: ignore[no-any-return]
            ctx.add(path, f"must be between {lo} and {hi}")
            return None
        found = "a fraction" if is_number(value) else kind(value)
        ctx.add(path, f"expected a whole number, found {found}")
        return None

    return read


def list_of(lo: int, hi: int, item: Reader) -> Reader:
    """An array of `lo..=hi` items, each read by `item`; `None` if anything is wrong."""

    def read(ctx: Ctx, value: Any, path: str) -> list[Any] | None:
        if not isinstance(value, list):
            ctx.add(path, f"expected an array, found {kind(value)}")
            return None
        if not lo <= len(value) <= hi:
            if lo == hi:
                ctx.add(path, f"must have exactly {lo} item(s)")
            else:
                ctx.add(path, f"must have between {lo} and {hi} items")
            return None
        before = len(ctx.problems)
        out = [item(ctx, x, join(path, i)) for i, x in enumerate(value)]
        return out if len(ctx.problems) == before else None

    return read


def unique(ctx: Ctx, path: str, items: list[str], what: str) -> bool:
    """Record a problem for every repeated string in `items`, at the repeat's index."""
    ok = True
    seen: set[str] = set()
    for i, text in enumerate(items):
        if text in seen:
            ctx.add(join(path, i), f"repeats {what} {text!r}")
            ok = False
        seen.add(text)
    return ok
