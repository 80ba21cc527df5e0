"""install-service / uninstall-service, the same steps on every platform.

Install: render the files, check that the service manager can be reached
*before* touching anything, write only what differs (all or nothing), then
enable and start. Running it again finds nothing different and says so.
Uninstall is the mirror image, and finding nothing installed is not an
error: the end state the user asked for is already there. It only removes
files that carry the marker install writes, unless forced, since a file of
the same name may be the user's own.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from voxtrald import _platform, exit_codes
from voxtrald.service._common import (
    Executables,
    Platform,
    Runner,
    ServiceError,
    current_content,
    find_executables,
    indent,
    remove_all,
    write_all,
    written_by_us,
)

PLATFORMS = {"linux": "_systemd", "macos": "_launchd", "windows": "_windows"}


def host_platform() -> str | None:
    """The service platform of this machine, None where we have no service support."""
    return _platform.NAME if _platform.NAME in PLATFORMS else None


def load_platform(name: str) -> Platform:
    module = importlib.import_module(f"voxtrald.service.{PLATFORMS[name]}")
    platform: Platform = module.PLATFORM
    return platform


@dataclass
class Options:
    platform: str
    dry_run: bool = False
    enable: bool = True
    target_dir: Path | None = None
    tray: bool = True
    executables: Executables | None = None
    force: bool = False


def _executables(opts: Options) -> Executables:
    if opts.executables is not None:
        return opts.executables
    return find_executables(exe_suffix=".exe" if opts.platform == "windows" else "")


def _require_host(opts: Options, action: str) -> None:
    host = host_platform()
    if opts.platform != host:
        raise ServiceError(
            f"cannot {action} {opts.platform} services on this {host or _platform.SYSTEM} machine; "
            "use --dry-run to preview them, or --no-enable to only handle the files"
        )


def install(opts: Options, out: TextIO) -> int:
    platform = load_platform(opts.platform)
    files = platform.files(_executables(opts), opts.target_dir, opts.tray)
    runner = Runner(out, dry_run=opts.dry_run)

    if opts.dry_run:
        print(f"Dry run for {opts.platform}: nothing is written or started.", file=out)
        for item in files:
            same = current_content(item.path) == item.content
            verb = "unchanged" if same else "would write"
            print(f"{verb} {item.path} ({item.what}):", file=out)
            print(indent(item.content), end="", file=out)
        if opts.enable:
            platform.activate(runner, files, changed=True)
        return exit_codes.OK

    if opts.enable:
        _require_host(opts, "enable")
        platform.check()

    changed = [item for item in files if current_content(item.path) != item.content]
    write_all(changed)
    for item in files:
        verb = "wrote" if item in changed else "unchanged"
        print(f"{verb} {item.path} ({item.what})", file=out)

    notes = platform.activate(runner, files, bool(changed)) if opts.enable else []
    if not changed:
        print("Voxtral service files already installed and up to date; nothing rewritten.",
              file=out)
    if opts.enable:
        print(f"Voxtral runs as a service ({opts.platform}); {platform.where_logs_go()}",
              file=out)
    elif changed:
        print("Files written; not enabled or started (--no-enable).", file=out)
    for note in notes:
        print(f"note: {note}", file=out)
    return exit_codes.OK


def uninstall(opts: Options, out: TextIO) -> int:
    platform = load_platform(opts.platform)
    files = platform.files(_executables(opts), opts.target_dir, tray=True)
    present = [item for item in files if item.path.exists()]
    if not present:
        folders = sorted({str(item.path.parent) for item in files})
        print(f"Voxtral is not installed as a service (nothing in {', '.join(folders)}); "
              "nothing to do.", file=out)
        return exit_codes.OK

    foreign = [item for item in present if not written_by_us(item.path)]
    if foreign and not opts.force:
        # The names are common ones (voxtrald.service): a user may well have
        # written their own, and deleting or disabling it would be our doing.
        names = ", ".join(str(item.path) for item in foreign)
        raise ServiceError(
            f"not removing anything: {names} {'was' if len(foreign) == 1 else 'were'} not "
            "written by 'voxtrald install-service' (no \"Written by\" line); remove "
            f"{'it' if len(foreign) == 1 else 'them'} yourself, or pass --force to remove "
            "every Voxtral service file regardless"
        )

    runner = Runner(out, dry_run=opts.dry_run)
    if opts.enable and not opts.dry_run:
        _require_host(opts, "disable")
        platform.check()
    if opts.enable:
        platform.deactivate(runner, present)

    if opts.dry_run:
        for item in present:
            print(f"would remove {item.path} ({item.what})", file=out)
        if opts.enable:
            platform.after_remove(runner)
        return exit_codes.OK

    for path in remove_all([item.path for item in present]):
        print(f"removed {path}", file=out)
    if opts.enable:
        platform.after_remove(runner)
    print("Voxtral service uninstalled; your transcripts, folders and settings are kept.",
          file=out)
    return exit_codes.OK


def run(action: str, opts: Options, out: TextIO, err: TextIO) -> int:
    """Run an action and turn a ServiceError into its message and exit code."""
    try:
        return install(opts, out) if action == "install" else uninstall(opts, out)
    except ServiceError as exc:
        print(f"voxtrald: {action}-service: {exc}", file=err)
        return exc.exit_code
