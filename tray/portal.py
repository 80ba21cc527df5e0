"""Choosing files with the XDG desktop portal (org.freedesktop.portal.FileChooser).

The portal shows the desktop's own file chooser (GTK, KDE, or whatever the
session provides), also for a sandboxed tray, and answers with file URIs.
Where no portal is on the session bus, `available()` is False and the tray
leaves "Transcribe a file…" out. Over jeepney (already used for notifications):
OpenFile returns a request object, whose Response signal carries the choice;
the signal is subscribed to before the call, at the path the portal will use,
so it cannot be missed.
"""

from __future__ import annotations

import logging
import secrets
from urllib.parse import unquote, urlsplit

from jeepney import DBusAddress, MatchRule, message_bus, new_method_call
from jeepney.io.blocking import open_dbus_connection

log = logging.getLogger(__name__)

NAME = "org.freedesktop.portal.Desktop"
PATH = "/org/freedesktop/portal/desktop"
CHOOSER = "org.freedesktop.portal.FileChooser"
# How long a person may take to choose (the portal's dialog stays open meanwhile).
CHOOSE_SECONDS = 600.0
AUDIO_PATTERNS = ("*.wav", "*.mp3", "*.m4a", "*.flac", "*.ogg", "*.opus", "*.aac", "*.wma",
                  "*.mp4", "*.mkv", "*.webm", "*.mov")


class PortalError(Exception):
    """The portal could not be asked; the message says why."""


def available() -> bool:
    """Whether a desktop portal is on the session bus (running or activatable)."""
    try:
        conn = open_dbus_connection("SESSION")
    except (OSError, ValueError, KeyError):
        return False
    try:
        if conn.send_and_get_reply(message_bus.NameHasOwner(NAME), timeout=5).body[0]:
            return True
        names = conn.send_and_get_reply(message_bus.ListActivatableNames(), timeout=5).body[0]
        return NAME in names
    except Exception as exc:  # a bus that misbehaves means "no portal"
        log.debug("no desktop portal: %s", exc)
        return False
    finally:
        conn.close()


def local_paths(uris: object) -> list[str]:
    """The local paths among the portal's URIs (file:// only, on this host)."""
    if not isinstance(uris, list | tuple):
        return []
    paths = []
    for uri in uris:
        if not isinstance(uri, str):
            continue
        parts = urlsplit(uri)
        if parts.scheme == "file" and parts.netloc in ("", "localhost") and parts.path:
            paths.append(unquote(parts.path))
        else:
            log.warning("ignoring %r from the file chooser: not a local file", uri[:200])
    return paths


def choose_audio(title: str = "Transcribe with Voxtral") -> list[str]:
    """Ask the person for audio files; [] when they cancel. PortalError when it fails."""
    try:
        conn = open_dbus_connection("SESSION")
    except (OSError, ValueError, KeyError) as exc:
        raise PortalError(f"no session bus: {exc}") from exc
    try:
        token = "voxtral" + secrets.token_hex(6)
        sender = (conn.unique_name or "").lstrip(":").replace(".", "_")
        handle = f"{PATH}/request/{sender}/{token}"
        rule = MatchRule(type="signal", interface="org.freedesktop.portal.Request",
                         member="Response", path=handle)
        with conn.filter(rule) as responses:
            conn.send_and_get_reply(message_bus.AddMatch(rule), timeout=5)
            options = {
                "handle_token": ("s", token),
                "multiple": ("b", True),
                "filters": ("a(sa(us))", [("Audio and video", [(0, p) for p in AUDIO_PATTERNS]),
                                          ("All files", [(0, "*")])]),
            }
            call = new_method_call(DBusAddress(PATH, bus_name=NAME, interface=CHOOSER),
                                   "OpenFile", "ssa{sv}", ("", title, options))
            reply = conn.send_and_get_reply(call, timeout=10)
            if reply.header.message_type.name == "error":
                raise PortalError(f"the file chooser refused: {reply.body}")
            answer = conn.recv_until_filtered(responses, timeout=CHOOSE_SECONDS)
    except (OSError, TimeoutError) as exc:
        raise PortalError(f"the file chooser did not answer: {exc}") from exc
    finally:
        conn.close()
    code, results = answer.body
    if code != 0:
        return []  # cancelled (1) or ended otherwise (2)
    uris = results.get("uris", ("as", []))[1] if isinstance(results, dict) else []
    return local_paths(uris)
