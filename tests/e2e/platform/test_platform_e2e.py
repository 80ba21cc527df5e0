"""The platform layer: what it promises here, and that nothing outside it asks which OS runs.

The tests that start real processes; those that start none are in
tests/unit/platform/test_platform.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import ROOT
from voxtrald import _platform

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
