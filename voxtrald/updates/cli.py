"""`voxtrald check-update` and `voxtrald download-update`: ask the running daemon.

The daemon owns the update state (cache, ETag, rate limit, dismissals), so
the commands go through it rather than calling GitHub themselves; otherwise
a script polling the CLI could spend the rate limit the daemon relies on.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

CHECK_TIMEOUT = 60.0  # the daemon may be waiting on GitHub (5 s connect + 5 s read, redirects)
DOWNLOAD_TIMEOUT = 16 * 60.0  # beyond the downloader's own deadline

EXIT_OK, EXIT_ERROR, EXIT_UNREACHABLE = 0, 1, 3


def register(sub: argparse._SubParsersAction) -> None:
    """Add this feature's subcommands to `voxtrald`."""
    check = sub.add_parser("check-update", help="ask GitHub now whether a newer release exists")
    check.add_argument("--cached", action="store_true",
                       help="show the last result instead of asking GitHub now")
    _common(check)
    check.set_defaults(func=_cmd_check)
    down = sub.add_parser("download-update",
                          help="download, verify and stage the newer release's wheel")
    _common(down)
    down.set_defaults(func=_cmd_download)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the raw JSON answer")
    parser.add_argument("--socket", help="control socket of the daemon (default: VOXTRAL_SOCKET "
                        "or $XDG_RUNTIME_DIR/voxtral/voxtrald.sock)")


def _call(args: argparse.Namespace, method: str, path: str, timeout: float) -> tuple[int, Any]:
    """(exit code, answer): the answer is a dict, or an error message already printed."""
    from voxtrald.client import ApiResponseError, Client, DaemonUnreachable

    client = Client(socket_path=args.socket, timeout=timeout)
    try:
        data = client.get(path) if method == "GET" else client.post(path)
    except DaemonUnreachable as exc:
        print(f"voxtrald: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE, None
    except ApiResponseError as exc:
        if args.json:
            print(json.dumps({"error": {"code": exc.code, "message": exc.message}}, indent=2))
        else:
            print(f"voxtrald: {exc.message}", file=sys.stderr)
        return EXIT_ERROR, None
    return EXIT_OK, data


def _cmd_check(args: argparse.Namespace) -> int:
    path = "/api/updates/check" + ("" if args.cached else "?refresh=1")
    code, data = _call(args, "GET", path, CHECK_TIMEOUT)
    if data is None:
        return code
    if args.json:
        print(json.dumps(data, indent=2, sort_keys=True))
    else:
        print(format_check(data))
    return EXIT_ERROR if data.get("error") else EXIT_OK


def _cmd_download(args: argparse.Namespace) -> int:
    code, data = _call(args, "POST", "/api/updates/download", DOWNLOAD_TIMEOUT)
    if data is None:
        return code
    if args.json:
        print(json.dumps(data, indent=2, sort_keys=True))
    else:
        print(f"Staged Voxtral {data.get('version')} (sha256 verified):\n  {data.get('path')}\n"
              f"Install it with: pip install {data.get('path')}")
    return EXIT_OK


def format_check(data: dict[str, Any]) -> str:
    """The check result as a few lines for a person."""
    current = data.get("current_version") or "?"
    if data.get("error"):
        return f"Update check failed: {data['error']}\nInstalled: {current}"
    if data.get("checked_at") is None:
        return f"Installed: {current}; no update check has run yet."
    latest = data.get("latest_version")
    if not data.get("update_available"):
        return f"Voxtral {current} is up to date (checked {data['checked_at']})."
    lines = [f"Update available: {latest} (installed {current})"]
    name = data.get("release_name")
    if name and name != latest:
        lines.append(f"  {name}")
    if data.get("published_at"):
        lines.append(f"  published {data['published_at']}")
    if data.get("release_url"):
        lines.append(f"  {data['release_url']}")
    if data.get("dismissed"):
        lines.append("  (you dismissed this version; you will not be notified about it)")
    lines.append("Download and verify it with: voxtrald download-update")
    return "\n".join(lines)
