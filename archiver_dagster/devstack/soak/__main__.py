"""Entry point of `python -m archiver_dagster.devstack.soak` (what `make soak` runs)."""

import sys

from archiver_dagster.devstack.soak.cli import main

if __name__ == "__main__":
    sys.exit(main())
