"""What pystray's X11 (XEmbed) backend needs to look and act like a tray icon.

That backend, used where PyGObject is missing, has three gaps a user sees:
- it pastes the RGBA icon onto a black RGB image, so a round icon gets black
  corners with colour fringes: the tray hands it an opaque icon instead (the
  same look drawn edge to edge on its own colour, nothing transparent);
- it never asks X for button presses (its window selects only expose and
  structure events), so a click does nothing: the mask is added here;
- XEmbed has no tooltips and this backend no menu: a click therefore shows
  the tooltip's line as a notification, with the actions the menu would
  offer first (open the transcripts, pause or resume).
These reach into pystray's X11 icon (`_window`, `_display`), pinned in the
project's dependencies; if the attributes are missing the icon still works,
only without clicks.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def accept_clicks(icon: Any) -> bool:
    """Select button presses on the icon's window; False when pystray's shape changed."""
    window, display = getattr(icon, "_window", None), getattr(icon, "_display", None)
    if window is None or display is None:
        log.warning("X11 tray icon: clicks are not available with this pystray")
        return False
    from Xlib import X

    window.change_attributes(
        event_mask=X.ExposureMask | X.StructureNotifyMask | X.ButtonPressMask)
    display.flush()
    return True
