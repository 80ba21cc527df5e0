"""What every platform's service installer shares: files, executables, commands.

The platform modules only decide *what* to write and *which* service-manager
commands to run; writing the files as one all-or-nothing step and running or
merely printing commands (dry run) live here, so each platform gets the same
guarantees: nothing half-written, and a dry run that touches nothing.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TextIO

from voxtrald import exit_codes
from voxtrald.files import atomic

# Every file we write says where it came from, so a user who finds it later
# knows which command owns it.
MARKER = "Written by 'voxtrald install-service'; remove with 'voxtrald uninstall-service'."
# What uninstall looks for before removing a file: the start of MARKER, so a
# later change to the rest of the wording still finds older files.
OWNER_MARK = "Written by 'voxtrald install-service'"

DAEMON = "voxtrald"
TRAY = "voxtral-tray"

# How to start each program when its console script cannot be found (an
# unusual install, or a Windows preview): the interpreter runs the module.
_MODULE_ARGS = {
    DAEMON: ["-m", "voxtrald.cli"],
    TRAY: ["-c", "from tray.app import main; raise SystemExit(main())"],
}


class ServiceError(Exception):
    """A reason the service cannot be (un)installed, worded for the user."""

    def __init__(self, message: str, exit_code: int = exit_codes.ERROR) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class ServiceFile:
    path: Path
    content: str
    what: str
    mode: int = 0o644


@dataclass(frozen=True)
class Executables:
    """Absolute command prefixes for the two programs, resolved once."""

    python: str
    daemon: tuple[str, ...]
    tray: tuple[str, ...]


def find_executables(python: str | None = None, exe_suffix: str = "") -> Executables:
    """Absolute commands for voxtrald and voxtral-tray.

    The console script beside the running interpreter comes first: that is
    the install the user just ran `voxtrald install-service` from, while PATH
    might lead to another copy (a system package, an older venv). Then PATH,
    then `python -m`, which works as long as this interpreter does.
    """
    if python is None:
        launchers = _install_launchers(exe_suffix)
        if launchers is not None:
            return launchers
    python = python or sys.executable
    bindir = Path(python).parent

    def resolve(name: str) -> tuple[str, ...]:
        sibling = bindir / (name + exe_suffix)
        if sibling.is_file() and os.access(sibling, os.X_OK):
            return (str(sibling),)
        found = shutil.which(name)
        if found:
            return (str(Path(found).absolute()),)
        return (python, *_MODULE_ARGS[name])

    return Executables(python=python, daemon=resolve(DAEMON), tray=resolve(TRAY))


def _install_launchers(exe_suffix: str) -> Executables | None:
    """The stable launchers of a side-by-side install (`voxtrald install --root`), if this is one.

    A service must start `DIR/bin/voxtrald`, never a version's own folder:
    an update switches `DIR/current`, and the service follows without being
    rewritten; a rollback likewise.
    """
    from voxtrald.install.layout import detect

    root = detect().root
    if root is None:
        return None
    daemon, tray = (root.bin_dir / (name + (".cmd" if exe_suffix else ""))
                    for name in (DAEMON, TRAY))
    if not (daemon.is_file() and tray.is_file()):
        return None
    return Executables(python=sys.executable, daemon=(str(daemon),), tray=(str(tray),))


def module_command(python: str, name: str) -> tuple[str, ...]:
    """The interpreter form of a program's command, for platforms that need it."""
    return (python, *_MODULE_ARGS[name])


class Runner:
    """Runs service-manager commands, or only shows them in a dry run."""

    def __init__(self, out: TextIO, dry_run: bool) -> None:
        self.out = out
        self.dry_run = dry_run

    def run(self, argv: Sequence[str], failure: str) -> None:
        """Run a state-changing command; a failure becomes a ServiceError."""
        if self.dry_run:
            print(f"would run: {shlex.join(argv)}", file=self.out)
            return
        print(f"running: {shlex.join(argv)}", file=self.out)
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ServiceError(f"{failure}: {shlex.join(argv)}: {exc}") from exc
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip() or f"exit status {done.returncode}"
            raise ServiceError(f"{failure}: {shlex.join(argv)}: {detail}")

    def query(self, argv: Sequence[str]) -> bool | None:
        """Ask the service manager a yes/no question; None when not asked (dry run)."""
        return None if self.dry_run else ask(argv)


def ask(argv: Sequence[str]) -> bool:
    """Whether a read-only command succeeds; any failure to run it is a no."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


class Platform(Protocol):
    """One service manager: the files it needs and how to switch them on and off."""

    name: str

    def files(self, exes: Executables, target_dir: Path | None, tray: bool) -> list[ServiceFile]:
        """Every file an install writes, rendered; target_dir puts them all in one folder."""

    def check(self) -> None:
        """Raise ServiceError when the service manager cannot be used from here."""

    def activate(self, runner: Runner, files: list[ServiceFile], changed: bool) -> list[str]:
        """Enable and start what the files describe; return lines for the summary."""

    def deactivate(self, runner: Runner, files: list[ServiceFile]) -> None:
        """Stop and disable, before the files are removed."""

    def after_remove(self, runner: Runner) -> None:
        """Let the service manager forget the removed files."""

    def where_logs_go(self) -> str:
        """One line telling the user where to read the daemon's log."""


def current_content(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError):
        return ""  # unreadable or foreign: treat as different, so it gets replaced


def written_by_us(path: Path) -> bool:
    """Whether the file at `path` carries our marker (unreadable counts as no)."""
    return OWNER_MARK in (current_content(path) or "")


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)


def write_all(files: Sequence[ServiceFile]) -> None:
    """Write every file or none of them.

    Each file is staged beside its destination first (`voxtrald.files.atomic`: same
    filesystem, so the final rename is atomic); only when all are staged are
    they renamed into place. A rename that still fails puts back what was
    there before. No temp file outlives a failure.
    """
    staged: list[tuple[Path, ServiceFile]] = []
    try:
        for item in files:
            try:
                item.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ServiceError(
                    f"cannot write the {item.what} to {item.path.parent}: {_why(exc)}"
                ) from exc
            try:
                staged.append((atomic.stage(item.path, item.content, item.mode), item))
            except OSError as exc:
                raise ServiceError(
                    f"cannot write the {item.what} {item.path}: {_why(exc)}"
                ) from exc
    except ServiceError:
        atomic.discard((tmp, item.path) for tmp, item in staged)
        raise

    previous = {item.path: current_content(item.path) for _, item in staged}
    modes = {item.path: item.mode for _, item in staged}
    placed: list[Path] = []
    try:
        atomic.commit([(tmp, item.path) for tmp, item in staged], placed)
    except OSError as exc:
        for path in placed:
            old = previous[path]
            try:
                if old is None:
                    path.unlink(missing_ok=True)
                else:
                    atomic.write_atomic(path, old, modes[path])
            except OSError:
                pass
        raise ServiceError(f"cannot put the service files in place: {_why(exc)}") from exc


def remove_all(paths: Sequence[Path]) -> list[Path]:
    """Remove the files that exist; a file that cannot be removed stops the uninstall."""
    removed: list[Path] = []
    for path in paths:
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise ServiceError(f"cannot remove {path}: {_why(exc)}") from exc
        removed.append(path)
    return removed


def indent(text: str, prefix: str = "    ") -> str:
    return "".join(prefix + line for line in text.splitlines(keepends=True))
