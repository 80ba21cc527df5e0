"""The size of a model's files on disk: the base of the estimate of what loading it needs."""

from __future__ import annotations

from pathlib import Path


def model_files_bytes(folder: str | Path) -> int | None:
    """Total size of the regular files in a model folder; None if it cannot be walked."""
    root = Path(folder)
    if not root.is_dir():
        return None
    total = 0
    try:
        for path in root.rglob("*"):
            if path.is_file():
                total += path.stat().st_size
    except OSError:
        return None
    return total
