"""What the inbox watcher says in the log, through the real daemon."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def test_no_vanished_line_for_files_the_daemon_moved_but_one_for_a_real_vanishing(
    daemon_factory, data_dir: Path
) -> None:
    # A settle time longer than a short job: reading the file (hashing, decoding) must not
    # make it a candidate again that then "vanishes" when the daemon moves it on.
    daemon = daemon_factory({"inbox": {"settle_seconds": 3}})
    daemon.drop(data_dir / "fox.wav", "first.wav")
    daemon.drop(data_dir / "stella.mp3", "second.mp3")
    daemon.wait_jobs(2)
    time.sleep(4)  # a settle period and inbox ticks after the moves
    assert "vanished before it settled" not in daemon.log()
    gone = daemon.inbox / "gone.wav"
    gone.write_bytes(b"RIFF")
    time.sleep(0.1)
    gone.unlink()
    daemon.wait_for(lambda: "gone.wav vanished before it settled" in daemon.log(), 10,
                    "the vanishing to be logged")
