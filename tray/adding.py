"""Handing files the person chose to the daemon: copied into its inbox.

The inbox is the daemon's one way in, so a chosen file is copied there the
way a careful user would drop it: under a hidden temporary name first, then
renamed, so the watcher never sees half a file. The original stays where it
is. A name already in the inbox gets " (2)", " (3)"... rather than replacing
another file. Each file is checked first: a regular file this user can read.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from voxtrald.files.textsafe import escape_controls

log = logging.getLogger(__name__)


@dataclass
class Added:
    copied: list[str] = field(default_factory=list)  # names in the inbox
    refused: list[tuple[str, str]] = field(default_factory=list)  # (file name, why)


def _free_name(inbox: Path, name: str) -> Path:
    target = inbox / name
    stem, suffix = os.path.splitext(name)
    n = 2
    while target.exists():
        target = inbox / f"{stem} ({n}){suffix}"
        n += 1
    return target


def add_to_inbox(paths: list[str], inbox: str) -> Added:
    result = Added()
    folder = Path(inbox)
    if not folder.is_dir():
        result.refused += [(os.path.basename(p), f"the inbox {inbox} does not exist")
                           for p in paths]
        return result
    for raw in paths:
        source = Path(raw)
        shown = escape_controls(source.name)
        if not source.exists():
            result.refused.append((shown, "it does not exist (any more)"))
            continue
        if not source.is_file():
            result.refused.append((shown, "it is not a file"))
            continue
        if not os.access(source, os.R_OK):
            result.refused.append((shown, "you may not read it"))
            continue
        target = _free_name(folder, source.name)
        temp = folder / f".voxtral-adding-{os.getpid()}-{target.name}"
        try:
            shutil.copyfile(source, temp)
            os.replace(temp, target)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            result.refused.append((shown, exc.strerror or str(exc)))
            continue
        log.info("added %s to the inbox as %s", shown, escape_controls(target.name))
        result.copied.append(target.name)
    return result
