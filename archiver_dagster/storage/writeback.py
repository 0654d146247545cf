"""Writing a file range to its device as a copy goes (Linux `sync_file_range`).

Python's `os` has no `sync_file_range`; it is called through `ctypes`. Where the call does not
exist (not Linux) or the file refuses it, nothing is lost: the caller's `fsync` writes the bytes
instead. An I/O error seen while waiting is raised, never swallowed: the wait consumes the
error, so the caller's `fsync` would not report it again.
"""

import ctypes
import errno
import os

from archiver_dagster.storage.libc import libc_function

# <fcntl.h>
SYNC_FILE_RANGE_WAIT_BEFORE = 1
SYNC_FILE_RANGE_WRITE = 2  # start write-out of dirty pages not already under write-out
SYNC_FILE_RANGE_WAIT_AFTER = 4
# What a file or system that cannot do it answers (a pipe, an old kernel, an odd filesystem).
_UNSUPPORTED = {errno.ENOSYS, errno.ESPIPE, errno.EINVAL, errno.EOPNOTSUPP}

_sync_file_range = libc_function(
    "sync_file_range", [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
)


def start_writeback(fd: int, offset: int, length: int) -> bool:
    """Asks the kernel to start writing `length` bytes at `offset` of `fd`; True if it did.

    Not a durability guarantee (the caller still fsyncs): a refusal (a pipe, a filesystem
    without page-cache write-back) only means the bytes are written at the `fsync` instead, and
    an I/O error is reported by that `fsync` too.
    """
    if _sync_file_range is None or length <= 0:
        return False
    return _sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE) == 0


def write_back_and_evict(fd: int, offset: int, length: int) -> bool:
    """Waits until the range is on the device, then evicts its pages; True if it did.

    Not a durability guarantee either (no metadata, no device cache flush: the caller still
    fsyncs). Evicting as the copy goes lets the next pages reuse these instead of taking fresh
    memory (docs/architecture.md, decision 30). Raises `OSError` on an I/O error.
    """
    if _sync_file_range is None or length <= 0:
        return False
    flags = SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER
    if _sync_file_range(fd, offset, length, flags) != 0:
        code = ctypes.get_errno()
        if code in _UNSUPPORTED:
            return False
        raise OSError(code, f"write-back of {length} bytes at {offset}: {os.strerror(code)}")
    os.posix_fadvise(fd, offset, length, os.POSIX_FADV_DONTNEED)
    return True
