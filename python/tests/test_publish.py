"""Uploads against a small local HTTP server that records what it receives."""

from __future__ import annotations

import email.parser
import email.policy
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import feather as ftr
from feather.publish import encode_multipart, error_from_response

from .server_support import feather_binary


class Recorder(BaseHTTPRequestHandler):
    requests: list[dict[str, Any]]
    answer: tuple[int, bytes]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
        status, payload = self.answer
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[type[Recorder]]:
    handler = type("Handler", (Recorder,), {"requests": [], "answer": (201, b"{}")})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    handler.url = f"http://127.0.0.1:{httpd.server_address[1]}"  # type: ignore[attr-defined]
    yield handler
    httpd.shutdown()
    httpd.server_close()


def _parts(content_type: str, body: bytes) -> dict[str, Any]:
    raw = f"Content-Type: {content_type}\r\n\r\n".encode() + body
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    assert message.is_multipart()
    return {
        str(part.get_param("name", header="content-disposition")): (
            part.get_filename(),
            part.get_content_type(),
            part.get_payload(decode=True),
        )
        for part in message.iter_parts()
    }


def predict(flag: bool) -> list[Any]:
    return []


def _built(tmp_path: Path) -> Path:
    app = tmp_path / "app.py"
    app.write_text("")
    out = ftr.build("m", [ftr.Checkbox(id="flag")], [predict], entry=app, out=tmp_path / "o")
    assert out is not None
    return out


def test_upload_sends_the_manifest_and_bundle(tmp_path: Path, server: Any) -> None:
    answer = {"model": "alice/m", "version": 1, "digest": "sha256:ab", "url": "u", "api": "a"}
    server.answer = (201, json.dumps(answer).encode())
    out = _built(tmp_path)
    assert ftr.upload(out, server=server.url + "/", token="tok") == answer
    (request,) = server.requests
    assert request["path"] == "/api/v1/models"
    assert request["headers"]["Authorization"] == "Bearer tok"
    parts = _parts(request["headers"]["Content-Type"], request["body"])
    assert parts["manifest"] == (
        "manifest.json",
        "application/json",
        (out / "manifest.json").read_bytes(),
    )
    assert parts["bundle"] == (
        "bundle.tar.gz",
        "application/gzip",
        (out / "bundle.tar.gz").read_bytes(),
    )


