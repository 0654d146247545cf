"""The path of an archival run is decided once, from SciCat's lifecycle, and carried along."""

import pytest

from archiver_dagster.archival.manifests import DatablockManifest
from archiver_dagster.archival.mode import ArchivalMode, archival_mode
from archiver_dagster.archival.pack_ops import DatablockPlan
from archiver_dagster.scicat.models import Dataset


def dataset(status: str | None) -> Dataset:
    return Dataset.model_validate(
        {"pid": "20.500.12345/mode", "datasetlifecycle": {"archiveStatusMessage": status}}
    )


@pytest.mark.parametrize(
    ("status", "mode"),
    [
        ("datasetOnArchiveDisk", ArchivalMode.REVERIFY),
        (None, ArchivalMode.ARCHIVE),
        ("isOnCentralDisk", ArchivalMode.ARCHIVE),
        ("started", ArchivalMode.ARCHIVE),  # an interrupted archival is archived again
        ("missingFilesError", ArchivalMode.ARCHIVE),
        ("scheduleArchiveJobFailed", ArchivalMode.ARCHIVE),
    ],
)
def test_only_a_dataset_on_the_archive_disk_is_reverified(status, mode):
    assert archival_mode(dataset(status)) is mode


def datablock(mode: ArchivalMode, scratch_path: str | None) -> DatablockManifest:
    return DatablockManifest(
        mode=mode,
        index=0,
        archive_id="p/datasets/x/datablocks/x_0.tar",
        scratch_path=scratch_path,
        size=1,
        packed_size=10240,
        checksum="",
        algorithm="md5",
        members=[],
    )


def test_only_a_datablock_this_run_packed_has_a_scratch_file():
    assert str(datablock(ArchivalMode.ARCHIVE, "/s/x_0.tar").scratch_file()) == "/s/x_0.tar"
    with pytest.raises(ValueError, match="not packed by this run"):
        datablock(ArchivalMode.REVERIFY, None).scratch_file()


def test_only_a_reverify_plan_carries_the_registered_datablock():
    registered = datablock(ArchivalMode.REVERIFY, None)
    plan = DatablockPlan(mode=ArchivalMode.REVERIFY, index=0, registered=registered)
    assert plan.registered_datablock() == registered
    with pytest.raises(ValueError, match="no registered datablock"):
        DatablockPlan(mode=ArchivalMode.ARCHIVE, index=0).registered_datablock()
