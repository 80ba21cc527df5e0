"""Vocabulary from settings and sidecar files, including hostile sidecars."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from voxtrald.jobs import vocabulary


def test_terms_from_lines_and_commas_without_repeats_or_comments() -> None:
    text = "ComfyUI, CTranslate2\n# people\n  Ada   Lovelace \r\nComfyUI\n\n"
    assert vocabulary.parse_terms(text) == ["ComfyUI", "CTranslate2", "Ada Lovelace"]


def test_a_long_vocabulary_is_cut_at_a_term_boundary() -> None:
    joined, cut = vocabulary.join_terms([f"term{i:03d}" for i in range(200)], limit=50)
    assert cut and joined is not None and len(joined) <= 50
    assert joined.split(", ")[-1].startswith("term") and len(joined.split(", ")[-1]) == 7
    assert vocabulary.join_terms([], 50) == (None, False)


@pytest.mark.parametrize(
    ("content", "warning"),
    [
        (b"\x00\x01\x02 binary", "is not text"),
        (b"\xff\xfe caf\xe9", "is not UTF-8 text"),
        (b"word\n" * (vocabulary.MAX_BYTES // 5 + 1), "is larger than 16 KiB"),
    ],
)
def test_a_bad_sidecar_is_ignored_with_a_warning(tmp_path: Path, content: bytes,
                                                 warning: str) -> None:
    source = tmp_path / "talk.mp3"
    source.write_bytes(b"audio")
    (tmp_path / "talk.mp3.vocab.txt").write_bytes(content)
    vocab = vocabulary.for_source(source, "Voxtral")
    assert vocab.hotwords == "Voxtral"
    assert len(vocab.warnings) == 1 and warning in vocab.warnings[0]


def test_a_megabyte_sidecar_is_not_read_whole(tmp_path: Path) -> None:
    source = tmp_path / "talk.mp3"
    source.write_bytes(b"audio")
    (tmp_path / "talk.vocab.txt").write_bytes(b"x" * 1024 * 1024)
    assert "larger than" in vocabulary.for_source(source, "").warnings[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX thing")
def test_a_sidecar_that_is_a_link_or_a_pipe_is_ignored_with_a_warning(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("Confidential Name\n")
    linked = tmp_path / "talk.mp3"
    (tmp_path / "talk.vocab.txt").symlink_to(secret)
    piped = tmp_path / "call.mp3"
    os.mkfifo(tmp_path / "call.mp3.vocab.txt")
    for source in (linked, piped):
        vocab = vocabulary.for_source(source, "")
        assert vocab.hotwords is None  # the link is not followed, the pipe not read
        assert len(vocab.warnings) == 1 and "not a regular file" in vocab.warnings[0], vocab
