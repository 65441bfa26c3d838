"""The model store from Python, over a feather server's API: find models, list a model's
versions, read one by number or alias, download its artifacts, point aliases, delete.

>>> ftr.models.versions("alice/churn")  # doctest: +SKIP
>>> ftr.models.download("alice/churn@prod", "churn-prod")  # doctest: +SKIP
>>> ftr.models.set_alias("alice/churn", "prod", 4)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ._version import __version__
from .errors import FeatherError, PublishError

_REF = re.compile(r"([a-z0-9][a-z0-9._-]*)/([a-z0-9][a-z0-9._-]*)(?:@([A-Za-z0-9._-]+))?")

__all__ = [
    "StoreError",
    "delete",
    "delete_alias",
    "download",
    "get",
    "list",
    "list_models",
    "set_alias",
    "versions",
]


class StoreError(FeatherError):
    """The server refused or could not be reached; `status` (0 when unreachable) and `code`
    come from its error answer."""

    def __init__(self, status: int, code: str, message: str) -> None:
        self.status, self.code, self.message = status, code, message
        super().__init__(f"{message} (HTTP {status}, {code})" if status else message)


def parse_ref(ref: str) -> tuple[str, str, str | None]:
    """`owner/name[@ref]` as its parts.

    >>> parse_ref("alice/churn@prod")
    ('alice', 'churn', 'prod')
    """
    match = _REF.fullmatch(ref)
    if match is None:
        raise StoreError(0, "bad_reference", f"{ref!r} is not owner/name or owner/name@version")
    return match.group(1), match.group(2), match.group(3)


class _Client:
    def __init__(self, server: str | None, token: str | None) -> None:
        from .publish import DEFAULT_SERVER

        self.base = (server or os.environ.get("FEATHER_SERVER") or DEFAULT_SERVER).rstrip("/")
        self.token = token if token is not None else os.environ.get("FEATHER_TOKEN")

    def open(self, method: str, path: str, body: Any = None) -> Any:
        headers = {"Accept": "application/json", "User-Agent": f"feather-sdk/{__version__}"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        url = f"{self.base}/api/v1{path}"
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            return urllib.request.urlopen(request, timeout=120)
        except urllib.error.HTTPError as err:
            from .publish import error_from_response

            e: PublishError = error_from_response(err.code, err.read(), err.reason)
            raise StoreError(e.status, e.code, e.message) from None
        except (urllib.error.URLError, OSError) as err:
            raise StoreError(0, "unreachable", f"cannot reach {self.base}: {err}") from None

    def json(self, method: str, path: str, body: Any = None) -> Any:
        with self.open(method, path, body) as response:
            raw = response.read()
        return json.loads(raw) if raw else None


def _model_path(owner: str, name: str) -> str:
    return f"/models/{urllib.parse.quote(owner)}/{urllib.parse.quote(name)}"


def list_models(
    query: str | None = None,
    *,
    tag: str | None = None,
    owner: str | None = None,
    server: str | None = None,
    token: str | None = None,
) -> list[dict[str, Any]]:
    """Every model the caller may see that matches (words in owner, name, title or
    description; a tag; an owner), newest first, all pages read."""
    client = _Client(server, token)
    out: list[dict[str, Any]] = []
    for page in _pages(client, {"q": query, "tag": tag, "owner": owner}):
        out += page
    return out


def _pages(client: _Client, params: dict[str, str | None]) -> Iterator[list[dict[str, Any]]]:
    page = 1
    while True:
        query = {k: v for k, v in params.items() if v is not None}
        query |= {"page": str(page), "per_page": "100"}
        answer = client.json("GET", f"/models?{urllib.parse.urlencode(query)}")
        yield [*answer["models"]]
        if page * int(answer["per_page"]) >= int(answer["total"]):
            return
        page += 1


def versions(
    ref: str, *, server: str | None = None, token: str | None = None
) -> list[dict[str, Any]]:
    """A model's versions (`owner/name`), newest first: number, digest, who published it and
    when, bundle size."""
    owner, name, _ = parse_ref(ref)
    answer = _Client(server, token).json("GET", f"{_model_path(owner, name)}/versions")
    return [*answer["versions"]]


def get(ref: str, *, server: str | None = None, token: str | None = None) -> dict[str, Any]:
    """One version (`owner/name@N` or `@alias`; `latest` without one) with its manifest."""
    owner, name, reference = parse_ref(ref)
    path = f"{_model_path(owner, name)}/versions/{urllib.parse.quote(reference or 'latest')}"
    return dict(_Client(server, token).json("GET", path))


def download(
    ref: str,
    to: str | os.PathLike[str],
    *,
    unpack: bool = False,
    server: str | None = None,
    token: str | None = None,
) -> Path:
    """Write a version's `manifest.json`, its bundle (`bundle.tar.gz`) and `version.json`
    (`{"model", "version", "digest"}`) into the folder `to`: what `feather models pull`
    writes, what `feather publish` takes back and what `ftr.load` runs. With `unpack` the
    bundle's files instead: the serialized model, code and requirements as they were
    published. A bundle that does not have the version's digest is refused, and not written.
    Returns the folder."""
    from .library import ARCHIVES, VERSION_FILE, extract, write_body

    client = _Client(server, token)
    detail = get(ref, server=server, token=token)
    folder = Path(to)
    folder.mkdir(parents=True, exist_ok=True)
    path = f"{_model_path(detail['owner'], detail['name'])}/versions/{detail['version']}/bundle"
    with tempfile.TemporaryDirectory(dir=folder, prefix=".pull-") as scratch:
        with client.open("GET", path) as response:
            zstd = response.headers.get("Content-Type") == "application/zstd"
            archive = Path(scratch) / ARCHIVES[1 if zstd else 0]
            digest = write_body(response, archive)
        if digest != detail["digest"]:
            raise StoreError(
                0, "bad_digest", f"the bundle has {digest}, not the version's {detail['digest']}"
            )
        if unpack:
            extract(archive, folder)
        else:
            archive.replace(folder / archive.name)
    manifest = json.dumps(detail["manifest"], indent=2, ensure_ascii=False) + "\n"
    (folder / "manifest.json").write_text(manifest, encoding="utf-8")
    model = f"{detail['owner']}/{detail['name']}"
    origin = {"model": model, "version": detail["version"], "digest": detail["digest"]}
    (folder / VERSION_FILE).write_text(json.dumps(origin, indent=2) + "\n", encoding="utf-8")
    return folder


def set_alias(
    ref: str, alias: str, version: int, *, server: str | None = None, token: str | None = None
) -> dict[str, Any]:
    """Point `alias` (such as `prod`) of the model `owner/name` at a version."""
    owner, name, _ = parse_ref(ref)
    path = f"{_model_path(owner, name)}/aliases/{urllib.parse.quote(alias)}"
    return dict(_Client(server, token).json("PUT", path, {"version": version}))


def delete_alias(
    ref: str, alias: str, *, server: str | None = None, token: str | None = None
) -> None:
    owner, name, _ = parse_ref(ref)
    path = f"{_model_path(owner, name)}/aliases/{urllib.parse.quote(alias)}"
    _Client(server, token).json("DELETE", path)


def delete(ref: str, *, server: str | None = None, token: str | None = None) -> None:
    """Delete one version (`owner/name@N`, by its number) or, without one, the whole model."""
    owner, name, reference = parse_ref(ref)
    path = _model_path(owner, name)
    if reference is not None:
        if not reference.isdigit():
            raise StoreError(0, "bad_reference", "delete a version by its number, not an alias")
        path += f"/versions/{reference}"
    _Client(server, token).json("DELETE", path)


list = list_models
"""`ftr.models.list(...)`: see `list_models` (the functions above use no builtin `list`)."""
