"""The loopback TCP transport (for platforms without AF_UNIX): a token guards the door."""

from __future__ import annotations

import json
import shutil
import socket
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.api.test_api_routes import FakeControl
from voxtrald.api import core_routes, endpoint
from voxtrald.api.router import Router
from voxtrald.api.server import AlreadyRunning, ApiServer
from voxtrald.client.connection import Client, DaemonUnreachable
from voxtrald.config import ApiConfig


@pytest.fixture
def tcp_server() -> Iterator[ApiServer]:
    folder = Path(tempfile.mkdtemp(prefix="vxtcp-", dir="/tmp"))
    router = Router()
    core_routes.register(router, FakeControl())
    server = ApiServer(folder / "run" / "api.sock", router,
                       ApiConfig(transport="tcp", request_timeout_seconds=2.0))
    server.start()
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


def raw_tcp(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    return reply


def test_endpoint_file_is_private_and_points_at_loopback(tcp_server: ApiServer) -> None:
    path = endpoint.endpoint_file(tcp_server.socket_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    ep = endpoint.read_tcp_endpoint(tcp_server.socket_path)
    assert ep is not None and ep.host == "127.0.0.1" and len(ep.token) >= 32
    assert not tcp_server.socket_path.exists()  # no Unix socket in this mode


def test_client_finds_the_tcp_daemon(tcp_server: ApiServer) -> None:
    client = Client(tcp_server.socket_path)
    assert client.get("/api/health")["ok"] is True
    assert client.post("/api/pause")["paused"] is True


@pytest.mark.parametrize("token_line", [b"", b"X-Voxtral-Token: wrong\r\n",
                                        b"X-Voxtral-Token: \r\n"])
def test_requests_without_the_token_are_refused(tcp_server: ApiServer, token_line: bytes
                                                ) -> None:
    assert tcp_server.tcp is not None
    reply = raw_tcp(tcp_server.tcp.port,
                    b"GET /api/status HTTP/1.1\r\nHost: x\r\n" + token_line + b"\r\n")
    assert reply.startswith(b"HTTP/1.1 403 ")
    body = json.loads(reply.split(b"\r\n\r\n", 1)[1])
    assert body["error"]["code"] == "forbidden" and "state" not in body


def test_the_right_token_is_let_in(tcp_server: ApiServer) -> None:
    assert tcp_server.tcp is not None
    token = tcp_server.tcp.token.encode()
    reply = raw_tcp(tcp_server.tcp.port, b"GET /api/status HTTP/1.1\r\nX-Voxtral-Token: "
                    + token + b"\r\nConnection: close\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 200 ")


def test_second_tcp_server_refused_and_files_removed_on_stop(tcp_server: ApiServer) -> None:
    other = ApiServer(tcp_server.socket_path, Router(), ApiConfig(transport="tcp"))
    with pytest.raises(AlreadyRunning):
        other.start()
    path = endpoint.endpoint_file(tcp_server.socket_path)
    assert path.exists()  # the refused one did not touch the running one's file
    tcp_server.stop()
    assert not path.exists()
    with pytest.raises(DaemonUnreachable, match="voxtrald run"):
        Client(tcp_server.socket_path).get("/api/status")
