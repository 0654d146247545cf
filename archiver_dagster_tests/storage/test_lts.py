"""The LTS share on a real folder: durable copy-in, free-space wait, read-back wait, cleanup."""

import errno
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydantic
import pytest

from archiver_dagster.errors import LTSFullError
from archiver_dagster.partitions import MAX_PID_LENGTH
from archiver_dagster.storage import durable_copy as copy_module
from archiver_dagster.storage import preallocate as preallocate_module
from archiver_dagster.storage.durable_copy import PARTIAL_SUFFIX, LTSError, copy_file_durably
from archiver_dagster.storage.layout import DatasetLayout
from archiver_dagster.storage.layout_resource import DatasetLayoutResource
from archiver_dagster.storage.lts import LTSResource
from archiver_dagster.storage.writeback import start_writeback, write_back_and_evict
from archiver_dagster_tests.helpers import failing_libc_call

PREFIX = "openem-network"
PID = "20.500.12345/lts-test"


def lts(root: Path, **fields: Any) -> LTSResource:
    settings: dict[str, Any] = {
        "storage_root": str(root),
        "dataset_layout": DatasetLayoutResource(),
        "free_space_percentage": "0",
    }
    return LTSResource(**{**settings, **fields})


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "lts"
    folder.mkdir()
    return folder


@pytest.fixture
def tar(tmp_path: Path) -> Path:
    path = tmp_path / "scratch" / "block.tar"
    path.parent.mkdir()
    path.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    return path


@pytest.fixture
def timers() -> Iterator[list[threading.Timer]]:
    started: list[threading.Timer] = []
    yield started
    for timer in started:
        timer.cancel()
        timer.join()


def later(timers: list[threading.Timer], seconds: float, action) -> None:
    timer = threading.Timer(seconds, action)
    timers.append(timer)
    timer.start()


def test_copy_file_durably_copies_identically(tar: Path, tmp_path: Path) -> None:
    dest = tmp_path / "copy.tar"
    assert copy_file_durably(tar, dest) == tar.stat().st_size
    assert dest.read_bytes() == tar.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.tar", "scratch"]  # no .partial


def small_copy_steps(monkeypatch: pytest.MonkeyPatch, in_flight: int) -> int:
    """Makes `copy_file_durably` copy in 64 KiB steps, `in_flight` left unevicted; the step."""
    chunk = 64 * 1024
    monkeypatch.setattr(copy_module, "COPY_CHUNK_BYTES", chunk)
    monkeypatch.setattr(copy_module, "COPY_STEPS_IN_FLIGHT", in_flight)
    return chunk


def test_copy_file_durably_writes_back_every_step_and_evicts_all_but_the_last_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chunk = small_copy_steps(monkeypatch, in_flight=2)
    calls: list[tuple[str, int, int]] = []

    def record_start(fd: int, offset: int, length: int) -> bool:
        assert os.fstat(fd).st_size == offset + length  # just copied, not yet flushed
        calls.append(("start", offset, length))
        return start_writeback(fd, offset, length)

    def record_evict(fd: int, offset: int, length: int) -> bool:
        calls.append(("evict", offset, length))
        return write_back_and_evict(fd, offset, length)

    monkeypatch.setattr(copy_module, "start_writeback", record_start)
    monkeypatch.setattr(copy_module, "write_back_and_evict", record_evict)
    source, dest = tmp_path / "source", tmp_path / "dest"
    source.write_bytes(os.urandom(4 * chunk + 123))
    assert copy_file_durably(source, dest) == 4 * chunk + 123
    assert dest.read_bytes() == source.read_bytes()
    assert calls == [
        ("start", 0, chunk),
        ("start", chunk, chunk),
        ("start", 2 * chunk, chunk),
        ("evict", 0, chunk),  # two steps stay in flight
        ("start", 3 * chunk, chunk),
        ("evict", chunk, chunk),
        ("start", 4 * chunk, 123),
        ("evict", 2 * chunk, chunk),
    ]  # the last two are flushed by the fsync, and evicted by `LTSResource.store`


def test_copy_file_durably_removes_the_partial_copy_on_a_write_back_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chunk = small_copy_steps(monkeypatch, in_flight=1)

    def failing(fd: int, offset: int, length: int) -> bool:
        raise OSError(errno.EIO, "write-back failed")

    monkeypatch.setattr(copy_module, "write_back_and_evict", failing)
    source, dest = tmp_path / "source", tmp_path / "dest"
    source.write_bytes(os.urandom(3 * chunk))
    with pytest.raises(OSError, match="write-back failed"):
        copy_file_durably(source, dest)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["source"]


def test_copy_file_durably_replaces_existing_and_copies_empty(tmp_path: Path) -> None:
    source, dest = tmp_path / "empty", tmp_path / "dest"
    source.write_bytes(b"")
    dest.write_bytes(b"old content")
    assert copy_file_durably(source, dest) == 0
    assert dest.read_bytes() == b""
    assert not dest.with_name(dest.name + PARTIAL_SUFFIX).exists()


