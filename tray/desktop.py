"""Opening folders and web pages the way the user's desktop does."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import webbrowser

from tray.view import safe_release_url

log = logging.getLogger(__name__)


def open_folder(path: str) -> bool:
    try:
        os.makedirs(path, exist_ok=True)
        if sys.platform == "win32":
            os.startfile(path)  # type: ignore[attr-defined]
            return True
        opener = "open" if sys.platform == "darwin" else shutil.which("xdg-open")
        if not opener:
            log.warning("cannot open %s: xdg-open is not installed", path)
            return False
        subprocess.Popen(
            [opener, path],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        return True
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
