"""A notification server and a StatusNotifierWatcher on one jeepney connection.

Runs in a thread of the test process; every Notify call is recorded (with its
actions and icon) so a test can count the notifications the tray really sent
over the bus. It advertises "actions" in GetCapabilities unless told not to,
and `invoke` presses a button the way a desktop does: an ActionInvoked signal
from the notification server's own connection.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from jeepney import DBusAddress, HeaderFields, MessageType, new_error, new_method_return, new_signal
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection

from tests.support.waiting import wait_for

NOTIFY_NAME = "org.freedesktop.Notifications"
PORTAL_NAME = "org.freedesktop.portal.Desktop"
PORTAL_PATH = "/org/freedesktop/portal/desktop"
WATCHER_NAME = "org.kde.StatusNotifierWatcher"
WATCHER_PATH = "/StatusNotifierWatcher"


@dataclass
class Notify:
    app_name: str
    summary: str
    body: str
    hints: dict[str, Any]
    actions: dict[str, str] = field(default_factory=dict)  # key -> label, in order
    icon: str = ""
    id: int = 0


class DesktopServices:
    def __init__(self, bus_address: str, notifications: bool = True) -> None:
        self.conn = open_dbus_connection(bus_address)
        self.notifications: list[Notify] = []
        self.items: list[tuple[str, str]] = []  # (sender, argument) per registration
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._stop = threading.Event()
        self._next_id = 1
        self.with_actions = True
        self._owns_notify = notifications
        # The file chooser portal, when a test serves one: the URIs it answers with
        # (None: the person cancels) and the titles it was opened with.
        self.portal_uris: list[str] | None = None
        self.portal_calls: list[str] = []
        self._owns_portal = False
        names = [WATCHER_NAME] + ([NOTIFY_NAME] if notifications else [])
        for name in names:
            reply = self.conn.send_and_get_reply(message_bus.RequestName(name, 4))
            if reply.body[0] != 1:
                raise RuntimeError(f"could not own {name}")
        self.bus_address = bus_address
        self._thread = threading.Thread(target=self._serve, daemon=True, name="desktop-bus")
        self._thread.start()

    # -- what tests read ----------------------------------------------------------

    def notes(self) -> list[Notify]:
        with self._lock:
            return list(self.notifications)

    def summaries(self) -> list[str]:
        return [n.summary for n in self.notes()]

    def wait_for(self, pred: Any, timeout: float, what: str) -> Any:
        return wait_for(pred, timeout, what)

    def registered_item(self) -> tuple[str, str] | None:
        with self._lock:
            return self.items[-1] if self.items else None

    def by_summary(self, summary: str) -> Notify:
        return next(n for n in reversed(self.notes()) if n.summary == summary)

    def invoke(self, note: Notify, key: str) -> None:
        """Press a button of a notification: ActionInvoked(id, key), as a desktop sends it."""
        assert key in note.actions, f"{key!r} not among {list(note.actions)}"
        self._send(new_signal(_NotifyAddr, "ActionInvoked", "us", (note.id, key)))

    def _owner(self, bus_address: str, owned: bool) -> None:
        probe = open_dbus_connection(bus_address)
        try:
            self.wait_for(
                lambda: probe.send_and_get_reply(
                    message_bus.NameHasOwner(NOTIFY_NAME)).body[0] is owned,
                5,
                "the notification name to change hands",
            )
        finally:
            probe.close()

    def drop_notifications(self, bus_address: str) -> None:
        """Give up the notification name, as on a desktop without a notification server."""
        self._send(message_bus.ReleaseName(NOTIFY_NAME))  # the reply is read by _serve
        self._owns_notify = False
        self._owner(bus_address, False)

    def serve_portal(self, uris: list[str] | None) -> None:
        """Own the desktop portal's name; its file chooser answers with `uris`."""
        self.portal_uris = uris
        if not self._owns_portal:
            self._send(message_bus.RequestName(PORTAL_NAME, 4))
            self._owns_portal = True
            probe = open_dbus_connection(self.bus_address)
            try:
                self.wait_for(lambda: probe.send_and_get_reply(
                    message_bus.NameHasOwner(PORTAL_NAME)).body[0], 5, "the portal name")
            finally:
                probe.close()

    def reset(self, with_actions: bool = True) -> None:
        """A clean notification server for the next test of a shared desktop."""
        if self._owns_portal:
            self._send(message_bus.ReleaseName(PORTAL_NAME))
            self._owns_portal = False
        self.portal_calls = []
        with self._lock:
            self.notifications.clear()
        self.with_actions = with_actions
        if not self._owns_notify:
            self._send(message_bus.RequestName(NOTIFY_NAME, 4))
            self._owns_notify = True
            self._owner(self.bus_address, True)

    def _send(self, msg: Any) -> None:
        with self._send_lock:
            self.conn.send(msg)

    def registrations(self) -> list[tuple[str, str]]:
        """(unique bus name, object path) of every item registration so far."""
        with self._lock:
            return list(self.items)

    # -- serving ----------------------------------------------------------------------

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                msg = self.conn.receive(timeout=0.2)
            except TimeoutError:
                continue
            except (OSError, ValueError):
                return
            if msg.header.message_type != MessageType.method_call:
                continue
            try:
                self._handle(msg)
            except Exception as exc:  # a bad call gets a D-Bus error, not a dead thread
                self._send(new_error(msg, "org.test.Failed", "s", (str(exc),)))

    def _handle(self, msg: Any) -> None:
        fields = msg.header.fields
        iface = fields.get(HeaderFields.interface)
        member = fields.get(HeaderFields.member)
        path = fields.get(HeaderFields.path)
        if path == "/org/freedesktop/Notifications":
            if iface == "org.freedesktop.DBus.Introspectable":
                # dbus-python reads argument types from here before calling Notify.
                return self._send(new_method_return(msg, "s", (_NOTIFY_XML,)))
            return self._notifications(msg, member)
        if path == WATCHER_PATH:
            return self._watcher(msg, iface, member)
        if path == PORTAL_PATH and member == "OpenFile":
            return self._open_file(msg)
        self._send(
            new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", (f"{iface}.{member}",))
        )

    def _notifications(self, msg: Any, member: str) -> None:
        if member == "Notify":
            app, _replaces, icon, summary, body, actions, hints, _timeout = msg.body
            pairs = dict(zip(actions[::2], actions[1::2], strict=False))
            with self._lock:
                nid = self._next_id
                self._next_id += 1
                self.notifications.append(Notify(app, summary, body, dict(hints), pairs, icon, nid))
            self._send(new_method_return(msg, "u", (nid,)))
        elif member == "GetCapabilities":
            caps = ["body", "icon-static"] + (["actions"] if self.with_actions else [])
            self._send(new_method_return(msg, "as", (caps,)))
        elif member == "GetServerInformation":
            self._send(new_method_return(msg, "ssss", ("traybus", "test", "1", "1.2")))
        elif member == "CloseNotification":
            self._send(new_method_return(msg))
        else:
            self._send(new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod"))

    def _open_file(self, msg: Any) -> None:
        """FileChooser.OpenFile: a request object, then its Response, as the portal does."""
        _parent, title, options = msg.body
        self.portal_calls.append(title)
        sender = str(msg.header.fields.get(HeaderFields.sender)).lstrip(":").replace(".", "_")
        token = options.get("handle_token", ("s", "t"))[1]
        handle = f"{PORTAL_PATH}/request/{sender}/{token}"
        self._send(new_method_return(msg, "o", (handle,)))
        request = DBusAddress(handle, interface="org.freedesktop.portal.Request")
        if self.portal_uris is None:
            self._send(new_signal(request, "Response", "ua{sv}", (1, {})))
        else:
            self._send(new_signal(request, "Response", "ua{sv}",
                                  (0, {"uris": ("as", self.portal_uris)})))

    def _watcher_props(self) -> dict[str, tuple[str, Any]]:
        with self._lock:
            items = [f"{s}{a if a.startswith('/') else ''}" for s, a in self.items]
        return {
            "RegisteredStatusNotifierItems": ("as", items),
            "IsStatusNotifierHostRegistered": ("b", True),
            "ProtocolVersion": ("i", 0),
        }

    def _watcher(self, msg: Any, iface: str, member: str) -> None:
        if member == "RegisterStatusNotifierItem":
            sender = msg.header.fields.get(HeaderFields.sender)
            with self._lock:
                self.items.append((sender, msg.body[0]))
            self._send(new_method_return(msg))
            sig = new_signal(
                _WatcherAddr, "StatusNotifierItemRegistered", "s", (f"{sender}{msg.body[0]}",)
            )
            self._send(sig)
        elif member == "RegisterStatusNotifierHost":
            self._send(new_method_return(msg))
        elif iface == "org.freedesktop.DBus.Properties" and member == "GetAll":
            self._send(new_method_return(msg, "a{sv}", (self._watcher_props(),)))
        elif iface == "org.freedesktop.DBus.Properties" and member == "Get":
            self._send(new_method_return(msg, "v", (self._watcher_props()[msg.body[1]],)))
        elif iface == "org.freedesktop.DBus.Introspectable":
            self._send(new_method_return(msg, "s", (_WATCHER_XML,)))
        else:
            self._send(new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod"))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.conn.close()


_WatcherAddr = DBusAddress(WATCHER_PATH, interface=WATCHER_NAME)
_NotifyAddr = DBusAddress("/org/freedesktop/Notifications", interface=NOTIFY_NAME)
_WATCHER_XML = """<node><interface name="org.kde.StatusNotifierWatcher">
<method name="RegisterStatusNotifierItem"><arg type="s" direction="in"/></method>
<method name="RegisterStatusNotifierHost"><arg type="s" direction="in"/></method>
<property name="RegisteredStatusNotifierItems" type="as" access="read"/>
<property name="IsStatusNotifierHostRegistered" type="b" access="read"/>
<property name="ProtocolVersion" type="i" access="read"/>
<signal name="StatusNotifierItemRegistered"><arg type="s"/></signal>
</interface></node>"""
_NOTIFY_XML = """<node><interface name="org.freedesktop.Notifications">
<method name="Notify"><arg type="s" direction="in"/><arg type="u" direction="in"/>
<arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="s" direction="in"/>
<arg type="as" direction="in"/><arg type="a{sv}" direction="in"/><arg type="i" direction="in"/>
<arg type="u" direction="out"/></method>
<method name="GetCapabilities"><arg type="as" direction="out"/></method>
<method name="GetServerInformation"><arg type="s" direction="out"/><arg type="s" direction="out"/>
<arg type="s" direction="out"/><arg type="s" direction="out"/></method>
<method name="CloseNotification"><arg type="u" direction="in"/></method>
</interface></node>"""
