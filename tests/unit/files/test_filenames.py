"""Names that fit the filesystem and never take another file's place."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from voxtrald import _platform
from voxtrald.files import filenames


def test_short_names_are_kept() -> None:
    assert filenames.fit("talk", 255) == "talk"
    assert filenames.fit_with_suffix("talk", ".json", 255) == "talk.json"


def test_long_names_are_cut_with_a_stable_hash() -> None:
    long = "Interview mit Frau Müller über die Stadtplanung " * 8
    short = filenames.fit(long, 100)
    assert len(os.fsencode(short)) <= 100
    assert short.startswith("Interview mit Frau Müller")
    assert short == filenames.fit(long, 100)  # a retry finds its first attempt's files
    assert short != filenames.fit(long + "2", 100)  # same start, another file
    assert not short[:-(filenames.HASH_CHARS + 1)].endswith((" ", "."))


@given(st.text(min_size=1, max_size=400), st.integers(min_value=1, max_value=300))
def test_fit_always_fits(name: str, budget: int) -> None:
    assert len(os.fsencode(filenames.fit(name, budget))) <= max(budget, 1)


def test_free_path_adds_a_suffix_and_keeps_the_extension(tmp_path: Path) -> None:
    (tmp_path / "talk.mp3").write_bytes(b"")
    assert filenames.free_path(tmp_path / "talk.mp3").name == "talk-2.mp3"
    (tmp_path / "README").write_bytes(b"")
    assert filenames.free_path(tmp_path / "README").name == "README-2"
    long = "a" * 250 + ".mp3"
    (tmp_path / long).write_bytes(b"")
    free = filenames.free_path(tmp_path / long)
    assert free.suffix == ".mp3" and free.name.endswith("-2.mp3")
    assert len(os.fsencode(free.name)) <= 255
    free.write_bytes(b"")  # the filesystem takes it


def test_name_max_asks_the_nearest_existing_folder(tmp_path: Path) -> None:
    assert _platform.name_max(tmp_path / "not" / "yet") == _platform.name_max(tmp_path) > 0
