"""Pools are enforced across the per-datablock ops of real runs, on sqlite and PostgreSQL.

Either executor, on either storage (PostgreSQL is the production one).
"""

import itertools
import threading
import time

import pytest
from dagster import DagsterEventType, DagsterInstance, JobDefinition, execute_job, reconstructable

from archiver_dagster.archival.dagster_job import ARCHIVE_JOB_NAME
from archiver_dagster.definitions import build_definitions, multiprocess_archive_job_def
from archiver_dagster.partitions import datasets_partitions
from archiver_dagster.pools import apply_pool_limits
from archiver_dagster_tests.helpers import wait_until
from archiver_dagster_tests.postgres_server import STORAGES
from devstack.seed import sample_files

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def step_intervals(
    instance: DagsterInstance, run_id: str, op_name: str
) -> list[tuple[float, float]]:
    """(start, end) of every step of `op_name`, from the run's event log."""
    events = instance.all_logs(
        run_id, of_type={DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS}
    )
    starts, ends = {}, {}
    for event in events:
        if event.step_key and f".{op_name}[" in event.step_key:
            target = starts if event.dagster_event_type == DagsterEventType.STEP_START else ends
            target[event.step_key] = event.timestamp
    return sorted((starts[key], ends[key]) for key in starts)


def blocked_steps(instance: DagsterInstance, run_id: str, pool: str) -> set[str]:
    """Steps the executor reported as blocked by the pool's limit."""
    return {
        event.step_key
        for event in instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT)
        if event.message and f"blocked by limit for pool {pool}" in event.message
    }


def in_process_archive_job_def() -> JobDefinition:
    """The archive job with the in-process executor (the default of ARCHIVER_EXECUTOR)."""
    return build_definitions("in_process").resolve_job_def(ARCHIVE_JOB_NAME)


JOBS = {"multiprocess": multiprocess_archive_job_def, "in_process": in_process_archive_job_def}


@pytest.mark.parametrize("instance", STORAGES, indirect=True)
@pytest.mark.parametrize("executor", JOBS)
def test_lts_write_limit_one_blocks_copies_and_they_never_overlap(
    stack, instance, seed_dataset, unique_pid, monkeypatch, executor
):
    monkeypatch.setenv("ARCHIVER_TARGET_SIZE_GB", "0.00001")  # 10 kB: 3 datablocks
    apply_pool_limits(instance, {"lts_write": 1, "lts_read": 2, "lts_free_space": 3})
    pid = unique_pid()
    seed_dataset(pid, sample_files(3, 8000))
    instance.add_dynamic_partitions(datasets_partitions.name, [pid])
    # Another writer (as another run would) holds the only lts_write slot.
    storage = instance.event_log_storage
    assert storage.claim_concurrency_slot("lts_write", "other-run", "other-step", 0).is_claimed
    outcome = {}

    def run() -> None:
        with execute_job(
            reconstructable(JOBS[executor]),
            instance=instance,
            tags={"dagster/partition": pid},
            run_config=QUIET,
        ) as result:
            outcome["success"], outcome["run_id"] = result.success, result.run_id

    runner = threading.Thread(target=run)
    runner.start()
    run_id = wait_until(lambda: next(iter(instance.get_run_ids()), None))
    wait_until(lambda: blocked_steps(instance, run_id, "lts_write"))
    time.sleep(1.0)
    assert step_intervals(instance, run_id, "copy_to_lts") == []  # nobody wrote meanwhile

    storage.free_concurrency_slot_for_step("other-run", "other-step")
    runner.join(timeout=120)

    assert outcome["success"]
    copies = step_intervals(instance, run_id, "copy_to_lts")
    assert len(copies) == 3
    assert all(later[0] >= earlier[1] for earlier, later in itertools.pairwise(copies)), copies
