"""The source checkout the devstack belongs to, and how its child processes import it.

`devstack` is not part of the `archiver-dagster` distribution: it is imported from the
checkout (the repository root on `sys.path`), never from an installed wheel.
"""

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]


def python_path_env(env: Mapping[str, str]) -> dict[str, str]:
    """`env` with the checkout first on PYTHONPATH: `python -m devstack...` works from anywhere."""
    paths = [str(REPOSITORY), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    return {**env, "PYTHONPATH": os.pathsep.join(paths)}


def commit() -> str:
    """The checked-out commit (with `+changes` if the tree differs), or `unknown`."""

    def git(*args: str) -> str:
        command = ["git", "-C", str(REPOSITORY), *args]
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()

    try:
        head = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+changes" if dirty else "")
