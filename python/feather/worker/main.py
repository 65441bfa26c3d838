"""Starting a worker: import the app, connect to the server's socket, say hello, then serve.

Exit status: 0 after `shutdown` or when the server closes the connection, 1 when the worker
could not start (the server got `fatal` if it could be reached), 2 on a protocol error.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import sys
import time
from collections.abc import Sequence

from . import messages
from .app import LoadError, load_app
from .protocol import max_body, max_output, write_frame
from .serve import EXIT_PROTOCOL, serve

EXIT_FAILED = 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m feather.worker", description="Run a feather model's steps for a server."
    )
    parser.add_argument("--socket", required=True, help="the Unix socket the server listens on")
    parser.add_argument("--entry", required=True, help="the app file that registers the model")
    args = parser.parse_args(argv)
    # `ftr.build` only registers the model when this is set; the server sets it too.
    if not os.environ.get("FEATHER_WORKER"):
        os.environ["FEATHER_WORKER"] = "1"
    _line_buffered()
    # Whole seconds: a coarse file clock never makes a file written later look older.
    since = float(int(time.time()))
    try:
        limit, output = max_body(), max_output()
    except ValueError as err:
        print(f"feather worker: {err}", file=sys.stderr, flush=True)
        return EXIT_PROTOCOL
    try:
        app = load_app(args.entry)
    except LoadError as err:
        print(f"feather worker: {err.error}\n{err.traceback}", file=sys.stderr, flush=True)
        try:
            with connect(args.socket) as sock:
                write_frame(sock, messages.fatal(err.error, err.traceback), (), limit)
        except OSError as send_err:
            print(f"feather worker: cannot report to {args.socket}: {send_err}", file=sys.stderr)
        return EXIT_FAILED
    try:
        sock = connect(args.socket)
    except OSError as err:
        print(f"feather worker: cannot connect to {args.socket}: {err}", file=sys.stderr)
        return EXIT_FAILED
    with sock:
        try:
            write_frame(sock, messages.hello(app.name, app.step_names), (), limit)
            return serve(sock, app, limit=limit, output=output, since=since)
        except OSError as err:
            print(f"feather worker: the connection failed: {err}", file=sys.stderr, flush=True)
            return EXIT_FAILED


def connect(path: str) -> socket.socket:
    """A blocking connection to the server's Unix socket."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        raise
    return sock


def _line_buffered() -> None:
    """The model's prints reach the server's logs line by line, not when a buffer fills."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(OSError, ValueError):
                reconfigure(line_buffering=True)
