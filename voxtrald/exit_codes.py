"""The exit codes of `voxtrald` and `voxtral-tray`, the same for every command.

Scripts branch on them without parsing messages: 3 in particular means
"nobody answers on the socket", which a wrapper can act on by starting the
daemon.
"""

from __future__ import annotations

from typing import Final

OK: Final = 0
ERROR: Final = 1
USAGE: Final = 2  # argparse exits with 2 by itself on a bad command line
UNREACHABLE: Final = 3
