"""The source checkout the devstack belongs to, and how its child processes import it.

`devstack` is not part of the `archiver-dagster` distribution: it is imported from the
checkout (the repository root on `sys.path`), never from an installed wheel.
"""

import os
from collections.abc import Mapping
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]


def python_path_env(env: Mapping[str, str]) -> dict[str, str]:
    """`env` with the checkout first on PYTHONPATH: `python -m devstack...` works from anywhere."""
    paths = [str(REPOSITORY), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    return {**env, "PYTHONPATH": os.pathsep.join(paths)}
