"""A full disk under the state folder: health says so, the log does not flood, nothing is lost.

A real daemon keeps its store on a real 8 MB tmpfs. The disk is filled to the
last byte, then files are dropped into the inbox; while the store cannot be
written, /api/health must name the problem and the log must grow by a few
lines, not by a traceback per file per scan. Once space comes back, every
file becomes a job.
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import DaemonProc, tmpfs, wait_for

#: Files dropped while the disk is full: one log line per file per scan would be
#: hundreds over the stretch, against the MAX_LINES allowed.
FILES = 10
#: The stretch over which the log is watched while the disk is full. Four
#: minutes at a 30 s scan are eight scans; 8 s at a 0.25 s scan are thirty-two.
SCAN_SECONDS = 0.25
FULL_SECONDS = 8.0
MAX_LINES = 20


def fill(folder: Path) -> Path:
    """Write zeros into `folder` until its disk has no byte left."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 16, 1 << 10, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
    finally:
        os.close(fd)
    return filler


@pytest.fixture
def small_state(tmp_path: Path) -> Iterator[Path]:
    with tmpfs(tmp_path / "statedisk", "size=8m") as disk:
        yield disk


def _health(d: DaemonProc) -> dict[str, Any]:
    return d.api("GET", "/api/health")[1]


@pytest.fixture
def daemon_on_small_disk(tmp_path: Path, small_state: Path) -> Iterator[DaemonProc]:
    root = tmp_path / "d"
    root.mkdir()
    d = DaemonProc(root, {"inbox": {"settle_seconds": 0.2,
                                    "scan_interval_seconds": SCAN_SECONDS}}, None)
    d.state_dir = small_state / "state"
    d.start()
    yield d
    d.stop()


def test_full_state_disk_is_one_problem_and_nothing_is_lost(
        daemon_on_small_disk: DaemonProc, small_state: Path, speech_wav: Path) -> None:
    d = daemon_on_small_disk
    wait_for(lambda: _health(d)["ok"], 120, "the daemon to be fully up")
    filler = fill(small_state)
    lines_before = len(d.log().splitlines())
    payload = speech_wav.read_bytes()
    for i in range(FILES):
        tmp = d.inbox / f".drop{i}.part"
        tmp.write_bytes(payload + bytes([i]) * 64)  # each its own audio, not a duplicate
        tmp.rename(d.inbox / f"clip{i:03d}.wav")
    health = wait_for(lambda: (lambda h: None if h["ok"] else h)(_health(d)), 60,
                      "health to report the full store")
    assert any("cannot be written" in p for p in health["problems"]), health
    deadline = time.monotonic() + FULL_SECONDS
    flood = wait_for(lambda: len(d.log().splitlines()) - lines_before > MAX_LINES
                     or time.monotonic() > deadline, FULL_SECONDS + 30, "the stretch")
    assert flood
    grown = len(d.log().splitlines()) - lines_before
    print(f"log lines during {FULL_SECONDS:.0f} s of a full state disk: {grown}")
    assert grown < MAX_LINES, d.log().splitlines()[lines_before:][-30:]
    assert not _health(d)["ok"]
    assert sorted(p.name for p in d.inbox.iterdir()) == [f"clip{i:03d}.wav"
                                                          for i in range(FILES)]
    filler.unlink()
    wait_for(lambda: _health(d)["ok"], 120, "health to recover")
    jobs = d.wait_jobs(FILES, timeout=600)
    assert sorted(j["file"] for j in jobs) == [f"clip{i:03d}.wav" for i in range(FILES)]
