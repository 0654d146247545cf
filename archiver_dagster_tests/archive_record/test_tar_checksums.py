"""The whole-tar checksums archival records are the ones retrieval and re-verification read."""

from dagster import AssetMaterialization, DagsterInstance, MetadataValue

from archiver_dagster.archive_record.tar_checksums import (
    DATABLOCKS_ASSET_KEY,
    TAR_CHECKSUMS_METADATA_KEY,
    RecordedTarChecksum,
    recorded_tar_checksums,
    tar_checksums_metadata,
)
from archiver_dagster_tests.helpers import archive, lts_folder, retrieve

PID = "20.500.12345/record"


def record(instance: DagsterInstance, asset_key, checksums: dict[str, str]) -> None:
    with_algorithm = {
        archive_id: (checksum, "xxh3_128") for archive_id, checksum in checksums.items()
    }
    instance.report_runless_asset_event(
        AssetMaterialization(
            asset_key=asset_key, partition=PID, metadata=tar_checksums_metadata(with_algorithm)
        )
    )


def test_the_lookup_reads_the_datablocks_asset_as_its_definition_names_it(instance):
    record(instance, DATABLOCKS_ASSET_KEY, {"a.tar": "0a", "b.tar": ""})
    # none recorded for b.tar
    assert recorded_tar_checksums(instance, PID) == {"a.tar": RecordedTarChecksum("0a", "xxh3_128")}


def test_the_latest_materialization_counts_and_other_assets_do_not(instance):
    record(instance, DATABLOCKS_ASSET_KEY, {"a.tar": "old"})
    record(instance, DATABLOCKS_ASSET_KEY, {"a.tar": "new"})
    record(instance, ["lts_datablocks"], {"a.tar": "other"})
    assert recorded_tar_checksums(instance, PID) == {
        "a.tar": RecordedTarChecksum("new", "xxh3_128")
    }
    assert recorded_tar_checksums(instance, "20.500.12345/never-archived") == {}


def test_a_record_without_algorithms_is_read_with_none_the_members_algorithm(instance):
    # As written before the whole-tar checksum had its own algorithm: the tar was hashed in md5.
    old = {TAR_CHECKSUMS_METADATA_KEY: MetadataValue.json({"a.tar": "d41d8cd98f00b204"})}
    instance.report_runless_asset_event(
        AssetMaterialization(asset_key=DATABLOCKS_ASSET_KEY, partition=PID, metadata=old)
    )
    assert recorded_tar_checksums(instance, PID) == {
        "a.tar": RecordedTarChecksum("d41d8cd98f00b204", None)
    }


def test_retrieval_checks_the_whole_tar_against_the_archived_record(
    stack, instance, seed_dataset, unique_pid
):
    pid = unique_pid()
    seed_dataset(pid)
    assert archive(instance, pid).success
    tar = next(lts_folder(stack, pid).iterdir())
    data = bytearray(tar.read_bytes())
    data[155] ^= 0x01  # the byte after the first header's checksum: tarfile never parses it
    tar.write_bytes(bytes(data))

    result = retrieve(instance, pid)

    # Every member is intact: only the recorded whole-tar checksum can tell.
    assert not result.success
    messages = [
        event.step_failure_data.error.message
        for event in result.get_step_failure_events()
        if event.step_failure_data.error
    ]
    assert any("tar checksum " in message for message in messages), messages
