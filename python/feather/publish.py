"""Publishing: upload what `build` wrote to a feather server, or build and upload in one call."""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import os
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ._version import __version__
from .build import StepFunction, build
from .components.base import Component
from .errors import PublishError

DEFAULT_SERVER = "http://127.0.0.1:7860"


def publish(
    name: str,
    init: Sequence[Component],
    steps: StepFunction | Sequence[StepFunction],
    *,
    server: str | None = None,
    token: str | None = None,
    private: bool | None = None,
    wait: bool = True,
    **build_kwargs: Any,
) -> dict[str, Any]:
    """Build a model (see `build`, which takes the other keyword arguments) and upload it.

    `private=True` keeps the model to its owner, the users it is granted to and admins;
    `private=False` makes it public; by default a new model is public and an existing one keeps
    its setting.

    Returns the server's answer, e.g. `{"model": "alice/digits", "version": 3,
    "digest": "sha256:...", "url": "...", "api": "...", "page": "..."}` (`page`: the model's
    page in the portal). Inside a worker, where `build` only registers the model, nothing is
    uploaded and `{}` is returned.

    With `wait` (the default) it returns once the version can answer: its environment built
    (a failed build raises `PublishError` with the server's reason and the end of the build's
    log). With `wait=False` it returns once the version is stored, and the environment builds
    in the background (`wait_until_ready` waits for it).

    The script that calls `publish` is the app: every worker imports it again and runs it
    down to this call, where `build` only registers the steps. Work done at its top level
    (reading files, fitting a model, reading a token from the environment) is done again in
    each worker; keep it in functions the steps call, or deploy a fitted object with
    `ftr.deploy`, which ships the object itself.

    >>> ftr.publish("digits", [ftr.Image.Upload(id="image", title="A digit")], [classify],
    ...             server="http://127.0.0.1:7860", token="...")  # doctest: +SKIP
    """
    out = build(name, init, steps, **build_kwargs)
    if out is None:
        return {}
    answer = upload(out, server=server, token=token, private=private)
    if wait:
        wait_until_ready(answer, server=server, token=token)
    return answer


def upload(
    build_dir: str | os.PathLike[str],
    server: str | None = None,
    token: str | None = None,
    *,
    private: bool | None = None,
    timeout: float = 600.0,
) -> dict[str, Any]:
    """Upload the `manifest.json` and `bundle.tar.gz` that `build` wrote into `build_dir`.

    `server` defaults to `$FEATHER_SERVER`, else `http://127.0.0.1:7860`; `token` to
    `$FEATHER_TOKEN`. A refusal raises `PublishError` with the server's status and error code.
    """
    folder = Path(build_dir)
    base = (server or os.environ.get("FEATHER_SERVER") or DEFAULT_SERVER).rstrip("/")
    token = token if token is not None else os.environ.get("FEATHER_TOKEN")
    parts: list[Part] = [
        ("manifest", "manifest.json", "application/json", folder / "manifest.json"),
        ("bundle", "bundle.tar.gz", "application/gzip", folder / "bundle.tar.gz"),
    ]
    if private is not None:
        parts.append(("visibility", None, "text/plain", b"private" if private else b"public"))
    body = Multipart(parts)
    headers = {
        "Content-Type": body.content_type,
        # Known ahead, so the body is sent as it is read, a chunk at a time.
        "Content-Length": str(len(body)),
        "Accept": "application/json",
        "User-Agent": f"feather-sdk/{__version__}",
    }
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        status, payload, reason = _post(f"{base}/api/v1/models", body, headers, timeout)
    except OSError as err:
        raise PublishError(0, "unreachable", f"cannot reach {base}: {err}") from None
    if status >= 400:
        raise error_from_response(status, payload, reason)
    try:
        answer = json.loads(payload)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise PublishError(status, "bad_response", f"expected a JSON object, got {payload[:200]!r}")
    return answer


def _post(
    url: str, body: Multipart, headers: dict[str, str], timeout: float
) -> tuple[int, bytes, str]:
    """POST a body sent as it is read; the status, body and reason of the answer.

    A server may refuse a request (a bad token, a body too large) before it has read the body,
    and close the connection: sending then fails with a broken pipe, but the refusal is
    already there to read. urllib would report only the broken pipe."""
    connection, target, extra = _connect(url, timeout)
    try:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            connection.request("POST", target, body=iter(body), headers=headers | extra)
        response = connection.getresponse()
        return response.status, response.read(), response.reason
    finally:
        connection.close()


