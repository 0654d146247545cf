"""The whole-tar checksum is XXH3-128, recorded with its algorithm; old md5 records still count."""

import hashlib

import xxhash
from dagster import AssetMaterialization, MetadataValue

from archiver_dagster.archive_record.tar_checksums import (
    DATABLOCKS_ASSET_KEY,
    TAR_CHECKSUMS_METADATA_KEY,
)
from archiver_dagster_tests.helpers import (
    archival_materializations,
    archival_output,
    archive,
    lts_folder,
)
from devstack.seed import sample_files


def record_without_algorithms(instance, pid: str, checksums: dict[str, str]) -> None:
    """A `datablocks` record as written before the tar checksum had an algorithm of its own."""
    metadata = {TAR_CHECKSUMS_METADATA_KEY: MetadataValue.json(checksums)}
    instance.report_runless_asset_event(
        AssetMaterialization(asset_key=DATABLOCKS_ASSET_KEY, partition=pid, metadata=metadata)
    )


def test_tar_checksum_is_xxh3_and_an_older_md5_record_is_still_verified(
    stack, instance, seed_dataset, unique_pid
):
    pid = unique_pid()
    seed_dataset(pid, sample_files(3, 2000))

    archived = archive(instance, pid)

    assert archived.success
    tar = next(lts_folder(stack, pid).iterdir())
    archive_id = next(iter(archival_output(archived, "datablocks").datablocks)).archive_id
    metadata = archival_materializations(archived, "datablocks")[-1].metadata
    assert metadata["checksums"].value == {
        archive_id: xxhash.xxh3_128(tar.read_bytes()).hexdigest()
    }
    assert metadata["checksum_algorithms"].value == {archive_id: "xxh3_128"}
    # Members keep SciCat's algorithm.
    assert {block["chkAlg"] for block in stack.scicat.datablocks(pid)} == {"md5"}

    # Re-verification reads a record without algorithms as the members' (md5) ...
    record_without_algorithms(
        instance, pid, {archive_id: hashlib.md5(tar.read_bytes()).hexdigest()}
    )
    reverified = archive(instance, pid)
    assert reverified.success
    checked = archival_output(reverified, "lts_datablocks").copies[0].datablock
    assert (checked.tar_algorithm, checked.checksum) == (
        "md5",
        hashlib.md5(tar.read_bytes()).hexdigest(),
    )

    # ... and does compare it: a wrong md5 fails the run.
    record_without_algorithms(instance, pid, {archive_id: hashlib.md5(b"other").hexdigest()})
    failed = archive(instance, pid)
    assert not failed.success
    messages = [
        event.step_failure_data.error.message
        for event in failed.get_step_failure_events()
        if event.step_failure_data.error
    ]
    assert any("tar checksum " in message for message in messages), messages
