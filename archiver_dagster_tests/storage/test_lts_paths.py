"""resolve_datablock on a real folder: links below the LTS root may not lead out of the folder."""

from pathlib import Path

import pytest

from archiver_dagster.storage.layout import ArchiveIdOutsideDatasetError, DatasetLayout
from archiver_dagster.storage.lts_paths import resolve_datablock

PREFIX = "openem-network"
LAYOUT = DatasetLayout(PREFIX, "20.500.12345/paths")
OTHER = DatasetLayout(PREFIX, "20.500.12345/other")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """An LTS root holding one datablock of LAYOUT and one of OTHER."""
    folder = tmp_path / "lts"
    for layout in (LAYOUT, OTHER):
        path = folder / layout.archive_id(0)
        path.parent.mkdir(parents=True)
        path.write_bytes(b"tar of " + layout.pid.encode())
    return folder


def test_a_plain_datablock_resolves_to_itself(root: Path) -> None:
    assert resolve_datablock(root, LAYOUT, LAYOUT.archive_id(0)) == root / LAYOUT.archive_id(0)


def test_a_missing_datablock_resolves_so_that_it_can_be_waited_for(root: Path) -> None:
    path = resolve_datablock(root, LAYOUT, LAYOUT.archive_id(7))
    assert path == root / LAYOUT.archive_id(7) and not path.exists()


def test_a_root_that_is_a_link_is_followed(root: Path, tmp_path: Path) -> None:
    alias = tmp_path / "mount-alias"
    alias.symlink_to(root)
    assert resolve_datablock(alias, LAYOUT, LAYOUT.archive_id(0)) == root / LAYOUT.archive_id(0)


def test_a_link_to_a_file_in_the_same_folder_is_read(root: Path) -> None:
    (root / LAYOUT.archive_id(1)).symlink_to(root / LAYOUT.archive_id(0))
    assert resolve_datablock(root, LAYOUT, LAYOUT.archive_id(1)) == root / LAYOUT.archive_id(0)


def test_a_datablock_linked_to_another_datasets_tar_is_refused(root: Path) -> None:
    (root / LAYOUT.archive_id(1)).symlink_to(root / OTHER.archive_id(0))
    with pytest.raises(ArchiveIdOutsideDatasetError) as info:
        resolve_datablock(root, LAYOUT, LAYOUT.archive_id(1))
    message = str(info.value)
    assert repr(LAYOUT.archive_id(1)) in message
    assert f"resolves to {root / OTHER.archive_id(0)}" in message
    assert f"{root / LAYOUT.datablocks_folder}/" in message


def test_a_datablocks_folder_that_is_a_link_elsewhere_is_refused(root: Path) -> None:
    folder = root / LAYOUT.datablocks_folder
    (folder / LAYOUT.datablock_name(0)).unlink()
    folder.rmdir()
    folder.symlink_to(root / OTHER.datablocks_folder)
    with pytest.raises(ArchiveIdOutsideDatasetError, match="outside the dataset's LTS folder"):
        resolve_datablock(root, LAYOUT, LAYOUT.archive_id(0))


def test_a_link_loop_is_refused(root: Path) -> None:
    loop = root / LAYOUT.archive_id(2)
    loop.symlink_to(loop)
    with pytest.raises(ArchiveIdOutsideDatasetError, match=LAYOUT.datablock_name(2)):
        resolve_datablock(root, LAYOUT, LAYOUT.archive_id(2))


@pytest.mark.parametrize(
    "archive_id",
    [
        OTHER.archive_id(0),
        f"{LAYOUT.datablocks_folder}/../../other/datablocks/{OTHER.datablock_name(0)}",
        f"/{LAYOUT.archive_id(0)}",
        f"{LAYOUT.datablocks_folder}//{LAYOUT.datablock_name(0)}",
    ],
)
def test_an_archive_id_the_layout_does_not_own_is_refused_before_the_disk_is_read(
    root: Path, archive_id: str
) -> None:
    with pytest.raises(ArchiveIdOutsideDatasetError) as info:
        resolve_datablock(root, LAYOUT, archive_id)
    assert repr(archive_id) in str(info.value)
    assert f"{LAYOUT.datablocks_folder}/" in str(info.value)
