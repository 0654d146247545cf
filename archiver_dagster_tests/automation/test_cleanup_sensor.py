"""dataset_cleanup_sensor: failed and canceled runs reconciled until cleaned, on a real instance."""

import time

import pytest
from dagster import DagsterInstance, DagsterRun, DagsterRunStatus

from archiver_dagster.automation.cleanup_plan import CleanupCursor
from archiver_dagster.definitions import archive_dataset_job_def
from archiver_dagster.partitions import datasets_partitions
from archiver_dagster_tests.helpers import (
    archive,
    archive_status,
    cleaned_up,
    landing_zone_keys,
    lts_folder,
    run_cleanup_sensor,
)
from devstack.stack import LANDING_ZONE_BUCKET, LocalStack


def archive_run(instance: DagsterInstance, pid: str, status: DagsterRunStatus) -> DagsterRun:
    """A run of the archive job for `pid` in `status`, as the queue or an operator leaves it."""
    instance.add_dynamic_partitions(datasets_partitions.name, [pid])
    return instance.create_run_for_job(
        archive_dataset_job_def(), tags={"dagster/partition": pid}, status=status
    )


def canceled_run(instance: DagsterInstance, pid: str) -> DagsterRun:
    run = archive_run(instance, pid, DagsterRunStatus.STARTED)
    instance.report_run_canceled(run)
    return run


def return_message(stack: LocalStack, pid: str) -> dict:
    return stack.scicat.dataset(pid)["datasetlifecycle"]["archiveReturnMessage"]


def test_canceled_run_is_a_system_error_and_is_cleaned_up(
    stack, instance, seed_dataset, unique_pid
):
    pid = unique_pid()
    seed_dataset(pid)
    run = canceled_run(instance, pid)

    run_cleanup_sensor(instance)

    assert cleaned_up(instance, run.run_id)
    assert archive_status(stack, pid) == "scheduleArchiveJobFailed"
    assert return_message(stack, pid) == {
        "errorKind": "system",
        "message": "run canceled by an operator",
    }
    assert len(landing_zone_keys(stack, pid)) == 6


def test_every_failed_run_is_found_and_work_per_tick_is_bounded(
    stack, instance, seed_dataset, unique_pid, monkeypatch
):
    pids = [unique_pid() for _ in range(3)]
    for pid in pids:
        seed_dataset(pid)
    runs = [canceled_run(instance, pid) for pid in pids]
    monkeypatch.setenv("ARCHIVER_CLEANUPS_PER_TICK", "2")

    cursor = run_cleanup_sensor(instance)  # a daemon that starts late finds them all
    assert [cleaned_up(instance, run.run_id) for run in runs].count(True) == 2
    assert len(CleanupCursor.parse(cursor).pending) == 1

    cursor = run_cleanup_sensor(instance, cursor=cursor)
    assert all(cleaned_up(instance, run.run_id) for run in runs)
    assert [archive_status(stack, pid) for pid in pids] == ["scheduleArchiveJobFailed"] * 3
    assert CleanupCursor.parse(cursor).pending == {}


def test_cleanup_waits_while_a_newer_run_of_the_dataset_is_running(
    stack, instance, seed_dataset, unique_pid
):
    pid = unique_pid()
    seed_dataset(pid)
    failed = canceled_run(instance, pid)
    newer = archive_run(instance, pid, DagsterRunStatus.STARTED)
    stack.scicat.clear_requests()

    cursor = run_cleanup_sensor(instance)

    assert not cleaned_up(instance, failed.run_id)
    assert not [r for r in stack.scicat.requests if r.method != "GET" and "auth" not in r.path]
    assert archive_status(stack, pid) == "isOnCentralDisk"
    entry = CleanupCursor.parse(cursor).pending[failed.run_id]
    assert entry.attempts == 0 and time.time() < entry.retry_at <= time.time() + 11

    instance.report_run_canceled(newer)  # the newer run ends (and is itself cleaned up)
    due_now = CleanupCursor.parse(cursor)
    due_now.pending[failed.run_id].retry_at = 0.0
    run_cleanup_sensor(instance, cursor=due_now.model_dump_json())
    assert cleaned_up(instance, failed.run_id) and cleaned_up(instance, newer.run_id)
    assert archive_status(stack, pid) == "scheduleArchiveJobFailed"


@pytest.fixture
def archived_flag_refused(stack: LocalStack):
    """SciCat refuses the update that marks a dataset archived: the run fails at the very end."""
    stack.scicat.fail_next(
        100, status=400, path_contains="datasetlifecycle", body_contains="datasetOnArchiveDisk"
    )
    yield
    stack.scicat.clear_faults()


def test_registrations_and_lts_copy_stay_when_the_landing_zone_lost_files(
    stack, instance, seed_dataset, unique_pid, archived_flag_refused
):
    pid = unique_pid()
    seed_dataset(pid)
    assert not archive(instance, pid).success  # copies verified, dataset not marked archived
    stack.scicat.clear_faults()
    lost = landing_zone_keys(stack, pid)[0]
    stack.s3.client().delete_object(Bucket=LANDING_ZONE_BUCKET, Key=lost)

    run_cleanup_sensor(instance)

    assert archive_status(stack, pid) == "scheduleArchiveJobFailed"
    assert len(stack.scicat.datablocks(pid)) == 1  # the LTS copy's registration is kept
    assert any(lts_folder(stack, pid).glob("*.tar"))  # it may hold the only copy of `lost`