def _connect(url: str, timeout: float) -> tuple[http.client.HTTPConnection, str, dict[str, str]]:
    """A connection for `url`, the request target to send on it and the headers it adds:
    through the proxy the environment names (`http_proxy`, `https_proxy`, unless `no_proxy`
    covers the host), as urllib goes. An `https` server is reached through a tunnel
    (`CONNECT`), an `http` one by asking the proxy for the whole URL."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    https = parts.scheme == "https"
    kind = http.client.HTTPSConnection if https else http.client.HTTPConnection
    proxy = urllib.request.getproxies().get(parts.scheme)
    address = host if parts.port is None else f"{host}:{parts.port}"
    if not proxy or urllib.request.proxy_bypass(address):
        return kind(host, parts.port, timeout=timeout), target, {}
    p = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    auth = {}
    if p.username is not None:
        user = urllib.parse.unquote(p.username)
        secret = urllib.parse.unquote(p.password or "")
        encoded = base64.b64encode(f"{user}:{secret}".encode()).decode()
        auth["Proxy-Authorization"] = f"Basic {encoded}"
    if https:
        connection = kind(p.hostname or "", p.port or 80, timeout=timeout)
        connection.set_tunnel(host, parts.port, headers=auth)
        return connection, target, {}
    return http.client.HTTPConnection(p.hostname or "", p.port or 80, timeout=timeout), url, auth


Part = tuple[str, str | None, str, bytes | Path]
"""`(field, filename, content type, data)`: a text field when the filename is None; data as
bytes, or a file read when the body is sent."""

CHUNK = 1 << 20


class Multipart:
    """A `multipart/form-data` body whose files are read from disk as it is sent, a chunk at a
    time: its length is known ahead (`len`), so a large bundle never sits in memory whole."""

    def __init__(self, parts: Sequence[Part]) -> None:
        boundary = f"feather-{uuid.uuid4().hex}"
        self.content_type = f"multipart/form-data; boundary={boundary}"
        self.pieces: list[bytes | Path] = []
        for field, filename, content_type, data in parts:
            disposition = f'form-data; name="{field}"'
            if filename is not None:
                disposition += f'; filename="{filename}"'
            head = (
                f"--{boundary}\r\n"
                f"Content-Disposition: {disposition}\r\n"
                f"Content-Type: {content_type}\r\n\r\n"
            )
            self.pieces += [head.encode(), data, b"\r\n"]
        self.pieces.append(f"--{boundary}--\r\n".encode())

    def __len__(self) -> int:
        return sum(p.stat().st_size if isinstance(p, Path) else len(p) for p in self.pieces)

    def __iter__(self) -> Iterator[bytes]:
        for piece in self.pieces:
            if isinstance(piece, bytes):
                yield piece
                continue
            with open(piece, "rb") as f:
                while chunk := f.read(CHUNK):
                    yield chunk


def encode_multipart(parts: Sequence[Part]) -> tuple[bytes, str]:
    """The whole body of `parts` at once, and its `Content-Type` header."""
    body = Multipart(parts)
    return b"".join(body), body.content_type


def error_from_response(status: int, body: bytes, reason: str = "") -> PublishError:
    """The `PublishError` for an error answer `{"error": {"code", "message", "details"}}`."""
    try:
        error = json.loads(body).get("error")
    except (ValueError, AttributeError):
        error = None
    if isinstance(error, dict):
        return PublishError(
            status,
            str(error.get("code") or "error"),
            str(error.get("message") or reason or "request failed"),
            error.get("details"),
        )
    text = body.decode("utf-8", errors="replace").strip()[:500]
    return PublishError(status, "http_error", text or reason or "request failed")


def wait_until_ready(
    published: dict[str, Any],
    *,
    server: str | None = None,
    token: str | None = None,
    timeout: float = 1800.0,
) -> dict[str, Any]:
    """Wait until the version `upload` answered about has its environment built; return the
    environment's state. A failed build raises `PublishError` (`environment_failed`) with the
    server's reason and the end of the build's log."""
    import time

    base = (server or os.environ.get("FEATHER_SERVER") or DEFAULT_SERVER).rstrip("/")
    token = token if token is not None else os.environ.get("FEATHER_TOKEN")
    owner, name = str(published["model"]).split("/", 1)
    url = f"{base}/api/v1/models/{owner}/{name}/versions/{published['version']}/environment"
    headers = {"Accept": "application/json", "User-Agent": f"feather-sdk/{__version__}"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    deadline = time.monotonic() + timeout
    pause = 0.2
    while True:
        request = urllib.request.Request(url, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                state = json.loads(response.read())
        except urllib.error.HTTPError as err:
            raise error_from_response(err.code, err.read(), err.reason) from None
        except (urllib.error.URLError, OSError) as err:
            raise PublishError(0, "unreachable", f"cannot reach {base}: {err}") from None
        status = state.get("status")
        if status == "ready":
            return dict(state)
        if status == "failed":
            log = str(state.get("log") or "").strip().splitlines()[-20:]
            tail = ("\n" + "\n".join(log)) if log else ""
            reason = state.get("reason", "the build failed")
            raise PublishError(0, "environment_failed", f"{reason}{tail}", state)
        if time.monotonic() > deadline:
            raise PublishError(0, "timeout", f"the environment was still {status} after {timeout}s")
        time.sleep(pause)
        pause = min(pause * 1.5, 2.0)
