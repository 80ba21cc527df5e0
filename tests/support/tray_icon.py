"""Test helpers: telling two rendered icons apart.

Shared by the unit tests and the end-to-end tests that grew out of test_tray_icon.py,
so both build the same rig the same way.
"""

from __future__ import annotations

from PIL import Image, ImageChops


def differs(a: Image.Image, b: Image.Image) -> bool:
    return (
        ImageChops.difference(a.convert("RGBA"), b.convert("RGBA")).getbbox(alpha_only=False)
        is not None
    )
