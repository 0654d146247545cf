"""Durable files on the LTS: written or copied in steps with early write-back, fsynced.

A file lands as `{name}.partial` and is renamed into place only once flushed to stable storage,
so a crash never leaves a truncated file under a datablock's name. A copy goes through the
kernel (`copy_file_durably`); a tar packed straight onto the LTS is written through
`durable_partial`.
"""

from __future__ import annotations

import errno
import os
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, cast

from archiver_dagster.errors import ArchiverSystemError
from archiver_dagster.storage.writeback import start_writeback, write_back_and_evict

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

PARTIAL_SUFFIX = ".partial"
# Bytes per copy_file_range call, each followed by starting its write-back.
COPY_CHUNK_BYTES = 16 * 1024 * 1024
# Steps whose write-back may still run before the oldest is waited for and evicted.
COPY_STEPS_IN_FLIGHT = 4


class LTSError(ArchiverSystemError):
    """The LTS share could not be written or read."""


def fsync_directory(path: Path) -> None:
    """Flushes a directory entry (a rename or a new file) to stable storage."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def partial_path(dest: Path) -> Path:
    """Where a copy to `dest` is written until it is complete (and its space is reserved)."""
    return dest.with_name(dest.name + PARTIAL_SUFFIX)


# copy_file_range refuses a copy between filesystems of different types (EXDEV since Linux
# 5.19: local scratch to an NFS share, say) and some filesystems do not offer it at all.
_NO_COPY_FILE_RANGE = (errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL)


class KernelCopy:
    """Copies file to file in the kernel: `copy_file_range`, else `sendfile` for good.

    `sendfile` also copies without passing the bytes through user space, between any two
    filesystems; it is taken once `copy_file_range` refuses the pair of files.
    """

    def __init__(self) -> None:
        self.uses_sendfile = False

    def step(self, src: int, dst: int, count: int) -> int:
        """Copies up to `count` bytes at both files' positions; returns how many were copied."""
        if not self.uses_sendfile:
            try:
                return os.copy_file_range(src, dst, count)
            except OSError as error:
                if error.errno not in _NO_COPY_FILE_RANGE:
                    raise
                self.uses_sendfile = True
        return os.sendfile(dst, src, None, count)


class DurableWriter:
    """A file written from its start, its write-back started and its pages evicted as it goes.

    Every `COPY_CHUNK_BYTES` written (or every step a kernel copy reports with `copied`), the
    write-back of what is new starts; once `COPY_STEPS_IN_FLIGHT` newer steps are under way, the
    oldest is waited for and its pages evicted, so the file cycles through a few tens of MiB of
    page cache instead of taking fresh memory for all of it (decisions 29 and 30).
    """

    def __init__(self, out: BinaryIO, path: Path) -> None:
        self._out = out
        self.path = path
        self.size = 0
        self._started = 0  # bytes whose write-back has been started
        self._in_flight: deque[tuple[int, int]] = deque()

    def fileno(self) -> int:
        """The file descriptor (for a kernel copy into the file)."""
        return self._out.fileno()

    def write(self, data: ReadableBuffer) -> int:
        """Writes some of `data` at the end; returns how much. Raises `LTSError` on a failure."""
        try:
            written = self._out.write(data) or 0
            self.size += written
            if self.size - self._started >= COPY_CHUNK_BYTES:
                self._start_writeback()
        except OSError as error:
            raise LTSError(f"cannot write {self.path}: {error}") from error
        return written

    def copied(self, count: int) -> None:
        """Records `count` bytes a kernel copy just wrote at the end, as one step."""
        self.size += count
        self._start_writeback()

    def _start_writeback(self) -> None:
        offset, length = self._started, self.size - self._started
        start_writeback(self._out.fileno(), offset, length)
        self._in_flight.append((offset, length))
        self._started = self.size
        if len(self._in_flight) > COPY_STEPS_IN_FLIGHT:
            write_back_and_evict(self._out.fileno(), *self._in_flight.popleft())


def _never(error: BaseException) -> bool:
    return False


@contextmanager
def durable_partial(
    dest: Path, keep_partial_on: Callable[[BaseException], bool] = _never
) -> Iterator[DurableWriter]:
    """Writes `dest` through `dest.partial`, flushed to stable storage, then renamed into place.

    An existing partial file (the space reserved for it, decision 31) is written over from its
    start, not truncated first, and cut to what was written at the end. If the block fails, the
    partial file is removed unless `keep_partial_on(error)` (a retry that will write it again
    keeps its reservation). Opening, flushing and renaming raise `LTSError`; the block's own
    errors pass as they are.
    """
    partial = partial_path(dest)
    try:
        out = partial.open("r+b" if partial.exists() else "wb", buffering=0)
    except OSError as error:
        raise LTSError(f"cannot write {partial}: {error}") from error
    try:
        with out:
            writer = DurableWriter(cast(BinaryIO, out), partial)
            yield writer
            try:
                out.truncate(writer.size)  # a reservation larger than the file leaves no tail
                os.fsync(out.fileno())
            except OSError as error:
                raise LTSError(f"cannot flush {partial}: {error}") from error
    except BaseException as error:
        if not keep_partial_on(error):
            partial.unlink(missing_ok=True)
        raise
    try:
        partial.replace(dest)
        fsync_directory(dest.parent)
    except OSError as error:
        raise LTSError(f"cannot rename {partial} to {dest.name}: {error}") from error


def copy_file_durably(source: Path, dest: Path) -> int:
    """Copies with the kernel's `copy_file_range`, fsyncs, renames into place; returns bytes.

    The copy lands as `dest.partial` first (`durable_partial`), so a crash never leaves a
    truncated file under the final name, and a failed copy removes it. It goes in
    `COPY_CHUNK_BYTES` steps, and the write-back of each step starts right away, so the device
    writes while the kernel copies the next step instead of all at the final `fsync`
    (docs/performance.md); written steps are evicted as it goes (decision 30).
    """
    kernel = KernelCopy()
    with durable_partial(dest) as out, source.open("rb") as src:
        remaining = os.fstat(src.fileno()).st_size
        while remaining > 0:
            step = kernel.step(src.fileno(), out.fileno(), min(remaining, COPY_CHUNK_BYTES))
            if step == 0:
                break
            out.copied(step)
            remaining -= step
        if remaining:
            raise LTSError(f"short copy of {source} to {out.path}: {remaining} bytes missing")
    return out.size
