"""Entry point of `python -m devstack.soak` (what `make soak` runs)."""

import sys

from devstack.soak.cli import main

if __name__ == "__main__":
    sys.exit(main())
