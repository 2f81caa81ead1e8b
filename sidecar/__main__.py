"""``python -m sidecar`` is ``nordic-sidecar``."""

import sys

from .cli import main

sys.exit(main())
