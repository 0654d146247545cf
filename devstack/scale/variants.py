"""The instance configurations compared: queue, run launcher and PostgreSQL storage.

Each states the run coordinator and the run launcher explicitly, so the comparison does not
depend on what the repository's dagster.yaml says at the moment.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from devstack.postgres import pooled_storage

RUN_COORDINATOR_CLASS = {
    "module": "dagster._core.run_coordinator",
    "class": "QueuedRunCoordinator",
}


FORKED_RUN_LAUNCHER = {
    "module": "archiver_dagster.launcher.forked",
    "class": "ForkedRunLauncher",
}


@dataclass(frozen=True)
class Variant:
    """A name, run coordinator, `sensors:` and run launcher settings over the repository's yaml.

    `run_launcher` None is Dagster's default launcher (a new interpreter per run, started by
    the code server). `pooled_storage` puts a PostgreSQL backend on the archiver's
    `PooledPostgresStorage` instead of dagster-postgres' own (no effect on sqlite).
    """

    name: str
    coordinator: dict[str, Any]
    sensors: dict[str, Any]
    run_launcher: dict[str, Any] | None = None
    pooled_storage: bool = False


# Dagster's defaults, which main ran with: one launch at a time, every 5 s; runs created one
# after the other within a sensor tick.
BASELINE = Variant(
    name="baseline",
    coordinator={"dequeue_interval_seconds": 5, "dequeue_use_threads": False},
    sensors={"use_threads": True, "num_workers": 4},
)
# The production instance's queue (deploy/dagster.yaml): launches overlap (each waits for its
# run worker to import the code), and the queue is checked every second. Its sensors are the
# baseline's: `num_submit_workers` is not deployed (docs/architecture.md, decision 62).
TUNED = Variant(
    name="tuned",
    coordinator={
        "dequeue_interval_seconds": 1,
        "dequeue_use_threads": True,
        "dequeue_num_workers": 4,
    },
    sensors={"use_threads": True, "num_workers": 4},
)
# Dagster's default queue with every run worker forked from a process that has the code
# imported (`ForkedRunLauncher`, docs/architecture.md decision 64): only the launcher differs
# from the baseline. A forked launch takes a fraction of a second, so the one-at-a-time queue
# does not hold it back.
FORKED = Variant(
    name="forked",
    coordinator=BASELINE.coordinator,
    sensors=BASELINE.sensors,
    run_launcher=FORKED_RUN_LAUNCHER,
)
# The production queue (tuned) with forked run workers.
TUNED_FORKED = Variant(
    name="tuned_forked",
    coordinator=TUNED.coordinator,
    sensors=TUNED.sensors,
    run_launcher=FORKED_RUN_LAUNCHER,
)
# The production instance (deploy/dagster.yaml: queue, sensors, pooled PostgreSQL connections)
# with forked run workers.
TUNED_FORKED_POOLED = Variant(
    name="tuned_forked_pooled",
    coordinator=TUNED.coordinator,
    sensors=TUNED.sensors,
    run_launcher=FORKED_RUN_LAUNCHER,
    pooled_storage=True,
)
VARIANTS = {
    variant.name: variant
    for variant in (BASELINE, TUNED, FORKED, TUNED_FORKED, TUNED_FORKED_POOLED)
}


def instance_config(
    base: dict[str, Any], variant: Variant, postgres_url: str | None
) -> dict[str, Any]:
    """The repository's instance settings with the variant's run queue and the storage."""
    config = dict(base)
    config["run_coordinator"] = {**RUN_COORDINATOR_CLASS, "config": dict(variant.coordinator)}
    config["sensors"] = dict(variant.sensors)
    config.pop("run_launcher", None)
    if variant.run_launcher is not None:
        config["run_launcher"] = dict(variant.run_launcher)
    if postgres_url is not None and variant.pooled_storage:
        config["storage"] = pooled_storage({"postgres_url": postgres_url})
    elif postgres_url is not None:
        config["storage"] = {"postgres": {"postgres_url": postgres_url}}
    return config


def write_instance_yaml(
    dagster_yaml: Path, variant: Variant, postgres_url: str | None
) -> dict[str, Any]:
    """Rewrites DAGSTER_HOME's dagster.yaml for the variant and storage; returns what it wrote."""
    base = yaml.safe_load(dagster_yaml.read_text()) or {}
    config = instance_config(base, variant, postgres_url)
    dagster_yaml.write_text(yaml.safe_dump(config, sort_keys=False))
    return config
