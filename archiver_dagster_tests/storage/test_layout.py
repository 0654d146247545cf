"""Dataset layout: landing-zone keys, LTS paths and archiveIds exactly as the reference."""

from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest

from archiver_dagster.partitions import MAX_PID_LENGTH, InvalidPidError
from archiver_dagster.storage.layout import ArchiveIdOutsideDatasetError, DatasetLayout

PID = "20.500.11935/0f2c8a4e-6a1d-4c5e-9b2f-1d2e3f4a5b6c"
PREFIX = "openem-network"


def test_keys_and_paths_as_the_reference() -> None:
    layout = DatasetLayout(PREFIX, PID)
    assert layout.dataset_key == f"openem-network/datasets/{PID}"
    assert layout.raw_files_key == f"openem-network/datasets/{PID}/raw_files/"
    assert layout.datablocks_folder == f"openem-network/datasets/{PID}/datablocks"
    assert layout.datablock_name(0) == "20.500.11935-0f2c8a4e-6a1d-4c5e-9b2f-1d2e3f4a5b6c_0.tar"
    assert layout.archive_id(3) == (
        "openem-network/datasets/20.500.11935/0f2c8a4e-6a1d-4c5e-9b2f-1d2e3f4a5b6c/datablocks/"
        "20.500.11935-0f2c8a4e-6a1d-4c5e-9b2f-1d2e3f4a5b6c_3.tar"
    )


def test_every_slash_of_the_pid_becomes_a_dash_in_the_name() -> None:
    layout = DatasetLayout("site/prefix", "a/b/c")
    assert layout.datablock_name(12) == "a-b-c_12.tar"
    assert layout.archive_id(12) == "site/prefix/datasets/a/b/c/datablocks/a-b-c_12.tar"


def test_scratch_folder() -> None:
    layout = DatasetLayout(PREFIX, PID)
    # Flat and percent-encoded: cleaning PID p never reaches into p/q's scratch.
    assert layout.scratch_folder(Path("/scratch")) == Path(
        "/scratch/archival/openem-network/" + PID.replace("/", "%2F")
    )


def test_layout_is_frozen() -> None:
    layout = DatasetLayout(PREFIX, PID)
    with pytest.raises(FrozenInstanceError):
        layout.pid = "other"  # type: ignore[misc]


@pytest.mark.parametrize("index", [0, 1, 41])
def test_owns_its_own_archive_ids(index: int) -> None:
    layout = DatasetLayout(PREFIX, PID)
    assert layout.owns_archive_id(layout.archive_id(index))


@pytest.mark.parametrize(
    "archive_id",
    [
        # another dataset, also one whose PID extends or nests in this one
        DatasetLayout(PREFIX, "20.500.11935/other").archive_id(0),
        DatasetLayout(PREFIX, PID + "x").archive_id(0),
        DatasetLayout(PREFIX, PID + "/datablocks").archive_id(0),
        # another prefix
        DatasetLayout("other-prefix", PID).archive_id(0),
        # not a tar, or not directly in the datablocks folder
        f"openem-network/datasets/{PID}/datablocks/x.tar.partial",
        f"openem-network/datasets/{PID}/datablocks/x.zip",
        f"openem-network/datasets/{PID}/datablocks/sub/x.tar",
        f"openem-network/datasets/{PID}/raw_files/x.tar",
        f"openem-network/datasets/{PID}/datablocks/../datablocks/x.tar",
        f"/openem-network/datasets/{PID}/datablocks/x.tar",
        f"/abs/openem-network/datasets/{PID}/datablocks/x.tar",
        "x.tar",
        "",
        # not written as the layout writes it: the same file, but another S3 key
        f"openem-network/datasets/{PID}/datablocks//x.tar",
        f"openem-network/datasets/{PID}/./datablocks/x.tar",
        f"openem-network//datasets/{PID}/datablocks/x.tar",
        f"openem-network/datasets/{PID}/datablocks/x.tar/",
        f"./openem-network/datasets/{PID}/datablocks/x.tar",
        # names no layout writes
        f"openem-network/datasets/{PID}/datablocks/x\x00.tar",
        f"openem-network/datasets/{PID}/datablocks/x\n.tar",
        f"openem-network/datasets/{PID}/datablocks/..\\x.tar",
        f"openem-network/datasets/{PID}/datablocks/.tar",
    ],
)
def test_does_not_own_other_archive_ids(archive_id: str) -> None:
    assert not DatasetLayout(PREFIX, PID).owns_archive_id(archive_id)


def test_archive_id_outside_is_a_system_error_naming_it_and_the_folder() -> None:
    layout = DatasetLayout(PREFIX, PID)
    escaping = f"{layout.datablocks_folder}/../../other/datablocks/x.tar"
    with pytest.raises(ArchiveIdOutsideDatasetError) as info:
        layout.check_archive_id(escaping)
    assert info.value.kind == "system"
    assert repr(escaping) in str(info.value)
    assert f"{layout.datablocks_folder}/" in str(info.value)
    assert layout.check_archive_id(layout.archive_id(2)) == layout.archive_id(2)


def test_pid_that_is_a_prefix_of_another_owns_only_its_own() -> None:
    short, nested = DatasetLayout(PREFIX, "a"), DatasetLayout(PREFIX, "a/b")
    assert not short.owns_archive_id(nested.archive_id(0))
    assert not nested.owns_archive_id(short.archive_id(0))


@pytest.mark.parametrize(
    "pid", ["", "..", "a/../b", "/abs", "a//b", "a\\b", "a\x00b", " a", "x" * (MAX_PID_LENGTH + 1)]
)
def test_invalid_pid_rejected_at_construction(pid: str) -> None:
    with pytest.raises(InvalidPidError):
        DatasetLayout(PREFIX, pid)
