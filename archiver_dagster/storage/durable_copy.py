"""Durable copies onto the LTS: in the kernel, in steps with early write-back, fsynced.

A copy lands as `{name}.partial` and is renamed into place only once flushed to stable storage,
so a crash never leaves a truncated file under a datablock's name.
"""

import errno
import os
from collections import deque
from pathlib import Path

from archiver_dagster.errors import ArchiverSystemError
from archiver_dagster.storage.writeback import start_writeback, write_back_and_evict

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


def _copy_in_steps(source: Path, dest: Path) -> tuple[int, int]:
    """Copies `source` to `dest` step by step and fsyncs; returns (bytes copied, bytes missing).

    The write-back of each step starts right away; once `COPY_STEPS_IN_FLIGHT` newer steps are
    under way, the step is waited for and its pages evicted, so the copy reuses a few tens of
    MiB of page cache instead of taking fresh memory for the whole file. An existing `dest` (the
    space reserved for this copy) is written over from its start, not truncated first, and cut
    to the copy's size at the end.
    """
    copied = 0
    in_flight: deque[tuple[int, int]] = deque()
    kernel = KernelCopy()
    with source.open("rb") as src, dest.open("r+b" if dest.exists() else "wb") as out:
        remaining = os.fstat(src.fileno()).st_size
        while remaining > 0:
            step = kernel.step(src.fileno(), out.fileno(), min(remaining, COPY_CHUNK_BYTES))
            if step == 0:
                break
            start_writeback(out.fileno(), copied, step)
            in_flight.append((copied, step))
            if len(in_flight) > COPY_STEPS_IN_FLIGHT:
                write_back_and_evict(out.fileno(), *in_flight.popleft())
            copied += step
            remaining -= step
        out.truncate(copied)  # a reservation larger than the copy leaves no tail behind
        out.flush()
        os.fsync(out.fileno())
    return copied, remaining


def copy_file_durably(source: Path, dest: Path) -> int:
    """Copies with the kernel's `copy_file_range`, fsyncs, renames into place; returns bytes.

    The copy lands as `dest.partial` first, so a crash never leaves a truncated file under the
    final name, and a failed copy removes it. It goes in `COPY_CHUNK_BYTES` steps, and the
    write-back of each step starts right away, so the device writes while the kernel copies the
    next step instead of all at the final `fsync` (docs/performance.md); written steps are
    evicted as it goes (decision 30).
    """
    partial = partial_path(dest)
    try:
        copied, remaining = _copy_in_steps(source, partial)
        if remaining:
            raise LTSError(f"short copy of {source} to {partial}: {remaining} bytes missing")
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(dest)
    fsync_directory(dest.parent)
    return copied
