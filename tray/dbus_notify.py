"""org.freedesktop.Notifications over D-Bus with jeepney: buttons where the server has them.

jeepney is pure Python (no system headers, unlike dbus-python, whose own
documentation steers new code elsewhere) and its threading router lets one
connection both call Notify and receive the server's ActionInvoked and
NotificationClosed signals on a background thread, without a GLib main loop.

The connection is opened lazily and again after the bus or the server went
away. Signals are taken only from the process that owns the notification
name when we sent, so another program on the bus cannot press our buttons.

Any program on the bus may also queue for the notification name and inherit
it when the real server exits. So the first server met is pinned: its user
and its command line. Each notice is addressed to the name's current owner
by its unique name, and only after checking that the owner is still that
program; a different one gets no notices (NotifyError says why) and its
signals are ignored.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from jeepney import (
    DBusAddress,
    DBusErrorResponse,
    HeaderFields,
    MatchRule,
    message_bus,
    new_method_call,
)
from jeepney.io.threading import DBusRouter, Proxy, open_dbus_connection

log = logging.getLogger(__name__)

NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
CALL_TIMEOUT = 5.0
SIGNALS = ("ActionInvoked", "NotificationClosed")


class NotifyError(Exception):
    """The notification could not be handed to a server; the message says why."""


class DBusNotifications:
    def __init__(
        self,
        bus: str = "SESSION",
        on_action: Callable[[int, str], None] = lambda _nid, _key: None,
        on_closed: Callable[[int], None] = lambda _nid: None,
    ) -> None:
        self._bus = bus
        self.on_action = on_action
        self.on_closed = on_closed
        self._lock = threading.Lock()
        self._router: DBusRouter | None = None
        self._signals: queue.Queue[Any] = queue.Queue(maxsize=256)
        self._stop = threading.Event()
        self._server: str | None = None  # unique bus name of the notification server
        self._pinned: tuple[int, str] | None = None  # (uid, command line) of the first one
        self._listener: threading.Thread | None = None
        self.server_name = ""

    # -- connection ---------------------------------------------------------------------

    def _connected(self) -> DBusRouter:
        with self._lock:
            if self._router is not None:
                return self._router  # dropped by _call when it fails, then opened again
            try:
                conn = open_dbus_connection(self._bus)
            except (OSError, ValueError, KeyError) as exc:  # no bus, or no address for it
                raise NotifyError(f"no D-Bus session bus ({exc})") from exc
            router = DBusRouter(conn)
            bus = Proxy(message_bus, router, timeout=CALL_TIMEOUT)
            for member in SIGNALS:
                rule = MatchRule(type="signal", interface=NAME, member=member, path=PATH)
                bus.AddMatch(rule)
                router.filter(rule, queue=self._signals)
            self._router = router
            if self._listener is None:
                self._listener = threading.Thread(
                    target=self._listen, daemon=True, name="notify-signals"
                )
                self._listener.start()
            return router

    def _drop(self, router: DBusRouter) -> None:
        try:
            router.close()
            router.conn.close()
        except Exception:  # it is going away either way
            pass
        if self._router is router:
            self._router = None

    def _trusted_owner(self, router: DBusRouter) -> str:
        """The unique name now owning the notification name, if it is the program first met."""
        bus = Proxy(message_bus, router, timeout=CALL_TIMEOUT)
        try:
            (owner,) = bus.GetNameOwner(NAME)
            (uid,) = bus.GetConnectionUnixUser(owner)
            (pid,) = bus.GetConnectionUnixProcessID(owner)
        except DBusErrorResponse as exc:  # nobody owns the name now
            raise NotifyError(f"no notification server: {exc}") from exc
        except Exception as exc:  # the bus went away: open it again next time
            with self._lock:
                self._drop(router)
            raise NotifyError(f"no notification server: {type(exc).__name__}: {exc}") from exc
        identity = (int(uid), _command_line(int(pid)))
        if self._pinned is None:
            self._pinned = identity
        elif identity != self._pinned:
            raise NotifyError(f"the notification server was replaced by another program "
                              f"(pid {pid}: {identity[1][:80]!r}); notices are not sent to it")
        return str(owner)

    def _call(self, method: str, signature: str | None = None, body: tuple = ()) -> tuple:
        router = self._connected()
        owner = self._trusted_owner(router)
        if method == "Notify":
            # Known before the reply: a press can overtake it (it comes on another thread).
            self._server = owner
        addr = DBusAddress(PATH, bus_name=owner, interface=NAME)
        msg = new_method_call(addr, method, signature, body) if signature else \
            new_method_call(addr, method)
        try:
            reply = router.send_and_get_reply(msg, timeout=CALL_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            with self._lock:
                self._drop(router)
            raise NotifyError(f"{method}: {exc or type(exc).__name__}") from exc
        except Exception as exc:  # jeepney's RouterClosed: the bus went away
            with self._lock:
                self._drop(router)
            raise NotifyError(f"{method}: {type(exc).__name__}: {exc}") from exc
        if reply.header.message_type.name == "error":
            error = reply.header.fields.get(HeaderFields.error_name, "error")
            raise NotifyError(f"{method}: {error}")
        return tuple(reply.body)

    # -- what the notifier uses ------------------------------------------------------------

    def connect(self) -> None:
        """Open the connection now (it is opened on demand otherwise); NotifyError if none."""
        self._connected()

    def capabilities(self) -> frozenset[str]:
        caps = self._call("GetCapabilities")[0]
        return frozenset(c for c in caps if isinstance(c, str))

    def server_information(self) -> str:
        name, vendor, version, _spec = self._call("GetServerInformation")
        return f"{name} {version} ({vendor})"

    def notify(
        self,
        app_name: str,
        summary: str,
        body: str,
        icon: str = "",
        actions: tuple[tuple[str, str], ...] = (),
        urgency: int = 1,
        timeout_ms: int = -1,
    ) -> int:
        flat = [part for pair in actions for part in pair]
        hints = {"urgency": ("y", urgency)}
        (nid,) = self._call(
            "Notify",
            "susssasa{sv}i",
            (app_name, 0, icon, summary, body, flat, hints, timeout_ms),
        )
        return int(nid)

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            if self._router is not None:
                self._drop(self._router)

    # -- signals ---------------------------------------------------------------------------

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                msg = self._signals.get(timeout=0.5)
            except queue.Empty:
                continue
            sender = msg.header.fields.get(HeaderFields.sender)
            if self._server is None or sender != self._server:
                log.debug("ignoring %s from %s", msg.header.fields.get(HeaderFields.member),
                          sender)
                continue
            member = msg.header.fields.get(HeaderFields.member)
            try:
                if member == "ActionInvoked":
                    nid, key = msg.body
                    self.on_action(int(nid), str(key))
                elif member == "NotificationClosed":
                    self.on_closed(int(msg.body[0]))
            except Exception:  # a failing handler must not stop the listener
                log.exception("handling %s failed", member)


def _command_line(pid: int) -> str:
    """The program a process runs, as its command line; "" where it cannot be read."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read(4096).replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        return ""
