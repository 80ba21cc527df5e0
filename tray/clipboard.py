"""Putting a transcript's text on the clipboard with the desktop's own tool.

Hand-written rather than pyperclip (not a dependency, and it shells out to
the same tools): the first of wl-copy (Wayland), xclip or xsel (X11), pbcopy
(macOS) or clip (Windows) found on PATH. Where none is, `available()` is
None and the tray leaves "Copy text" out instead of offering a button that
cannot work. The text is passed on stdin, never on a command line.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess

log = logging.getLogger(__name__)

# (tool, its arguments, the environment variable its display needs or "")
TOOLS = (
    ("wl-copy", (), "WAYLAND_DISPLAY"),
    ("xclip", ("-selection", "clipboard", "-in"), "DISPLAY"),
    ("xsel", ("--clipboard", "--input"), "DISPLAY"),
    ("pbcopy", (), ""),
    ("clip", (), ""),
)
# A transcript longer than this is cut: a clipboard is no place for a book.
MAX_BYTES = 1_000_000


def available() -> list[str] | None:
    """The command that copies stdin to the clipboard here, or None."""
    for tool, args, needs in TOOLS:
        if needs and not os.environ.get(needs):
            continue
        path = shutil.which(tool)
        if path:
            return [path, *args]
    return None


def copy(text: str) -> bool:
    cmd = available()
    if cmd is None:
        log.warning("cannot copy: no clipboard tool (install wl-clipboard, xclip or xsel)")
        return False
    data = text.encode("utf-8")[:MAX_BYTES]
    try:
        subprocess.run(cmd, input=data, check=True, timeout=10,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("cannot copy with %s: %s", os.path.basename(cmd[0]), exc)
        return False
    log.info("copied %d bytes to the clipboard", len(data))
    return True
