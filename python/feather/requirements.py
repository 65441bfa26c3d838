"""Requirement lines of a model's environment: a PEP 508 name with optional extras, version
specifiers and markers, and nothing else.

Paths, URLs, direct references (`name @ URL`) and installer options would make the server's
installer fetch what the model's author chose; the server refuses them at publish, and the SDK
refuses them when it builds, with the same words (`tests/vectors/requirements.json`).

>>> check_requirement("scikit-learn[alldeps]>=1.5 ; python_version >= '3.10'") is None
True
>>> check_requirement("evil @ evil-1.0-py3-none-any.whl")[:32]
'must not be a direct reference ('
"""

from __future__ import annotations

MAX_LEN = 512
"""The longest requirement line."""

_OPERATORS = ("===", "~=", "==", "!=", "<=", ">=", "<", ">")
_MARKER_VARIABLES = frozenset(
    {
        "python_version",
        "python_full_version",
        "os_name",
        "sys_platform",
        "platform_release",
        "platform_system",
        "platform_version",
        "platform_machine",
        "platform_python_implementation",
        "implementation_name",
        "implementation_version",
        "extra",
        "os.name",
        "sys.platform",
        "platform.version",
        "platform.machine",
        "platform.python_implementation",
        "python_implementation",
    }
)
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
_VERSION_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.*+!_-")
_VARIABLE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")


class _Invalid(Exception):
    pass


def check_requirement(line: str) -> str | None:
    """What is wrong with a requirement line, or None when it is a name the index serves."""
    if len(line) > MAX_LEN:
        return f"must be at most {MAX_LEN} characters"
    if not line.strip():
        return "must name a package, such as numpy==2.1, not be empty"
    t = line.lstrip()
    if t.startswith("-"):
        return (
            "must be a package name with optional extras, versions and markers, "
            "not an installer option"
        )
    if t.startswith((".", "/", "~")) or "://" in t or "\\" in t:
        return (
            "must name a package on the server's index, not a path or a URL: only names with "
            "optional extras, versions and markers are installed"
        )
    try:
        _Parser(line).requirement()
    except _Invalid as e:
        return str(e)
    return None


class _Parser:
    def __init__(self, text: str) -> None:
        self.s = text
        self.at = 0

    def rest(self) -> str:
        return self.s[self.at :]

    def ws(self) -> None:
        while self.rest().startswith((" ", "\t")):
            self.at += 1

    def eat(self, token: str) -> bool:
        self.ws()
        if self.rest().startswith(token):
            self.at += len(token)
            return True
        return False

    def fail(self, what: str) -> _Invalid:
        near = self.rest()[:20]
        if not near:
            return _Invalid(f"is not a valid requirement: {what} expected at the end")
        return _Invalid(f"is not a valid requirement: {what} expected at {_quote(near)}")

    def requirement(self) -> None:
        self.ws()
        if not self.name():
            raise self.fail("a package name")
        if self.eat("["):
            self.ws()
            if not self.rest().startswith("]"):
                while True:
                    self.ws()
                    if not self.name():
                        raise self.fail("an extra's name")
                    if not self.eat(","):
                        break
            if not self.eat("]"):
                raise self.fail("`]`")
        self.ws()
        if self.rest().startswith("@"):
            raise _Invalid(
                "must not be a direct reference (`name @ URL`): only names with optional "
                "extras, versions and markers are installed, from the server's index"
            )
        if self.eat("("):
            self.specifiers()
            if not self.eat(")"):
                raise self.fail("`)`")
        elif self.rest().startswith(_OPERATORS):
            self.specifiers()
        if self.eat(";"):
            self.marker_or()
        self.ws()
        if self.at == len(self.s):
            return
        if self.rest().startswith("@"):
            raise self.fail("nothing (direct references `@ URL` are not installed)")
        raise self.fail("a version specifier, `;` and markers, or the end")

    def name(self) -> bool:
        start = end = self.at
        while end < len(self.s) and self.s[end] in _NAME_CHARS:
            end += 1
        if end == start or not self.s[start].isalnum() or not self.s[end - 1].isalnum():
            return False
        self.at = end
        return True

    def specifiers(self) -> None:
        while True:
            self.ws()
            op = next((o for o in _OPERATORS if self.rest().startswith(o)), None)
            if op is None:
                raise self.fail("a version operator (==, >=, ~=, ...)")
            self.at += len(op)
            self.ws()
            start = self.at
            while self.at < len(self.s) and self.s[self.at] in _VERSION_CHARS:
                self.at += 1
            if self.at == start:
                raise self.fail("a version")
            if not self.eat(","):
                return

    def marker_or(self) -> None:
        self.marker_and()
        while self.keyword("or"):
            self.marker_and()

    def marker_and(self) -> None:
        self.marker_expr()
        while self.keyword("and"):
            self.marker_expr()

    def marker_expr(self) -> None:
        if self.eat("("):
            self.marker_or()
            if not self.eat(")"):
                raise self.fail("`)`")
            return
        self.marker_value()
        self.ws()
        op = next((o for o in _OPERATORS if self.rest().startswith(o)), None)
        if op is not None:
            self.at += len(op)
        elif self.keyword("in"):
            pass
        elif self.keyword("not"):
            if not self.keyword("in"):
                raise self.fail("`in` after `not`")
        else:
            raise self.fail("a marker operator (==, !=, <, in, not in, ...)")
        self.marker_value()

    def keyword(self, word: str) -> bool:
        self.ws()
        r = self.rest()
        after = r[len(word) : len(word) + 1]
        if r.startswith(word) and (after == "" or after in " \t'\"("):
            self.at += len(word)
            return True
        return False

    def marker_value(self) -> None:
        self.ws()
        r = self.rest()
        if r[:1] in ("'", '"'):
            end = r.find(r[0], 1)
            if end < 0:
                raise self.fail("a closing quote")
            self.at += end + 1
            return
        n = 0
        while n < len(r) and r[n] in _VARIABLE_CHARS:
            n += 1
        if r[:n] in _MARKER_VARIABLES:
            self.at += n
            return
        raise self.fail("a marker variable (python_version, sys_platform, ...) or a quoted string")


def _quote(text: str) -> str:
    """`text` as Rust's `{:?}` writes it, so both sides give the same message."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + escaped.replace("\t", "\\t").replace("\r", "\\r") + '"'
