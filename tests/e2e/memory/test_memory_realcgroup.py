"""A real cgroup with a small memory limit and a real memory hog: the monitor warns.

Needs root and a writable memory controller (v1 or v2); skipped with the
reason otherwise. The probe process moves itself into the new cgroup, starts
the hog (which inherits the cgroup) and reports what the monitor saw.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from voxtrald.memory.cgroup import DEFAULT_ROOT, parse_self_cgroup

LIMIT = 256 * 1024**2

PROBE = r"""
import json, os, subprocess, sys, time
cg = sys.argv[1]
with open(os.path.join(cg, "cgroup.procs"), "w") as f:
    f.write(str(os.getpid()))
from voxtrald.config import MemoryConfig
from voxtrald.events import EventLog
from voxtrald.memory import MemoryMonitor
from voxtrald.memory.reading import read_system

before = read_system()
log = EventLog()
monitor = MemoryMonitor(MemoryConfig(), log, lambda: hog.pid)
monitor.sample_once()
# Allocate enough to land between 80 % and 90 % of the limit in force.
want = int(before.total * 0.85) - before.used
hog = subprocess.Popen([sys.executable, "-c",
    "import sys, time; b = bytearray(b'x') * int(sys.argv[1]); print('ok', flush=True); "
    "time.sleep(30)", str(want)], stdout=subprocess.PIPE, text=True)
hog.stdout.readline()
deadline = time.monotonic() + 10
while time.monotonic() < deadline and monitor.level == "normal":
    monitor.sample_once()
    time.sleep(0.2)
events = [e for e in log.since(0)["events"] if e["type"].startswith("memory_")]
print(json.dumps({"before": {"limit": before.limit, "total": before.total, "used": before.used},
                  "snapshot": monitor.snapshot(), "events": events}))
hog.kill()
"""


def _own_path(v2: bool) -> str:
    text = Path("/proc/self/cgroup").read_text()
    v2_path, v1_path = parse_self_cgroup(text)
    return v2_path if v2 else v1_path


def _try_v1() -> tuple[Path | None, str]:
    base = DEFAULT_ROOT / "memory"
    if not (base / "memory.limit_in_bytes").exists():
        return None, "no cgroup v1 memory hierarchy"
    parent = base / _own_path(False).lstrip("/")
    if not parent.is_dir():
        parent = base
    child = parent / f"voxtral-test-{os.getpid()}"
    try:
        child.mkdir()
        (child / "memory.limit_in_bytes").write_text(str(LIMIT))
    except OSError as exc:
        _remove(child)
        return None, f"cannot create a v1 memory cgroup: {exc}"
    return child, ""


def _try_v2() -> tuple[Path | None, str]:
    controllers = DEFAULT_ROOT / "cgroup.controllers"
    if not controllers.exists() or "memory" not in controllers.read_text().split():
        return None, "no cgroup v2 memory controller"
    parent = DEFAULT_ROOT / _own_path(True).lstrip("/")
    child = parent / f"voxtral-test-{os.getpid()}"
    try:
        child.mkdir()
        if not (child / "memory.max").exists():
            # Enabling a controller for children fails where the parent holds processes.
            (parent / "cgroup.subtree_control").write_text("+memory")
        (child / "memory.max").write_text(str(LIMIT))
    except OSError as exc:
        _remove(child)
        return None, f"cannot create a v2 memory cgroup: {exc}"
    return child, ""


def _remove(child: Path) -> None:
    for _ in range(50):
        try:
            child.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.1)


@pytest.fixture
def small_cgroup() -> Iterator[Path]:
    if not sys.platform.startswith("linux"):
        pytest.skip("cgroups are Linux only")
    if os.geteuid() != 0:
        pytest.skip("creating a cgroup needs root")
    child, why_v2 = _try_v2()
    why_v1 = ""
    if child is None:
        child, why_v1 = _try_v1()
    if child is None:
        pytest.skip(f"no writable memory cgroup here: {why_v2}; {why_v1}")
    yield child
    _remove(child)


def test_real_cgroup_limit_and_hog_raise_warning(small_cgroup: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("VOXTRAL_PROCFS", "VOXTRAL_CGROUP_ROOT")}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(small_cgroup)],
        capture_output=True, text=True, timeout=60, env=env,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["before"]["limit"] == "cgroup"
    assert result["before"]["total"] == LIMIT
    snap = result["snapshot"]
    assert snap["limit"] == "cgroup"
    assert snap["system"]["total_gb"] == 0.25
    assert snap["system"]["status"] in ("warning", "critical")
    assert snap["worker"] is not None and snap["worker"]["rss_mb"] > 100
    types = [e["type"] for e in result["events"]]
    assert types and types[0] in ("memory_warning", "memory_critical")
    assert result["events"][0]["data"]["limit"] == "cgroup"
