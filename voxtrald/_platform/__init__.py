"""Everything that differs between operating systems, behind one interface.

In psutil's manner: one private module per platform (`_linux`, `_darwin`,
`_windows`, and `_posix` for what the Unix-likes share), chosen once here.
The rest of the code calls these names and never asks which OS it runs on,
so a Windows-only break shows up as a missing or wrong function here rather
than as an ImportError deep inside the daemon.
"""

from __future__ import annotations

import sys

if sys.platform.startswith("linux"):
    from voxtrald._platform import _linux as _impl
elif sys.platform == "darwin":
    from voxtrald._platform import _darwin as _impl
elif sys.platform == "win32":
    from voxtrald._platform import _windows as _impl
else:  # other Unix-likes, Cygwin included (a POSIX build: fcntl, no msvcrt)
    from voxtrald._platform import _posix as _impl

#: "linux", "macos", "windows" or "posix": what the user would call this OS.
NAME: str = _impl.NAME
#: The interpreter's own name for this OS, for messages about one we have no support for.
SYSTEM: str = sys.platform
#: Longest AF_UNIX socket path in bytes, the terminating NUL excluded; 0 without AF_UNIX.
MAX_SOCKET_PATH: int = _impl.MAX_SOCKET_PATH
#: Whether files carry Unix permission bits that `set_mode` can change.
HAS_FILE_MODES: bool = _impl.HAS_FILE_MODES

LockHeld = _impl.LockHeld
try_lock = _impl.try_lock
unlock = _impl.unlock
current_uid = _impl.current_uid
current_ids = _impl.current_ids
hard_kill_group = _impl.hard_kill_group
peer_uid = _impl.peer_uid
die_with_parent = _impl.die_with_parent
hard_kill = _impl.hard_kill
describe_exit = _impl.describe_exit
set_mode = _impl.set_mode
name_max = _impl.name_max
runtime_dir = _impl.runtime_dir
procfs_root = _impl.procfs_root
has_display = _impl.has_display
open_command = _impl.open_command
open_path = _impl.open_path
notification_backend = _impl.notification_backend
launcher = _impl.launcher

__all__ = [
    "HAS_FILE_MODES", "MAX_SOCKET_PATH", "NAME", "SYSTEM", "LockHeld", "current_uid",
    "describe_exit", "die_with_parent", "hard_kill", "has_display", "launcher", "name_max",
    "notification_backend", "open_command", "open_path", "peer_uid", "procfs_root",
    "runtime_dir", "set_mode", "current_ids", "hard_kill_group", "try_lock", "unlock",
]
