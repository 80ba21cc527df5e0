"""`python -m voxtrald` is the same as the `voxtrald` command."""

import sys

from voxtrald.cli import main

sys.exit(main())
