"""Opening files, folders and web pages the way the user's desktop does.

What is opened comes from the daemon (folders in its status, transcript
paths in its events), and the daemon at the other end of the socket could be
an impostor or simply wrong. So only what exists here is opened: an absolute
path to an existing folder (or regular file), never a URL, a relative path
or a folder that would first have to be created; web pages only over https.
"""

from __future__ import annotations

import logging
import os
import stat
import webbrowser

from tray.view import safe_release_url
from voxtrald import _platform
from voxtrald.files.textsafe import escape_controls

log = logging.getLogger(__name__)


def local_path(path: object, want_dir: bool) -> str | None:
    """`path` if it is an absolute local path to an existing folder (or file); else None."""
    if not isinstance(path, str) or not path or "\0" in path or "://" in path:
        return None
    if not os.path.isabs(path):
        return None
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    ok = stat.S_ISDIR(st.st_mode) if want_dir else stat.S_ISREG(st.st_mode)
    return path if ok else None


def _open(path: object, want_dir: bool) -> bool:
    what = "folder" if want_dir else "file"
    safe = local_path(path, want_dir)
    if safe is None:
        log.warning("not opening %r: not an existing local %s", escape_controls(str(path)), what)
        return False
    try:
        if _platform.open_path(safe):
            return True
    except OSError as exc:
        log.warning("cannot open %s: %s", safe, exc)
        return False
    # Only the freedesktop opener can be missing; macOS and Windows always have theirs.
    log.warning("cannot open %s: xdg-open is not installed", safe)
    return False


def open_folder(path: object) -> bool:
    return _open(path, want_dir=True)


def open_file(path: object) -> bool:
    return _open(path, want_dir=False)


def open_release_page(url: str | None) -> bool:
    """Open only https pages; anything else from the daemon is refused and logged."""
    safe = safe_release_url(url)
    if safe is None:
        log.warning("not opening release page %r: only https links are opened", url)
        return False
    try:
        return webbrowser.open(safe)
    except webbrowser.Error as exc:
        log.warning("cannot open %s: %s", safe, exc)
        return False
