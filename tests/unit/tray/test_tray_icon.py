"""Every icon look is drawn, written by the render CLI, and tells itself apart."""

from __future__ import annotations

import subprocess
import sys
from itertools import combinations
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from tray import icon
from tray.view import IconLook


def _differs(a: Image.Image, b: Image.Image) -> bool:
    return (
        ImageChops.difference(a.convert("RGBA"), b.convert("RGBA")).getbbox(alpha_only=False)
        is not None
    )


@pytest.mark.e2e  # starts a process
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
        assert _differs(a, b), f"{name_a} and {name_b} look the same"


def test_memory_levels_change_the_colour() -> None:
    def centre_ring(look: IconLook) -> tuple[int, ...]:
        return icon.render(look).getpixel((32, 6))

    normal = centre_ring(IconLook("idle"))
    warning = centre_ring(IconLook("idle", memory="warning"))
    critical = centre_ring(IconLook("idle", memory="critical"))
    offline = centre_ring(IconLook("offline"))
    assert len({normal, warning, critical, offline}) == 4
    assert warning[0] > warning[2]  # amber: more red than blue
    assert critical[0] > 150 and critical[1] < 100


def test_progress_is_visible() -> None:
    low = icon.render(IconLook("transcribing", progress=10.0))
    high = icon.render(IconLook("transcribing", progress=90.0))
    assert _differs(low, high)
