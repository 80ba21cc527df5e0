"""Where a TCP-transport daemon listens, for platforms without AF_UNIX.

Loopback TCP is open to every local user, so the daemon writes its port and a
random token to a 0600 file beside where the socket would be; only someone who
can read that file (the owner) can present the token. Kept free of the server
so the client can read it without importing any daemon machinery.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

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
    """Write the endpoint file 0600 from the first byte, then rename it into place."""
    target = endpoint_file(socket_path)
    tmp = target.with_name(target.name + f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"host": endpoint.host, "port": endpoint.port, "token": endpoint.token}, fh)
    os.replace(tmp, target)
    return target
