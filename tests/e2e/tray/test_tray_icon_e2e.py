"""Every icon look is drawn, written by the render CLI, and tells itself apart.

The tests that start real processes; those that start none are in
tests/unit/tray/test_tray_icon.py.
"""

from __future__ import annotations

import subprocess
import sys
from itertools import combinations
from pathlib import Path

from PIL import Image

from tests.support.tray_icon import differs
from tray import icon


def test_render_cli_writes_every_look(tmp_path: Path) -> None:
    out = tmp_path / "icons"
    proc = subprocess.run(
        [sys.executable, "-m", "tray.icon", "--render", str(out)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    files = sorted(out.glob("*.png"))
    assert {f.stem for f in files} == set(icon.SAMPLE_LOOKS)
    assert len(proc.stdout.splitlines()) == len(files)
    images = {f.stem: Image.open(f) for f in files}
    for img in images.values():
        assert img.size == (icon.SIZE, icon.SIZE)
    for (name_a, a), (name_b, b) in combinations(images.items(), 2):
        assert differs(a, b), f"{name_a} and {name_b} look the same"
