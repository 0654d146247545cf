"""Taking a file's space on its filesystem before writing it (Linux `fallocate`).

Python's `os.posix_fallocate` falls back, where the filesystem cannot allocate ahead (older NFS,
some FUSE mounts), to writing a byte into every block: hours for a 200 GB datablock on a network
share. The `fallocate` system call, through `ctypes`, answers "not supported" instead, and the
caller goes on without a reservation.
"""

import ctypes
import errno
import os

from archiver_dagster.storage.libc import libc_function

# What a file or system that cannot allocate ahead answers (an old kernel, NFS < 4.2, FUSE).
_UNSUPPORTED = {errno.ENOSYS, errno.EOPNOTSUPP}

_fallocate = libc_function(
    "fallocate", [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
)


def preallocate(fd: int, length: int) -> bool:
    """Allocates the first `length` bytes of `fd` (its size grows to at least `length`).

    Returns False where the filesystem cannot allocate ahead; raises `OSError` otherwise, with
    `errno.ENOSPC` when the space is not there.
    """
    if _fallocate is None or length <= 0:
        return False
    if _fallocate(fd, 0, 0, length) == 0:
        return True
    code = ctypes.get_errno()
    if code in _UNSUPPORTED:
        return False
    raise OSError(code, f"cannot allocate {length} bytes: {os.strerror(code)}")


def allocated_bytes(fd: int) -> int:
    """The bytes of storage the file takes now (its allocated blocks, not its size)."""
    return os.fstat(fd).st_blocks * 512
