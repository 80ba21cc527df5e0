"""Listing the files under a folder without trusting its shape.

An inbox (or a transcripts folder) is the user's, and anyone who can write
to it can make it 1,000 folders deep or loop it with links. The walk is
iterative (no recursion limit to hit), never follows links, stops at a depth
limit and reports where it stopped, and skips folders it cannot read.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger("voxtrald")

# Folders nested deeper than this are not looked into; nobody files recordings that deep,
# and walking a hostile 1,000-level tree must not cost the watcher its life.
MAX_DEPTH = 32


def walk_files(root: Path, recursive: bool, max_depth: int = MAX_DEPTH
               ) -> tuple[list[Path], list[Path]]:
    """Files and links under `root` (iteratively, links not followed), and folders too deep.

    Folders that cannot be read are skipped: one bad folder must not hide the rest.
    """
    files: list[Path] = []
    too_deep: list[Path] = []
    stack: list[tuple[Path, int]] = [(root, 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    try:
                        if entry.is_file(follow_symlinks=False) or entry.is_symlink():
                            files.append(Path(entry.path))  # links too, to be set aside
                        elif recursive and entry.is_dir(follow_symlinks=False):
                            if depth + 1 >= max_depth:
                                too_deep.append(Path(entry.path))
                            else:
                                stack.append((Path(entry.path), depth + 1))
                    except OSError:
                        continue
        except OSError as exc:
            if folder == root:
                raise
            log.debug("cannot read %s: %s", folder, exc)
    return files, too_deep
