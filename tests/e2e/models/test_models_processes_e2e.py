"""Models from the real packages: assembled once, atomically, and checked against their pins.

The tests that start real processes; those that start none are in
tests/unit/models/test_models.py.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from voxtrald.models import (
    resolve,
)
from voxtrald.models.assembly import LOCK_NAME, TEMP_PREFIX
from voxtrald.models.local import assembled_folder
from voxtrald.models.pins import BASE


def leftovers(root: Path) -> list[str]:
    """Temp folders an assembly left behind."""
    return sorted(p.name for p in root.iterdir() if p.name.startswith(TEMP_PREFIX))


ROOT = Path(__file__).resolve().parents[2].parent


KILL_BEFORE_RENAME = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    from voxtrald.models import assembly, pins
    real_rename = os.rename
    def stall(src, dst):
        print("ready", flush=True)
        time.sleep(600)
    assembly.os.rename = stall
    assembly.assemble(pins.BASE, Path(sys.argv[1]))
""")


CONCURRENT = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from voxtrald.models import resolve
    start_at = float(sys.argv[2])
    time.sleep(max(0.0, start_at - time.time()))
    print(resolve("default", Path(sys.argv[1])).path)
""")


def test_a_kill_just_before_the_rename_leaves_no_model_folder(tmp_path: Path) -> None:
    """Killed with every file written and verified but not yet renamed: nothing half-there."""
    root = tmp_path / "models"
    proc = subprocess.Popen([sys.executable, "-c", KILL_BEFORE_RENAME, str(root)],
                            stdout=subprocess.PIPE, cwd=ROOT)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"ready"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not assembled_folder(BASE, root).exists()
    assert len(leftovers(root)) == 1
    # The next start does not mistake the leftover for a model, removes it and assembles.
    assert resolve("default", root).verified
    assert leftovers(root) == []


def test_two_processes_assembling_at_once_both_get_the_one_complete_folder(
        tmp_path: Path) -> None:
    root = tmp_path / "models"
    start_at = str(time.time() + 1.5)
    procs = [subprocess.Popen([sys.executable, "-c", CONCURRENT, str(root), start_at],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
             for _ in range(2)]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    paths = {out.strip() for out, _err in results}
    assert paths == {str(assembled_folder(BASE, root))}
    assert sorted(p.name for p in root.iterdir()) == \
        sorted([".verified", LOCK_NAME, BASE.folder_name])


def test_the_light_part_imports_neither_numpy_nor_faster_whisper() -> None:
    code = ("import sys, voxtrald.models, voxtrald.models.catalog, voxtrald.models.cli;"
            "voxtrald.models.model_files_bytes('default');"
            "print(sorted(m for m in ('numpy', 'faster_whisper', 'ctranslate2') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout
    assert out.strip() == "[]"
