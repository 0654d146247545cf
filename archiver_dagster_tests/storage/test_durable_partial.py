"""Writing a datablock in place on the LTS: over its reservation, flushed, renamed, or removed."""

import io
import os
from pathlib import Path

import pytest

from archiver_dagster.packing.plan import FileEntry
from archiver_dagster.packing.tar_stream import packed_tar_size, stream_tar, write_tar
from archiver_dagster.storage import durable_copy as copy_module
from archiver_dagster.storage.durable_copy import durable_partial, partial_path
from archiver_dagster.storage.layout import DatasetLayout
from archiver_dagster.storage.layout_resource import DatasetLayoutResource
from archiver_dagster.storage.lts import LTSResource
from archiver_dagster.storage.preallocate import allocated_bytes
from archiver_dagster.storage.writeback import start_writeback

ARCHIVE_ID = DatasetLayout("openem-network", "20.500.12345/in-place").archive_id(0)


class WriterBlockError(Exception):
    """A failure of the writer's block."""


def lts(root: Path) -> LTSResource:
    return LTSResource(
        storage_root=str(root), dataset_layout=DatasetLayoutResource(), free_space_percentage="0"
    )


def test_writes_over_the_reservation_and_cuts_it_to_size(tmp_path: Path) -> None:
    resource = lts(tmp_path)
    _, reserved = resource.reserve_room(ARCHIVE_ID, 1 << 20)
    partial = partial_path(resource.path_of(ARCHIVE_ID))
    assert reserved and partial.stat().st_size == 1 << 20

    with resource.writing(ARCHIVE_ID, lambda error: False) as out:
        assert out.write(b"tar bytes") == 9
        assert partial.stat().st_size == 1 << 20  # written over, not truncated first

    assert resource.path_of(ARCHIVE_ID).read_bytes() == b"tar bytes"
    assert not partial.exists()


def test_a_failure_removes_the_partial_file_and_its_reservation(tmp_path: Path) -> None:
    resource = lts(tmp_path)
    resource.reserve_room(ARCHIVE_ID, 1 << 20)
    partial = partial_path(resource.path_of(ARCHIVE_ID))

    with pytest.raises(WriterBlockError), resource.writing(ARCHIVE_ID, lambda error: False) as out:
        out.write(b"half a tar")
        raise WriterBlockError

    assert not partial.exists()
    assert not resource.path_of(ARCHIVE_ID).exists()


def test_a_failure_to_be_retried_keeps_the_reservation_for_the_retry(tmp_path: Path) -> None:
    resource = lts(tmp_path)
    resource.reserve_room(ARCHIVE_ID, 1 << 20)
    partial = partial_path(resource.path_of(ARCHIVE_ID))
    retried = lambda error: isinstance(error, WriterBlockError)  # noqa: E731

    with pytest.raises(WriterBlockError), resource.writing(ARCHIVE_ID, retried) as out:
        out.write(b"first attempt, interrupted")
        raise WriterBlockError
    assert partial.stat().st_size == 1 << 20
    with os.fdopen(os.open(partial, os.O_RDONLY)) as handle:
        assert allocated_bytes(handle.fileno()) >= 1 << 20  # still reserved

    with resource.writing(ARCHIVE_ID, retried) as out:
        out.write(b"second")
    assert resource.path_of(ARCHIVE_ID).read_bytes() == b"second"
    assert not partial.exists()


def test_a_tar_streamed_in_place_is_the_tar_written_on_scratch(tmp_path: Path) -> None:
    entries = [FileEntry(path=f"raw/f{i}.bin", size=100_000 * i + 7) for i in range(1, 5)]
    data = {entry.path: os.urandom(entry.size) for entry in entries}

    def members():
        for entry in entries:
            yield entry, io.BytesIO(data[entry.path])

    on_scratch = write_tar(tmp_path / "scratch.tar", members(), "md5")
    dest = tmp_path / "lts" / "block.tar"
    dest.parent.mkdir()
    with durable_partial(dest) as out:
        streamed = stream_tar(out, members(), "md5")

    assert dest.read_bytes() == on_scratch.path.read_bytes()
    assert streamed.packed_size == on_scratch.packed_size == packed_tar_size(entries)
    assert streamed.checksum == on_scratch.checksum


def test_streamed_writes_start_their_write_back_every_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(copy_module, "COPY_CHUNK_BYTES", 64 * 1024)
    starts: list[tuple[int, int]] = []

    def record(fd: int, offset: int, length: int) -> bool:
        starts.append((offset, length))
        return start_writeback(fd, offset, length)

    monkeypatch.setattr(copy_module, "start_writeback", record)
    dest = tmp_path / "block.tar"
    with durable_partial(dest) as out:
        for _ in range(5):
            out.write(bytes(40 * 1024))

    assert dest.stat().st_size == 200 * 1024
    assert starts == [(0, 80 * 1024), (80 * 1024, 80 * 1024)]  # the rest goes with the fsync
