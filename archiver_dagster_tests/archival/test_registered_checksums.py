"""The checksums the ingestor registered (origdatablock `chk`) are verified while packing."""

from dataclasses import replace

import pytest

from archiver_dagster.errors import ERROR_KIND_KEY, ERROR_MESSAGE_KEY
from archiver_dagster_tests.helpers import (
    PREFIX,
    archive,
    archive_status,
    lts_folder,
    run_cleanup_sensor,
    scratch_folder,
)
from devstack.seed import SampleFile, sample_files
from devstack.stack import LANDING_ZONE_BUCKET, LocalStack


def landing_zone_objects(stack: LocalStack, pid: str) -> dict[str, str]:
    """Every object of the dataset with its ETag."""
    pages = stack.s3.client().get_paginator("list_objects_v2")
    return {
        item["Key"]: item["ETag"]
        for page in pages.paginate(Bucket=LANDING_ZONE_BUCKET, Prefix=f"{PREFIX}/datasets/{pid}/")
        for item in page.get("Contents", [])
    }


def changed(file: SampleFile) -> SampleFile:
    """The same path and size with other content (its registered chk stays the original's)."""
    return replace(file, seed=file.seed + 1000)


def pack_failures(result) -> list:
    failures = [event for event in result.all_events if event.is_step_failure]
    assert failures
    assert all(".pack_datablock" in event.step_key for event in failures)
    return failures


def pack_metadata(result) -> list[dict]:
    return [
        event.event_specific_data.metadata
        for event in result.all_events
        if event.is_successful_output and ".pack_datablock" in (event.step_key or "")
    ]


def test_data_differing_from_its_registered_chk_fails_as_a_user_error(
    stack: LocalStack, instance, seed_dataset, unique_pid
):
    pid = unique_pid()
    files = sample_files(5, 2000)
    uploaded = [*files[:2], changed(files[2]), *files[3:]]
    seed_dataset(pid, files, upload=uploaded)
    before = landing_zone_objects(stack, pid)
    assert len(before) == 5

    result = archive(instance, pid)

    assert not result.success
    (failure,) = pack_failures(result)
    metadata = failure.step_failure_data.user_failure_data.metadata
    assert metadata[ERROR_KIND_KEY].value == "user"
    assert files[2].path in metadata[ERROR_MESSAGE_KEY].value
    assert not [e for e in result.all_events if e.event_type_value == "STEP_RESTARTED"]
    assert stack.scicat.datablocks(pid) == []  # nothing registered, nothing copied
    assert not lts_folder(stack, pid).exists()

    run_cleanup_sensor(instance)

    assert archive_status(stack, pid) == "missingFilesError"
    message = stack.scicat.dataset(pid)["datasetlifecycle"]["archiveReturnMessage"]
    assert message["errorKind"] == "user"
    assert files[2].path in message["message"]
    assert "1 of 5 files" in message["message"]
    assert not [f.path for f in files if f is not files[2] and f.path in message["message"]]
    # The landing zone is untouched: every object, as it was.
    assert landing_zone_objects(stack, pid) == before
    assert stack.scicat.datablocks(pid) == []
    assert not scratch_folder(stack, pid).exists()


def test_registered_md5_is_verified_when_the_archive_uses_another_algorithm(
    stack: LocalStack, instance, seed_dataset, unique_pid, monkeypatch
):
    monkeypatch.setenv("ARCHIVER_CHECKSUM_ALG", "sha256")
    good, bad = unique_pid(), unique_pid()
    files = sample_files(4, 3000)
    seed_dataset(good, files)
    seed_dataset(bad, files, upload=[changed(files[0]), *files[1:]])

    archived = archive(instance, good)
    failed = archive(instance, bad)

    assert archived.success
    assert [m["chk_verified"].value for m in pack_metadata(archived)] == [4]
    assert {b["chkAlg"] for b in stack.scicat.datablocks(good)} == {"sha256"}
    assert not failed.success
    (failure,) = pack_failures(failed)
    message = failure.step_failure_data.user_failure_data.metadata[ERROR_MESSAGE_KEY].value
    assert f"{files[0].path} (md5)" in message


@pytest.mark.parametrize(
    ("chk_alg", "chk"),
    [
        ("sha2", "0" * 64),  # ambiguous name: sha-256 or sha-512?
        ("xxh128", "0" * 32),  # not an algorithm the archiver computes
        ("md5", "not-hex"),  # not an md5 digest
        (None, None),  # nothing registered
    ],
)
def test_a_chk_that_cannot_be_checked_does_not_block_archiving(
    stack: LocalStack, instance, seed_dataset, unique_pid, chk_alg, chk
):
    pid = unique_pid()
    files = [replace(file, chk=chk) for file in sample_files(3, 1000)]
    seed_dataset(pid, files, chk_alg=chk_alg)

    result = archive(instance, pid)

    assert result.success
    (metadata,) = pack_metadata(result)
    assert (metadata["chk_verified"].value, metadata["chk_not_verified"].value) == (0, 3)
