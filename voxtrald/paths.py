"""Where things live by default: user folders, state, config and the socket.

The socket rule (`resolve_socket`) lives here rather than in config so the
API client can use it without the config machinery; config passes its
`[api] socket` in, and so every process finds the socket the same way.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from voxtrald import _platform

APP = "voxtral"
SOCKET_NAME = "voxtrald.sock"
SOCKET_ENV = "VOXTRAL_SOCKET"
#: The rule of `resolve_socket`, for --socket's help text.
SOCKET_RULE = ("default: VOXTRAL_SOCKET, else the config file's [api] socket, else "
               "$XDG_RUNTIME_DIR/voxtral/voxtrald.sock or the platform's own place")


def default_folder(name: str) -> Path:
    return Path.home() / "Voxtral" / name


def default_state_dir() -> Path:
    return Path(platformdirs.user_state_dir(APP, appauthor=False))


def default_config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP, appauthor=False))


def default_socket() -> Path:
    """The platform's place for the control socket when nobody named one."""
    return _platform.runtime_dir(APP) / SOCKET_NAME


def resolve_socket(
    flag: str | os.PathLike[str] | None = None, configured: str | None = None
) -> Path:
    """The control socket, by the one rule every process uses.

    `--socket` flag > VOXTRAL_SOCKET > the config file's `[api] socket` >
    the platform default. The daemon, the CLI and the tray all come here, so
    a client never looks somewhere the daemon did not listen.
    """
    for value in (flag, os.environ.get(SOCKET_ENV), configured):
        if value:
            return Path(value).expanduser()
    return default_socket()
