"""`python -m voxtrald.engine '<settings>'` starts a transcription worker."""

import sys

from voxtrald.engine.process import main

sys.exit(main())
