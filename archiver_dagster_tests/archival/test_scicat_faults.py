"""SciCat failing during an archival and its cleanup, injected per client call by the fake.

The archival runs for real (landing zone on the S3 server, LTS folder, scratch); only SciCat is
the in-memory fake, whose `disable` and `fail_calls` make one kind of call fail without
waiting for a network or a retry budget. HTTP faults during a run are in
test_transient_scicat.py.
"""

import time
from collections.abc import Callable

import pytest
import requests

from archiver_dagster.automation.cleanup_plan import CleanupCursor
from archiver_dagster_tests.helpers import (
    PREFIX,
    archive,
    cleaned_up,
    landing_zone_keys,
    lts_folder,
    run_cleanup_sensor,
    scratch_folder,
)
from devstack.scicat_fake import OPERATIONS, FakeSciCatResource, SciCatFake
from devstack.seed import SampleFile, dataset_bodies, sample_files, upload_files
from devstack.stack import LANDING_ZONE_BUCKET, LocalStack

SeedInFake = Callable[[str], list[SampleFile]]


@pytest.fixture
def fake() -> SciCatFake:
    return SciCatFake()


@pytest.fixture
def seed_in_fake(stack: LocalStack, fake: SciCatFake) -> SeedInFake:
    """Registers a dataset of six files in the fake and uploads them to the landing zone."""

    def seed(pid: str) -> list[SampleFile]:
        files = sample_files(6, 1500)
        dataset, origdatablock = dataset_bodies(pid, files)
        fake.seed_dataset(dataset)
        fake.seed_origdatablock(pid, origdatablock)
        upload_files(stack.s3.client(), LANDING_ZONE_BUCKET, PREFIX, pid, files)
        return files

    return seed


def archive_status(fake: SciCatFake, pid: str) -> str | None:
    dataset = fake.dataset(pid)
    assert dataset is not None
    return dataset["datasetlifecycle"].get("archiveStatusMessage")


def test_scicat_unreachable_fails_the_run_and_cleanup_waits_for_scicat(
    stack, instance, fake, seed_in_fake, unique_pid
):
    pid = unique_pid()
    seed_in_fake(pid)
    scicat = FakeSciCatResource(fake=fake)
    fake.disable.update({name: requests.ConnectionError("refused") for name in OPERATIONS})

    result = archive(instance, pid, {"scicat": scicat})
    assert not result.success
    assert [(call.operation, call.status) for call in fake.calls] == [("login", None)]
    cursor = run_cleanup_sensor(instance, {"scicat": scicat})
    assert archive_status(fake, pid) == "isOnCentralDisk"  # nothing reported yet
    assert not cleaned_up(instance, result.run_id)
    pending = CleanupCursor.parse(cursor).pending[result.run_id]
    assert pending.attempts == 1 and "SciCat unreachable" in pending.last_error
    assert pending.retry_at > time.time() + 20  # backed off, ~30 s
    run = instance.get_run_by_id(result.run_id)
    assert run.tags["archiver/cleanup_attempts"] == "1"  # visible on the run in the UI

    fake.disable.clear()  # SciCat is back, but the cleanup is not yet due
    cursor = run_cleanup_sensor(instance, {"scicat": scicat}, cursor=cursor)
    assert archive_status(fake, pid) == "isOnCentralDisk"

    due_now = CleanupCursor.parse(cursor)
    due_now.pending[result.run_id].retry_at = 0.0
    cursor = run_cleanup_sensor(instance, {"scicat": scicat}, cursor=due_now.model_dump_json())
    assert archive_status(fake, pid) == "scheduleArchiveJobFailed"
    assert fake.datablocks(pid) == []
    assert not lts_folder(stack, pid).exists()
    assert not scratch_folder(stack, pid).exists()
    assert len(landing_zone_keys(stack, pid)) == 6
    assert cleaned_up(instance, result.run_id)
    assert CleanupCursor.parse(cursor).pending == {}


def test_transient_scicat_errors_are_retried(stack, instance, fake, seed_in_fake, unique_pid):
    pid = unique_pid()
    seed_in_fake(pid)
    fake.fail_calls("create_datablock", count=2, status=503)

    result = archive(instance, pid, {"scicat": FakeSciCatResource(fake=fake)})

    assert result.success
    assert archive_status(fake, pid) == "datasetOnArchiveDisk"
    assert [call.status for call in fake.calls_of("create_datablock")] == [503, 503, 201]
    assert len(fake.datablocks(pid)) == 1


def test_a_registration_whose_answer_was_lost_is_not_repeated(
    stack, instance, fake, seed_in_fake, unique_pid
):
    pid = unique_pid()
    seed_in_fake(pid)
    fake.fail_calls("create_datablock", count=1, status=504, after_apply=True)

    result = archive(instance, pid, {"scicat": FakeSciCatResource(fake=fake)})

    assert result.success
    assert [call.status for call in fake.calls_of("create_datablock")] == [504]
    assert len(fake.datablocks(pid)) == 1  # read back, found, not registered twice
    assert landing_zone_keys(stack, pid) == []
