"""A small `.gitignore` matcher for folders outside a git work tree.

It follows gitignore(5): `#` comments, `!` negation, a trailing `/` for folders only, patterns
with a `/` anchored to their `.gitignore`'s folder, `*`, `?`, `[...]` and `**`. Later rules win
and a deeper `.gitignore` comes after its parents', so it can override them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Rule:
    """One pattern of a `.gitignore` in folder `base` (a `/`-separated path, `""` for the root)."""

    base: str
    regex: re.Pattern[str]
    negate: bool
    dir_only: bool

    def matches(self, rel: str, is_dir: bool) -> bool:
        if self.dir_only and not is_dir:
            return False
        if self.base:
            if not rel.startswith(self.base + "/"):
                return False
            rel = rel[len(self.base) + 1 :]
        return self.regex.fullmatch(rel) is not None


def parse(text: str, base: str = "") -> list[Rule]:
    """The rules of one `.gitignore` whose folder is `base`, relative to the walked root."""
    rules = []
    for raw in text.splitlines():
        line = _strip_trailing_spaces(raw)
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        if negate or line.startswith(("\\!", "\\#")):
            line = line[1:]
        dir_only = line.endswith("/")
        line = line.rstrip("/")
        if not line:
            continue
        anchored = "/" in line
        line = line.lstrip("/")
        body = translate(line)
        if not anchored:
            body = "(?:.*/)?" + body
        rules.append(Rule(base, re.compile(body, re.DOTALL), negate, dir_only))
    return rules


def _strip_trailing_spaces(line: str) -> str:
    stripped = line.rstrip(" ")
    if stripped.endswith("\\") and len(stripped) < len(line):
        return stripped + " "
    return stripped


def translate(pattern: str) -> str:
    """The regular expression of one glob pattern, without anchoring."""
    out = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if pattern.startswith("**", i):
            at_start = i == 0 or pattern[i - 1] == "/"
            at_end = i + 2 == n or pattern[i + 2] == "/"
            if at_start and at_end:
                if i + 2 == n:
                    out.append(".*")
                    i += 2
                else:
                    out.append("(?:.*/)?")
                    i += 3
                continue
            out.append("[^/]*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            end = _class_end(pattern, i)
            if end < 0:
                out.append(re.escape(c))
                i += 1
                continue
            inner = pattern[i + 1 : end]
            if inner.startswith("!") or inner.startswith("^"):
                inner = "^" + inner[1:]
            out.append("[" + inner.replace("\\", "\\\\") + "]")
            i = end + 1
        elif c == "\\" and i + 1 < n:
            out.append(re.escape(pattern[i + 1]))
            i += 2
        else:
            out.append(re.escape(c))
            i += 1
    return "".join(out)


def _class_end(pattern: str, start: int) -> int:
    j = start + 1
    if j < len(pattern) and pattern[j] in "!^":
        j += 1
    if j < len(pattern) and pattern[j] == "]":
        j += 1
    end = pattern.find("]", j)
    return end


class IgnoreRules:
    """The rules in force while walking a folder tree; `descend` adds a folder's `.gitignore`."""

    def __init__(self, rules: list[Rule] | None = None) -> None:
        self.rules = rules or []

    def descend(self, folder: Path, rel: str) -> IgnoreRules:
        gitignore = folder / ".gitignore"
        if not gitignore.is_file():
            return self
        text = gitignore.read_text(encoding="utf-8", errors="replace")
        return IgnoreRules(self.rules + parse(text, rel))

    def ignored(self, rel: str, is_dir: bool) -> bool:
        result = False
        for rule in self.rules:
            if rule.matches(rel, is_dir):
                result = not rule.negate
        return result
