"""`voxtrald models`: the models this machine can use offline, and whether they are intact.

It runs without the daemon: it reads the model files themselves, so it also
answers when the daemon refuses to start because a model file is damaged.
"""

from __future__ import annotations

import argparse
import json
import sys

from voxtrald.models.catalog import DAMAGED, MISSING, NOT_ASSEMBLED, UNPINNED, Entry, offline_models
from voxtrald.models.local import models_root
from voxtrald.models.pins import DEFAULT

EXIT_OK, EXIT_ERROR = 0, 1

_STATE_TEXT = {
    NOT_ASSEMBLED: "ready (assembled at first use)",
    UNPINNED: "downloaded (no pinned hashes)",
}


def register(sub: argparse._SubParsersAction) -> None:
    """Add `models` to `voxtrald`."""
    cmd = sub.add_parser(
        "models", help="list the models available offline: size, languages, verified",
        description="List the models this machine can use without the network. 'default' is "
                    "Whisper base (99 languages); 'tiny.en' is English only and fastest. "
                    "Their files are checked against SHA-256 hashes pinned in Voxtral.",
    )
    cmd.add_argument("--json", action="store_true", help="print JSON")
    cmd.add_argument("--rehash", action="store_true",
                     help="hash every file again instead of trusting the last verification")
    cmd.set_defaults(func=_cmd_models)


def _cmd_models(args: argparse.Namespace) -> int:
    root = models_root()
    entries = offline_models(root, rehash=args.rehash)
    if args.json:
        print(json.dumps({"models_dir": str(root), "default": DEFAULT.name,
                          "models": [e.as_dict() for e in entries]}, indent=2))
    else:
        print(format_table(entries))
        for entry in entries:
            if entry.problem:
                print(f"\n{entry.name}: {entry.problem}", file=sys.stderr)
    return EXIT_OK if all(e.usable for e in entries) else EXIT_ERROR


def _size(n: int | None) -> str:
    if n is None:
        return "?"
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"


def _state(entry: Entry) -> str:
    if entry.status in (DAMAGED, MISSING):
        return entry.status.upper()
    return _STATE_TEXT.get(entry.status, entry.status)


def format_table(entries: list[Entry]) -> str:
    rows = [("NAME", "SIZE", "LANGUAGES", "STATE", "FOLDER")]
    for e in entries:
        name = e.name + "".join(f" ({alias})" for alias in e.aliases)
        rows.append((name, _size(e.size_bytes), e.languages, _state(e), e.path or "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    widths[-1] = 0  # the last column is not padded
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
