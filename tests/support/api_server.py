"""Test helpers: a real API server on a Unix socket in a temp folder, and raw requests to it.

Shared by the unit tests and the end-to-end tests that grew out of test_api_server.py,
so both build the same rig the same way.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.unit.api.test_api_routes import FakeControl
from voxtrald.api import core_routes
from voxtrald.api.router import Router
from voxtrald.api.server import ApiServer
from voxtrald.config import ApiConfig


@pytest.fixture
def sock_dir() -> Iterator[Path]:
    # pytest's tmp_path can exceed the ~104-byte limit of AF_UNIX paths.
    path = Path(tempfile.mkdtemp(prefix="vxapi-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def make_server(sock: Path, **cfg: Any) -> tuple[ApiServer, FakeControl]:
    router = Router()
    control = FakeControl()
    core_routes.register(router, control)
    router.add("GET", "/api/big", lambda req: {"blob": "x" * 4_000_000})
    router.add("GET", "/api/odd", lambda req: {"eta": float("nan"), "when": Path("/x"),
                                               "list": [float("inf"), 1.5]})
    loop: dict[str, Any] = {}
    loop["self"] = loop
    router.add("GET", "/api/loop", lambda req: loop)
    server = ApiServer(sock, router, ApiConfig(**cfg))
    return server, control


@pytest.fixture
def server(sock_dir: Path) -> Iterator[tuple[ApiServer, FakeControl]]:
    srv, control = make_server(sock_dir / "run" / "api.sock", request_timeout_seconds=1.0)
    srv.start()
    yield srv, control
    srv.stop()


def read_response(s: socket.socket) -> tuple[int, dict[str, str], dict[str, Any]]:
    """One response, framed by Content-Length (so keep-alive connections work)."""
    reader = _readers.setdefault(s.fileno(), s.makefile("rb"))
    status_line = reader.readline()
    if not status_line:
        raise ConnectionError("closed before a response")
    status = int(status_line.split(b" ")[1])
    headers: dict[str, str] = {}
    while (line := reader.readline()) not in (b"\r\n", b""):
        key, _, value = line.decode("latin-1").partition(":")
        headers[key.lower()] = value.strip()
    body = reader.read(int(headers["content-length"]))
    return status, headers, json.loads(body)


# Buffered readers per open socket, so pipelined responses are not lost between calls.
_readers: dict[int, Any] = {}


def connect(path: Path, timeout: float = 10.0) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(os.fspath(path))
    _readers.pop(s.fileno(), None)
    return s


def exchange(path: Path, data: bytes) -> tuple[int, dict[str, str], dict[str, Any]]:
    with connect(path) as s:
        s.sendall(data)
        return read_response(s)


def get(path: Path, target: str) -> tuple[int, dict[str, Any]]:
    status, _, body = exchange(
        path, f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    return status, body


def assert_healthy(path: Path) -> None:
    status, body = get(path, "/api/health")
    assert status == 200 and body["ok"] is True
