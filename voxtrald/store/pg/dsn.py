"""Where the team queue is: the `[queue] backend` setting turned into a DSN, and back into
words that never show a password.

The DSN may stand in the config (`postgresql://role@host/db`, with the
password in ~/.pgpass or the server trusting the machine) or in a file the
setting names, so the password is kept in a file only its owner can read.
"""

from __future__ import annotations

import stat
from pathlib import Path

from psycopg.conninfo import conninfo_to_dict

from voxtrald._platform import HAS_FILE_MODES

MAX_DSN_FILE_BYTES = 4096


class DsnError(Exception):
    """The setting names no usable DSN; the message says what to fix."""


def is_team(backend: str) -> bool:
    return backend.strip() != "sqlite"


def resolve(backend: str) -> str:
    """The DSN itself: the setting, or the first line of the file it names."""
    text = backend.strip()
    if text.startswith(("postgresql://", "postgres://")) or not text.startswith(("/", "~")):
        return _checked(text, "queue.backend")  # a URL, or libpq's key=value form
    path = Path(text).expanduser()
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            raise DsnError(f"queue.backend: {path} is not a file holding a DSN")
        if st.st_size > MAX_DSN_FILE_BYTES:
            raise DsnError(f"queue.backend: {path} is {st.st_size} bytes, too big to be a DSN")
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DsnError(f"queue.backend: the DSN file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DsnError(f"queue.backend: cannot read the DSN file {path}: {exc}") from exc
    if HAS_FILE_MODES and st.st_mode & 0o077:
        raise DsnError(f"queue.backend: the DSN file {path} can be read by other users "
                       f"(mode {stat.S_IMODE(st.st_mode):o}); chmod 600 it")
    lines = [line.strip() for line in raw.splitlines() if line.strip()
             and not line.lstrip().startswith("#")]
    if not lines:
        raise DsnError(f"queue.backend: the DSN file {path} is empty")
    return _checked(lines[0], str(path))


def _checked(dsn: str, where: str) -> str:
    try:
        conninfo_to_dict(dsn)
    except Exception as exc:  # psycopg.ProgrammingError: the DSN does not parse
        raise DsnError(f"{where}: not a valid PostgreSQL DSN ({_first_line(exc)})") from None
    return dsn


def _first_line(exc: BaseException) -> str:
    lines = str(exc).splitlines()
    return lines[0] if lines else type(exc).__name__


def shown(dsn: str) -> str:
    """The DSN as logs and messages show it: role, host and database, never the password."""
    try:
        parts = conninfo_to_dict(dsn)
    except Exception:
        return "the team queue"
    host = str(parts.get("host") or "localhost")
    user = str(parts.get("user") or "")
    db = str(parts.get("dbname") or user or "postgres")
    return f"postgresql://{user + '@' if user else ''}{host}/{db}"