def test_copy_file_durably_missing_source_leaves_nothing(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    with pytest.raises(FileNotFoundError):
        copy_file_durably(tmp_path / "missing", dest)
    assert list(tmp_path.iterdir()) == []


def test_store_creates_nested_folders(root: Path, tar: Path) -> None:
    resource = lts(root)
    archive_id = DatasetLayout(PREFIX, PID).archive_id(0)
    dest = resource.store(tar, archive_id)
    assert dest == root / (
        "openem-network/datasets/20.500.12345/lts-test/datablocks/20.500.12345-lts-test_0.tar"
    )
    assert dest == root / archive_id == resource.path_of(archive_id)
    assert dest.read_bytes() == tar.read_bytes()
    assert [p.name for p in dest.parent.iterdir()] == ["20.500.12345-lts-test_0.tar"]
    assert dest.parent == resource.dataset_folder(PID)


def test_store_missing_source_is_an_lts_error(root: Path, tmp_path: Path) -> None:
    archive_id = DatasetLayout(PREFIX, PID).archive_id(0)
    with pytest.raises(LTSError, match=f"^{re.escape(f'cannot write {root / archive_id}: ')}"):
        lts(root).store(tmp_path / "missing.tar", archive_id)


def test_store_unwritable_root_is_an_lts_error(tmp_path: Path, tar: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_bytes(b"")
    with pytest.raises(LTSError, match="cannot write"):
        lts(blocker).store(tar, DatasetLayout(PREFIX, PID).archive_id(0))


def test_store_long_valid_pid(root: Path, tar: Path) -> None:
    # The longest PID validate_pid accepts (in UTF-8 bytes) still names a legal file.
    layout = DatasetLayout(PREFIX, "20.500.12345/" + "é" * ((MAX_PID_LENGTH - 13) // 2))
    assert lts(root).store(tar, layout.archive_id(0)).exists()


def test_free_space_percentage_is_validated() -> None:
    with pytest.raises(pydantic.ValidationError, match="LTS_FREE_SPACE_PERCENTAGE='100'"):
        LTSResource(
            storage_root="/lts", dataset_layout=DatasetLayoutResource(), free_space_percentage="100"
        )


def test_has_room_for(root: Path) -> None:
    free = shutil.disk_usage(root).free
    assert lts(root).has_room_for(1024)
    assert not lts(root).has_room_for(free + 1024 * 1024 * 1024)
    assert not lts(root, free_space_percentage="99.999").has_room_for(0)


def test_wait_for_room_returns_at_once_when_there_is_room(root: Path) -> None:
    assert lts(root).wait_for_room(1024) < 0.5


def test_wait_for_room_gives_up_after_timeout(root: Path) -> None:
    # 1 GiB below the margin now (others on the disk come and go), but not for ever: space
    # others use may be freed.
    percentage = margin_leaving(root, -1024 * MIB)
    resource = lts(root, free_space_percentage=percentage, free_space_timeout_s=1)
    started = time.monotonic()
    with pytest.raises(LTSFullError) as info:
        resource.wait_for_room(4096)
    assert 0.9 <= time.monotonic() - started < 3
    message = str(info.value)
    assert message.startswith(f"LTS {root} has ")
    assert f"writing 4096 bytes would break the {percentage}% margin (waited 1 s)" in message


MIB = 1024 * 1024
RESERVED_BYTES = 128 * MIB


def margin_leaving(root: Path, room: int) -> str:
    """A free-space percentage that leaves `room` bytes above the margin on `root` now."""
    usage = shutil.disk_usage(root)
    return f"{(usage.free - room) / usage.total * 100:.9f}"


def test_reserve_room_takes_the_space_before_anything_is_copied(root: Path) -> None:
    archive_id = DatasetLayout(PREFIX, PID).archive_id(0)
    waited, reserved = lts(root).reserve_room(archive_id, RESERVED_BYTES)
    partial = root / (archive_id + PARTIAL_SUFFIX)
    assert reserved and waited < 0.5
    assert partial.stat().st_size == RESERVED_BYTES
    assert partial.stat().st_blocks * 512 >= RESERVED_BYTES


def test_a_second_datablock_does_not_count_the_space_the_first_reserved(root: Path) -> None:
    # Room for 1.5 datablocks: without the reservation both checks would pass.
    percentage = margin_leaving(root, RESERVED_BYTES * 3 // 2)
    resource = lts(root, free_space_percentage=percentage, free_space_timeout_s=0)
    layout = DatasetLayout(PREFIX, PID)
    assert resource.reserve_room(layout.archive_id(0), RESERVED_BYTES)[1]
    with pytest.raises(LTSFullError, match=f"writing {RESERVED_BYTES} bytes would break"):
        resource.reserve_room(layout.archive_id(1), RESERVED_BYTES)
    assert not (root / (layout.archive_id(1) + PARTIAL_SUFFIX)).exists()
    # A retry of the first counts what it already holds: it needs no more room, even with the
    # share already below its margin.
    below = lts(root, free_space_percentage=margin_leaving(root, -MIB), free_space_timeout_s=0)
    assert below.reserve_room(layout.archive_id(0), RESERVED_BYTES) == (0.0, True)


def test_store_writes_over_its_reservation_and_cuts_it_to_the_copy(
    root: Path, tmp_path: Path
) -> None:
    archive_id = DatasetLayout(PREFIX, PID).archive_id(0)
    source = tmp_path / "block.tar"
    data = os.urandom(3 * MIB + 17)
    source.write_bytes(data)
    resource = lts(root)
    assert resource.reserve_room(archive_id, 8 * MIB)[1]
    stored = resource.store(source, archive_id)
    assert stored.read_bytes() == data
    assert not (root / (archive_id + PARTIAL_SUFFIX)).exists()


def test_without_allocation_ahead_nothing_is_reserved_and_the_copy_still_works(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(preallocate_module, "_fallocate", failing_libc_call(errno.EOPNOTSUPP))
    archive_id = DatasetLayout(PREFIX, PID).archive_id(0)
    resource = lts(root)
    assert resource.reserve_room(archive_id, 8 * MIB) == (pytest.approx(0, abs=0.5), False)
    assert not (root / (archive_id + PARTIAL_SUFFIX)).exists()
    source = tmp_path / "block.tar"
    source.write_bytes(b"x" * 1000)
    assert resource.store(source, archive_id).read_bytes() == b"x" * 1000


def test_preallocate_reports_a_full_filesystem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(preallocate_module, "_fallocate", failing_libc_call(errno.ENOSPC))
    with (tmp_path / "f").open("wb") as out, pytest.raises(OSError) as info:
        preallocate_module.preallocate(out.fileno(), MIB)
    assert info.value.errno == errno.ENOSPC


def test_open_uncached_waits_for_a_file_that_appears(
    root: Path, timers: list[threading.Timer]
) -> None:
    archive_id = DatasetLayout(PREFIX, PID).archive_id(0)
    path = root / archive_id
    path.parent.mkdir(parents=True)
    later(timers, 1.0, lambda: path.write_bytes(b"0123456789"))
    started = time.monotonic()
    with lts(root, file_timeout_s=5).open_uncached(archive_id, 10) as stream:
        assert stream.read() == b"0123456789"
    assert 0.9 <= time.monotonic() - started < 4


def test_open_uncached_waits_until_the_size_is_complete(
    root: Path, timers: list[threading.Timer]
) -> None:
    archive_id = DatasetLayout(PREFIX, PID).archive_id(1)
    path = root / archive_id
    path.parent.mkdir(parents=True)
    path.write_bytes(b"01234")

    def finish() -> None:
        with path.open("ab") as handle:
            handle.write(b"56789")

    later(timers, 1.0, finish)
    with lts(root, file_timeout_s=5).open_uncached(archive_id, 10) as stream:
        assert stream.read() == b"0123456789"


def test_open_uncached_times_out_when_file_never_appears(root: Path) -> None:
    archive_id = DatasetLayout(PREFIX, PID).archive_id(0)
    started = time.monotonic()
    with pytest.raises(LTSError) as info:
        lts(root, file_timeout_s=1).open_uncached(archive_id, 10)
    assert 0.9 <= time.monotonic() - started < 3
    message = str(info.value)
    assert message.startswith(f"{root / archive_id} is not readable: ")
    assert message.endswith(" after 1 s")


def test_open_uncached_times_out_on_wrong_size(root: Path) -> None:
    archive_id = DatasetLayout(PREFIX, PID).archive_id(0)
    path = root / archive_id
    path.parent.mkdir(parents=True)
    path.write_bytes(b"abc")
    with pytest.raises(LTSError) as info:
        lts(root, file_timeout_s=0).open_uncached(archive_id, 10)
    assert str(info.value) == f"{path} has 3 bytes, expected 10 after 0 s"


def test_remove_dataset(root: Path, tar: Path) -> None:
    resource = lts(root)
    nested, sibling = f"{PID}/q", f"{PID}c"
    for pid in (PID, nested, sibling):
        resource.store(tar, DatasetLayout(PREFIX, pid).archive_id(0))
    assert resource.remove_dataset(PID) is True
    assert not resource.dataset_folder(PID).exists()
    assert resource.dataset_folder(nested).is_dir()
    assert resource.dataset_folder(sibling).is_dir()
    assert resource.remove_dataset(PID) is False


def test_remove_stale_keeps_only_named_files(root: Path, tar: Path) -> None:
    resource = lts(root)
    layout = DatasetLayout(PREFIX, PID)
    for index in range(3):
        resource.store(tar, layout.archive_id(index))
    folder = resource.dataset_folder(PID)
    (folder / (layout.datablock_name(3) + PARTIAL_SUFFIX)).write_bytes(b"half")
    keep = {layout.datablock_name(0), layout.datablock_name(2)}
    assert resource.remove_stale(PID, keep) == [
        layout.datablock_name(1),
        layout.datablock_name(3) + PARTIAL_SUFFIX,
    ]
    assert {path.name for path in folder.iterdir()} == keep
    assert resource.remove_stale(PID, keep) == []


def test_remove_stale_without_folder_is_empty(root: Path) -> None:
    assert lts(root).remove_stale(PID, set()) == []
