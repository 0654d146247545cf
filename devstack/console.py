"""Output of the devstack's commands: one line at a time, flushed, so progress shows at once."""

import sys


def say(text: str = "") -> None:
    """Writes one line of progress or report to stdout."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
