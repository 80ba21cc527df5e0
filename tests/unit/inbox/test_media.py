"""Which inbox files are taken."""

from __future__ import annotations

from pathlib import Path

import pytest

from voxtrald.inbox.media import skip_reason

ROOT = Path("/in")


@pytest.mark.parametrize("name", ["a.wav", "b.MP3", "c d é.flac", "sub/e.m4a", "f.webm",
                                  "g.mkv", "h.opus"])
def test_media_is_taken(name: str) -> None:
    assert skip_reason(ROOT / name, ROOT) is None


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        (".secret.wav", "hidden"), (".cache/a.wav", "hidden"), (".~lock.a.wav#", "lock"),
        ("a.wav.part", "partial"), ("a.mp3.crdownload", "partial"), ("a.wav.tmp", "partial"),
        ("a.wav~", "partial"), ("notes.txt", "not an audio"), ("README", "not an audio"),
        ("talk.mp3.download/talk.mp3", "download"),
        ("caf\udce9.wav", "UTF-8"),
    ],
)
def test_others_are_left_alone(name: str, reason: str) -> None:
    assert reason in (skip_reason(ROOT / name, ROOT) or "")
