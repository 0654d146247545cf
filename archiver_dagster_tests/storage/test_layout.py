"""Dataset layout: landing-zone keys, LTS paths and archiveIds exactly as the reference."""

import hashlib
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from archiver_dagster.partitions import MAX_PID_LENGTH, InvalidPidError, validate_pid
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
        # a dataset nested in this one's datablocks folder, archived before the segment rule
        f"openem-network/datasets/{PID}/datablocks/datablocks/x_0.tar",
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


NAME_MAX = 255  # bytes in a file name on Linux file systems (ext4, XFS, NFS, tmpfs)
# The longest accepted PIDs, each far longer than a file name once percent-encoded.
LONG_PIDS = [
    "é" * (MAX_PID_LENGTH // 2),  # 200 bytes, 600 encoded
    "é" * (MAX_PID_LENGTH // 2 - 1) + "e",  # differs from the one before only at the end
    "/".join("a" * (MAX_PID_LENGTH // 2)),  # 199 bytes, 397 encoded
    "%" * MAX_PID_LENGTH,  # 600 encoded
    "20.500.12345/" + "x" * (MAX_PID_LENGTH - 13),  # 202 encoded: only just too long
]


@pytest.mark.parametrize("pid", LONG_PIDS)
def test_every_local_name_of_a_longest_pid_fits_a_real_file_system(
    pid: str, tmp_path: Path
) -> None:
    layout = DatasetLayout(PREFIX, pid)
    index = 10**6  # more datablocks than any dataset has
    scratch_tar = layout.scratch_folder(tmp_path / "scratch") / "datablocks" / "x"
    scratch_tar = scratch_tar.with_name(layout.datablock_name(index) + ".partial")
    lts_tar = tmp_path / "lts" / (layout.archive_id(index) + ".partial")
    for path in (scratch_tar, lts_tar):
        path.parent.mkdir(parents=True)
        path.write_bytes(b"tar")  # raises ENAMETOOLONG if any name is too long
        assert all(len(part.encode()) <= NAME_MAX for part in path.parts)


def test_scratch_folders_of_long_pids_are_distinct_bounded_and_readable() -> None:
    names = [DatasetLayout(PREFIX, pid).scratch_folder(Path("/s")).name for pid in LONG_PIDS]
    assert len(set(names)) == len(names)
    # 200 bytes at most: room for the suffixes of the files kept next to them
    assert all(len(name.encode()) <= 200 for name in names)
    assert names[0].startswith("%C3%A9" * 20) and names[1].startswith("%C3%A9" * 20)
    assert names[2].startswith("a%2Fa%2Fa%2F")
    assert names[4].startswith("20.500.12345%2Fxxxxxxxx")


def test_scratch_folder_name_is_stable_across_releases() -> None:
    # A re-run after an upgrade must find the scratch folder an interrupted run left behind.
    layout = DatasetLayout(PREFIX, LONG_PIDS[0])
    assert layout.scratch_folder(Path("/s")).name == (
        "%C3%A9" * 22 + "+" + hashlib.sha256(LONG_PIDS[0].encode()).hexdigest()
    )


# Segments of PIDs and file paths, biased towards the layout's own folder names.
SEGMENT = st.one_of(
    st.sampled_from(["x", "y", "f", "raw_files", "datablocks", "datasets"]),
    st.text(alphabet="xy_", min_size=1, max_size=3),
)
PATHS = st.lists(SEGMENT, min_size=1, max_size=4).map("/".join)


def accepted(pid: str) -> bool:
    try:
        validate_pid(pid)
    except InvalidPidError:
        return False
    return True


@given(PATHS, PATHS, PATHS, PATHS)
@example("x", "y/raw_files/f", "x/raw_files/y", "f")
@example("x", "raw_files/f", "x/raw_files", "f")
def test_no_two_datasets_share_a_landing_zone_key(
    pid: str, path: str, other_pid: str, other_path: str
) -> None:
    assume(pid != other_pid and accepted(pid) and accepted(other_pid))
    key = DatasetLayout(PREFIX, pid).raw_files_key + path
    other_key = DatasetLayout(PREFIX, other_pid).raw_files_key + other_path
    assert key != other_key


@given(PATHS, PATHS)
@example("x", "x/datablocks")
@example("x", "x/datablocks/y")
def test_no_dataset_lives_inside_another_datasets_datablocks_folder(
    pid: str, other_pid: str
) -> None:
    assume(pid != other_pid and accepted(pid) and accepted(other_pid))
    folder = DatasetLayout(PREFIX, pid).datablocks_folder + "/"
    assert not DatasetLayout(PREFIX, other_pid).dataset_key.startswith(folder)


def test_pid_archived_before_the_segment_rule_is_readable_but_gets_no_new_keys() -> None:
    layout = DatasetLayout(PREFIX, "x/datablocks/y")
    assert layout.datablocks_folder == "openem-network/datasets/x/datablocks/y/datablocks"
    assert layout.owns_archive_id(
        "openem-network/datasets/x/datablocks/y/datablocks/x-datablocks-y_0.tar"
    )
    with pytest.raises(InvalidPidError, match="'datablocks' segment"):
        layout.archive_id(0)
    with pytest.raises(InvalidPidError, match="'raw_files' segment"):
        _ = DatasetLayout(PREFIX, "x/raw_files/y").raw_files_key
