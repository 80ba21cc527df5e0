"""`voxtrald queue`: the command line of the team queue.

Only the parser lives here: the check itself (and the PostgreSQL driver it
needs) is imported when the command runs, so no other command pays for it.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser("queue", help="the team queue shared with other machines")
    verbs = cmd.add_subparsers(dest="verb", metavar="VERB", required=True)
    check = verbs.add_parser("check", help="test the connection, the schema and the rights "
                                           "of the team queue in the config")
    check.add_argument("--config", type=Path, help="config file (default: as `run` finds it)")
    check.set_defaults(func=_cmd_check)


def _cmd_check(args: argparse.Namespace) -> int:
    from voxtrald.store.pg.check import run_check

    return run_check(args.config)
