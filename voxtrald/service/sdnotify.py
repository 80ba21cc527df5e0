"""The systemd notification protocol (sd_notify), in plain stdlib.

A `Type=notify` unit is "started" only when the daemon says READY=1, so
`systemctl --user start voxtrald` returns once clients can really connect, and
units ordered after it do not race the socket. With `WatchdogSec=` systemd
restarts a daemon that stops pinging WATCHDOG=1: a hung daemon (deadlock,
stuck event loop) is restarted instead of sitting there looking alive.

Outside systemd (launchd, Windows, a terminal, tests) NOTIFY_SOCKET is unset
and everything here is a silent no-op, so callers never need to ask first.
libsystemd is not used: the protocol is one datagram, and a C dependency for
it would make the wheel platform-specific.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

__all__ = ["Watchdog", "notify", "watchdog_interval"]


def _address(raw: str) -> str | bytes | None:
    """NOTIFY_SOCKET as a connectable address; '@' names an abstract socket."""
    if raw.startswith("@"):
        # Linux abstract namespace: a leading NUL instead of a path.
        return b"\0" + raw[1:].encode()
    if raw.startswith("/"):
        return raw
    # vsock: and other transports are for VMs and containers' host managers;
    # a desktop daemon never receives them, so they are ignored, not guessed.
    return None


def notify(message: str) -> bool:
    """Send one state update ("READY=1", "WATCHDOG=1", "STOPPING=1", "STATUS=…").

    Returns whether a datagram left; False when not started by systemd or
    when the socket is gone. Never raises: losing a notification must not take
    the daemon down with it (systemd then applies its own timeouts).
    """
    raw = os.environ.get("NOTIFY_SOCKET", "")
    if not raw or not message or not hasattr(socket, "AF_UNIX"):
        return False
    address = _address(raw)
    if address is None:
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.sendto(message.encode("utf-8"), address)
    except OSError as exc:
        log.debug("sd_notify %r to %s failed: %s", message, raw, exc)
        return False
    return True


def watchdog_interval() -> float | None:
    """Seconds within which systemd expects a WATCHDOG=1, or None if not asked.

    WATCHDOG_PID, when set, names the process the watchdog is meant for; a
    child that inherited the environment (the transcription worker) must not
    ping on its parent's behalf, so any other pid gets None.
    """
    usec = os.environ.get("WATCHDOG_USEC", "")
    try:
        value = int(usec)
    except ValueError:
        return None
    if value <= 0:
        return None
    pid = os.environ.get("WATCHDOG_PID", "")
    if pid:
        try:
            if int(pid) != os.getpid():
                return None
        except ValueError:
            return None
    return value / 1_000_000


class Watchdog:
    """Pings WATCHDOG=1 at half systemd's interval while `healthy()` says so.

    The point of a watchdog is to catch a daemon that is alive but stuck, so
    the thread does not ping blindly: `healthy` should look at something
    that stalls when the daemon does (the API loop answered recently, the
    memory sampler ran). A False or a raising `healthy` skips the ping and
    lets systemd decide. Half the interval is what sd_watchdog_enabled(3)
    recommends, leaving room for one late tick.
    """

    def __init__(
        self,
        healthy: Callable[[], bool] | None = None,
        interval: float | None = None,
    ) -> None:
        self._healthy = healthy or (lambda: True)
        timeout = interval if interval is not None else watchdog_interval()
        self.period: float | None = timeout / 2 if timeout else None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.pings = 0

    @property
    def enabled(self) -> bool:
        return self.period is not None

    def start(self) -> bool:
        """Begin pinging; False (and no thread) when systemd asked for no watchdog."""
        if self.period is None or self._thread is not None:
            return self._thread is not None
        self._thread = threading.Thread(target=self._loop, name="sd-watchdog", daemon=True)
        self._thread.start()
        return True

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _is_healthy(self) -> bool:
        try:
            return bool(self._healthy())
        except Exception:  # a failing health probe is an unhealthy daemon, not a crash
            log.exception("watchdog health check raised; not pinging")
            return False

    def _loop(self) -> None:
        assert self.period is not None
        # Ping at once: a daemon that took a while to become ready should not
        # start its first watchdog period already half spent.
        while not self._stop.is_set():
            if self._is_healthy():
                if notify("WATCHDOG=1"):
                    self.pings += 1
            else:
                log.warning("daemon unhealthy; withholding the systemd watchdog ping")
            self._stop.wait(self.period)
