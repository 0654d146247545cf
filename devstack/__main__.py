"""Entry point of `python -m devstack` (what `make demo`, `make dev` and `make stack` run)."""

import sys

from devstack.cli import main

if __name__ == "__main__":
    sys.exit(main())
