"""Write-back of file ranges on a real file: started, waited for, evicted; errors raised."""

import ctypes
import errno
import mmap
import os
from pathlib import Path

import pytest

from archiver_dagster.storage import writeback
from archiver_dagster.storage.writeback import start_writeback, write_back_and_evict
from archiver_dagster_tests.helpers import failing_libc_call
from archiver_dagster_tests.storage.test_lts_readback import needs_disk

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mmap.restype = ctypes.c_void_p
_libc.mmap.argtypes = [
    ctypes.c_void_p,
    ctypes.c_size_t,
    ctypes.c_int,
    ctypes.c_int,
    ctypes.c_int,
    ctypes.c_long,
]
_libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_ubyte)]
_libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
MAP_FAILED = ctypes.c_void_p(-1).value
MIB = 1 << 20


def resident_pages(path: Path) -> list[bool]:
    """Per page of the file, whether it is in the page cache (`mincore` on a mapping of it)."""
    size = path.stat().st_size
    pages = -(-size // mmap.PAGESIZE)
    with path.open("rb") as handle:
        address = _libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, handle.fileno(), 0)
    assert address != MAP_FAILED, os.strerror(ctypes.get_errno())
    try:
        vector = (ctypes.c_ubyte * pages)()
        assert _libc.mincore(address, size, vector) == 0, os.strerror(ctypes.get_errno())
        return [bool(flag & 1) for flag in vector]
    finally:
        _libc.munmap(address, size)


def written_file(path: Path, size: int) -> None:
    path.write_bytes(os.urandom(size))  # dirty in the page cache, not yet written back


@needs_disk  # tmpfs pages are the file itself: nothing to write back or evict
def test_write_back_and_evict_drops_only_the_range_once_written(tmp_path: Path) -> None:
    # MiB-aligned, as the copy's steps are: the page cache may hold a file in folios of up to
    # 2 MiB, and a folio reaching outside the range is kept.
    path = tmp_path / "file"
    written_file(path, 8 * MIB)
    assert all(resident_pages(path))
    with path.open("r+b") as handle:
        assert write_back_and_evict(handle.fileno(), 2 * MIB, 4 * MIB) is True
    resident = resident_pages(path)
    per_mib = MIB // mmap.PAGESIZE
    assert all(resident[: 2 * per_mib]) and all(resident[6 * per_mib :])
    assert not any(resident[2 * per_mib : 6 * per_mib])


def test_write_back_and_evict_on_a_pipe_or_nothing_is_a_no_op() -> None:
    read_end, write_end = os.pipe()
    try:
        assert write_back_and_evict(write_end, 0, 1) is False  # ESPIPE: the fsync writes
        assert write_back_and_evict(write_end, 0, 0) is False
    finally:
        os.close(read_end)
        os.close(write_end)


def test_write_back_and_evict_raises_an_io_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wait consumes the file's error state, so a later fsync would not report it."""
    monkeypatch.setattr(writeback, "_sync_file_range", failing_libc_call(errno.EIO))
    path = tmp_path / "file"
    written_file(path, 4096)
    with path.open("r+b") as handle, pytest.raises(OSError) as raised:
        write_back_and_evict(handle.fileno(), 0, 4096)
    assert raised.value.errno == errno.EIO
    assert "4096 bytes at 0" in str(raised.value)


def test_without_sync_file_range_nothing_is_started_or_evicted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writeback, "_sync_file_range", None)
    path = tmp_path / "file"
    written_file(path, 4 * mmap.PAGESIZE)
    with path.open("r+b") as handle:
        assert start_writeback(handle.fileno(), 0, 4 * mmap.PAGESIZE) is False
        assert write_back_and_evict(handle.fileno(), 0, 4 * mmap.PAGESIZE) is False
    assert all(resident_pages(path))


def test_start_writeback_on_a_file_and_on_a_pipe(tmp_path: Path) -> None:
    with (tmp_path / "file").open("wb") as out:
        out.write(b"x" * 8192)
        out.flush()
        assert start_writeback(out.fileno(), 0, 8192) is True  # Linux: sync_file_range
        assert start_writeback(out.fileno(), 0, 0) is False  # nothing to write
    read_end, write_end = os.pipe()
    try:
        assert start_writeback(write_end, 0, 1) is False  # refused (ESPIPE): the fsync writes
    finally:
        os.close(read_end)
        os.close(write_end)
    assert (tmp_path / "file").read_bytes() == b"x" * 8192
