"""voxtral-tray entry point (placeholder until the tray lands)."""

from __future__ import annotations

import sys


def main() -> int:
    print("voxtral-tray is not built yet.", file=sys.stderr)
    return 1
