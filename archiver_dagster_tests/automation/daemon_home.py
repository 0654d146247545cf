"""The DAGSTER_HOME of the tests with the daemon: the repository's dagster.yaml, in memory.

The daemon, the code server and every run worker write the home's sqlite storage, which lives
in memory like the other tests' instances (`memory_dir`). The run queue is looked at every
second instead of Dagster's 5 s; everything else is the repository's instance (run limits,
run monitoring, pool granularity), and the pools get the limits of a small deployment.
"""

from pathlib import Path
from typing import Any

import yaml

from archiver_dagster.pools import apply_pool_limits
from devstack.demo import open_instance, prepare_dagster_home

POOL_LIMITS = {"lts_write": 2, "lts_read": 2, "lts_free_space": 1}
QUICK_RUN_QUEUE = {
    "module": "dagster._core.run_coordinator",
    "class": "QueuedRunCoordinator",
    "config": {"dequeue_interval_seconds": 1},
}


def daemon_home(path: Path, run_monitoring: dict[str, Any] | None = None) -> Path:
    """Prepares `path` as DAGSTER_HOME; `run_monitoring` overrides some of its settings."""
    home = prepare_dagster_home(path)
    config = yaml.safe_load((home / "dagster.yaml").read_text())
    config["run_coordinator"] = QUICK_RUN_QUEUE
    config["run_monitoring"] |= run_monitoring or {}
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    with open_instance(home) as instance:
        apply_pool_limits(instance, POOL_LIMITS)
    return home
