"""Entry point of `python -m archiver_dagster.bench` (what `make bench` runs)."""

import sys

from archiver_dagster.bench.cli import main

if __name__ == "__main__":
    sys.exit(main())
