"""`voxtrald install-service` and `voxtrald uninstall-service`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from voxtrald import _platform, exit_codes
from voxtrald.service.installer import PLATFORMS, Options, host_platform, run

TARGET_DIR_ENV = "VOXTRAL_SERVICE_DIR"


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dry-run", action="store_true",
        help="print the files and commands, write and start nothing",
    )
    parser.add_argument(
        "--no-enable", dest="enable", action="store_false",
        help="only write (or remove) the files; do not talk to systemd/launchd",
    )
    parser.add_argument(
        "--target-dir", "--unit-dir", type=Path, metavar="DIR",
        default=os.environ.get(TARGET_DIR_ENV) or None,
        help=f"put every file in DIR instead of its usual place (also ${TARGET_DIR_ENV}); "
             "for packagers and tests",
    )
    parser.add_argument(
        "--platform", choices=sorted(PLATFORMS), default=host_platform(),
        help="the platform to write files for (default: this one); another platform "
             "only with --dry-run or --no-enable",
    )


def register(sub: argparse._SubParsersAction) -> None:
    """Add the service subcommands to `voxtrald`."""
    install = sub.add_parser(
        "install-service",
        help="start voxtrald (and the tray) at login: systemd, launchd or Windows Startup",
        description="Write the service files for this platform with the absolute paths of "
                    "this installation, then enable and start them. Running it again changes "
                    "nothing.",
    )
    _add_common(install)
    install.add_argument("--no-tray", dest="tray", action="store_false",
                         help="install the daemon only (servers, or a tray started otherwise)")
    install.set_defaults(func=_cmd_install)

    uninstall = sub.add_parser(
        "uninstall-service",
        help="stop voxtrald and the tray starting at login, and remove their service files",
    )
    _add_common(uninstall)
    uninstall.add_argument(
        "--force", action="store_true",
        help="also remove (and disable) files that were not written by install-service",
    )
    uninstall.set_defaults(func=_cmd_uninstall, tray=True)


def _options(args: argparse.Namespace) -> Options | None:
    if args.platform is None:
        print(f"voxtrald: no service support for {_platform.SYSTEM}; use --platform "
              f"{'|'.join(sorted(PLATFORMS))} with --dry-run to see the files", file=sys.stderr)
        return None
    target = Path(args.target_dir).expanduser().absolute() if args.target_dir else None
    return Options(platform=args.platform, dry_run=args.dry_run, enable=args.enable,
                   target_dir=target, tray=args.tray, force=getattr(args, "force", False))


def _cmd_install(args: argparse.Namespace) -> int:
    opts = _options(args)
    return exit_codes.ERROR if opts is None else run("install", opts, sys.stdout, sys.stderr)


def _cmd_uninstall(args: argparse.Namespace) -> int:
    opts = _options(args)
    return exit_codes.ERROR if opts is None else run("uninstall", opts, sys.stdout, sys.stderr)
