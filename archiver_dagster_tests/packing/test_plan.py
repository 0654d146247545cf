import itertools
import random

import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

from archiver_dagster.packing.plan import FileEntry, plan_datablocks


def _files(**sizes: int) -> list[FileEntry]:
    return [FileEntry(path=name, size=size) for name, size in sizes.items()]


def _layout(blocks: list[list[FileEntry]]) -> list[list[str]]:
    return [[f.path for f in block] for block in blocks]


def test_no_files_no_blocks() -> None:
    assert plan_datablocks([], 100) == []


def test_groups_greedily_in_path_order() -> None:
    files = _files(a=40, b=40, c=40, d=100, e=1)
    assert _layout(plan_datablocks(files, 100)) == [["a", "b"], ["c"], ["d"], ["e"]]


def test_exact_fit_stays_in_block_and_one_byte_more_does_not() -> None:
    assert _layout(plan_datablocks(_files(a=60, b=40, c=1), 100)) == [["a", "b"], ["c"]]
    assert _layout(plan_datablocks(_files(a=60, b=41), 100)) == [["a"], ["b"]]


def test_file_larger_than_target_gets_own_block() -> None:
    files = _files(a=10, big=1000, c=10, d=10)
    assert _layout(plan_datablocks(files, 100)) == [["a"], ["big"], ["c", "d"]]


def test_empty_files_join_current_block() -> None:
    files = _files(a=100, b=0, c=0, d=1)
    assert _layout(plan_datablocks(files, 100)) == [["a", "b", "c"], ["d"]]
    assert _layout(plan_datablocks(_files(x=0, y=0), 1)) == [["x", "y"]]


def test_sorted_by_full_path_not_by_name() -> None:
    files = [FileEntry(path=p, size=1) for p in ["b/a", "a/z", "a/b/c", "a"]]
    assert _layout(plan_datablocks(files, 10)) == [["a", "a/b/c", "a/z", "b/a"]]


def test_paths_normalised_before_duplicate_check() -> None:
    with pytest.raises(ValueError, match="duplicate file paths: 'a/b'"):
        plan_datablocks([FileEntry(path="./a/b", size=1), FileEntry(path="a/b", size=2)], 10)


def test_duplicates_rejected_even_with_different_sizes() -> None:
    files = [*_files(x=1, y=2), FileEntry(path="x", size=3), FileEntry(path="y", size=4)]
    with pytest.raises(ValueError, match="duplicate file paths: 'x', 'y'"):
        plan_datablocks(files, 10)


@pytest.mark.parametrize("target", [0, -1])
def test_non_positive_target_rejected(target: int) -> None:
    with pytest.raises(ValueError, match="target_size must be positive"):
        plan_datablocks(_files(a=1), target)


@pytest.mark.parametrize(
    "fields",
    [
        {"path": "../x", "size": 1},
        {"path": "/abs", "size": 1},
        {"path": "ok", "size": -1},
        {"path": "ok", "size": 1, "mode": 0o10000},
        {"path": "ok", "size": 1, "mtime": float("nan")},
        {"path": "ok", "size": 1, "uid": -1},
        # The tar writer never writes a setuid/setgid/sticky bit or a root owner.
        {"path": "ok", "size": 1, "mode": 0o4755},
        {"path": "ok", "size": 1, "mode": 0o2755},
        {"path": "ok", "size": 1, "mode": 0o1777},
        {"path": "ok", "size": 1, "uid": 0},
        {"path": "ok", "size": 1, "gid": 0},
        {"path": "ok", "size": 1, "uname": "root"},
        {"path": "ok", "size": 1, "gname": "root"},
    ],
)
def test_file_entry_rejects_invalid_fields(fields: dict[str, object]) -> None:
    with pytest.raises(pydantic.ValidationError):
        FileEntry.model_validate(fields)


def test_file_entry_defaults_are_not_root() -> None:
    entry = FileEntry(path="a", size=1)
    assert (entry.mode, entry.uid, entry.gid, entry.uname, entry.gname) == (
        0o644,
        65534,
        65534,
        "",
        "",
    )


def test_file_entry_is_frozen_and_normalised() -> None:
    entry = FileEntry(path="./a/b.bin", size=3)
    assert entry.path == "a/b.bin"
    with pytest.raises(pydantic.ValidationError):
        entry.size = 4  # type: ignore[misc]


_sizes = st.lists(st.integers(0, 300), max_size=40)


@given(sizes=_sizes, target=st.integers(1, 400), seed=st.integers())
def test_blocks_partition_sorted_files_within_target(
    sizes: list[int], target: int, seed: int
) -> None:
    files = [FileEntry(path=f"f{i:03d}", size=s) for i, s in enumerate(sizes)]
    shuffled = files[:]
    random.Random(seed).shuffle(shuffled)
    blocks = plan_datablocks(shuffled, target)
    assert blocks == plan_datablocks(files, target)  # input order is irrelevant
    assert [f for block in blocks for f in block] == sorted(files, key=lambda f: f.path)
    for block in blocks:
        assert block
        total = sum(f.size for f in block)
        assert total <= target or len(block) == 1
    for before, after in itertools.pairwise(blocks):
        # Greedy: the next block's first file did not fit into the previous block.
        assert sum(f.size for f in before) + after[0].size > target
