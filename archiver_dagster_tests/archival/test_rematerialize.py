"""Re-materializing a dataset that failed half-way, or succeeded, ends as a clean run does."""

from archiver_dagster.archival.mode import ArchivalMode
from archiver_dagster_tests.helpers import (
    CorruptingLTSResource,
    archival_materializations,
    archival_output,
    archive,
    archive_status,
    landing_zone_keys,
    lts,
    lts_folder,
)
from devstack.seed import sample_files

VOLATILE = ("_id", "createdAt", "updatedAt", "createdBy", "updatedBy")


def registered(stack, pid):
    """The dataset's datablocks without ids, timestamps (the two seeds differ in time) and owner."""
    blocks = []
    for block in stack.scicat.datablocks(pid):
        kept = {k: v for k, v in block.items() if k not in (*VOLATILE, "datasetId")}
        kept["dataFileList"] = [
            {k: v for k, v in f.items() if k != "time"} for f in kept["dataFileList"]
        ]
        blocks.append(kept)
    return sorted(blocks, key=lambda block: block["archiveId"])


def test_rerun_after_half_way_failure_registers_no_duplicates(
    stack, instance, seed_dataset, unique_pid, monkeypatch
):
    monkeypatch.setenv("ARCHIVER_TARGET_SIZE_GB", "0.00001")  # 10 kB: several datablocks
    files = sample_files(8, 3000)
    clean_pid, pid = unique_pid(), unique_pid()
    seed_dataset(clean_pid, files)
    seed_dataset(pid, files)
    assert archive(instance, clean_pid).success

    failed = archive(instance, pid, {"lts": lts(stack, CorruptingLTSResource)})
    assert not failed.success
    assert len(stack.scicat.datablocks(pid)) > 1  # registered before the failure, no cleanup ran

    assert archive(instance, pid).success

    blocks = registered(stack, pid)
    archive_ids = [block["archiveId"] for block in blocks]
    assert len(archive_ids) == len(set(archive_ids)) == len(registered(stack, clean_pid))

    def rename(text):
        return text.replace(clean_pid.replace("/", "-"), pid.replace("/", "-")).replace(
            clean_pid, pid
        )

    for block, clean in zip(blocks, registered(stack, clean_pid), strict=True):
        assert block["archiveId"] == rename(clean["archiveId"])
        assert block["dataFileList"] == clean["dataFileList"]
        assert (block["size"], block["packedSize"]) == (clean["size"], clean["packedSize"])
    assert sorted(p.name for p in lts_folder(stack, pid).iterdir()) == sorted(
        rename(p.name) for p in lts_folder(stack, clean_pid).iterdir()
    )
    assert archive_status(stack, pid) == "datasetOnArchiveDisk"
    assert landing_zone_keys(stack, pid) == []


def test_rerun_of_archived_dataset_reverifies_and_changes_nothing(
    stack, instance, seed_dataset, unique_pid
):
    pid = unique_pid()
    seed_dataset(pid)
    assert archive(instance, pid).success
    before = stack.scicat.datablocks(pid)
    tars = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in lts_folder(stack, pid).iterdir()}

    result = archive(instance, pid)

    assert result.success
    assert stack.scicat.datablocks(pid) == before
    assert {
        p: (p.read_bytes(), p.stat().st_mtime_ns) for p in lts_folder(stack, pid).iterdir()
    } == tars
    assert archive_status(stack, pid) == "datasetOnArchiveDisk"
    verified = archival_materializations(result, "verified_datablocks")
    assert verified and verified[-1].metadata["files"].value == 6
    # Decided once, from SciCat, and carried by every value the ops passed on.
    assert result.output_for_node("origdatablocks").mode is ArchivalMode.REVERIFY
    assert archival_output(result, "datablocks").mode is ArchivalMode.REVERIFY
    copies = archival_output(result, "lts_datablocks").copies
    assert copies and {copy.datablock.mode for copy in copies} == {ArchivalMode.REVERIFY}


def test_rerun_of_archived_dataset_with_corrupted_copy_fails_but_keeps_the_copy(
    stack, instance, seed_dataset, unique_pid
):
    from archiver_dagster_tests.helpers import run_cleanup_sensor

    pid = unique_pid()
    seed_dataset(pid)
    assert archive(instance, pid).success
    tar = next(lts_folder(stack, pid).iterdir())
    data = bytearray(tar.read_bytes())
    data[len(data) // 3] ^= 0x10
    tar.write_bytes(bytes(data))

    result = archive(instance, pid)
    assert not result.success
    run_cleanup_sensor(instance)

    # The archive is the only copy left: nothing is deleted, SciCat keeps its registration.
    assert tar.exists()
    assert stack.scicat.datablocks(pid)
    assert archive_status(stack, pid) == "datasetOnArchiveDisk"
