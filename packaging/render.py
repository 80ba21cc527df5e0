"""Rewrite the reference service files in packaging/ from the installer's templates.

`voxtrald install-service` renders these files itself, with the real paths of
the installation, so the templates live in `voxtrald.service` (they must ship
in the wheel). The copies here are for reading, packaging and hand installs;
a test fails when they drift from what the installer writes, and this script
brings them back in line: `python packaging/render.py`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voxtrald.service._common import Executables  # noqa: E402
from voxtrald.service.installer import load_platform  # noqa: E402

# Placeholders a reader recognises and edits for a hand install.
REFERENCE_HOME = "/Users/YOU"
POSIX = Executables(
    python="/usr/local/bin/python3",
    daemon=("/usr/local/bin/voxtrald",),
    tray=("/usr/local/bin/voxtral-tray",),
)
WINDOWS_PYTHON = r"C:\Users\YOU\AppData\Local\Programs\Python\Python312\pythonw.exe"
WINDOWS = Executables(python=WINDOWS_PYTHON, daemon=(WINDOWS_PYTHON,), tray=(WINDOWS_PYTHON,))

# platform -> (executables, {file name: folder under packaging/})
LAYOUT = {
    "linux": (POSIX, {
        "voxtrald.service": "systemd",
        "voxtral-tray.service": "systemd",
        "voxtral-tray.desktop": "linux",
    }),
    "macos": (POSIX, {
        "io.github.debrockb.voxtrald.plist": "macos",
        "io.github.debrockb.voxtral-tray.plist": "macos",
    }),
    "windows": (WINDOWS, {"Voxtral.cmd": "windows"}),
}


def render_all() -> dict[Path, str]:
    """Relative path under packaging/ -> content, exactly as the installer renders it."""
    saved = os.environ.get("HOME")
    os.environ["HOME"] = REFERENCE_HOME
    try:
        out: dict[Path, str] = {}
        for name, (exes, where) in LAYOUT.items():
            for item in load_platform(name).files(exes, Path("/"), tray=True):
                out[Path(where[item.path.name]) / item.path.name] = item.content
        return out
    finally:
        if saved is None:
            del os.environ["HOME"]
        else:
            os.environ["HOME"] = saved


def main() -> int:
    here = Path(__file__).resolve().parent
    for rel, content in render_all().items():
        path = here / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode("utf-8"))
        print(f"wrote packaging/{rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
