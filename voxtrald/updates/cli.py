"""`voxtrald check-update` and `voxtrald download-update`: ask the running daemon.

The daemon owns the update state (cache, ETag, rate limit, dismissals), so
the commands go through it rather than calling GitHub themselves; otherwise
a script polling the CLI could spend the rate limit the daemon relies on.
"""

from __future__ import annotations

import argparse
from typing import Any

from voxtrald import exit_codes
from voxtrald.client.calls import add_options, call_and_print

CHECK_TIMEOUT = 60.0  # the daemon may be waiting on GitHub (5 s connect + 5 s read, redirects)
DOWNLOAD_TIMEOUT = 16 * 60.0  # beyond the downloader's own deadline


def register(sub: argparse._SubParsersAction) -> None:
    """Add this feature's subcommands to `voxtrald`."""
    check = sub.add_parser("check-update", help="ask GitHub now whether a newer release exists")
    check.add_argument("--cached", action="store_true",
                       help="show the last result instead of asking GitHub now")
    add_options(check, timeout=CHECK_TIMEOUT)
    check.set_defaults(func=_cmd_check)
    down = sub.add_parser("download-update",
                          help="download, verify and stage the newer release's wheel")
    add_options(down, timeout=DOWNLOAD_TIMEOUT)
    down.set_defaults(func=_cmd_download)


def _cmd_check(args: argparse.Namespace) -> int:
    path = "/api/updates/check" + ("" if args.cached else "?refresh=1")
    # A check that ran but failed (offline, rate-limited) is an answer, and an error.
    return call_and_print(args, lambda c: c.get(path), format_check,
                          lambda d: exit_codes.ERROR if d.get("error") else exit_codes.OK)


def _cmd_download(args: argparse.Namespace) -> int:
    return call_and_print(args, lambda c: c.post("/api/updates/download"), format_staged)


def format_staged(data: dict[str, Any]) -> str:
    signer = data.get("signed_by")
    how = f"signed by {signer}, sha256 verified" if signer else "sha256 verified"
    return (f"Staged Voxtral {data.get('version')} ({how}):\n  {data.get('path')}\n"
            "Install it and restart with: voxtrald apply-update")


def format_check(data: dict[str, Any]) -> str:
    """The check result as a few lines for a person."""
    current = data.get("current_version") or "?"
    if data.get("error"):
        return f"Update check failed: {data['error']}\nInstalled: {current}"
    if data.get("checked_at") is None:
        return f"Installed: {current}; no update check has run yet."
    latest = data.get("latest_version")
    if data.get("rolled_back"):
        return (f"Voxtral {latest} was installed here and rolled back "
                f"({data.get('rolled_back_reason')}); it is not offered again. "
                f"Running {current}.")
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
    lines.append("Install it and restart with: voxtrald apply-update")
    return "\n".join(lines)
