"""`voxtrald` command line: `run` starts the daemon, the rest talk to it.

Each feature registers its own subcommands (client commands, updates,
services), so this file only assembles the parser; the exit codes live in
`exit_codes` and the calling-and-printing of client commands in `cli_client`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from voxtrald import exit_codes, paths
from voxtrald.client import commands, speaker_commands
from voxtrald.client import transcripts as transcript_commands
from voxtrald.install import cli as install_cli
from voxtrald.models import cli as models_cli
from voxtrald.service import cli as service_cli
from voxtrald.store.pg import cli as queue_cli
from voxtrald.updates import cli as updates_cli
from voxtrald.version import current_version

# The exit codes under the names this module has always exported.
EXIT_OK = exit_codes.OK
EXIT_ERROR = exit_codes.ERROR
EXIT_USAGE = exit_codes.USAGE
EXIT_UNREACHABLE = exit_codes.UNREACHABLE


def _add_run(sub: argparse._SubParsersAction) -> None:
    run = sub.add_parser("run", help="run the daemon in the foreground")
    run.add_argument("--config", type=Path, help="config file (TOML); default: VOXTRAL_CONFIG "
                     "or the platform's config dir")
    run.add_argument("--inbox", type=Path, help="folder watched for new audio")
    run.add_argument("--outbox", "--transcripts", dest="transcripts", type=Path,
                     help="folder where transcripts are written")
    run.add_argument("--processed-dir", type=Path, help="where sources go once transcribed")
    run.add_argument("--failed-dir", type=Path, help="where sources that cannot be transcribed go")
    run.add_argument("--state-dir", type=Path, help="job store, update cache, locks")
    run.add_argument("--model", help="'default' (Whisper base, 99 languages), 'tiny.en' (fast, "
                     "English only), a faster-whisper size name, or a model folder")
    run.add_argument("--socket", help=f"control socket to listen on ({paths.SOCKET_RULE})")
    run.add_argument("--log-level", default="INFO",
                     choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    run.set_defaults(func=_cmd_run)


def _cmd_run(args: argparse.Namespace) -> int:
    from voxtrald.run import run_daemon

    return run_daemon(args)


def _cmd_version(args: argparse.Namespace) -> int:
    print(current_version())
    return exit_codes.OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="voxtrald", description="Voxtral: local, offline transcription daemon."
    )
    parser.add_argument("-V", "--version", action="version", version=current_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_run(sub)
    ver = sub.add_parser("version", help="print the version")
    ver.set_defaults(func=_cmd_version)
    commands.register(sub)
    speaker_commands.register(sub)
    transcript_commands.register(sub)
    updates_cli.register(sub)
    service_cli.register(sub)
    models_cli.register(sub)
    install_cli.register(sub)
    queue_cli.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return exit_codes.USAGE
    try:
        code = int(args.func(args))
        sys.stdout.flush()  # here, where a reader that left is handled, not at exit
        return code
    except KeyboardInterrupt:
        return exit_codes.ERROR
    except BrokenPipeError:
        # The reader left (`voxtrald status | head -1`): what it wanted was printed.
        # Point stdout at /dev/null so the interpreter's final flush does not fail too.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return exit_codes.OK


if __name__ == "__main__":
    sys.exit(main())
