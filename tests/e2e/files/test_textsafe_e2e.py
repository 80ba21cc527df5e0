"""Control characters from outside are shown, never obeyed: unit and through the daemon.

The tests that start real processes; those that start none are in
tests/unit/files/test_textsafe.py.
"""

from __future__ import annotations

from pathlib import Path


def test_a_file_name_cannot_forge_daemon_log_lines(daemon, data_dir: Path) -> None:
    daemon.drop(data_dir / "fox.wav", "fox\nERROR voxtrald: forged.wav")
    daemon.drop(data_dir / "stella.mp3", "\x1b[2Jclear.mp3")
    daemon.wait_jobs(2)
    log = daemon.log()
    assert "fox\\nERROR voxtrald: forged.wav" in log
    assert not any(line.startswith("ERROR voxtrald: forged") for line in log.splitlines())
    assert "\x1b" not in log and "\\x1b[2Jclear.mp3" in log
