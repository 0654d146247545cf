"""Failure handling: SciCat's state, LTS and scratch cleaned, landing zone kept, per case."""

import re
import shutil

import pytest

from archiver_dagster_tests.helpers import (
    CorruptingLTSResource,
    archival_output,
    archive,
    archive_status,
    landing_zone_keys,
    lts,
    lts_folder,
    run_cleanup_sensor,
    scratch_folder,
)
from devstack.seed import sample_files
from devstack.stack import LocalStack


def assert_cleaned_up(stack: LocalStack, pid: str, landing_zone_objects: int) -> None:
    assert stack.scicat.datablocks(pid) == []
    assert not lts_folder(stack, pid).exists()
    assert not scratch_folder(stack, pid).exists()
    assert len(landing_zone_keys(stack, pid)) == landing_zone_objects


def test_missing_file_is_a_user_error(stack, instance, seed_dataset, unique_pid):
    pid = unique_pid()
    files = sample_files(4, 1000)
    seed_dataset(pid, files, upload=files[:3])

    result = archive(instance, pid)
    assert not result.success
    run_cleanup_sensor(instance)

    assert archive_status(stack, pid) == "missingFilesError"
    message = stack.scicat.dataset(pid)["datasetlifecycle"]["archiveReturnMessage"]
    assert message["errorKind"] == "user"
    assert files[3].path in message["message"]
    assert_cleaned_up(stack, pid, landing_zone_objects=3)


def test_file_of_wrong_size_is_a_user_error(stack, instance, seed_dataset, unique_pid):
    pid = unique_pid()
    registered = sample_files(2, 1000)
    uploaded = [registered[0], type(registered[1])(registered[1].path, 999)]
    seed_dataset(pid, registered, upload=uploaded)

    assert not archive(instance, pid).success
    run_cleanup_sensor(instance)

    assert archive_status(stack, pid) == "missingFilesError"
    assert (
        "size differs"
        in stack.scicat.dataset(pid)["datasetlifecycle"]["archiveReturnMessage"]["message"]
    )
    assert_cleaned_up(stack, pid, landing_zone_objects=2)


def test_corrupt_lts_copy_is_a_system_error_and_is_not_retried(
    stack, instance, seed_dataset, unique_pid
):
    pid = unique_pid()
    seed_dataset(pid)
    overrides = {"lts": lts(stack, CorruptingLTSResource)}

    result = archive(instance, pid, overrides)
    assert not result.success
    failures = [event for event in result.all_events if event.is_step_failure]
    assert failures and all("verify_lts_copy" in event.step_key for event in failures)
    assert "checksum" in failures[0].step_failure_data.error.message
    assert not [event for event in result.all_events if event.event_type_value == "STEP_RESTARTED"]
    # The landing zone is never released before verification succeeded.
    assert len(landing_zone_keys(stack, pid)) == 6
    run_cleanup_sensor(instance)

    assert archive_status(stack, pid) == "scheduleArchiveJobFailed"
    assert (
        stack.scicat.dataset(pid)["datasetlifecycle"]["archiveReturnMessage"]["errorKind"]
        == "system"
    )
    assert_cleaned_up(stack, pid, landing_zone_objects=6)


def test_full_lts_is_a_system_error(stack, instance, seed_dataset, unique_pid):
    pid = unique_pid()
    seed_dataset(pid)
    # 1 GiB short now, but room once others free theirs: the check waits, then gives up.
    usage = shutil.disk_usage(stack.lts_root)
    margin = f"{(usage.free + 1024**3) / usage.total * 100:.9f}"
    overrides = {"lts": lts(stack, free_space_percentage=margin, free_space_timeout_s=1)}

    result = archive(instance, pid, overrides)
    assert not result.success
    run_cleanup_sensor(instance)

    assert archive_status(stack, pid) == "scheduleArchiveJobFailed"
    assert (
        "margin" in stack.scicat.dataset(pid)["datasetlifecycle"]["archiveReturnMessage"]["message"]
    )
    assert_cleaned_up(stack, pid, landing_zone_objects=6)


def test_datablock_larger_than_the_lts_can_ever_hold_fails_at_once(
    stack, instance, seed_dataset, unique_pid
):
    pid = unique_pid()
    seed_dataset(pid)  # one datablock of about 12 KB
    # A margin that leaves 4 KiB for the archiver were everything else on the share deleted.
    usage = shutil.disk_usage(stack.lts_root)
    margin = f"{(usage.used + usage.free - 4096) / usage.total * 100:.9f}"
    # A wait would outlast the test's timeout: failing at all shows it did not wait.
    overrides = {"lts": lts(stack, free_space_percentage=margin, free_space_timeout_s=3600)}

    result = archive(instance, pid, overrides)
    assert not result.success
    [failure] = [event for event in result.all_events if event.is_step_failure]
    assert "wait_for_lts_space" in failure.step_key
    # Its reservation is released by the op itself, before any cleanup.
    assert not list(lts_folder(stack, pid).glob("*.partial"))
    run_cleanup_sensor(instance)

    assert archive_status(stack, pid) == "scheduleArchiveJobFailed"
    returned = stack.scicat.dataset(pid)["datasetlifecycle"]["archiveReturnMessage"]
    assert returned["errorKind"] == "system"
    [block] = archival_output(result, "datablocks").datablocks
    sizes = re.search(
        r"\((\d+) bytes\) is more than .* can ever hold: at most (\d+) bytes", returned["message"]
    )
    assert sizes, returned["message"]
    assert int(sizes.group(1)) == block.packed_size
    assert int(sizes.group(2)) == pytest.approx(4096, abs=64)
    assert_cleaned_up(stack, pid, landing_zone_objects=6)


@pytest.mark.parametrize(
    "bad_pid", ["20.500.1/../etc", "/absolute/pid", "20.500.1//double", "./relative", "tab\tpid"]
)
def test_invalid_pid_is_rejected_before_any_path_is_built(stack, instance, bad_pid):
    stack.scicat.clear_requests()

    result = archive(instance, bad_pid)
    assert not result.success
    message = next(
        e for e in result.all_events if e.is_step_failure
    ).step_failure_data.error.message
    assert "PID" in message
    assert not [request for request in stack.scicat.requests if "datasets" in request.path]
    run_cleanup_sensor(instance)  # reports nothing, deletes nothing
    assert not [request for request in stack.scicat.requests if request.method != "POST"]


def test_file_path_escaping_the_dataset_is_a_user_error(stack, instance, seed_dataset, unique_pid):
    pid = unique_pid()
    files = [*sample_files(2, 100), type(sample_files(1, 1)[0])("../../outside.bin", 10)]
    seed_dataset(pid, files, upload=files[:2])

    assert not archive(instance, pid).success
    run_cleanup_sensor(instance)

    assert archive_status(stack, pid) == "missingFilesError"
    assert (
        "outside.bin"
        in stack.scicat.dataset(pid)["datasetlifecycle"]["archiveReturnMessage"]["message"]
    )
    assert_cleaned_up(stack, pid, landing_zone_objects=2)
