"""Entry point of `python -m devstack.scale` (what `make bench-scale` runs)."""

import sys

from devstack.scale.cli import main

if __name__ == "__main__":
    sys.exit(main())
