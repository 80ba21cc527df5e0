"""The picture shown beside the tray's notifications, as a file in the user's cache.

Notification servers take the icon as a file path. A fixed name in the shared
temp folder (`/tmp/voxtral-notify-PID.png`) could be pre-created by another
user as a link to a file of ours, and stayed behind when the tray was killed.
So the icon lives in a folder of the user's cache that only the user can
enter (checked without following links), is written by rename (which
replaces a link instead of writing through it), and the folder is emptied
at every start, so a killed tray leaves nothing behind for long.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import stat
from pathlib import Path

import platformdirs
from PIL import Image

from voxtrald import _platform, paths
from voxtrald.files import atomic

log = logging.getLogger(__name__)

FILE_NAME = "notification.png"


def default_folder() -> Path:
    return Path(platformdirs.user_cache_dir(paths.APP, appauthor=False)) / "tray"


def _private_folder(folder: Path) -> bool:
    """Make `folder` exist as a real folder of ours that nobody else can enter."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700)
    st = os.lstat(folder)
    if not stat.S_ISDIR(st.st_mode):
        log.warning("not using %s for the notification icon: not a folder", folder)
        return False
    me = _platform.current_uid()
    if me is not None and st.st_uid != me:
        log.warning("not using %s for the notification icon: it belongs to uid %d",
                    folder, st.st_uid)
        return False
    if _platform.HAS_FILE_MODES and stat.S_IMODE(st.st_mode) & 0o077:
        os.chmod(folder, 0o700)
    return True


def clean(folder: Path) -> int:
    """Remove what earlier runs left in the folder; the number of entries removed."""
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                continue
            os.unlink(entry.path)
            removed += 1
        except OSError as exc:
            log.debug("cannot remove %s: %s", entry.path, exc)
    return removed


def write(image: Image.Image, folder: Path | None = None, file_name: str = FILE_NAME,
          fresh: bool = True) -> Path | None:
    """Write the icon into the folder, cleaned first unless `fresh` is False (a second
    icon beside the first); None (and a log line) if that fails."""
    folder = folder or default_folder()
    try:
        if not _private_folder(folder):
            return None
        if fresh:
            clean(folder)
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        target = folder / file_name
        atomic.write_atomic(target, buf.getvalue(), 0o600)
        return target
    except OSError as exc:
        log.warning("notifications without an icon: cannot write it in %s: %s", folder, exc)
        return None
