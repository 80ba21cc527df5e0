"""The one way the CLI, the tray and scripts talk to the daemon.

Plain HTTP/1.1 over the control socket with the standard library only, so the
tray process stays light and a user's script can copy the approach. Every way
of "nobody is there" (missing socket, refused, silent, cut off) becomes one
exception, DaemonUnreachable, whose message tells the user how to start the
daemon; every 4xx/5xx becomes ApiResponseError carrying the API's error code.

Right after connecting, the client asks the kernel who holds the other end
(SO_PEERCRED) and talks only to a server running as its own user: another
user who owns the socket's folder (a pre-created `/tmp/voxtral-UID`) could
otherwise serve made-up answers, such as an "update" telling the user to run
a command. Such a server is ForeignServer, a kind of DaemonUnreachable, so
the CLI exits 3 and the tray shows the daemon as not running.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
from pathlib import Path
from typing import Any

from voxtrald import _platform, paths
from voxtrald.api import endpoint as transport

START_HINT = "start it with `voxtrald run` (or enable the voxtrald user service)"


class DaemonUnreachable(Exception):
    """Nobody answers on the control socket; the message says how to fix that."""


class ForeignServer(DaemonUnreachable):
    """The socket is served by another user's process; nothing is sent to it."""


def check_peer(sock: socket.socket, path: Path) -> None:
    """Refuse a server that runs as another user; where the OS cannot tell, trust the folder."""
    me = _platform.current_uid()
    peer = _platform.peer_uid(sock)
    if me is None or peer is None or peer == me:
        return
    raise ForeignServer(
        f"refusing the server on {path}: it runs as uid {peer}, not as you (uid {me}); "
        "another user may be impersonating voxtrald. Remove that "
        "socket or its folder, or point VOXTRAL_SOCKET at your own daemon's socket"
    )


class ApiResponseError(Exception):
    """The daemon answered with an error status and its `{"error": ...}` body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{message} ({status} {code})")
        self.status = status
        self.code = code
        self.message = message


class _UnixConnection(http.client.HTTPConnection):
    """http.client on a connected AF_UNIX socket instead of a TCP one."""

    def __init__(self, path: Path, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._unix_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(os.fspath(self._unix_path))
            check_peer(sock, self._unix_path)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


class Client:
    def __init__(self, socket_path: Path | str | None = None, timeout: float = 5.0) -> None:
        self.socket_path = paths.resolve_socket(socket_path)
        self.timeout = timeout

    def _connection(self, timeout: float) -> tuple[http.client.HTTPConnection, dict[str, str]]:
        """A connection plus any headers it needs (the token of the TCP transport)."""
        has_unix = hasattr(socket, "AF_UNIX")
        if not has_unix or not self.socket_path.exists():
            tcp = transport.read_tcp_endpoint(self.socket_path)
            if tcp is not None:
                conn = http.client.HTTPConnection(tcp.host, tcp.port, timeout=timeout)
                return conn, {transport.TOKEN_HEADER: tcp.token}
            if not has_unix:
                raise DaemonUnreachable(
                    f"voxtrald is not running (no endpoint file beside {self.socket_path}); "
                    + START_HINT
                )
        return _UnixConnection(self.socket_path, timeout), {}

    def request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        timeout: float | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Send one request; return (status, JSON body) whatever the status."""
        wait = self.timeout if timeout is None else timeout
        conn, headers = self._connection(wait)
        headers = {**headers, "Accept": "application/json", "Connection": "close"}
        payload: bytes | None = None
        if body is not None:
            payload = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        elif method.upper() in ("POST", "PUT", "PATCH"):
            payload = b""
        try:
            conn.request(method.upper(), path, body=payload, headers=headers)
            resp = conn.getresponse()
            status = resp.status
            raw = resp.read()
        except FileNotFoundError as exc:
            raise DaemonUnreachable(
                f"voxtrald is not running (no socket at {self.socket_path}); {START_HINT}"
            ) from exc
        except ConnectionRefusedError as exc:
            raise DaemonUnreachable(
                f"voxtrald is not running (nothing listens on {self.socket_path}); {START_HINT}"
            ) from exc
        except PermissionError as exc:
            raise DaemonUnreachable(
                f"cannot open {self.socket_path}: permission denied; the daemon runs as "
                "another user, or start your own with `voxtrald run`"
            ) from exc
        except TimeoutError as exc:
            raise DaemonUnreachable(
                f"voxtrald did not answer on {self.socket_path} within {wait:g} s; "
                "it may be stuck: check its log, or restart it with `voxtrald run`"
            ) from exc
        except (OSError, http.client.HTTPException) as exc:
            raise DaemonUnreachable(
                f"lost the connection to voxtrald on {self.socket_path} ({exc}); "
                f"if it stopped, {START_HINT}"
            ) from exc
        finally:
            conn.close()
        try:
            data = json.loads(raw) if raw.strip() else {}
        except ValueError:
            data = {"error": {"code": "bad_response", "message": "the daemon sent non-JSON"}}
        if not isinstance(data, dict):
            data = {"value": data}
        return status, data

    def _checked(self, method: str, path: str, body: dict[str, Any] | None, **kw: Any) -> dict:
        status, data = self.request(method, path, body, **kw)
        if status >= 400:
            found = data.get("error")
            err: dict[str, Any] = found if isinstance(found, dict) else {}
            raise ApiResponseError(
                status, str(err.get("code", "error")), str(err.get("message", f"HTTP {status}"))
            )
        return data

    def get(self, path: str, **kw: Any) -> dict[str, Any]:
        return self._checked("GET", path, None, **kw)

    def post(self, path: str, body: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
        return self._checked("POST", path, body, **kw)
