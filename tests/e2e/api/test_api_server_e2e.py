# ruff: noqa: F811 - pytest fixtures imported from tests.support.api_server are parameters here
"""The API server on a real Unix socket, fed raw bytes the way curl and worse peers do.

The tests that start real processes; those that start none are in
tests/unit/api/test_api_server.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.api_server import (  # noqa: F401 - fixtures
    _readers,
    assert_healthy,
    connect,
    exchange,
    get,
    make_server,
    read_response,
    server,
    sock_dir,
)
from tests.unit.api.test_api_routes import FakeControl
from voxtrald.api.server import ApiServer

_AS_NOBODY = """
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
try:
    s.connect(sys.argv[1])
except PermissionError:
    print("EACCES"); sys.exit(0)
s.sendall(b"GET /api/status HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
data = b""
while chunk := s.recv(65536):
    data += chunk
print(data.decode("latin-1"))
"""


def _drop_to_nobody() -> None:
    import pwd

    nobody = pwd.getpwnam("nobody")
    os.setgroups([])
    os.setgid(nobody.pw_gid)
    os.setuid(nobody.pw_uid)


def _python_for_nobody() -> str | None:
    """An interpreter that user nobody may execute (a venv under /root is not one)."""
    for candidate in (sys.executable, "/usr/bin/python3", shutil.which("python3")):
        if not candidate:
            continue
        try:
            subprocess.run([candidate, "-S", "-c", "pass"], preexec_fn=_drop_to_nobody,
                           check=True, capture_output=True, timeout=60, cwd="/")
        except (OSError, subprocess.SubprocessError):
            continue
        return candidate
    return None


def _run_as_nobody(python: str, sock: Path) -> str:
    proc = subprocess.run(
        [python, "-S", "-c", _AS_NOBODY, os.fspath(sock)], preexec_fn=_drop_to_nobody,
        capture_output=True, text=True, timeout=60, cwd="/",
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_second_server_in_another_process_is_refused(server: tuple[ApiServer, FakeControl]
                                                     ) -> None:
    srv, _ = server
    code = (
        "import sys; from pathlib import Path; from voxtrald.api.server import *;"
        "from voxtrald.api.router import Router; from voxtrald.config import ApiConfig\n"
        "try:\n  ApiServer(Path(sys.argv[1]), Router(), ApiConfig()).start()\n"
        "except AlreadyRunning as e:\n  print(e); sys.exit(7)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(srv.socket_path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 7, proc.stderr
    assert f"pid {os.getpid()}" in proc.stdout
    assert_healthy(srv.socket_path)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SO_PEERCRED is Linux-only")
@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="running a client as another uid needs root (to setuid to nobody)")
def test_another_uid_is_refused(sock_dir: Path) -> None:
    python = _python_for_nobody()
    if python is None:
        pytest.skip("no Python interpreter that user nobody may execute")
    sock = sock_dir / "run" / "api.sock"
    srv, _ = make_server(sock)
    with srv:
        os.chmod(sock_dir, 0o755)
        # With the permissions we set, the other user cannot even connect.
        assert _run_as_nobody(python, sock).strip() == "EACCES"
        # Loosen them as a careless admin might: the peer check still refuses.
        os.chmod(sock.parent, 0o755)
        os.chmod(sock, 0o666)
        out = _run_as_nobody(python, sock)
        assert out.startswith("HTTP/1.1 403 ")
        assert '"forbidden"' in out and '"state"' not in out
        assert_healthy(sock)
