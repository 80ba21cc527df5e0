"""The platform layer: what it promises here, and that nothing outside it asks which OS runs.

Windows is not at hand, so its imports are simulated (tests/support/windows_imports.py):
every module of both packages is imported with `sys.platform == "win32"` and
the POSIX-only modules and names gone, in a child interpreter. A source scan
catches the rest: an OS check or a POSIX-only import outside `_platform/`.
"""

from __future__ import annotations

import ast
import json
import os
import socket
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from voxtrald import _platform
from voxtrald._platform import _darwin

ROOT = Path(__file__).resolve().parents[2].parent
HARNESS = Path(__file__).resolve().parents[2] / "support" / "windows_imports.py"

# Modules that are never imported on Windows, with the reason.
NOT_ON_WINDOWS = {
    "voxtrald._platform._posix": "the Unix implementation (fcntl); Windows gets _windows",
    "voxtrald._platform._linux": "the Linux implementation, built on _posix",
    "voxtrald._platform._darwin": "the macOS implementation, built on _posix",
}
# Modules that import an optional dependency (pystray, gi, dbus) at import time: none
# today; the tray imports pystray and dbus inside the functions that need them.
NEEDS_OPTIONAL: dict[str, str] = {}


def run_harness(packages: list[str], skip: dict[str, str], pythonpath: Path | None = None
                ) -> tuple[int, dict[str, Any], str]:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(pythonpath),
                                                          env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, str(HARNESS), *packages, *(f"--skip={name}" for name in skip)],
        capture_output=True, text=True, timeout=240, env=env, cwd=ROOT,
    )
    try:
        return proc.returncode, json.loads(proc.stdout), proc.stderr
    except ValueError:
        raise AssertionError(f"no report from the harness:\n{proc.stdout}\n{proc.stderr}") from None


@pytest.mark.e2e  # starts a process
def test_every_module_imports_with_the_windows_layer() -> None:
    code, report, err = run_harness(["voxtrald", "tray"], {**NOT_ON_WINDOWS, **NEEDS_OPTIONAL})
    assert report["failed_before_pretending"] == {}, "a module does not even import here"
    assert report["failed"] == {}, json.dumps(report["failed"], indent=1)
    assert code == 0, err
    assert report["platform"] == "windows"
    imported = set(report["imported"])
    assert {"voxtrald.daemon", "voxtrald.cli", "voxtrald._platform._windows", "voxtrald.paths",
            "tray.app", "tray.desktop", "tray.notify"} <= imported
    assert len(imported) > 50


PROBES = {
    # module name: source; the "bad_" ones import fine on Linux but not on Windows
    "bad_fcntl": "import fcntl\n",
    "bad_pwd": "import pwd\n",
    "bad_termios": "from termios import tcgetattr\n",
    "bad_resource": "import resource\n",
    "bad_grp": "import grp\n",
    "bad_getuid": "from os import getuid\n",
    "bad_sigkill": "import signal\nKILL = signal.SIGKILL\n",
    "bad_af_unix": "import socket\nFAMILY = socket.AF_UNIX\n",
    "bad_unix_server": "import socketserver\n\n"
                       "class Server(socketserver.ThreadingUnixStreamServer):\n    pass\n",
    "good_checks_platform": "import sys\nif sys.platform == 'win32':\n    import msvcrt\n"
                            "else:\n    import fcntl\n",
    "good_plain": "import os, socket, json\nHOST = socket.AF_INET\n",
}


@pytest.mark.e2e  # starts a process
def test_the_simulation_catches_what_would_break_on_windows(tmp_path: Path) -> None:
    package = tmp_path / "winprobe"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name, source in PROBES.items():
        (package / f"{name}.py").write_text(source)
    code, report, _ = run_harness(["winprobe"], {}, pythonpath=tmp_path)
    assert report["failed_before_pretending"] == {}  # all of them import on this machine
    failed = {name.removeprefix("winprobe.") for name in report["failed"]}
    assert failed == {name for name in PROBES if name.startswith("bad_")}
    assert {f"winprobe.{n}" for n in PROBES if n.startswith("good_")} <= set(report["imported"])
    assert code == 1


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


@pytest.mark.e2e  # starts a process
def test_a_second_daemon_lock_in_another_process_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "held.lock"
    code = ("import sys\nfrom voxtrald import _platform\n"
            "f = open(sys.argv[1], 'a+')\n"
            "try:\n    _platform.try_lock(f.fileno())\n"
            "except _platform.LockHeld:\n    sys.exit(7)\n")
    with path.open("a+") as held:
        _platform.try_lock(held.fileno())
        proc = subprocess.run([sys.executable, "-c", code, str(path)], timeout=60)
    assert proc.returncode == 7
    assert subprocess.run([sys.executable, "-c", code, str(path)], timeout=60).returncode == 0


def test_describe_exit_names_the_signal() -> None:
    assert _platform.describe_exit(None) == "is still running"
    assert _platform.describe_exit(3) == "exited with code 3"
    if _platform.NAME != "windows":
        assert "likely out of memory" in _platform.describe_exit(-9)
