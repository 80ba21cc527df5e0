"""Where things live by default: user folders, state, config and the socket.

Kept apart from config so the tray and CLI clients can find the socket with
the same rules as the daemon without loading the daemon's config machinery.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import platformdirs

APP = "voxtral"
SOCKET_NAME = "voxtrald.sock"


def default_folder(name: str) -> Path:
    return Path.home() / "Voxtral" / name


def default_state_dir() -> Path:
    return Path(platformdirs.user_state_dir(APP, appauthor=False))


def default_config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP, appauthor=False))


def socket_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The control socket: explicit > VOXTRAL_SOCKET > XDG_RUNTIME_DIR > per-user tmp."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("VOXTRAL_SOCKET")
    if env:
        return Path(env).expanduser()
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime).is_dir():
        return Path(runtime) / APP / SOCKET_NAME
    if sys.platform == "darwin":
        # launchd agents get no TMPDIR: a fixed per-user folder keeps the daemon
        # (started by launchd) and a Terminal client looking at the same place.
        return Path(platformdirs.user_runtime_dir(APP, appauthor=False)) / SOCKET_NAME
    uid = os.getuid() if hasattr(os, "getuid") else os.getlogin()
    return Path(tempfile.gettempdir()) / f"{APP}-{uid}" / SOCKET_NAME
