"""Opening folders and web pages the way the user's desktop does."""

from __future__ import annotations

import logging
import os
import webbrowser

from tray.view import safe_release_url
from voxtrald import _platform

log = logging.getLogger(__name__)


def open_folder(path: str) -> bool:
    try:
        os.makedirs(path, exist_ok=True)
        if _platform.open_path(path):
            return True
        # Only the freedesktop opener can be missing; macOS and Windows always have theirs.
        log.warning("cannot open %s: xdg-open is not installed", path)
        return False
    except OSError as exc:
        log.warning("cannot open %s: %s", path, exc)
        return False


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
