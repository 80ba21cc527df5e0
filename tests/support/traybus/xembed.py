"""A bare XEmbed system tray on the test's X display, for pystray's X11 backend.

It owns the `_NET_SYSTEM_TRAY_S<screen>` selection as a panel's tray does,
records every SYSTEM_TRAY_REQUEST_DOCK with the icon's window, and embeds
that window (reparented into a mapped 24x24 slot) so the icon draws itself
and the test can read its title and its pixels.
"""

from __future__ import annotations

import select
import threading
from typing import Any

from Xlib import X
from Xlib.display import Display

REQUEST_DOCK = 0
SLOT = 24


class XEmbedTray:
    def __init__(self, display: str) -> None:
        self.display_name = display
        self.d = Display(display)
        screen = self.d.screen()
        self.slot = screen.root.create_window(0, 0, SLOT, SLOT, 0, screen.root_depth,
                                              X.InputOutput, X.CopyFromParent,
                                              background_pixel=screen.white_pixel)
        self.slot.map()
        selection = self.d.intern_atom(f"_NET_SYSTEM_TRAY_S{self.d.get_default_screen()}")
        self.opcode = self.d.intern_atom("_NET_SYSTEM_TRAY_OPCODE")
        self.slot.set_selection_owner(selection, X.CurrentTime)
        self.d.flush()
        self.docked: list[int] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="xembed-tray")
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            if not self.d.pending_events():
                select.select([self.d], [], [], 0.2)
                continue
            event = self.d.next_event()
            if event.type != X.ClientMessage or event.client_type != self.opcode:
                continue
            _fmt, data = event.data
            if data[1] == REQUEST_DOCK:
                window = self.d.create_resource_object("window", data[2])
                window.reparent(self.slot, 0, 0)
                window.configure(width=SLOT, height=SLOT)
                window.map()
                self.d.flush()
                with self._lock:
                    self.docked.append(int(data[2]))

    def icons(self) -> list[int]:
        with self._lock:
            return list(self.docked)

    def _window(self, window_id: int) -> tuple[Display, Any]:
        d = Display(self.display_name)
        return d, d.create_resource_object("window", window_id)

    def title(self, window_id: int) -> str:
        d, window = self._window(window_id)
        try:
            return str(window.get_wm_name() or "")
        finally:
            d.close()

    def colours(self, window_id: int) -> set[bytes]:
        """The distinct pixels the icon window shows (more than one: something is drawn)."""
        d, window = self._window(window_id)
        try:
            geo = window.get_geometry()
            image = window.get_image(0, 0, geo.width, geo.height, X.ZPixmap, 0xFFFFFFFF)
            raw = image.data if isinstance(image.data, bytes) else bytes(image.data)
            return {raw[i:i + 4] for i in range(0, len(raw), 4)}
        finally:
            d.close()

    def pixel(self, window_id: int, x: int, y: int) -> bytes:
        """One pixel of the icon as the tray shows it (B, G, R, pad)."""
        d, window = self._window(window_id)
        try:
            image = window.get_image(x, y, 1, 1, X.ZPixmap, 0xFFFFFFFF)
            raw = image.data if isinstance(image.data, bytes) else bytes(image.data)
            return raw[:4]
        finally:
            d.close()

    def click(self, window_id: int) -> None:
        """A left click on the icon, delivered as X delivers it to a window that asked
        for button presses (and to nobody when it did not)."""
        from Xlib.protocol import event

        d, window = self._window(window_id)
        try:
            press = event.ButtonPress(
                time=X.CurrentTime, root=d.screen().root, window=window, same_screen=1,
                child=X.NONE, root_x=5, root_y=5, event_x=5, event_y=5, state=0, detail=1)
            window.send_event(press, event_mask=X.ButtonPressMask)
            d.flush()
        finally:
            d.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.d.close()


