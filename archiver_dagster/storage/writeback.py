"""Start writing a file range to its device now (Linux `sync_file_range`), without waiting.

Python's `os` has no `sync_file_range`; it is called through `ctypes`. Where the call does not
exist (not Linux) or is refused, nothing is lost: the caller's `fsync` writes the bytes instead.
"""

import ctypes
from collections.abc import Callable

SYNC_FILE_RANGE_WRITE = 2  # <fcntl.h>: start write-out of dirty pages not already under write-out

_SyncFileRange = Callable[[int, int, int, int], int]


def _load_sync_file_range() -> _SyncFileRange | None:
    """The C library's `sync_file_range`, or None where there is none."""
    try:
        function = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


_sync_file_range = _load_sync_file_range()


def start_writeback(fd: int, offset: int, length: int) -> bool:
    """Asks the kernel to start writing `length` bytes at `offset` of `fd`; True if it did.

    Not a durability guarantee (the caller still fsyncs): a refusal (a pipe, a filesystem
    without page-cache write-back) only means the bytes are written at the `fsync` instead, and
    an I/O error is reported by that `fsync` too.
    """
    if _sync_file_range is None or length <= 0:
        return False
    return _sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE) == 0
