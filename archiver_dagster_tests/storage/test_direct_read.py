"""`DirectFileReader`: O_DIRECT reads on a real disk, any buffer shape, buffered fallback."""

import errno
import fcntl
import io
import mmap
import os
import tarfile
from pathlib import Path

import pytest

from archiver_dagster.packing.verify import digest_tar
from archiver_dagster.storage.direct_read import ALIGNMENT, DirectFileReader, is_aligned
from archiver_dagster_tests.packing.tar_samples import content
from archiver_dagster_tests.storage.test_lts_readback import needs_disk

SIZE = 3 * (1 << 20) + 12345  # not a multiple of the alignment: the last read is short


@pytest.fixture
def sample(tmp_path: Path) -> tuple[Path, bytes]:
    data = content(7, SIZE)
    path = tmp_path / "sample.bin"
    path.write_bytes(data)
    return path, data


def read_with(reader: DirectFileReader, sizes: list[int]) -> bytes:
    """Reads to the end, cycling through `sizes`; aligned mmap buffers for aligned sizes."""
    parts: list[bytes] = []
    index = 0
    while True:
        size = sizes[index % len(sizes)]
        index += 1
        buffer = mmap.mmap(-1, size) if size % ALIGNMENT == 0 else bytearray(size)
        count = reader.readinto(buffer)
        if not count:
            return b"".join(parts)
        parts.append(bytes(memoryview(buffer)[:count]))
        assert reader.tell() == sum(map(len, parts))


@needs_disk
@pytest.mark.parametrize(
    "sizes",
    [[1 << 20], [4 << 20], [ALIGNMENT], [1000], [512, 1 << 20, 7], [io.DEFAULT_BUFFER_SIZE]],
    ids=["1MiB", "4MiB", "page", "unaligned", "mixed", "default"],
)
def test_reads_the_whole_file_with_o_direct_whatever_the_buffers(
    sample: tuple[Path, bytes], sizes: list[int]
) -> None:
    path, data = sample
    with DirectFileReader(path) as reader:
        assert reader.direct
        assert read_with(reader, sizes) == data
        assert reader.readinto(bytearray(10)) == 0


@needs_disk
def test_read_all_and_a_tar_digest_through_it(tmp_path: Path, sample: tuple[Path, bytes]) -> None:
    path, data = sample
    with DirectFileReader(path) as reader:
        assert reader.read() == data
    # A tar read back through it: same digest as from memory.
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, size in [("a", 0), ("b", 511), ("c", SIZE)]:
            info = tarfile.TarInfo(name)
            info.size = size
            tar.addfile(info, io.BytesIO(data[:size]))
    tar_path = tmp_path / "t.tar"
    tar_path.write_bytes(buffer.getvalue())
    with DirectFileReader(tar_path) as reader:
        from_disk = digest_tar(reader, "md5")  # type: ignore[arg-type]
    assert from_disk == digest_tar(io.BytesIO(buffer.getvalue()), "md5")
    assert [m.size for m in from_disk.members] == [0, 511, SIZE]


def test_falls_back_to_buffered_reads_where_o_direct_is_refused_at_open(
    sample: tuple[Path, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    # No filesystem here refuses O_DIRECT (even tmpfs accepts it since Linux 6.6): the refusal,
    # EINVAL from open(2), is simulated.
    path, data = sample
    real_open = os.open

    def refusing_open(file: Path, flags: int, *args: int) -> int:
        if flags & os.O_DIRECT:
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_open(file, flags, *args)

    monkeypatch.setattr(os, "open", refusing_open)
    with DirectFileReader(path) as reader:
        assert not reader.direct
        assert read_with(reader, [1 << 20, 1000]) == data


def test_falls_back_to_buffered_reads_where_o_direct_is_refused_at_read(
    sample: tuple[Path, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Some FUSE filesystems accept O_DIRECT at open and fail the first read with EINVAL.
    path, data = sample
    real_preadv = os.preadv

    def refusing_preadv(fd: int, buffers: list[memoryview], offset: int) -> int:
        if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT:
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_preadv(fd, buffers, offset)

    monkeypatch.setattr(os, "preadv", refusing_preadv)
    with DirectFileReader(path) as reader:
        assert read_with(reader, [1 << 20]) == data
        assert not reader.direct


@needs_disk
def test_a_short_read_in_the_middle_is_not_taken_for_the_end(
    sample: tuple[Path, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    # POSIX allows short reads anywhere (NFS does return them): simulated once, mid-file.
    path, data = sample
    real_preadv = os.preadv
    calls = []

    def short_once(fd: int, buffers: list[memoryview], offset: int) -> int:
        calls.append(offset)
        if len(calls) == 2:
            return real_preadv(fd, [buffers[0][:ALIGNMENT]], offset)
        return real_preadv(fd, buffers, offset)

    monkeypatch.setattr(os, "preadv", short_once)
    with DirectFileReader(path) as reader:
        assert read_with(reader, [1 << 20]) == data
        assert reader.direct
    assert calls[2] == (1 << 20) + ALIGNMENT  # the read after the short one went on from there


def test_alignment_check() -> None:
    assert is_aligned(memoryview(mmap.mmap(-1, 2 * ALIGNMENT)))
    assert not is_aligned(memoryview(mmap.mmap(-1, 2 * ALIGNMENT))[1 : ALIGNMENT + 1])
    assert not is_aligned(memoryview(mmap.mmap(-1, 2 * ALIGNMENT))[: ALIGNMENT + 1])
    assert not is_aligned(memoryview(b"\0" * ALIGNMENT))  # read-only
