"""`python -m monitoring.probe DOMAIN... [--json] [--file PATH]`: the probe without Django."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
