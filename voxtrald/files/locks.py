"""One process at a time: an exclusive lock on a small file, held for a lifetime.

Used for the state folder (one daemon per job store) and beside the control
socket (one daemon per socket). The lock is the kernel's, so it goes away
with the process however it dies; the file keeps the holder's pid only to
name it in the message a second daemon prints.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from voxtrald import _platform


class LockError(Exception):
    """The lock file cannot be opened or locked for a reason other than a holder."""


class AlreadyLocked(LockError):
    """Another process holds the lock; `holder` is its pid as it wrote it, or "unknown"."""

    def __init__(self, path: Path, holder: str) -> None:
        super().__init__(f"{path} is locked by process {holder}")
        self.holder = holder


class LockFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock without waiting and write our pid into the file."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except OSError as exc:
            raise LockError(f"cannot open {self.path}: {exc.strerror or exc}") from exc
        try:
            _platform.try_lock(fd)
        except _platform.LockHeld as exc:
            try:
                holder = os.read(fd, 32).decode("ascii", "replace").strip() or "unknown"
            except OSError:
                holder = "unknown"
            os.close(fd)
            raise AlreadyLocked(self.path, holder) from exc
        except OSError as exc:
            os.close(fd)
            raise LockError(f"cannot lock {self.path}: {exc.strerror or exc}") from exc
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def acquire_waiting(self, wait: float, on_wait: Callable[[], None] | None = None,
                        poll: float = 0.1) -> None:
        """Take the lock, waiting up to `wait` s for another holder; AlreadyLocked after that.

        `on_wait` is called once, when the lock turns out to be held, so the caller
        can say why it is waiting.
        """
        deadline = time.monotonic() + wait
        told = False
        while True:
            try:
                self.acquire()
                return
            except AlreadyLocked:
                if time.monotonic() >= deadline:
                    raise
                if on_wait is not None and not told:
                    on_wait()
                    told = True
                time.sleep(poll)

    @contextlib.contextmanager
    def held(self, wait: float = 0.0, on_wait: Callable[[], None] | None = None
             ) -> Iterator[None]:
        """The lock for the length of a `with` block."""
        self.acquire_waiting(wait, on_wait)
        try:
            yield
        finally:
            self.release()

    def release(self) -> None:
        """Let go; the file stays, since unlinking it would let two daemons lock two inodes."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
            _platform.unlock(self._fd)  # Windows wants a region unlocked before closing
        os.close(self._fd)
        self._fd = None
