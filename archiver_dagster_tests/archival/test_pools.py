"""Pools are enforced across the per-datablock ops of real runs, on sqlite and PostgreSQL.

Either executor, on either storage (PostgreSQL is the production one), packing on scratch or
straight onto the LTS (decision 72).
"""

import itertools
import threading
import time
from collections.abc import Iterator
from multiprocessing import forkserver

import pytest
from dagster import DagsterEventType, DagsterInstance, JobDefinition, execute_job, reconstructable
from dagster._core.definitions.reconstruct import ReconstructableJob

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
# The op that writes to the LTS: the copy, or without scratch the pack (decision 72).
WRITERS = {"scratch": "copy_to_lts", "no-scratch": "pack_onto_lts"}


@pytest.fixture
def fresh_job_definitions(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The archive job built again from the test's environment, in this process and its steps.

    The archival chain is decided when the definitions load (decision 72). A code location's
    environment never changes, a test process's does: Dagster keeps the last job a
    `reconstructable` built, and the multiprocess executor forks steps from the process's one
    forkserver, which preloaded the definitions of the environment it started with. So the
    cache is emptied and the steps get a forkserver of their own.
    """
    server = forkserver.ForkServer()
    for name in ("ensure_running", "get_inherited_fds", "connect_to_new_process"):
        monkeypatch.setattr(forkserver, name, getattr(server, name))
    monkeypatch.setattr(forkserver, "set_forkserver_preload", server.set_forkserver_preload)
    caches = (ReconstructableJob.get_definition, ReconstructableJob.get_repository_definition)
    for cache in caches:
        cache.cache_clear()
    yield
    for cache in caches:
        cache.cache_clear()
    server._stop()


@pytest.mark.parametrize("instance", STORAGES, indirect=True)
@pytest.mark.parametrize("executor", JOBS)
@pytest.mark.parametrize("mode", WRITERS)
def test_lts_write_limit_one_blocks_copies_and_they_never_overlap(
    stack, instance, seed_dataset, unique_pid, monkeypatch, executor, mode, request
):
    monkeypatch.setenv("ARCHIVER_TARGET_SIZE_GB", "0.00001")  # 10 kB: 3 datablocks
    if mode == "no-scratch":
        monkeypatch.setenv("ARCHIVER_SCRATCH_FOLDER", "")  # read as the job's definitions load
        request.getfixturevalue("fresh_job_definitions")
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
    assert step_intervals(instance, run_id, WRITERS[mode]) == []  # nobody wrote meanwhile

    storage.free_concurrency_slot_for_step("other-run", "other-step")
    runner.join(timeout=120)

    assert outcome["success"]
    copies = step_intervals(instance, run_id, WRITERS[mode])
    assert len(copies) == 3
    assert all(later[0] >= earlier[1] for earlier, later in itertools.pairwise(copies)), copies
    if mode == "scratch":  # one pack at a time, whatever the executor (decision 73)
        packs = step_intervals(instance, run_id, "pack_datablock")
        assert len(packs) == 3
        assert all(later[0] >= earlier[1] for earlier, later in itertools.pairwise(packs)), packs