def test_server_and_token_from_the_environment(
    tmp_path: Path, server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEATHER_SERVER", server.url)
    monkeypatch.setenv("FEATHER_TOKEN", "from-env")
    ftr.upload(_built(tmp_path))
    assert server.requests[0]["headers"]["Authorization"] == "Bearer from-env"
    monkeypatch.delenv("FEATHER_TOKEN")
    ftr.upload(_built(tmp_path))
    assert "Authorization" not in server.requests[1]["headers"]


def test_error_answers_raise_publish_error(tmp_path: Path, server: Any) -> None:
    error = {"error": {"code": "unauthorized", "message": "bad token", "details": None}}
    server.answer = (401, json.dumps(error).encode())
    with pytest.raises(ftr.PublishError) as err:
        ftr.upload(_built(tmp_path), server=server.url, token="nope")
    assert (err.value.status, err.value.code, err.value.message) == (
        401,
        "unauthorized",
        "bad token",
    )
    assert "HTTP 401" in str(err.value) and "bad token" in str(err.value)


def test_publish_builds_then_uploads(tmp_path: Path, server: Any) -> None:
    server.answer = (201, b'{"model": "alice/m", "version": 2}')
    app = tmp_path / "app.py"
    app.write_text("")
    got = ftr.publish(
        "m",
        [ftr.Checkbox(id="flag")],
        [predict],
        server=server.url,
        token="t",
        entry=app,
        out=tmp_path / "o",
        wait=False,
    )
    assert got == {"model": "alice/m", "version": 2}
    assert (tmp_path / "o/manifest.json").is_file()


def test_unreachable_server(tmp_path: Path) -> None:
    with pytest.raises(ftr.PublishError) as err:
        ftr.upload(_built(tmp_path), server="http://127.0.0.1:9", token="t", timeout=5)
    assert err.value.status == 0 and err.value.code == "unreachable"


class Tunnel(Recorder):
    """A proxy that records a `CONNECT` and refuses it, as one asking for credentials does."""

    def do_CONNECT(self) -> None:
        self.requests.append({"path": self.path, "headers": dict(self.headers), "body": b""})
        self.send_response(407, "Proxy Authentication Required")
        self.send_header("Content-Length", "0")
        self.end_headers()


def test_an_upload_goes_through_the_proxy_the_environment_names(
    tmp_path: Path, server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.answer = (201, b'{"model": "alice/m", "version": 1}')
    monkeypatch.setenv("http_proxy", f"http://who:pass%21@{server.url.removeprefix('http://')}")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    out = _built(tmp_path)
    # The server's name resolves nowhere: only the proxy can reach it.
    assert ftr.upload(out, server="http://models.invalid:7860", token="t")["version"] == 1
    (request,) = server.requests
    assert request["path"] == "http://models.invalid:7860/api/v1/models"
    assert request["headers"]["Proxy-Authorization"] == "Basic d2hvOnBhc3Mh"  # who:pass!
    assert (
        _parts(request["headers"]["Content-Type"], request["body"])["bundle"][2]
        == (out / "bundle.tar.gz").read_bytes()
    )


def test_an_https_upload_tunnels_through_the_proxy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = type("Handler", (Tunnel,), {"requests": [], "answer": (201, b"{}")})
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as proxy:
        threading.Thread(target=proxy.serve_forever, args=(0.05,), daemon=True).start()
        monkeypatch.setenv("https_proxy", f"http://u:p@127.0.0.1:{proxy.server_address[1]}")
        monkeypatch.delenv("no_proxy", raising=False)
        monkeypatch.delenv("NO_PROXY", raising=False)
        with pytest.raises(ftr.PublishError) as err:
            ftr.upload(_built(tmp_path), server="https://models.invalid", token="t", timeout=5)
        proxy.shutdown()
    (request,) = handler.requests
    assert request["path"] == "models.invalid:443"
    assert request["headers"]["Proxy-Authorization"] == "Basic dTpw"
    assert err.value.code == "unreachable" and "407" in err.value.message


def test_no_proxy_reaches_the_server_itself(
    tmp_path: Path, server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    ftr.upload(_built(tmp_path), server=server.url, token="t")
    assert server.requests[0]["path"] == "/api/v1/models"


def test_error_bodies() -> None:
    details = {"problems": [{"path": "/name", "reason": "bad"}]}
    body = json.dumps({"error": {"code": "invalid_manifest", "message": "m", "details": details}})
    err = error_from_response(422, body.encode())
    assert (err.status, err.code, err.details) == (422, "invalid_manifest", details)
    assert "/name" in str(err)
    plain = error_from_response(502, b"<html>Bad gateway</html>", "Bad Gateway")
    assert (plain.code, plain.message) == ("http_error", "<html>Bad gateway</html>")


def test_multipart_encoding() -> None:
    body, content_type = encode_multipart([("a", "a.txt", "text/plain", b"x\r\n--y")])
    parts = _parts(content_type, body)
    assert parts == {"a": ("a.txt", "text/plain", b"x\r\n--y")}


class ToDisk(BaseHTTPRequestHandler):
    """Writes each body to a file a chunk at a time, so the server holds none of it."""

    folder: Path

    def do_POST(self) -> None:
        left = int(self.headers["Content-Length"])
        with open(self.folder / "body", "wb") as f:
            while left:
                chunk = self.rfile.read(min(left, 1 << 16))
                if not chunk:
                    break
                f.write(chunk)
                left -= len(chunk)
        (self.folder / "content-type").write_text(self.headers["Content-Type"])
        self._json(201, b"{}")

    def do_GET(self) -> None:
        # `feather publish` asks who its token is before it sends the bundle.
        if self.path == "/api/v1/me":
            self._json(200, b'{"name": "alice"}')
        else:
            self._json(404, b'{"error": {"code": "not_found", "message": "no such route"}}')

    def _json(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def large_build(tmp_path: Path) -> Iterator[tuple[Path, Path, str]]:
    """A build whose bundle is 48 MiB, and a server writing what it receives to a folder: the
    build, that folder and the server's URL."""
    out = _built(tmp_path)
    with open(out / "bundle.tar.gz", "wb") as f:
        for i in range(48):
            f.write(bytes([i]) * (1 << 20))
    received = tmp_path / "received"
    received.mkdir()
    handler = type("Handler", (ToDisk,), {"folder": received})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    yield out, received, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _received_whole(out: Path, received: Path) -> None:
    parts = _parts((received / "content-type").read_text(), (received / "body").read_bytes())
    assert parts["bundle"][2] == (out / "bundle.tar.gz").read_bytes()
    assert parts["manifest"][2] == (out / "manifest.json").read_bytes()


def test_a_large_bundle_is_sent_from_disk_without_being_read_whole(
    large_build: tuple[Path, Path, str],
) -> None:
    import tracemalloc

    out, received, url = large_build
    tracemalloc.start()
    try:
        ftr.upload(out, server=url, token="t")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, f"the upload held {peak >> 20} MiB at its peak"
    _received_whole(out, received)


def test_the_command_line_streams_a_large_bundle_too(large_build: tuple[Path, Path, str]) -> None:
    out, received, url = large_build
    # The peak memory of `feather publish` alone, read in a process of its own.
    probe = (
        "import resource, subprocess, sys; "
        "subprocess.run(sys.argv[1:], check=True, capture_output=True); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    # This server only receives: there is no environment to wait for.
    command = [feather_binary(), "publish", str(out), "--server", url, "--no-wait"]
    done = subprocess.run(
        [sys.executable, "-c", probe, *command],
        capture_output=True,
        text=True,
        env={**os.environ, "FEATHER_TOKEN": "t"},
        check=True,
    )
    peak_mib = int(done.stdout) >> 10
    assert peak_mib < 40, f"feather publish held {peak_mib} MiB at its peak"
    _received_whole(out, received)
