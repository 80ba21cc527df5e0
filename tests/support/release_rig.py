"""Test helpers: loading packaging/release.py, which is a script, not a package module.

Shared by the unit tests and the end-to-end tests that grew out of test_packaging_release.py,
so both build the same rig the same way.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


SCRIPT = ROOT / "packaging" / "release.py"


def _load_release():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("release_script", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


release = _load_release()
