"""The DAGSTER_HOME of the tests with the daemon: a dagster.yaml of the repository, in memory.

The daemon, the code server and every run worker write the home's storage (sqlite), which lives
in memory like the other tests' instances (`memory_dir`). The run queue is looked at every
second instead of Dagster's 5 s; everything else is the configuration given (the repository's
dagster.yaml unless told: run limits, run monitoring, pool granularity), and the pools get the
limits of a small deployment.
"""

from pathlib import Path
from typing import Any

import yaml

from archiver_dagster.pools import apply_pool_limits
from devstack.demo import REPO_DAGSTER_YAML, open_instance

POOL_LIMITS = {"lts_write": 2, "lts_read": 2, "lts_free_space": 1}


def forked_launcher_yaml() -> str:
    """The repository's dagster.yaml with run workers forked by `ForkedRunLauncher`."""
    config = yaml.safe_load(REPO_DAGSTER_YAML.read_text())
    config["run_launcher"] = {
        "module": "archiver_dagster.launcher.forked",
        "class": "ForkedRunLauncher",
    }
    return yaml.safe_dump(config, sort_keys=False)


def daemon_home(
    path: Path, dagster_yaml: str | None = None, run_monitoring: dict[str, Any] | None = None
) -> Path:
    """Prepares `path` as DAGSTER_HOME; `run_monitoring` overrides some of its settings."""
    path.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load(dagster_yaml or REPO_DAGSTER_YAML.read_text())
    config.setdefault("run_queue", {})["dequeue_interval_seconds"] = 1
    config["run_monitoring"] |= run_monitoring or {}
    (path / "dagster.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    with open_instance(path) as instance:
        apply_pool_limits(instance, POOL_LIMITS)
    return path
