"""What happens to a user's source file: hashed, moved on, set aside, brought back.

Every move picks a free name in the target folder, so a second `talk.mp3`
never replaces the first; a source that failed for good is set aside with a
NAME.error.json beside it, so the user can see why without reading logs.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

from voxtrald.media import PARTIAL_SUFFIXES

HASH_BLOCK = 1024 * 1024


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def free_path(target: Path) -> Path:
    """`target`, or 'name-2.ext', 'name-3.ext'… when it exists: never overwrite."""
    candidate, n = target, 1
    while candidate.exists():
        n += 1
        candidate = target.with_name(f"{target.stem}-{n}{target.suffix}")
    return candidate


def move_into(source: Path, folder: Path) -> Path:
    """Move `source` into `folder` under a free name; returns where it went."""
    folder.mkdir(parents=True, exist_ok=True)
    target = free_path(folder / source.name)
    shutil.move(str(source), str(target))
    return target


def set_aside(source: Path, target: Path, record: dict[str, Any]) -> None:
    """Move a failed source to `target` and write TARGET.error.json (atomically) beside it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.exists():
        shutil.move(str(source), str(target))
    report = target.with_name(f"{target.name}.error.json")
    tmp = report.with_name(f".{report.name}.tmp")
    tmp.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, report)


def download_in_progress(path: Path) -> bool:
    """An empty file beside NAME.part (or .crdownload…) is a browser's placeholder."""
    return any(path.with_name(path.name + suffix).exists() for suffix in PARTIAL_SUFFIXES)


def bring_back(source: Path, folder: Path) -> Path:
    """Return a set-aside source to `folder` for another try; its error report goes."""
    (source.parent / f"{source.name}.error.json").unlink(missing_ok=True)
    return move_into(source, folder)
