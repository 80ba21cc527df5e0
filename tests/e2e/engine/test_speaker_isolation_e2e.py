"""The speaker parts in real processes: no torch anywhere, no numpy in the daemon."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e


def test_no_torch_is_imported_or_installed() -> None:
    code = ("import sys; import voxtrald.engine.speakers.windows as w; "
            "w.SpeakerEncoder(); print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True)
    assert out.stdout.strip() == "False"
    shown = subprocess.run([sys.executable, "-m", "pip", "show", "torch"],
                           capture_output=True, text=True, timeout=120)
    assert shown.returncode != 0


def test_the_daemon_side_of_speakers_imports_no_numpy() -> None:
    """Vectors stay packed in the daemon; only the worker loads numpy and onnxruntime."""
    code = ("import sys, voxtrald.daemon, voxtrald.cli, voxtrald.jobs.speaker_labels, "
            "voxtrald.api.speaker_routes; print(sorted({'numpy', 'onnxruntime'} & "
            "set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True)
    assert out.stdout.strip() == "[]"
