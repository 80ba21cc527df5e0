"""Names for the files we create: short enough for the filesystem, never taken.

A source may be named right at the filesystem's limit (255 bytes on most),
and what we write beside it adds to the name: `-2` for a clash, `.json`,
`.error.json`. Such a name is shortened rather than refused: cut at a
character boundary, with a short hash of the full name appended so two long
names that share their first 200 bytes still get different files.

Lengths are counted in the bytes the filesystem stores (`os.fsencode`), which
on every platform is at least the count it limits.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Collection, Iterable
from pathlib import Path

from voxtrald import _platform

HASH_CHARS = 8


def encoded_len(name: str) -> int:
    return len(os.fsencode(name))


def fit(name: str, budget: int) -> str:
    """`name` if it fits in `budget` bytes, else a cut of it plus `-` and a short hash.

    The same long name always gives the same short one, so a retry finds
    the files of its first attempt.
    """
    if encoded_len(name) <= budget:
        return name
    digest = hashlib.sha256(os.fsencode(name)).hexdigest()[:HASH_CHARS]
    room = budget - len(digest) - 1
    if room < 1:
        return digest[: max(1, budget)]
    cut = name
    while cut and encoded_len(cut) > room:
        cut = cut[:-1]
    # Trailing dots and spaces vanish or fail on some filesystems (Windows).
    cut = cut.rstrip(" .")
    return f"{cut}-{digest}" if cut else digest


def fit_with_suffix(name: str, suffix: str, limit: int) -> str:
    """`name + suffix` within `limit` bytes, shortening `name` only."""
    return fit(name, limit - encoded_len(suffix)) + suffix


def free_stem(folder: Path, stem: str, suffixes: Iterable[str], limit: int | None = None,
              reserved: Collection[str] = ()) -> str:
    """A stem for which no STEM+suffix exists yet in `folder`: 'talk', 'talk-2', 'talk-3'…

    Shortened so that every STEM+suffix fits the filesystem's limit; a
    dangling link counts as taken too, so nothing is written through one. A
    `reserved` stem is taken even before any of its files exist (another job
    chose it and has not written yet).
    """
    limit = limit or _platform.name_max(folder)
    ends = list(suffixes)
    longest = max((encoded_len(s) for s in ends), default=0)
    n = 1
    while True:
        tail = "" if n == 1 else f"-{n}"
        candidate = fit(stem, limit - longest - len(tail)) + tail
        if candidate not in reserved and not any(_taken(folder / f"{candidate}{s}")
                                                 for s in ends):
            return candidate
        n += 1


def free_path(target: Path, limit: int | None = None) -> Path:
    """`target`, or 'name-2.ext', 'name-3.ext'… when taken; shortened to fit. Never overwrites."""
    stem, suffix = target.stem, target.suffix
    if not suffix or encoded_len(suffix) > 16:  # no extension, or just a dot in a long name
        stem, suffix = target.name, ""
    return target.with_name(free_stem(target.parent, stem, [suffix], limit) + suffix)


def _taken(path: Path) -> bool:
    return path.exists() or path.is_symlink()
