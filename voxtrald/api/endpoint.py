"""Where a TCP-transport daemon listens, for platforms without AF_UNIX.

Loopback TCP is open to every local user, so the daemon writes its port and a
random token to a 0600 file beside where the socket would be; only someone who
can read that file (the owner) can present the token. Kept free of the server
so the client can read it without importing any daemon machinery.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from voxtrald.files import atomic

TOKEN_HEADER = "X-Voxtral-Token"
SUFFIX = ".tcp.json"


@dataclass(frozen=True)
class TcpEndpoint:
    host: str
    port: int
    token: str


def endpoint_file(socket_path: Path) -> Path:
    return socket_path.with_name(socket_path.name + SUFFIX)


def read_tcp_endpoint(socket_path: Path) -> TcpEndpoint | None:
    """The endpoint a TCP-transport daemon advertised, or None when there is none."""
    try:
        data = json.loads(endpoint_file(socket_path).read_text(encoding="utf-8"))
        return TcpEndpoint(str(data["host"]), int(data["port"]), str(data["token"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_tcp_endpoint(socket_path: Path, endpoint: TcpEndpoint) -> Path:
    """Write the endpoint file, then rename it into place.

    The temp file is a fresh name created with O_EXCL and mode 0600 before
    the token is written (`atomic.stage` uses mkstemp), so nobody can have it
    open or have planted a link at that name.
    """
    target = endpoint_file(socket_path)
    data = {"host": endpoint.host, "port": endpoint.port, "token": endpoint.token}
    atomic.write_atomic(target, json.dumps(data), mode=0o600)
    return target
