"""The platform layer: what it promises here, and that nothing outside it asks which OS runs.

Windows is not at hand, so its imports are simulated (tests/support/windows_imports.py):
every module of both packages is imported with `sys.platform == "win32"` and
the POSIX-only modules and names gone, in a child interpreter. A source scan
catches the rest: an OS check or a POSIX-only import outside `_platform/`.
"""

from __future__ import annotations

import ast
import socket
import struct
from pathlib import Path

import pytest

from tests.conftest import ROOT
from voxtrald import _platform
from voxtrald._platform import _darwin

# -- nothing outside _platform/ asks which OS runs ---------------------------------------

POSIX_ONLY_MODULES = {"fcntl", "termios", "tty", "pty", "pwd", "grp", "resource", "syslog",
                      "posix", "msvcrt", "winreg", "_winapi"}
OS_QUESTIONS = {("sys", "platform"), ("os", "name"), ("platform", "system"),
                ("os", "getuid"), ("os", "geteuid"), ("os", "fchmod"), ("os", "startfile"),
                ("os", "killpg"), ("signal", "SIGKILL")}
# Files whose owners move them onto _platform in their own rewrite; an entry that no
# longer finds anything fails below, so the list only shrinks.
PENDING: dict[str, str] = {}


def os_questions(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
            names += [f"{node.module}.{alias.name}" for alias in node.names]
        elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
              and (node.value.id, node.attr) in OS_QUESTIONS):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value.id}.{node.attr}")
            continue
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top in POSIX_ONLY_MODULES or tuple(name.split(".")[:2]) in OS_QUESTIONS:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: import {name}")
    return found


def test_no_os_checks_outside_the_platform_layer() -> None:
    layer = ROOT / "voxtrald" / "_platform"
    files = [p for pkg in ("voxtrald", "tray") for p in sorted((ROOT / pkg).rglob("*.py"))
             if layer not in p.parents]
    found = {str(p.relative_to(ROOT)): os_questions(p) for p in files}
    offending = [hit for rel, hits in found.items() if rel not in PENDING for hit in hits]
    assert offending == [], "use voxtrald._platform instead:\n" + "\n".join(offending)
    stale = [rel for rel in PENDING if not found.get(rel)]
    assert stale == [], f"nothing left to move in {stale}: remove them from PENDING"


# -- what the layer promises on this machine ---------------------------------------------


def test_peer_uid_of_a_real_unix_socket() -> None:
    if not hasattr(socket, "AF_UNIX"):
        pytest.skip("no Unix sockets on this system")
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with a, b:
        uid = _platform.peer_uid(a)
    if _platform.NAME in ("linux", "macos"):
        assert uid == _platform.current_uid()
    else:
        assert uid is None


def test_peer_uid_of_a_tcp_socket_is_unknown() -> None:
    with socket.create_server(("127.0.0.1", 0)) as srv, \
            socket.create_connection(srv.getsockname()) as conn:
        assert _platform.peer_uid(conn) is None


def test_xucred_layout() -> None:
    groups = [20, 12, 61] + [0] * 13
    assert _darwin._XUCRED.size == 76  # sizeof(struct xucred) on macOS
    assert _darwin.uid_from_xucred(struct.pack("2Ih16I", 0, 501, 3, *groups)) == 501
    assert _darwin.uid_from_xucred(struct.pack("2Ih16I", 1, 501, 3, *groups)) is None
    assert _darwin.uid_from_xucred(b"\0\0\0") is None


def test_a_held_lock_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "held.lock"
    with path.open("a+") as first, path.open("a+") as second:
        _platform.try_lock(first.fileno())
        with pytest.raises(_platform.LockHeld):
            _platform.try_lock(second.fileno())
        _platform.unlock(first.fileno())
        _platform.try_lock(second.fileno())  # free again once released


def test_describe_exit_names_the_signal() -> None:
    assert _platform.describe_exit(None) == "is still running"
    assert _platform.describe_exit(3) == "exited with code 3"
    if _platform.NAME != "windows":
        assert "likely out of memory" in _platform.describe_exit(-9)
