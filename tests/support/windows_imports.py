"""Import every module of some packages the way Windows would, on a POSIX machine.

Run it in an interpreter of its own (`python tests/support/windows_imports.py voxtrald tray`):
it changes `sys.platform` and the standard library for good. It prints one JSON
object: which platform layer got selected, what imported and what failed.

How Windows is simulated, and where the simulation stops:

1. Every module is first imported as this machine is, so third-party packages and
   the standard library are loaded for real (they cannot be re-imported as Windows
   ones: psutil would look for its Windows extension).
2. Then the packages' own modules are forgotten and `sys.platform` becomes "win32";
   modules Windows lacks (fcntl, termios, pwd, grp, resource, ...)
   can no longer be imported, the Linux desktop bindings (gi, dbus) neither, and
   the names Windows' os, signal, socket, socketserver, select and selectors do not
   have (os.getuid, signal.SIGKILL, socket.AF_UNIX, ThreadingUnixStreamServer, ...)
   are removed. msvcrt and winreg exist, as bare stand-ins.
3. Every module is imported again: a POSIX-only import or name at import time, or a
   platform check that picks the wrong branch, fails here as it would on Windows.

`os.name` stays "posix": pathlib picks PosixPath or WindowsPath by it on every call,
and the standard library loaded in step 1 is this machine's. A call-time difference
(a function that would fail when run on Windows) is out of reach: only importing is
simulated.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import json
import os
import pkgutil
import select
import selectors
import signal
import socket
import socketserver
import sys
import time
import types
from collections.abc import Sequence

# Modules a Windows Python does not have (or, for gi and dbus, that are installed only
# on Linux: the linux-desktop extra).
ABSENT_MODULES = frozenset({
    "fcntl", "termios", "tty", "pty", "pwd", "grp", "resource", "syslog", "posix",
    "_posixsubprocess", "crypt", "spwd", "nis", "curses", "_curses", "readline",
    "gi", "dbus",
})

# Names CPython 3.11 on Windows does not define.
ABSENT_NAMES: dict[types.ModuleType, tuple[str, ...]] = {
    os: ("getuid", "geteuid", "getgid", "getegid", "getgroups", "setuid", "seteuid", "setgid",
         "setegid", "fchmod", "fchown", "chown", "lchown", "setsid", "getsid", "setpgid",
         "getpgid", "getpgrp", "killpg", "fork", "forkpty", "uname", "nice", "getloadavg",
         "sysconf", "pathconf", "fpathconf", "statvfs", "fstatvfs", "mkfifo", "mknod",
         "sync", "pipe2", "posix_spawn", "wait3", "wait4", "WNOHANG", "O_NONBLOCK",
         "O_CLOEXEC", "sched_getaffinity", "register_at_fork", "getpriority", "setpriority"),
    signal: ("SIGKILL", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGCHLD",
             "SIGPIPE", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGWINCH",
             "alarm", "pause", "setitimer", "getitimer", "siginterrupt", "pthread_kill",
             "pthread_sigmask", "sigwait", "SIG_BLOCK", "SIG_UNBLOCK", "SIG_SETMASK"),
    socket: ("AF_UNIX", "SO_PEERCRED", "SOCK_CLOEXEC", "SOCK_NONBLOCK", "SCM_RIGHTS",
             "SCM_CREDENTIALS", "SO_PASSCRED", "CMSG_LEN", "CMSG_SPACE", "AF_PACKET",
             "AF_NETLINK", "sethostname"),
    socketserver: ("UnixStreamServer", "UnixDatagramServer", "ThreadingUnixStreamServer",
                   "ThreadingUnixDatagramServer", "ForkingMixIn", "ForkingTCPServer",
                   "ForkingUDPServer", "ForkingUnixStreamServer", "ForkingUnixDatagramServer"),
    select: ("poll", "epoll", "devpoll", "kqueue"),
    selectors: ("PollSelector", "EpollSelector", "DevpollSelector", "KqueueSelector"),
    time: ("tzset",),
}


class _AbsentOnWindows(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Sequence[str] | None = None,
                  target: types.ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if name.partition(".")[0] in ABSENT_MODULES:
            raise ModuleNotFoundError(f"No module named {name!r} (absent on Windows)", name=name)
        return None


def _stand_in(name: str, **attrs: object) -> types.ModuleType:
    module = types.ModuleType(name, f"stand-in for Windows' {name}")
    module.__dict__.update(attrs)
    return module


def _unavailable(*_args: object, **_kwargs: object) -> None:
    raise OSError("a stand-in: only importing is simulated")


def walk(packages: Sequence[str], skip: frozenset[str]) -> tuple[list[str], dict[str, str]]:
    """Import each package and every module below it; (imported, {failed: why})."""
    imported: list[str] = []
    failed: dict[str, str] = {}

    def note(name: str) -> None:
        if name in skip or name.rsplit(".", 1)[-1] == "__main__":
            return  # __main__ runs the program when imported
        try:
            importlib.import_module(name)
        except BaseException as exc:  # SystemExit too: report it and keep walking
            failed[name] = f"{type(exc).__name__}: {exc}"
        else:
            imported.append(name)

    for package in packages:
        note(package)
        root = sys.modules.get(package)
        if root is None:
            continue
        for info in pkgutil.walk_packages(root.__path__, package + ".",
                                          onerror=lambda name: failed.setdefault(name, "walk")):
            note(info.name)
    return imported, failed


def pretend_windows(packages: Sequence[str]) -> None:
    for name in list(sys.modules):
        if name.partition(".")[0] in packages or name.partition(".")[0] in ABSENT_MODULES:
            del sys.modules[name]
    sys.meta_path.insert(0, _AbsentOnWindows())
    for module, names in ABSENT_NAMES.items():
        for attr in names:
            if hasattr(module, attr):
                delattr(module, attr)
    selectors.DefaultSelector = selectors.SelectSelector  # type: ignore[misc,assignment]
    os.startfile = _unavailable  # type: ignore[attr-defined]
    sys.modules.setdefault("msvcrt", _stand_in("msvcrt", LK_NBLCK=2, LK_UNLCK=0, LK_LOCK=1,
                                               locking=_unavailable))
    sys.modules.setdefault("winreg", _stand_in("winreg"))
    sys.platform = "win32"


def main(argv: list[str]) -> int:
    skip = frozenset(a.removeprefix("--skip=") for a in argv if a.startswith("--skip="))
    packages = [a for a in argv if not a.startswith("--")]
    _, failed_here = walk(packages, skip)
    pretend_windows(packages)
    imported, failed = walk(packages, skip)
    platform_layer = sys.modules.get("voxtrald._platform")
    print(json.dumps({
        "platform": getattr(platform_layer, "NAME", None),
        "imported": imported,
        "failed": failed,
        "failed_before_pretending": failed_here,
    }, indent=1))
    return 1 if failed or failed_here else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
