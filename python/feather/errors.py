"""The SDK's error types and the `Problem` that validation reports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a manifest or a value.

    `path` is a JSON Pointer (RFC 6901) into the checked document, `""` for the document itself;
    the server reports the same paths, so a problem can be matched across both.

    >>> Problem("/init/0/max_files", "must be at least min_files (3)")
    Problem(path='/init/0/max_files', reason='must be at least min_files (3)')
    """

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path or '/'}: {self.reason}"


class FeatherError(Exception):
    """Base class of every error the SDK raises."""


class ManifestError(FeatherError, ValueError):
    """A component, step or manifest breaks the manifest rules; `problems` lists each rule."""

    def __init__(self, problems: list[Problem], context: str = "invalid manifest") -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{context}:\n{lines}" if lines else context)


class BundleError(FeatherError):
    """The files of a bundle cannot be collected or archived."""


class PublishError(FeatherError):
    """The server refused a publish, or could not be reached (`status` 0).

    `code`, `message` and `details` come from the server's error body
    `{"error": {"code", "message", "details"}}`.
    """

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        super().__init__(status, code, message, details)

    def __str__(self) -> str:
        where = f"HTTP {self.status}" if self.status else "no response"
        text = f"publish failed ({where}, {self.code}): {self.message}"
        if self.details not in (None, "", [], {}):
            text += f"\ndetails: {self.details}"
        return text


class DeployError(FeatherError, ValueError):
    """`ftr.deploy` cannot deploy the object it was given as asked: an object of no supported
    kind, a sample that does not fit the model, a conversion that was required and failed.
    Nothing was published."""
