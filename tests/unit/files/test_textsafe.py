"""Control characters from outside are shown, never obeyed: unit and through the daemon."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from voxtrald.files import textsafe


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("talk.wav", "talk.wav"),
        ("évènement – 東京.mp3", "évènement – 東京.mp3"),
        ("a\nFORGED b.wav", "a\\nFORGED b.wav"),
        ("\x1b[2Jclear.wav", "\\x1b[2Jclear.wav"),
        ("bell\x07\x7f.wav", "bell\\x07\\x7f.wav"),
        ("right\u202eto-left.wav", "right\\u202eto-left.wav"),
        ("bad\udcff.wav", "bad\\udcff.wav"),  # a byte that was not UTF-8
    ],
)
def test_escape_controls(raw: str, shown: str) -> None:
    assert textsafe.escape_controls(raw) == shown


def test_the_log_filter_escapes_values_but_keeps_the_template(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = logging.getLogger("voxtrald.test-escape")
    logger.addFilter(textsafe.EscapingFilter())
    with caplog.at_level(logging.INFO, logger="voxtrald.test-escape"):
        logger.info("queued %s\nsecond line of ours", Path("x\nERROR forged.wav"))
    assert caplog.messages == ["queued x\\nERROR forged.wav\nsecond line of ours"]


