"""How every client command of `voxtrald` calls the daemon and reports back.

A client command (status, jobs, pause, resume, retry, check-update,
download-update, ...) is one API call, then either the API's JSON as is
(`--json`, for scripts) or a short rendering for a person. Doing that once,
here, gives every command the same socket rule, the same exit codes and
exactly one output per outcome:

- an answer: the JSON or the rendering on stdout (exit 0, or what the
  command's `outcome` says about the answer);
- an API error: with `--json` its `{"error": ...}` body on stdout, otherwise
  one line on stderr (exit 1);
- no daemon: one line on stderr saying how to start it, nothing on stdout
  (exit 3), since there is no answer to print.

Whatever the daemon sends is untrusted text (file names, error messages): the
renderings and the error lines show control characters as visible escapes, so
a file name holding an escape sequence cannot rewrite the user's terminal.
`--json` output is JSON, whose encoder escapes them already.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from voxtrald import config, exit_codes, paths
from voxtrald.client.connection import ApiResponseError, Client, DaemonUnreachable
from voxtrald.files.textsafe import escape_controls

SOCKET_HELP = f"control socket of the daemon ({paths.SOCKET_RULE})"

Call = Callable[[Client], dict[str, Any]]
Render = Callable[[dict[str, Any]], str]


def add_options(parser: argparse.ArgumentParser, timeout: float = 5.0) -> None:
    """--json, --socket and a hidden --timeout (seconds to wait for the answer)."""
    parser.add_argument("--json", action="store_true", help="print the API's JSON answer as is")
    parser.add_argument("--socket", help=SOCKET_HELP)
    parser.add_argument("--timeout", type=float, default=timeout, help=argparse.SUPPRESS)


def socket_for(flag: str | None) -> Path:
    """--socket > VOXTRAL_SOCKET > the config file's [api] socket > the platform default."""
    return config.client_socket(flag)


def printable(value: Any) -> Any:
    """`value` with every string in it (keys too) made safe for a terminal."""
    if isinstance(value, str):
        return escape_controls(value)
    if isinstance(value, dict):
        return {printable(k): printable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [printable(v) for v in value]
    return value


def _ok(_data: dict[str, Any]) -> int:
    return exit_codes.OK


def call_and_print(args: argparse.Namespace, call: Call, render: Render,
                   outcome: Callable[[dict[str, Any]], int] = _ok) -> int:
    """Make one API call and print its result once; returns the exit code."""
    client = Client(socket_for(args.socket), timeout=args.timeout)
    try:
        data = call(client)
    except DaemonUnreachable as exc:
        print(f"voxtrald: {escape_controls(str(exc))}", file=sys.stderr)
        return exit_codes.UNREACHABLE
    except ApiResponseError as exc:
        if args.json:
            print(_dumps({"error": {"code": exc.code, "message": exc.message}}))
        else:
            print(f"voxtrald: {escape_controls(exc.message)}", file=sys.stderr)
        return exit_codes.ERROR
    print(_dumps(data) if args.json else render(printable(data)))
    return outcome(data)


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)
